// `paretonas supernet train|eval`: the weight-sharing supernet of an experiment's space (issue #55).
#include <sys/stat.h>

#include <ATen/CPUGeneratorImpl.h>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "evaluator/dataset.h"
#include "evaluator/supernet.h"
#include "evaluator/supernet_train.h"
#include "experiments/cli_common.h"
#include "experiments/run_directory.h"
#include "search/run_files.h"
#include "space/input_error.h"

namespace paretonas::experiments {
namespace {

struct SupernetCliOptions {
  std::string config;
  std::string out;
  std::vector<std::string> sets;
  int epochs = 4;
  std::string rule = "auto";
  int random_subnets = 2;
  int workers = 0;  // 0: one per core
  int calibration_images = 2000;
  std::vector<std::string> archs;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

const char* RuleName(evaluator::SupernetRule rule) {
  switch (rule) {
    case evaluator::SupernetRule::kSandwich: return "sandwich";
    case evaluator::SupernetRule::kUniform: return "uniform";
    case evaluator::SupernetRule::kFair: return "fair";
  }
  return "?";
}

/// What a supernet directory records of how it was trained; a resume must match it.
std::string Recipe(const ExperimentConfig& c, const SupernetCliOptions& o, evaluator::SupernetRule rule,
                   const evaluator::SupernetTrainOptions& t) {
  std::ostringstream s;
  s << "config_hash: " << c.Hash() << "\n"
    << "space: " << c.space << "\n"
    << "rule: " << RuleName(rule) << "\n"
    << "random_subnets: " << t.random_subnets << "\n"
    << "epochs: " << t.epochs << "\n"
    << "batch_size: " << t.batch_size << "\n"
    << "lr: " << t.lr << "\n"
    << "momentum: " << t.momentum << "\n"
    << "weight_decay: " << t.weight_decay << "\n"
    << "seed: " << t.seed << "\n"
    << "calibration_images: " << o.calibration_images << "\n";
  return s.str();
}

int Train(const SupernetCliOptions& o) {
  const ExperimentConfig c = LoadExperiment(o.config, o.sets);
  if (c.evaluator_kind != "train")
    throw InputError(o.config + ": evaluator.kind is '" + c.evaluator_kind +
                     "'; a supernet is trained on the experiment's data (evaluator.kind: train)");
  const evaluator::Dataset data = evaluator::LoadDataset(c.dataset);
  const space::SearchSpace space = space::SearchSpace::Load(c.space_path.empty() ? c.space : c.space_path,
                                                            c.space_set, data.input);
  evaluator::SupernetRule rule;
  if (o.rule == "sandwich") {
    rule = evaluator::SupernetRule::kSandwich;
  } else if (o.rule == "uniform") {
    rule = evaluator::SupernetRule::kUniform;
  } else if (o.rule == "fair") {
    rule = evaluator::SupernetRule::kFair;
  } else if (o.rule == "auto") {
    // Cells are single path (an edge's ops share nothing): every op of every edge once a step
    // (FairNAS); measured on fmnist_cells it ranks as well as five times the uniform (SPOS)
    // training, in less time, and two seeds agree better (bench/supernet_ranking.py, RESULTS).
    // Elastic chains share weights between sizes: the sandwich rule, as BigNAS.
    bool chains = false;
    for (const auto& d : space.decisions()) chains |= d.name.compare(0, 5, "cell.") != 0;
    rule = chains ? evaluator::SupernetRule::kSandwich : evaluator::SupernetRule::kFair;
  } else {
    throw InputError("--rule: '" + o.rule + "' is not allowed; allowed: auto, sandwich, uniform, fair");
  }
  evaluator::SupernetTrainOptions t;
  t.rule = rule;
  t.random_subnets = o.random_subnets;
  t.epochs = o.epochs;
  t.batch_size = c.training.batch_size;
  t.lr = c.training.lr;
  t.momentum = c.training.momentum;
  t.weight_decay = c.training.weight_decay;
  t.seed = c.seed;
  t.workers = o.workers > 0 ? o.workers : UsableCores();
  t.calibration_images = o.calibration_images;
  t.checkpoint = o.out + "/checkpoint.pt";
  const std::int64_t per_epoch = (data.train_x.size(0) + t.batch_size - 1) / t.batch_size;
  t.checkpoint_every = std::max<std::int64_t>(1, per_epoch / 5);

  const std::string recipe = Recipe(c, o, rule, t);
  const std::string recipe_path = o.out + "/supernet.yaml";
  if (Exists(o.out + "/supernet.pt"))
    throw InputError(o.out + ": holds a trained supernet already (supernet.pt); choose another --out");
  if (Exists(recipe_path)) {
    if (ReadText(recipe_path) != recipe)
      throw InputError(o.out + ": a supernet training with another recipe or experiment is under way there "
                       "(supernet.yaml differs); choose another --out, or the same config and options");
  } else {
    MakeDirectories(o.out);
    search::WriteFileAtomic(o.out + "/experiment.yaml", c.ToYaml());
    search::WriteFileAtomic(recipe_path, recipe);
  }

  evaluator::Supernet net(space);
  net->Initialize(at::make_generator<at::CPUGeneratorImpl>(c.seed * 1000003ULL + 0x50e7));
  std::int64_t params = 0;
  for (const auto& p : net->parameters()) params += p.numel();
  std::cerr << "supernet of " << space.name() << " (" << space.source() << "): " << net->slots().size()
            << " slots, " << params << " weights; largest " << space.Key(net->Largest()) << ", smallest "
            << space.Key(net->Smallest()) << "\n"
            << "training: "
            << (rule == evaluator::SupernetRule::kSandwich
                    ? "sandwich rule (largest, smallest and " + std::to_string(t.random_subnets) +
                          " random sub-networks a step, in-place distillation)"
                : rule == evaluator::SupernetRule::kFair
                    ? std::string("strict fairness (every option of every decision once a step)")
                    : std::string("uniform single path (one random sub-network a step)"))
            << ", " << t.epochs << " epochs of " << per_epoch << " steps on " << data.train_x.size(0)
            << " images, " << t.workers << " worker(s)\n";
  if (Exists(t.checkpoint)) std::cerr << "resuming from " << t.checkpoint << "\n";

  std::ostringstream epochs_json;
  std::string last_epoch_line;
  ProgressLine line;
  const auto result = evaluator::TrainSupernet(
      *net, data.train_x, data.train_y, data.val_x, data.val_y, t, [&](const evaluator::SupernetProgress& p) {
        if (p.epoch_end) {
          std::ostringstream l;
          l << std::fixed << std::setprecision(2) << "epoch " << p.epoch + 1 << "/" << t.epochs
            << ": largest " << p.largest_accuracy << "%, smallest " << p.smallest_accuracy << "% (validation)";
          last_epoch_line = l.str();
          epochs_json << (epochs_json.tellp() > 0 ? "," : "") << "{\"epoch\":" << p.epoch + 1
                      << ",\"step\":" << p.step << ",\"largest_accuracy\":" << search::JsonNumber(p.largest_accuracy)
                      << ",\"smallest_accuracy\":" << search::JsonNumber(p.smallest_accuracy)
                      << ",\"seconds\":" << search::JsonNumber(p.seconds) << "}";
        }
        line.Update(static_cast<double>(p.step) / static_cast<double>(p.total), [&] {
          std::ostringstream s;
          s << "supernet: step " << p.step << "/" << p.total << ", loss " << std::fixed << std::setprecision(3)
            << p.loss << (last_epoch_line.empty() ? "" : "; " + last_epoch_line);
          return s.str();
        });
      });
  evaluator::SaveSupernet(*net, o.out + "/supernet.pt");
  std::ostringstream summary;
  summary << "{\"space\":" << search::JsonString(space.source()) << ",\"slots\":" << net->slots().size()
          << ",\"weights\":" << params << ",\"steps\":" << result.steps
          << ",\"resumed_from\":" << result.resumed_from
          << ",\"largest\":" << search::JsonString(space.Key(net->Largest()))
          << ",\"smallest\":" << search::JsonString(space.Key(net->Smallest()))
          << ",\"largest_accuracy\":" << search::JsonNumber(result.largest_accuracy)
          << ",\"smallest_accuracy\":" << search::JsonNumber(result.smallest_accuracy)
          << ",\"epochs_this_call\":[" << epochs_json.str() << "]}\n";
  search::WriteFileAtomic(o.out + "/supernet.json", summary.str());
  std::cout << "supernet trained: " << o.out << "/supernet.pt (" << result.steps << " steps"
            << (result.resumed_from > 0 ? ", resumed from step " + std::to_string(result.resumed_from) : "")
            << "); validation: largest " << std::fixed << std::setprecision(2) << result.largest_accuracy
            << "%, smallest " << result.smallest_accuracy << "%\n";
  return kExitOk;
}

int Eval(const SupernetCliOptions& o) {
  if (!Exists(o.out + "/supernet.pt"))
    throw InputError(o.out + ": no supernet.pt (train one with `paretonas supernet train --config FILE --out " +
                     o.out + "`)");
  const ExperimentConfig c = LoadExperiment(o.out + "/experiment.yaml", {});
  const evaluator::Dataset data = evaluator::LoadDataset(c.dataset);
  const space::SearchSpace space = space::SearchSpace::Load(c.space_path.empty() ? c.space : c.space_path,
                                                            c.space_set, data.input);
  evaluator::Supernet net(space);
  evaluator::LoadSupernet(*net, o.out + "/supernet.pt");
  std::vector<std::string> archs = o.archs;
  if (archs.empty()) archs = {space.Key(net->Largest()), space.Key(net->Smallest())};
  for (const auto& key : archs) {
    const space::Genotype g = space.ParseKey(key);
    const double acc = evaluator::SubNetworkAccuracy(*net, g, data.train_x, data.val_x, data.val_y, o.calibration_images);
    std::cout << std::fixed << std::setprecision(2) << acc << "%  " << space.Key(g) << "\n";
  }
  return kExitOk;
}

}  // namespace

void SetupSupernet(CLI::App& app) {
  auto o = std::make_shared<SupernetCliOptions>();
  auto* sn = app.add_subcommand("supernet", "Train a weight-sharing supernet of a space, and score its sub-networks");
  sn->require_subcommand(1);
  auto* train = sn->add_subcommand(
      "train",
      "Train the supernet of an experiment's space on its data (the training section's batch size, "
      "learning rate, momentum and weight decay; cosine schedule). Checkpointed; run the same command "
      "again to resume.");
  train->add_option("-c,--config", o->config, "Experiment file (space, dataset, training)")
      ->required()->check(CLI::ExistingFile);
  train->add_option("-o,--out", o->out, "Directory of the supernet (created)")->required();
  train->add_option("--set", o->sets, "Override a config value, e.g. --set seed=3 (repeatable)");
  train->add_option("--epochs", o->epochs, "Epochs over the training images")->check(CLI::Range(1, 100000));
  train->add_option("--rule", o->rule,
                    "auto (fair for cell-only spaces, sandwich otherwise), sandwich (largest, smallest "
                    "and --random-subnets random sub-networks a step, in-place distillation), uniform "
                    "(one random sub-network a step) or fair (every option of every decision trained once a "
                    "step: as many sub-networks as the largest decision has options)");
  train->add_option("--random-subnets", o->random_subnets, "Random sub-networks a step (sandwich)")
      ->check(CLI::Range(0, 64));
  train->add_option("--workers", o->workers, "Sub-networks computed side by side (default: one per core)")
      ->check(CLI::Range(1, 1024));
  train->add_option("--calibration-images", o->calibration_images,
                    "Training images that recompute a sub-network's BatchNorm statistics before validation")
      ->check(CLI::Range(1, 10000000));
  train->callback([o] { RunCommand([o] { return Train(*o); }); });
  auto* eval = sn->add_subcommand("eval",
                                  "Validation accuracy of sub-networks with their inherited weights (BatchNorm "
                                  "recalibrated), without training");
  eval->add_option("dir", o->out, "Directory of a trained supernet")->required();
  eval->add_option("--arch", o->archs, "Architecture key (repeatable; default: the largest and the smallest)");
  eval->add_option("--calibration-images", o->calibration_images,
                   "Training images that recompute the BatchNorm statistics")
      ->check(CLI::Range(1, 10000000));
  eval->callback([o] { RunCommand([o] { return Eval(*o); }); });
}

}  // namespace paretonas::experiments

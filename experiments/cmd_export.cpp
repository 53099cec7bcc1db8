// `paretonas export RUN (--front | --id N ...) --format json|dot|... --out DIR`.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <sstream>

#include <unistd.h>

#include "evaluator/dataset.h"
#include "evaluator/train_evaluator.h"
#include "experiments/cli_common.h"
#include "experiments/run_directory.h"
#include "experiments/onnx_export.h"
#include "experiments/torchscript_export.h"
#include "search/run_files.h"
#include "search/search_loop.h"
#include "space/input_error.h"

namespace paretonas::experiments {
namespace {

struct ExportOptions {
  std::string run_dir;
  bool front = false;
  std::vector<std::int64_t> ids;
  std::string format = "json";
  std::string out;
  int train_epochs = 0;
  std::string device;  // "": the run's evaluator.device
  int batch_size = 0;  // 0: the run's training.batch_size
  int jobs = 1;        // members retrained at once (threads; on CUDA each on its own stream)
  std::string augment;  // "": the run's dataset.augment; "on" | "off"
  std::int64_t seed = -1;  // retraining seed; -1: each trial's own seed
  bool bake = false;       // --bake-normalization
  std::string precision;   // "": the run's deploy.precision; "fp32" | "int8"
};

/// The seed a retraining of `t` uses: --seed, or the trial's own (what the search trained it with).
std::uint64_t RetrainSeed(const ExportOptions& o, const search::Trial& t) {
  return o.seed >= 0 ? static_cast<std::uint64_t>(o.seed) : t.seed;
}


/// --format as a list: "json,onnx,torchscript" (one retraining serves them all), each known, none twice.
std::vector<std::string> Formats(const std::string& text) {
  static const std::vector<std::string> kKnown{"json", "dot", "torchscript", "onnx"};
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string f; std::getline(ss, f, ',');) {
    f.erase(0, f.find_first_not_of(" "));
    f.erase(f.find_last_not_of(" ") + 1);
    if (std::find(kKnown.begin(), kKnown.end(), f) == kKnown.end())
      throw InputError("export --format: '" + f + "' is not one of json, dot, torchscript, onnx (several: "
                       "--format json,onnx,torchscript)");
    if (std::find(out.begin(), out.end(), f) != out.end())
      throw InputError("export --format: '" + f + "' is given twice");
    out.push_back(f);
  }
  if (out.empty()) throw InputError("export --format: give json, dot, torchscript or onnx, or several joined by commas");
  return out;
}

int RunExport(const ExportOptions& o) {
  if (o.front == !o.ids.empty()) throw InputError("export: give either --front or --id N (not both)");
  const std::vector<std::string> formats = Formats(o.format);
  const auto wants = [&](const char* f) { return std::find(formats.begin(), formats.end(), f) != formats.end(); };
  if (o.bake && !wants("torchscript") && !wants("onnx"))
    throw InputError("export --bake-normalization: only TorchScript and ONNX models take it (their forward "
                     "then normalises the pixels); --format " + o.format + " writes no model");
  if (wants("onnx") && !OnnxSupported())
    throw InputError("export --format onnx: this paretonas was built without ONNX support "
                     "(install libonnx-dev and rebuild)");
  const LoadedRun run = LoadRun(o.run_dir);
  const ExperimentConfig& config = run.config;
  const std::string precision = o.precision.empty() ? config.training.deploy_precision : o.precision;
  const bool int8 = precision == "int8";
  if (int8 && !config.BuildsNetworks())
    throw InputError("export --precision int8: the run used evaluator.kind " + config.evaluator_kind +
                     "; quantizing needs its training images to calibrate on (evaluator.kind: train)");
  const search::SearchState& state = run.state;
  const Session* session = run.session.get();
  std::vector<std::int64_t> ids = o.front ? search::ParetoFront(state, session->problem) : o.ids;
  for (auto id : ids) {
    if (id < 0 || id >= static_cast<std::int64_t>(state.trials.size()))
      throw InputError("export --id " + std::to_string(id) + ": no such trial in " + o.run_dir +
                       " (ids 0.." + std::to_string(static_cast<long long>(state.trials.size()) - 1) + ")");
    const search::Trial& t = state.trials[id];
    if (t.state == search::TrialState::kStopped)
      throw InputError("export --id " + std::to_string(id) + ": trial is stopped, not complete: "
                       "successive halving stopped it at rung " + std::to_string(t.rung) +
                       ", so its metrics are of a shorter training than the front's; export a "
                       "complete trial (the front: --front)");
    if (t.state == search::TrialState::kScreened)
      throw InputError("export --id " + std::to_string(id) + ": trial was screened out, never "
                       "trained: the pre-screen (search.prescreen) ranked its zero-cost proxies and "
                       "costs below the generation's best; export a complete trial (the front: --front)");
    if (t.state != search::TrialState::kComplete)
      throw InputError("export --id " + std::to_string(id) + ": trial is " +
                       search::TrialStateName(t.state) + ", not complete" +
                       (t.failure.empty() ? "" : " (" + t.failure + ")"));
  }
  if (ids.empty()) throw InputError("export: the run has no complete feasible architecture yet");
  MakeDirectories(o.out);
  // Retraining first: --jobs members at a time, each with its own generators (and CUDA stream),
  // so results do not depend on --jobs.
  std::map<std::int64_t, evaluator::FinalTraining> retrained;
  evaluator::DatasetOptions data = config.dataset;
  if (!o.augment.empty()) data.augment = o.augment == "on";
  if (o.train_epochs > 0) {
    if (!config.BuildsNetworks())
      throw InputError("export --train-epochs: the run used evaluator.kind " + config.evaluator_kind +
                       "; there is nothing to train");
    evaluator::TrainOptions training = config.training;
    training.deploy_precision = precision;  // int8: TrainFinal also tests the int8 model
    if (!o.device.empty()) training.device = o.device;
    if (o.batch_size > 0) training.batch_size = o.batch_size;
    std::cout << "retraining " << ids.size() << " architecture(s) for " << o.train_epochs
              << " epochs on the full training set (" << training.device << ", batch "
              << training.batch_size << ", augmentation " << (data.augment ? "on" : "off") << ", "
              << std::min<std::size_t>(ids.size(), o.jobs) << " at a time)...\n";
    std::cout.flush();
    std::mutex mu;
    std::size_t next = 0;
    std::string first_error;
    // Progress line on stderr: architectures done (fractional) and an ETA. On a terminal each
    // finished architecture's stdout line ends it (below).
    std::map<std::int64_t, double> share;
    const bool tty = ::isatty(STDERR_FILENO);
    ProgressLine line(/*newline_at_end=*/false);
    auto report = [&](std::int64_t id, double done) {  // called with `mu` held
      share[id] = done;
      double total = 0;
      for (const auto& kv : share) total += kv.second;
      line.Update(total / static_cast<double>(ids.size()), [&] {
        char done_text[32];
        std::snprintf(done_text, sizeof done_text, "%.2f", total);
        return "retraining " + std::string(done_text) + "/" + std::to_string(ids.size()) + " architectures";
      });
    };
    bool bad_input = false;
    auto work = [&] {
      while (true) {
        std::int64_t id;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (next >= ids.size() || !first_error.empty()) return;
          id = ids[next++];
        }
        const search::Trial& t = state.trials[id];
        evaluator::FinalTraining f;
        try {
          f = evaluator::TrainFinal(*session->space, t.genotype, data, training,
                                    o.train_epochs, RetrainSeed(o, t),
                                    o.out + "/arch_" + std::to_string(id) + ".weights.pt",
                                    [&, id](double done) {
                                      std::lock_guard<std::mutex> lock(mu);
                                      report(id, done);
                                    });
        } catch (const InputError& e) {  // the data: bad input, exit 2 as validate says it
          f.ok = false;
          f.failure = e.what();
          std::lock_guard<std::mutex> lock(mu);
          bad_input = true;
        } catch (const std::exception& e) {
          f.ok = false;
          f.failure = e.what();
        }
        std::lock_guard<std::mutex> lock(mu);
        report(id, 1.0);  // also for a network without parameters, which has no steps
        if (!f.ok && first_error.empty())
          first_error = "retraining #" + std::to_string(id) + " failed: " + f.failure;
        if (f.ok && tty) std::cerr << "\n";
        if (f.ok) {
          std::cout << "  #" << id << " test accuracy " << f.test_accuracy << "%";
          if (f.int8_test_accuracy >= 0) std::cout << ", as int8 " << f.int8_test_accuracy << "%";
          std::cout << " (" << f.params << " params, " << f.train_seconds << " s)\n" << std::flush;
        }
        retrained[id] = f;
      }
    };
    std::vector<std::thread> threads;
    for (int j = 0; j < std::max(1, std::min<int>(o.jobs, static_cast<int>(ids.size()))); ++j)
      threads.emplace_back(work);
    for (auto& th : threads) th.join();
    if (!first_error.empty()) {
      if (bad_input) throw InputError(first_error);
      throw std::runtime_error(first_error);
    }
  }
  // A supernet run without retraining: each member's inherited weights, as the search validated them.
  std::map<std::int64_t, std::string> inherited;
  if (config.evaluator_kind == "supernet" && o.train_epochs <= 0) {
    std::vector<space::Genotype> genotypes;
    std::vector<std::string> paths;
    for (auto id : ids) {
      genotypes.push_back(state.trials[id].genotype);
      paths.push_back(o.out + "/arch_" + std::to_string(id) + ".weights.pt");
      inherited[id] = paths.back();
    }
    std::cout << "taking " << ids.size() << " architecture(s) out of the supernet " << config.training.supernet
              << " (inherited weights, BatchNorm recomputed on " << config.training.supernet_calibration_images
              << " training images, as the search validated them)\n" << std::flush;
    evaluator::WriteInheritedWeights(*session->space, config.dataset, config.training, genotypes, paths);
  }
  const ExportInput feed = MakeExportInput(config, session->space->input(), o.bake);
  std::optional<evaluator::Dataset> validation;  // loaded when a supernet member's file is checked
  // int8: calibrated as the search's deploy stage, on the training images TrainFinal trains on.
  const Int8ExportOptions int8_options{data, config.training.calibration_images, config.training.calibration};
  for (auto id : ids) {
    const search::Trial& t = state.trials[id];
    const std::string base = o.out + "/arch_" + std::to_string(id);
    std::string weights;
    evaluator::FinalTraining final;
    if (o.train_epochs > 0) {
      final = retrained.at(id);
      weights = final.weights_path;
    } else if (inherited.count(id)) {
      weights = inherited.at(id);
    }
    if (wants("dot")) {
      search::WriteFileAtomic(base + ".dot", session->space->ToDot(t.genotype));
      std::cout << base << ".dot\n";
    }
    if (wants("onnx")) {
      const std::string path = base + ".onnx";
      bool trained = !weights.empty();
      if (int8)
        ExportInt8Onnx(*session->space, t.genotype, weights, t.seed, path, &feed, int8_options);
      else
        trained = ExportOnnx(*session->space, t.genotype, weights, t.seed, path, &feed);
      std::cout << path << (trained ? "" : "  (untrained weights: give --train-epochs E to export trained ones)")
                << "  [passes onnx::checker]\n";
    }
    if (wants("torchscript")) {
      const std::string path = base + ".torchscript.pt";
      const TorchScriptExport ts =
          int8 ? ExportInt8TorchScript(*session->space, t.genotype, weights, t.seed, path, &feed, int8_options)
               : ExportTorchScript(*session->space, t.genotype, weights, t.seed, path, &feed);
      std::cout << path << (ts.trained ? "" : "  (untrained weights: give --train-epochs E to export trained ones)")
                << "  [reloaded: max |difference| " << ts.max_abs_diff << "]\n";
      // A member taken out of the supernet: the file itself, loaded as a user loads it, on the
      // validation images the search scored it on, against what the search reported.
      const auto reported = t.metrics.find("val_accuracy");
      if (inherited.count(id) && !int8 && !o.bake && reported != t.metrics.end()) {
        if (!validation) validation = evaluator::LoadDataset(config.dataset, false, false);
        const double acc = TorchScriptFileValidationAccuracy(path, *validation);
        std::cout << "  validation accuracy of this file: " << search::JsonNumber(acc) << "% on "
                  << validation->val_x.size(0) << " images; the search reported "
                  << search::JsonNumber(reported->second) << "%"
                  << (acc == reported->second ? " (reproduced)"
                                              : " (NOT reproduced: " + search::JsonNumber(acc - reported->second) +
                                                    " points apart)")
                  << "\n";
      }
    }
    if (!wants("json")) continue;
    std::ostringstream js;
    js << "{\n  \"id\": " << t.id << ",\n  \"arch\": " << search::JsonString(t.key)
       << ",\n  \"input\": " << feed.Json()
       << ",\n  \"hash\": " << search::JsonString(t.hash) << ",\n  \"space\": {\"name\": "
       << search::JsonString(config.space) << ", \"set\": {";
    bool first = true;
    for (const auto& [k, v] : config.space_set) {
      js << (first ? "" : ", ") << search::JsonString(k) << ": " << search::JsonString(v);
      first = false;
    }
    const auto in_spec = session->space->input();
    js << "}, \"input\": [" << in_spec.shape.c << ", " << in_spec.shape.h << ", " << in_spec.shape.w
       << "], \"classes\": " << in_spec.num_classes << "},\n  \"genotype\": [";
    for (size_t i = 0; i < t.genotype.size(); ++i) js << (i ? ", " : "") << t.genotype[i];
    js << "],\n  \"metrics\": {";
    first = true;
    for (const auto& [k, v] : t.metrics) {
      js << (first ? "" : ", ") << search::JsonString(k) << ": " << search::JsonNumber(v);
      first = false;
    }
    js << "},\n  \"lineage\": {\"generation\": " << t.generation << ", \"parents\": [";
    for (size_t i = 0; i < t.parents.size(); ++i) js << (i ? ", " : "") << t.parents[i];
    js << "]},\n  \"seed\": " << t.seed << ",\n  \"experiment_seed\": " << state.seed
       << ",\n  \"config_hash\": " << search::JsonString(state.config_hash)
       << ",\n  \"precision\": " << search::JsonString(precision);
    if (int8) {
      js << ",\n  \"int8_engine\": " << search::JsonString(evaluator::Int8EngineName()) << ",\n  \"int8_arithmetic\": {";
      const char* sep = "";
      for (const auto& [k, v] : evaluator::Int8ArithmeticOfThisProcess())
        js << sep << search::JsonString(k) << ": " << search::JsonString(v), sep = ", ";
      js << "}";
    }
    if (final.ok) {
      js << ",\n  \"final\": {\"epochs\": " << o.train_epochs << ", \"batch_size\": "
         << (o.batch_size > 0 ? o.batch_size : config.training.batch_size) << ", \"device\": "
         << search::JsonString(o.device.empty() ? config.training.device : o.device)
         << ", \"augment\": " << (data.augment ? "true" : "false") << ", \"seed\": "
         << RetrainSeed(o, t) << ", \"test_accuracy\": "
         << search::JsonNumber(final.test_accuracy)
         << (final.int8_test_accuracy >= 0 ? ", \"int8_test_accuracy\": " + search::JsonNumber(final.int8_test_accuracy) : "")
         << ", \"train_seconds\": "
         << search::JsonNumber(final.train_seconds) << ", \"weights\": " << search::JsonString(final.weights_path) << "}";
    }
    js << ",\n  \"graph\": " << GraphJson(*session->space, t.genotype) << "\n}\n";
    search::WriteFileAtomic(base + ".json", js.str());
    std::cout << base << ".json\n";
  }
  return kExitOk;
}

}  // namespace

int ExportTrials(const std::string& run_dir, const std::vector<std::int64_t>& ids, const std::string& format,
                 const std::string& out) {
  ExportOptions o;
  o.run_dir = run_dir;
  o.ids = ids;
  o.format = format;
  o.out = out;
  return RunExport(o);
}

void SetupExport(CLI::App& app) {
  auto o = std::make_shared<ExportOptions>();
  auto* sub = app.add_subcommand("export", "Export architectures of a run: JSON, DOT, TorchScript, ONNX");
  sub->add_option("run_dir", o->run_dir, "Run directory")->required();
  sub->add_flag("--front", o->front, "Export every member of the Pareto front");
  sub->add_option("--id", o->ids, "Trial id(s) to export");
  sub->add_option("-f,--format", o->format,
                  "json | dot | torchscript | onnx, or several joined by commas (json,onnx,torchscript: "
                  "one retraining serves them all)")
      ->capture_default_str();
  sub->add_option("-o,--out", o->out, "Output directory")->required();
  sub->add_option("--train-epochs", o->train_epochs,
                  "Retrain from scratch on the full training set for E epochs and report test accuracy")
      ->check(CLI::Range(0, 10000));
  sub->add_option("--batch-size", o->batch_size, "Retrain with this batch size (default: the run's)")
      ->check(CLI::Range(1, 65536));
  sub->add_option("--jobs", o->jobs, "With --train-epochs: retrain this many at once (threads; on "
                                      "CUDA each on its own stream, sharing the GPU)")
      ->check(CLI::Range(1, 256))->capture_default_str();
  sub->add_option("--augment", o->augment,
                  "With --train-epochs: random flips and crops on or off (default: the run's "
                  "dataset.augment)")
      ->check(CLI::IsMember({"on", "off"}));
  sub->add_option("--seed", o->seed,
                  "With --train-epochs: retrain with this seed (weights, batch order, augmentation) "
                  "instead of each trial's own, e.g. to see the spread between seeds")
      ->check(CLI::Range(std::int64_t{0}, std::numeric_limits<std::int64_t>::max()));
  sub->add_option("--device", o->device, "Retrain on this device (default: the run's evaluator.device)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  sub->add_option("--precision", o->precision,
                  "fp32 | int8: the model the TorchScript and ONNX files hold, and with --train-epochs the "
                  "test accuracy reported (int8: quantized as the search's deploy stage, calibrated on the "
                  "run's training images; ONNX in QDQ form). Default: the run's deploy.precision")
      ->check(CLI::IsMember({"fp32", "int8"}));
  sub->add_flag("--bake-normalization", o->bake,
                "TorchScript and ONNX: put the input normalisation into the model, so that it takes "
                "the pixels (float32, 0..pixel_max) instead of normalised input");
  sub->callback([o] { RunCommand([o] { return RunExport(*o); }); });
}

}  // namespace paretonas::experiments

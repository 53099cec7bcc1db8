// `paretonas space enumerate|sample|show|validate`.
#include <iostream>
#include <random>
#include <sstream>

#include "experiments/cli_common.h"
#include "search/search_loop.h"
#include "space/input_error.h"

namespace paretonas::experiments {
namespace {

struct SpaceOptions {
  std::string space = "nb201";
  std::vector<std::string> sets;
  std::string input = "";  // CxHxW
  int classes = 10;
  std::string arch;
  int n = 5;
  std::uint64_t seed = 0;
  bool json = false;
  std::string file;
  std::int64_t limit = 10'000'000;
  std::string config;  // --config: the space, its parameters and input shape of an experiment
};

space::SearchSpace LoadSpace(const SpaceOptions& o) {
  if (!o.config.empty()) {
    const ExperimentConfig c = LoadExperiment(o.config, {});
    return space::SearchSpace::Load(c.space, c.space_set, evaluator::DatasetInput(c.dataset));
  }
  return space::SearchSpace::Load(o.space, ParseSpaceSets(o.sets), ParseInputOption(o.input, o.classes, o.space));
}

int Enumerate(const SpaceOptions& o) {
  const auto sp = LoadSpace(o);
  std::vector<space::Genotype> all;
  try {
    all = sp.Enumerate(static_cast<std::uint64_t>(o.limit));
  } catch (const std::length_error& e) {
    throw InputError(std::string(e.what()) + "; use `space sample` or raise --limit");
  }
  for (const auto& g : all) std::cout << sp.Key(g) << "\n";
  return kExitOk;
}

int Sample(const SpaceOptions& o) {
  const auto sp = LoadSpace(o);
  std::mt19937_64 rng(o.seed);
  for (int i = 0; i < o.n; ++i) std::cout << sp.Key(sp.Sample(rng)) << "\n";
  return kExitOk;
}

int Show(const SpaceOptions& o) {
  const auto sp = LoadSpace(o);
  const space::Genotype g = sp.ParseKey(o.arch);
  const space::StaticCosts c = sp.Costs(g);
  if (o.json) {
    std::cout << "{\"arch\":" << search::JsonString(sp.Key(g)) << ",\"hash\":"
              << search::JsonString(sp.CanonicalHash(g)) << ",\"connected\":"
              << (sp.Connected(g) ? "true" : "false") << ",\"params\":" << c.params
              << ",\"macs\":" << c.macs << ",\"params_pruned\":" << c.params_pruned
              << ",\"macs_pruned\":" << c.macs_pruned
              << ",\"activation_bytes\":" << c.activation_bytes
              << ",\"activation_bytes_raw\":" << c.activation_bytes_raw << "}\n";
    return kExitOk;
  }
  std::cout << "arch:             " << sp.Key(g) << "\n"
            << "space:            " << sp.name() << " (" << sp.source() << ")\n"
            << "hash:             " << sp.CanonicalHash(g) << "\n"
            << "connected:        " << (sp.Connected(g) ? "yes" : "no (output unreachable)") << "\n"
            << "params:           " << c.params << " (pruned " << c.params_pruned << ")\n"
            << "MACs:             " << c.macs << " (pruned " << c.macs_pruned << ")\n"
            << "activation bytes: " << c.activation_bytes << " (raw graph " << c.activation_bytes_raw
            << "), batch 1, float32\n";
  return kExitOk;
}

int Validate(const SpaceOptions& o) {
  SpaceOptions copy = o;
  copy.space = o.file;
  const auto sp = LoadSpace(copy);
  std::cout << o.file << ": valid space '" << sp.name() << "', " << sp.decisions().size()
            << " decisions, ";
  const auto n = sp.NumGenotypes();
  if (n == UINT64_MAX) std::cout << "more than 2^64 genotypes\n";
  else std::cout << n << " genotypes\n";
  for (const auto& d : sp.decisions()) {
    std::cout << "  " << d.name << ": ";
    for (size_t i = 0; i < d.labels.size(); ++i) std::cout << (i ? ", " : "") << d.labels[i];
    std::cout << "\n";
  }
  return kExitOk;
}

void CommonSpaceOptions(CLI::App* sub, const std::shared_ptr<SpaceOptions>& o) {
  auto* config = sub->add_option("-c,--config", o->config,
                                 "Take the space, its parameters and the input shape from an experiment file")
                     ->check(CLI::ExistingFile);
  sub->add_option("-s,--space", o->space, "Preset (nb201, mobilenet) or space file")->capture_default_str()->excludes(config);
  sub->add_option("--set", o->sets, "Override a space parameter, e.g. --set channels=8 (repeatable)")->excludes(config);
  sub->add_option("--input", o->input, "Input shape CxHxW (default 3x32x32; 1x28x28 for mobilenet)")->excludes(config);
  sub->add_option("--classes", o->classes, "Number of classes")->check(CLI::Range(1, 100000))->capture_default_str()->excludes(config);
}

}  // namespace

void SetupSpace(CLI::App& app) {
  auto o = std::make_shared<SpaceOptions>();
  auto* space = app.add_subcommand("space", "Inspect search spaces: enumerate, sample, show, validate");
  space->require_subcommand(1);

  auto* en = space->add_subcommand("enumerate", "Print every architecture key of a finite space");
  CommonSpaceOptions(en, o);
  en->add_option("--limit", o->limit, "Refuse spaces larger than this")->capture_default_str();
  en->callback([o] { RunCommand([o] { return Enumerate(*o); }); });

  auto* sa = space->add_subcommand("sample", "Print uniformly sampled architecture keys");
  CommonSpaceOptions(sa, o);
  sa->add_option("-n", o->n, "How many")->check(CLI::Range(1, 10000000))->capture_default_str();
  sa->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  sa->callback([o] { RunCommand([o] { return Sample(*o); }); });

  auto* sh = space->add_subcommand("show", "Static costs of one architecture (params, MACs, memory)");
  CommonSpaceOptions(sh, o);
  sh->add_option("-a,--arch", o->arch, "Architecture key (NB201 string for nb201)")->required();
  sh->add_flag("--json", o->json, "Print one JSON object");
  sh->callback([o] { RunCommand([o] { return Show(*o); }); });

  auto* va = space->add_subcommand("validate", "Check a space definition file");
  va->add_option("file", o->file, "Space file (YAML)")->required();
  va->add_option("--set", o->sets, "Override a space parameter");
  va->add_option("--input", o->input, "Input shape CxHxW");
  va->add_option("--classes", o->classes, "Number of classes");
  va->callback([o] { RunCommand([o] { return Validate(*o); }); });
}

}  // namespace paretonas::experiments

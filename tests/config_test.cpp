#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

#include "experiments/experiment_config.h"
#include "space/input_error.h"
#include "tests/test_paths.h"

namespace paretonas::experiments {
namespace {

const char* kGood = R"(name: t
seed: 3
space: {name: nb201, set: {channels: 4}}
dataset: {name: synthetic, validation: 100}
objectives:
  - {metric: val_accuracy, goal: max}
  - {metric: params, goal: min}
search: {population: 10}
budget: {max_evals: 20}
)";

TEST(ExperimentConfig, GoodFileResolvesDefaultsAndRoundTrips) {
  const ExperimentConfig c = ParseExperiment(kGood, "good.yaml", {});
  EXPECT_EQ(c.seed, 3u);
  EXPECT_EQ(c.search.population, 10);
  EXPECT_EQ(c.training.batch_size, 128);  // a default
  const ExperimentConfig again = ParseExperiment(c.ToYaml(), "resolved.yaml", {});
  EXPECT_EQ(again.ToYaml(), c.ToYaml());
  EXPECT_EQ(again.Hash(), c.Hash());
}

TEST(ExperimentConfig, OverridesAreAppliedAndOnlyBudgetKeepsTheHash) {
  const ExperimentConfig base = ParseExperiment(kGood, "good.yaml", {});
  const ExperimentConfig more = ParseExperiment(kGood, "good.yaml", {"budget.max_evals=500"});
  // A field of one element of a list (objectives[1].metric) is set in place.
  const ExperimentConfig element = ParseExperiment(kGood, "good.yaml", {"objectives[1].metric=latency_ms"});
  ASSERT_EQ(element.objectives.size(), 2u);
  EXPECT_EQ(element.objectives[1].metric, "latency_ms");
  EXPECT_EQ(more.max_evals, 500);
  EXPECT_EQ(more.Hash(), base.Hash());
  const ExperimentConfig other = ParseExperiment(kGood, "good.yaml", {"search.population=12"});
  EXPECT_EQ(other.search.population, 12);
  EXPECT_NE(other.Hash(), base.Hash());
  const auto changed = FlattenYaml(other.ToYaml());
  EXPECT_EQ(changed.at("search.population"), "12");
  // dedup: the default is not written (older run directories keep their hash); another value
  // is, changes the hash and survives the round trip through the resolved file.
  EXPECT_EQ(FlattenYaml(base.ToYaml()).count("search.dedup"), 0u);
  const ExperimentConfig by_key = ParseExperiment(kGood, "good.yaml", {"search.dedup=key"});
  EXPECT_EQ(by_key.search.dedup, "key");
  EXPECT_NE(by_key.Hash(), base.Hash());
  EXPECT_EQ(ParseExperiment(by_key.ToYaml(), "resolved.yaml", {}).Hash(), by_key.Hash());
  // remeasure_front likewise: absent when off; on, it carries its margin and age.
  EXPECT_EQ(FlattenYaml(base.ToYaml()).count("search.remeasure_front"), 0u);
  const ExperimentConfig again = ParseExperiment(
      kGood, "good.yaml", {"search.remeasure_front=true", "search.remeasure_margin=0.02"});
  EXPECT_TRUE(again.search.remeasure_front);
  EXPECT_EQ(again.search.remeasure_margin, 0.02);
  EXPECT_NE(again.Hash(), base.Hash());
  const ExperimentConfig round = ParseExperiment(again.ToYaml(), "resolved.yaml", {});
  EXPECT_EQ(round.search.remeasure_margin, 0.02);
  EXPECT_EQ(round.search.remeasure_after, 3);
  EXPECT_EQ(round.Hash(), again.Hash());
}

struct BadCase {
  std::string name;
  std::string yaml;                  // replaces kGood when not empty
  std::vector<std::string> overrides;
  std::vector<std::string> expect;   // substrings of the message
};

TEST(ExperimentConfig, EveryBadValueGetsAMessageNamingFieldValueAndWhatIsAllowed) {
  const std::vector<BadCase> cases{
      {"unknown top key", std::string(kGood) + "serach: {population: 3}\n", {}, {"bad.yaml:10", "unknown key 'serach'", "did you mean 'search'"}},
      {"unknown nested key", "", {"search.populaton=3"}, {"unknown key 'search.populaton'", "did you mean 'population'"}},
      {"wrong type", "", {"search.population=lots"}, {"search.population", "'lots'", "integer"}},
      {"out of range", "", {"search.population=1"}, {"search.population: 1", ">= 2"}},
      {"margin without remeasure", "", {"search.remeasure_margin=0.02"}, {"search.remeasure_margin", "remeasure_front is true"}},
      {"unknown dedup", "", {"search.dedup=exact"}, {"search.dedup", "'exact'", "canonical, canonical_used, canonical_raw, key"}},
      {"unknown strategy", "", {"search.strategy=nsga9"}, {"search.strategy", "nsga9", "nsga2"}},
      {"unknown metric", "", {"objectives=[{metric: acuracy, goal: max}, {metric: params, goal: min}]"}, {"objectives[0].metric", "acuracy"}},
      {"bad goal", "", {"objectives=[{metric: val_accuracy, goal: up}, {metric: params, goal: min}]"}, {"objectives[0].goal", "'up'", "min, max"}},
      {"one objective", "", {"objectives=[{metric: val_accuracy, goal: max}]"}, {"objectives", "2 to 8"}},
      {"bad constraint", "", {"constraints=['params < 5']"}, {"constraints", "params < 5", "metric <= number"}},
      {"constraint metric", "", {"constraints=['parms <= 5']"}, {"unknown metric 'parms'", "did you mean 'params'"}},
      {"dataset name", "", {"dataset.name=imagenet"}, {"dataset.name", "imagenet", "fashion_mnist"}},
      {"negative lr", "", {"training.lr=-1"}, {"training.lr: -1", "> 0"}},
      {"optimizer", "", {"training.optimizer=adam"}, {"training.optimizer", "'adam'", "sgd, adamw"}},
      {"layout", "", {"training.layout=nhwc"}, {"training.layout", "'nhwc'", "auto, channels_last, nchw"}},
      {"workers", "", {"evaluator.workers=0"}, {"evaluator.workers", "out of range"}},
      {"evaluator kind", "", {"evaluator.kind=magic"}, {"evaluator.kind", "'magic'", "train, table"}},
      {"table without path", "", {"evaluator.kind=table"}, {"evaluator.table.path", "missing"}},
      {"no budget", "", {"budget.max_evals=0"}, {"budget", "never end", "--max-evals 0 (or --set budget.max_evals=0) (command line)"}},
      {"impossible latency bound", "", {"constraints=[\"latency_ms <= -2\"]"},
       {"--set constraints", "(command line)", "'latency_ms <= -2' can never be met", "a time, above 0"}},
      {"impossible accuracy bound", "", {"constraints=[\"val_accuracy >= 101\"]"}, {"can never be met", "a percentage"}},
      {"impossible size bound", "", {"constraints=[\"int8_model_bytes <= -1\"]", "deploy.precision=int8"}, {"can never be met"}},
      {"a list element out of range", "", {"objectives[5].metric=params"}, {"(command line)", "'objectives' has 2 element(s)"}},
      {"a list element set badly", "", {"objectives[1].metric=latency"},
       {"--set objectives[1].metric=latency (command line)", "did you mean 'latency_ms'"}},
      {"malformed yaml", "name: [unclosed\n", {}, {"bad.yaml:", "malformed YAML"}},
      {"malformed override", "", {"search.population"}, {"--set", "key=value"}},
      {"unknown mutation", "", {"search.mutation=gaussian"}, {"search.mutation", "'gaussian'", "per_decision, single"}},
      // make fuzz: yaml-cpp writes such bytes back differently, so the resolved config would not
      // read back as itself (fuzz/seeds/fuzz_experiment/regression-non-utf8-key.yaml).
      {"non-UTF-8 key", "space: {name: nb201, set: {ch\xff" "x: 4}}\nbudget: {max_evals: 2}\n", {}, {"bad.yaml:1", "a key holds bytes that are not UTF-8"}},
      {"control character", "name: \"a\\x07b\"\nbudget: {max_evals: 2}\n", {}, {"field 'name'", "a control character (byte 7)"}},
      {"user data without path", "", {"dataset.name=numpy"}, {"dataset.path", "needs a path", ".npz"}},
      {"missing npz", "", {"dataset.name=numpy", "dataset.path=/nonexistent/d.npz"}, {"--set dataset.path=/nonexistent/d.npz (command line)", "/nonexistent/d.npz: no such file"}},
      {"mean for a built-in", "", {"dataset.mean=[0.5]", "dataset.std=[0.5]"}, {"dataset.mean", "only for your own data"}},
      {"fidelity without rungs", "", {"fidelity.eta=3"}, {"fidelity", "rungs (a list) or min and max"}},
      {"fidelity rungs and min", "", {"fidelity.rungs=[1, 2]", "fidelity.min=1"}, {"fidelity", "either rungs or min and max"}},
      {"fidelity rungs decrease", "", {"fidelity.rungs=[2, 1]"}, {"fidelity.rungs", "must increase"}},
      {"fidelity resource", "", {"fidelity.rungs=[1, 2]", "fidelity.resource=hours"}, {"fidelity.resource", "'hours'", "epochs, steps, images"}},
      {"fidelity mode", "", {"fidelity.rungs=[1, 2]", "fidelity.mode=hyperband"}, {"fidelity.mode", "'hyperband'", "sync, async"}},
      {"fidelity eta", "", {"fidelity.rungs=[1, 2]", "fidelity.eta=1"}, {"fidelity.eta", "> 1"}},
      {"rung validation", "", {"fidelity.rungs=[1, 2]", "training.rung_validation=-5"}, {"training.rung_validation", "-5"}},
      {"rung validation without fidelity", "", {"training.rung_validation=1000"}, {"training.rung_validation", "fidelity section"}},
      {"fidelity promotion", "", {"fidelity.rungs=[1, 2]", "fidelity.promotion=best"}, {"fidelity.promotion", "'best'", "crowding, crowding_primary, hypervolume"}},
      {"fidelity promotion pool", "", {"fidelity.rungs=[1, 2]", "fidelity.promotion_pool=0"}, {"fidelity.promotion_pool", "0 is not allowed", ">= 1", "or all"}},
      {"fidelity promotion pool word", "", {"fidelity.rungs=[1, 2]", "fidelity.promotion_pool=every"}, {"fidelity.promotion_pool"}},
      {"fidelity pool async", "", {"fidelity.rungs=[1, 2]", "fidelity.mode=async", "fidelity.promotion_pool=all"}, {"fidelity.promotion_pool: all needs mode: sync"}},
      {"cuda graphs on cpu", "", {"training.cuda_graphs=on"}, {"training.cuda_graphs: on needs evaluator.device: cuda", "'cpu'"}},
      {"unknown cuda graphs", "", {"training.cuda_graphs=maybe"}, {"training.cuda_graphs", "'maybe'", "auto, on, off"}},
      {"precision on cpu", "", {"training.precision=bf16"}, {"training.precision: bf16 needs evaluator.device: cuda"}},
      {"unknown precision", "", {"training.precision=fp8"}, {"training.precision", "'fp8'", "fp32, bf16, fp16"}},
      {"fidelity vs epochs", "", {"fidelity.rungs=[1, 3]", "training.epochs=2"}, {"training.epochs: 2", "top rung (3 epochs)"}},
      {"fidelity vs steps", "", {"fidelity.rungs=[1, 3]", "training.steps=50"}, {"training.steps", "remove training.steps"}},
      {"unknown proxy", "", {"evaluator.proxies=[synflo]"}, {"evaluator.proxies[0]", "'synflo'", "did you mean 'synflow'", "naswot"}},
      {"proxies not a list", "", {"evaluator.proxies=synflow"}, {"evaluator.proxies", "expected a list"}},
      {"proxy batch", "", {"evaluator.proxies=[naswot]", "evaluator.proxy_batch=1"}, {"evaluator.proxy_batch", "out of range"}},
      {"proxies on a table", "", {"evaluator.kind=table", "evaluator.table.path=t.csv", "evaluator.proxies=[synflow]"},
       {"evaluator.kind: train only", "a column named like a proxy"}},
      {"prescreen by a word", "", {"search.batch=20", "search.prescreen.keep=5", "search.prescreen.by=magic"}, {"search.prescreen.by", "'magic'", "surrogate or a list"}},
      {"prescreen kappa without surrogate", "", {"search.batch=20", "search.prescreen.keep=5", "search.prescreen.kappa=1", "evaluator.proxies=[snip]"}, {"search.prescreen.kappa", "only with search.prescreen.by: surrogate"}},
      {"prescreen feature", "", {"search.batch=20", "search.prescreen.keep=5", "search.prescreen.by=surrogate", "search.prescreen.features=[val_accuracy]"}, {"search.prescreen.features[0]", "not known before training"}},
      {"fidelity and command", "", {"fidelity.rungs=[1, 3]", "evaluator.kind=command", "evaluator.command=python3 t.py"}, {"fidelity", "command does not train in rungs"}},
      {"deploy precision", "", {"deploy.precision=int4"}, {"deploy.precision", "'int4'", "fp32, int8"}},
      {"deploy calibration", "", {"deploy.precision=int8", "deploy.calibration=kl"}, {"deploy.calibration", "'kl'", "minmax, percentile"}},
      {"deploy calibration images", "", {"deploy.precision=int8", "deploy.calibration_images=0"}, {"deploy.calibration_images", "out of range"}},
      {"deploy unknown key", "", {"deploy.bits=8"}, {"unknown key 'deploy.bits'"}},
      {"int8 metric without deploy", "", {"objectives=[{metric: int8_val_accuracy, goal: max}, {metric: params, goal: min}]"},
       {"int8_val_accuracy", "measured on the int8 model", "deploy: {precision: int8}"}},
      {"int8 on a table", "", {"evaluator.kind=table", "evaluator.table.path=t.csv", "deploy.precision=int8"},
       {"deploy.precision", "evaluator.kind: train", "'table'"}},
  };
  for (const auto& c : cases) {
    try {
      ParseExperiment(c.yaml.empty() ? kGood : c.yaml, "bad.yaml", c.overrides);
      ADD_FAILURE() << c.name << ": accepted";
    } catch (const InputError& e) {
      for (const auto& s : c.expect)
        EXPECT_NE(std::string(e.what()).find(s), std::string::npos)
            << c.name << ": '" << e.what() << "' lacks '" << s << "'";
    }
  }
}

// A deploy section survives the round trip and changes the hash; without one (or with fp32) the
// resolved config has none, so earlier run directories keep their hash.
TEST(ExperimentConfig, DeployResolvesAndRoundTrips) {
  const ExperimentConfig off = ParseExperiment(kGood, "good.yaml", {});
  EXPECT_EQ(off.ToYaml().find("deploy"), std::string::npos);
  EXPECT_EQ(ParseExperiment(kGood, "good.yaml", {"deploy.precision=fp32"}).Hash(), off.Hash());
  const ExperimentConfig c = ParseExperiment(
      kGood, "good.yaml",
      {"deploy.precision=int8", "deploy.calibration=minmax", "deploy.calibration_images=64",
       "objectives=[{metric: int8_val_accuracy, goal: max}, {metric: int8_latency_ms, goal: min}]"});
  EXPECT_TRUE(c.training.Int8());
  EXPECT_EQ(c.training.calibration, "minmax");
  EXPECT_EQ(c.training.calibration_images, 64);
  EXPECT_NE(c.Hash(), off.Hash());
  const ExperimentConfig again = ParseExperiment(c.ToYaml(), "resolved.yaml", {});
  EXPECT_EQ(again.ToYaml(), c.ToYaml());
  EXPECT_EQ(again.Hash(), c.Hash());
  EXPECT_NE(c.training.Signature(), off.training.Signature());  // the result cache tells them apart
  // Quantization-aware fine-tuning: kept in the resolved file and the signature; needs int8.
  const ExperimentConfig qat = ParseExperiment(c.ToYaml(), "resolved.yaml", {"deploy.finetune_epochs=2"});
  EXPECT_EQ(qat.training.finetune_epochs, 2);
  EXPECT_EQ(ParseExperiment(qat.ToYaml(), "again.yaml", {}).training.finetune_epochs, 2);
  EXPECT_NE(qat.training.Signature(), c.training.Signature());
  EXPECT_NE(qat.Hash(), c.Hash());
  try {
    ParseExperiment(kGood, "good.yaml", {"deploy.finetune_epochs=1"});
    ADD_FAILURE() << "finetune_epochs without int8 was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("it needs 'precision: int8'"), std::string::npos) << e.what();
  }
}

// A fidelity section resolves (min/max/eta to rungs), sets the training length to the top rung,
// survives the round trip, and changes the hash; without one the resolved config has none.
TEST(ExperimentConfig, FidelityResolvesAndRoundTrips) {
  const ExperimentConfig off = ParseExperiment(kGood, "good.yaml", {});
  EXPECT_FALSE(off.fidelity.enabled());
  EXPECT_EQ(off.ToYaml().find("fidelity"), std::string::npos);
  const ExperimentConfig c = ParseExperiment(kGood, "good.yaml", {"fidelity.min=0.2", "fidelity.max=2", "fidelity.eta=3"});
  EXPECT_EQ(c.fidelity.rungs, (std::vector<double>{0.222222, 0.666667, 2}));
  EXPECT_EQ(c.training.epochs, 2);
  const ExperimentConfig again = ParseExperiment(c.ToYaml(), "resolved.yaml", {});
  EXPECT_EQ(again.fidelity.rungs, c.fidelity.rungs);
  EXPECT_EQ(again.ToYaml(), c.ToYaml());
  EXPECT_NE(again.Hash(), off.Hash());
  // training.rung_validation: written (and hashed) only when set, so earlier runs keep their hash.
  EXPECT_EQ(c.ToYaml().find("rung_validation"), std::string::npos);
  const ExperimentConfig sampled = ParseExperiment(c.ToYaml(), "resolved.yaml", {"training.rung_validation=1000"});
  EXPECT_EQ(sampled.training.rung_validation, 1000);
  EXPECT_EQ(ParseExperiment(sampled.ToYaml(), "resolved.yaml", {}).training.rung_validation, 1000);
  EXPECT_NE(sampled.Hash(), c.Hash());
  // fidelity.promotion likewise: absent at crowding; hypervolume round-trips and changes the hash.
  EXPECT_EQ(c.ToYaml().find("promotion"), std::string::npos);
  const ExperimentConfig hv = ParseExperiment(c.ToYaml(), "resolved.yaml", {"fidelity.promotion=hypervolume"});
  EXPECT_EQ(ParseExperiment(hv.ToYaml(), "resolved.yaml", {}).fidelity.promotion, "hypervolume");
  EXPECT_NE(hv.Hash(), c.Hash());
  // fidelity.promotion_pool likewise: absent at 1; all and a number round-trip.
  EXPECT_EQ(c.ToYaml().find("promotion_pool"), std::string::npos);
  const ExperimentConfig pool = ParseExperiment(c.ToYaml(), "resolved.yaml", {"fidelity.promotion_pool=all"});
  EXPECT_EQ(pool.fidelity.promotion_pool, 0);
  EXPECT_EQ(ParseExperiment(pool.ToYaml(), "resolved.yaml", {}).fidelity.promotion_pool, 0);
  EXPECT_NE(pool.Hash(), c.Hash());
  const ExperimentConfig pool3 = ParseExperiment(c.ToYaml(), "resolved.yaml", {"fidelity.promotion_pool=3"});
  EXPECT_EQ(ParseExperiment(pool3.ToYaml(), "resolved.yaml", {}).fidelity.promotion_pool, 3);
  // training.cuda_graphs and training.precision likewise: absent at their defaults; set, they
  // round-trip and change the hash (false reads as off, as YAML's booleans do).
  EXPECT_EQ(off.ToYaml().find("cuda_graphs"), std::string::npos);
  EXPECT_EQ(off.ToYaml().find("precision"), std::string::npos);
  const ExperimentConfig eager = ParseExperiment(kGood, "good.yaml", {"training.cuda_graphs=false"});
  EXPECT_EQ(eager.training.cuda_graphs, "off");
  EXPECT_EQ(ParseExperiment(eager.ToYaml(), "resolved.yaml", {}).training.cuda_graphs, "off");
  EXPECT_NE(eager.Hash(), off.Hash());
  const ExperimentConfig steps = ParseExperiment(kGood, "good.yaml", {"fidelity.resource=steps", "fidelity.rungs=[10, 30, 90]"});
  EXPECT_EQ(steps.fidelity.max_resource(), 90);
}

// Proxies are listed once each, also when an objective or a constraint names one without the
// list; they survive the round trip and change the hash; without them the resolved config (and
// so an earlier run directory's hash) has no proxy key.
TEST(ExperimentConfig, ProxiesResolveFromTheListAndFromTheObjectives) {
  const ExperimentConfig off = ParseExperiment(kGood, "good.yaml", {});
  EXPECT_EQ(off.ToYaml().find("prox"), std::string::npos);
  const ExperimentConfig c = ParseExperiment(kGood, "good.yaml", {"evaluator.proxies=[naswot, synflow, naswot]",
                                                                  "evaluator.proxy_batch=32",
                                                                  "constraints=['snip >= 0.5']"});
  EXPECT_EQ(c.training.proxies, (std::vector<std::string>{"naswot", "synflow", "snip"}));
  EXPECT_EQ(c.training.proxy_batch, 32);
  const ExperimentConfig again = ParseExperiment(c.ToYaml(), "resolved.yaml", {});
  EXPECT_EQ(again.training.proxies, c.training.proxies);
  EXPECT_EQ(again.ToYaml(), c.ToYaml());
  EXPECT_NE(c.Hash(), off.Hash());
  // By the surrogates: the features default to the proxies; an empty list is the architecture only.
  const ExperimentConfig sur = ParseExperiment(kGood, "good.yaml", {"evaluator.proxies=[snip]", "search.batch=20",
                                                                    "search.prescreen.keep=5", "search.prescreen.by=surrogate"});
  EXPECT_TRUE(sur.prescreen.surrogate);
  EXPECT_EQ(sur.prescreen.features, (std::vector<std::string>{"snip"}));
  EXPECT_EQ(ParseExperiment(sur.ToYaml(), "resolved.yaml", {}).ToYaml(), sur.ToYaml());
  const ExperimentConfig arch_only = ParseExperiment(kGood, "good.yaml", {"search.batch=20", "search.prescreen.keep=5",
                                                                         "search.prescreen.by=surrogate", "search.prescreen.features=[]"});
  EXPECT_TRUE(arch_only.prescreen.features.empty());
  const ExperimentConfig by_objective = ParseExperiment(
      kGood, "good.yaml", {"objectives=[{metric: val_accuracy, goal: max}, {metric: synflow, goal: max}]"});
  EXPECT_EQ(by_objective.training.proxies, (std::vector<std::string>{"synflow"}));
}

TEST(ExperimentConfig, ShippedExperimentFilesAreValid) {
  for (const char* f : {"fashion_mnist_quick.yaml", "fashion_mnist.yaml", "fashion_mnist_gpu.yaml",
                        "fashion_mnist_baseline.yaml", "fashion_mnist_downsampled.yaml",
                        "fashion_mnist_baseline_augmented.yaml", "cifar10.yaml", "nb201_table.yaml", "fashion_mnist_mf.yaml", "fashion_mnist_int8.yaml"}) {
    EXPECT_NO_THROW(LoadExperiment(testing::SourceDir() + "/experiments/" + f, {})) << f;
  }
}

// workers: auto counts the cores this process may run on (its affinity mask) and, when that is
// the whole machine, divides them among `share` evaluating processes (MPI worker ranks on one
// node); a pinned process (taskset, mpirun --bind-to core) keeps what it was given.
TEST(ExperimentConfig, AutoWorkersFollowTheAffinityMaskAndTheShare) {
  ExperimentConfig c;
  c.workers = 3;
  EXPECT_EQ(c.ResolvedWorkers(4), 3);  // explicit: as given
  c.workers = 0;
  const int online = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t saved;
  ASSERT_EQ(::sched_getaffinity(0, sizeof(saved), &saved), 0);
  if (UsableCores() == online) {
    EXPECT_EQ(c.ResolvedWorkers(), online);
    EXPECT_EQ(c.ResolvedWorkers(2), std::max(1, online / 2));
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  CPU_SET(first, &one);
  ASSERT_EQ(::sched_setaffinity(0, sizeof(one), &one), 0);
  EXPECT_EQ(UsableCores(), 1);
  EXPECT_EQ(c.ResolvedWorkers(), 1);
  EXPECT_EQ(c.ResolvedWorkers(2), 1);  // pinned: not divided again
  ASSERT_EQ(::sched_setaffinity(0, sizeof(saved), &saved), 0);
}

}  // namespace
}  // namespace paretonas::experiments

// `paretonas latency calibrate|measure|fit|eval|predict|kit`: the command line of the latency
// verbs; each verb is its own file in experiments/latency/.
#include <memory>

#include "experiments/cli_common.h"
#include "experiments/latency/latency_cli.h"

namespace paretonas::experiments {
namespace {

using latency_cli::LatencyOptions;

void SpaceOptions(CLI::App* c, LatencyOptions* o) {
  c->add_option("--config", o->config, "Take the space and input shape from this experiment file");
  c->add_option("-s,--space", o->space, "Preset (nb201, mobilenet) or space file")->capture_default_str();
  c->add_option("--set", o->sets, "Override a space parameter, e.g. --set channels=16 (repeatable)");
  c->add_option("--input", o->input, "Input shape CxHxW (default 3x32x32; 1x28x28 for mobilenet)");
  c->add_option("--classes", o->classes, "Number of classes")->check(CLI::Range(1, 100000))->capture_default_str();
}

void MeasureFlags(CLI::App* c, LatencyOptions* o) {
  c->add_option("--device", o->measure.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  c->add_option("--threads", o->measure.threads, "Intra-op threads while timing")->check(CLI::Range(1, 1024))->capture_default_str();
  c->add_option("--warmup", o->measure.warmup, "Untimed passes first")->check(CLI::Range(0, 100000))->capture_default_str();
  c->add_option("--repeats", o->measure.repeats, "Timed passes (the median is kept)")->check(CLI::Range(3, 100000))->capture_default_str();
  c->add_option("--rounds", o->measure.rounds,
                "Spread each architecture's timed passes over R rounds that visit every architecture "
                "in turn, so that the machine's drift hits all alike (1: back to back; default 5, "
                "at most --repeats)")
      ->check(CLI::Range(1, 100000));
  c->add_option("--target", o->measure.target,
                "Keep timing (more rounds, for the architectures that need them) until the 95% interval "
                "of each median is within +-target of it (0: no more rounds)")
      ->check(CLI::Range(0.0, 0.5))->capture_default_str();
  c->add_option("--max-seconds", o->measure.max_seconds,
                "Per architecture: no more rounds after this much timing; what is still wider than "
                "the target is flagged noisy")
      ->check(CLI::Range(0.0, 3600.0))->capture_default_str();
  c->add_option("--max-passes", o->measure.max_passes, "Per architecture: timed passes at the most")
      ->check(CLI::Range(3, 10000000))->capture_default_str();
  c->add_flag("--keep-descheduled{false}", o->measure.discard_descheduled,
              "Count every timed pass, also those during which the timing thread lost its core (its "
              "wall time well above its CPU time); by default they are replaced");
  c->add_option("--seed", o->seed, "Seed of the random architectures")->capture_default_str();
}

void FitFlags(CLI::App* c, LatencyOptions* o) {
  c->add_option("--lambda", o->lambda, "Ridge penalty (default: chosen by 5-fold cross-validation)")->check(NonNegative());
  c->add_option("--members", o->members, "Bootstrap refits for the uncertainty")->check(CLI::Range(0, 100))->capture_default_str();
}

}  // namespace

void SetupLatency(CLI::App& app) {
  auto o = std::make_shared<LatencyOptions>();
  auto* sub = app.add_subcommand("latency", "Latency predictor: calibrate on this machine, fit from "
                                            "measurements taken anywhere, evaluate, predict");
  sub->require_subcommand(1);
  sub->footer("Example (a device that is not attached, NAS-Bench-201's table):\n"
              "  paretonas latency fit --space nb201 --data nb201_cifar10.csv --key-column arch_string \\\n"
              "      --latency-column pixel3_ms --sample 100 --rest-out rest.csv --out pixel3.model\n"
              "  paretonas latency eval --model pixel3.model --data rest.csv");

  auto* cal = sub->add_subcommand("calibrate", "Measure a per-op table and N random architectures "
                                               "on this machine, fit, write MODEL, MODEL.csv, MODEL.ops.csv");
  SpaceOptions(cal, o.get());
  MeasureFlags(cal, o.get());
  FitFlags(cal, o.get());
  cal->add_option("--precision", o->precision,
                  "fp32 | int8: the per-op table and the architectures timed as int8 models (CPU), so "
                  "that the model predicts int8 latency (its description says int8)")
      ->check(CLI::IsMember({"fp32", "int8"}));
  cal->add_option("--samples", o->samples, "Architectures to measure")->check(CLI::Range(5, 1000000))->capture_default_str();
  cal->add_option("-o,--out", o->out, "Model file to write")->required();
  cal->callback([o] { RunCommand([o] { return latency_cli::Calibrate(*o); }); });

  auto* me = sub->add_subcommand("measure", "Measure architectures on this machine into a CSV "
                                            "(arch, latency_ms, latency_iqr_ms, the interval of the median, "
                                            "passes kept and discarded, noisy)");
  SpaceOptions(me, o.get());
  MeasureFlags(me, o.get());
  me->add_option("--samples", o->samples, "Random architectures (without --arch)")->check(CLI::Range(1, 1000000))->capture_default_str();
  me->add_option("-a,--arch", o->archs, "Architecture key (repeatable) instead of random ones");
  me->add_option("--front-of", o->front_of, "Measure the Pareto front of this run directory (its space)");
  me->add_option("--precision", o->precision,
                 "fp32 | int8: time each network, or its int8 model on the CPU's int8 kernels (default: "
                 "fp32; with --front-of, the run's deploy.precision)")
      ->check(CLI::IsMember({"fp32", "int8"}));
  me->add_flag("--compare", o->compare,
               "With --front-of: time the front interleaved in many rounds (at least 60 passes in 12 "
               "rounds) and compare with the run's latencies: each member's old and new number, "
               "the rank agreement, and whether the front would change");
  me->add_option("--passes", o->passes_out,
                 "Also write every timed pass to this CSV (row, round, wall_ms, cpu_ms, kept): what "
                 "the estimates were made of");
  me->add_option("-o,--out", o->out, "CSV file to write")->required();
  me->callback([o] { RunCommand([o] { return latency_cli::Measure(*o); }); });

  auto* fit = sub->add_subcommand("fit", "Fit a model from measured latencies (a CSV taken anywhere)");
  SpaceOptions(fit, o.get());
  FitFlags(fit, o.get());
  fit->add_option("--data", o->data, "CSV with an architecture key column and a latency column (ms)")->required();
  fit->add_option("--key-column", o->key_column, "Column of architecture keys (NB201 strings, or keys from `space sample`)")->capture_default_str();
  fit->add_option("--latency-column", o->latency_column, "Column of latencies in ms")->capture_default_str();
  fit->add_option("--sample", o->sample_rows, "Fit on this many random rows only");
  fit->add_option("--rest-out", o->rest_out, "With --sample: write the other rows here (for eval)");
  fit->add_option("--seed", o->seed, "Seed of --sample and of the bootstrap")->capture_default_str();
  fit->add_option("--ops", o->ops, "Per-op table (CSV: op, latency_ms), e.g. calibrate's MODEL.ops.csv, "
                                   "used as the model's prior");
  fit->add_option("--prior", o->priors,
                  "A model of another device for the same space (repeatable): few-shot, its "
                  "predictions become features this device's measurements only have to relate to");
  fit->add_option("--precision", o->precision,
                  "fp32 | int8: which networks the measurements timed, recorded in the model (a search "
                  "with deploy.precision int8 needs an int8 model). Default: the kit's (kit.json beside "
                  "the data), else fp32")
      ->check(CLI::IsMember({"fp32", "int8"}));
  fit->add_option("-o,--out", o->out, "Model file to write")->required();
  fit->callback([o] { RunCommand([o] { return latency_cli::Fit(*o); }); });

  auto* kit = sub->add_subcommand("kit", "Export N architectures that cover the space, with a "
                                         "standalone runner, to measure latency on your own device");
  SpaceOptions(kit, o.get());
  kit->add_option("-n,--n", o->n, "Architectures to export (the measurements to take)")
      ->check(CLI::Range(5, 100000))->capture_default_str();
  kit->add_option("--pool", o->pool, "Candidates to choose from (the whole space when it is smaller)")
      ->check(CLI::Range(10, 10000000))->capture_default_str();
  kit->add_option("--seed", o->seed, "Seed of the pool and of the exported weights")->capture_default_str();
  kit->add_option("--select", o->select, "spread: cover the latency features (greedy k-centre); "
                                         "random: a uniform sample (e.g. to test a model on)")
      ->check(CLI::IsMember({"spread", "random"}))->capture_default_str();
  kit->add_flag("!--no-ops", o->kit_ops,
                "Leave out the per-op models (each operation configuration alone, timed into "
                "ops_latency.csv for `latency fit --ops`)");
  kit->add_option("--precision", o->precision,
                  "fp32 | int8: export the models (and per-op models) as int8, quantized as the deploy "
                  "stage does (QDQ ONNX, quantized TorchScript), to fit a device's int8 latency")
      ->check(CLI::IsMember({"fp32", "int8"}));
  kit->add_option("-o,--out", o->out, "Folder to write")->required();
  kit->callback([o] { RunCommand([o] { return latency_cli::Kit(*o); }); });

  auto* ev = sub->add_subcommand("eval", "Compare a model's predictions with measurements; writes a "
                                         "predicted-vs-measured SVG next to the model");
  ev->add_option("-m,--model", o->model, "Model file")->required();
  ev->add_option("--data", o->data, "CSV of measurements")->required();
  ev->add_option("--key-column", o->key_column, "Column of architecture keys")->capture_default_str();
  ev->add_option("--latency-column", o->latency_column, "Column of latencies in ms")->capture_default_str();
  ev->add_option("--plot", o->plot, "SVG to write (default MODEL.eval.svg)");
  ev->add_flag("--json", o->json, "Print one JSON object: n, within_5, within_10, spearman, kendall, mape");
  ev->callback([o] { RunCommand([o] { return latency_cli::Eval(*o); }); });

  auto* pr = sub->add_subcommand("predict", "Predicted latency (ms) and its spread for architectures");
  pr->add_option("-m,--model", o->model, "Model file")->required();
  pr->add_option("-a,--arch", o->archs, "Architecture key (repeatable)")->required();
  pr->add_flag("--json", o->json, "One JSON object per line");
  pr->callback([o] { RunCommand([o] { return latency_cli::Predict(*o); }); });
}

}  // namespace paretonas::experiments

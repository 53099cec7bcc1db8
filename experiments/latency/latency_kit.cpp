// `paretonas latency kit`: architectures that cover the space, exported to time on your device.
#include "experiments/latency/latency_cli.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "evaluator/train_evaluator.h"
#include "experiments/cli_common.h"
#include "experiments/onnx_export.h"
#include "experiments/run_directory.h"
#include "experiments/torchscript_export.h"
#include "space/csv_table.h"
#include "search/run_files.h"
#include "space/input_error.h"

namespace paretonas::experiments {
// The kit's device-side scripts (experiments/kit/, embedded by CMake into kit_files.cpp).
extern const char* const kKitRunner;
extern const char* const kKitOrtParser;

namespace latency_cli {

/// `latency kit`: N architectures that cover the space's latency features, exported for timing on
/// the user's device, with a standalone runner and a parser for ONNX Runtime's benchmark tool.
int Kit(const LatencyOptions& o) {
  if (o.out.empty()) throw InputError("latency kit: --out DIR is required");
  const bool int8 = o.precision == "int8";
  if (int8 && evaluator::Int8EngineName().empty())
    throw InputError("latency kit --precision int8: this LibTorch has no quantized engine to build the "
                     "int8 models with");
  const predictors::SpaceRef ref = SpaceRefOf(o);
  const space::SearchSpace sp = ref.Load();
  // The candidates: the whole space when it is small enough, else a random pool; cells whose
  // output is cut off from the input are left out (they compute a constant).
  std::vector<space::Genotype> pool;
  if (sp.NumGenotypes() <= static_cast<std::uint64_t>(o.pool)) {
    for (auto& g : sp.Enumerate(static_cast<std::uint64_t>(o.pool)))
      if (sp.Connected(g)) pool.push_back(std::move(g));
  } else {
    for (auto& g : DistinctSample(sp, o.pool, o.seed))
      if (sp.Connected(g)) pool.push_back(std::move(g));
  }
  if (pool.size() < static_cast<std::size_t>(o.n))
    throw InputError("latency kit --n " + std::to_string(o.n) + ": the space has only " +
                     std::to_string(pool.size()) + " connected architectures to choose from");
  std::cout << "choosing " << o.n << " of " << pool.size() << " architectures of " << sp.name()
            << (o.select == "random" ? " at random (seed " + std::to_string(o.seed) + ")"
                                     : std::string(" spread over the latency features (greedy k-centre)"))
            << "\n";
  std::cout.flush();
  std::vector<std::size_t> chosen;
  if (o.select == "random") {
    chosen.resize(pool.size());
    for (std::size_t i = 0; i < chosen.size(); ++i) chosen[i] = i;
    std::mt19937_64 rng(o.seed);
    std::shuffle(chosen.begin(), chosen.end(), rng);
    chosen.resize(static_cast<std::size_t>(o.n));
  } else {
    chosen = predictors::SpreadSelection(sp, pool, static_cast<std::size_t>(o.n));
  }
  MakeDirectories(o.out + "/models");
  const bool onnx = OnnxSupported();
  const space::InputSpec in = sp.input();
  const std::string shape = std::to_string(in.shape.c) + "x" + std::to_string(in.shape.h) + "x" +
                            std::to_string(in.shape.w);
  std::ostringstream manifest;
  manifest << "index,key,onnx,torchscript,input,params,macs\n";
  ProgressLine progress;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const space::Genotype& g = pool[chosen[i]];
    char name[16];
    std::snprintf(name, sizeof(name), "%03zu", i);
    const std::string ts = std::string("models/") + name + ".torchscript.pt";
    const std::string ox = onnx ? std::string("models/") + name + ".onnx" : "";
    if (int8) {
      Int8ExportOptions q;
      q.random_calibration = true;
      ExportInt8TorchScript(sp, g, "", o.seed + i, o.out + "/" + ts, nullptr, q);
      if (onnx) ExportInt8Onnx(sp, g, "", o.seed + i, o.out + "/" + ox, nullptr, q);
    } else {
      ExportTorchScript(sp, g, "", o.seed + i, o.out + "/" + ts);
      if (onnx) ExportOnnx(sp, g, "", o.seed + i, o.out + "/" + ox);
    }
    const space::StaticCosts c = sp.Costs(g);
    manifest << i << "," << CsvField(sp.Key(g)) << "," << ox << "," << ts << "," << shape
             << "," << c.params_pruned << "," << c.macs_pruned << "\n";
    progress.Update(static_cast<double>(i + 1) / static_cast<double>(chosen.size()),
                    [&] { return "exporting " + std::to_string(i + 1) + " / " + std::to_string(chosen.size()); });
  }
  search::WriteFileAtomic(o.out + "/manifest.csv", manifest.str());
  {  // what the kit was exported for: `latency fit` checks its measurements against it
    const predictors::SpaceRef ref = SpaceRefOf(o);
    std::ostringstream j;
    j << "{\"space\": " << search::JsonString(ref.name_or_path) << ", \"set\": {";
    bool first = true;
    for (const auto& [k, v] : ref.overrides) {
      j << (first ? "" : ", ") << search::JsonString(k) << ": " << search::JsonString(v);
      first = false;
    }
    j << "}, \"input\": [" << ref.c << ", " << ref.h << ", " << ref.w << "], \"classes\": " << ref.classes
      << ", \"precision\": \"" << (int8 ? "int8" : "fp32") << "\"";
    // The engine the int8 weights were packed for: the runner picks it where PyTorch has it.
    if (int8) j << ", \"int8_engine\": " << search::JsonString(evaluator::Int8EngineName());
    j << "}\n";
    search::WriteFileAtomic(o.out + "/kit.json", j.str());
  }
  // The per-op table: each operation configuration of the space alone at its shapes, timed by the
  // same runner. A chain space's latency is mostly the sum of its operations; 100 whole networks
  // cannot teach a model hundreds of per-op features, a measured table gives them as one nearly
  // unpenalised feature (as `latency calibrate` does on this machine).
  std::size_t num_ops = 0;
  if (o.kit_ops) {
    const auto configs = OperationConfigs(sp, pool, o.seed + 1);
    MakeDirectories(o.out + "/ops");
    std::ostringstream ops;
    ops << "index,op,onnx,torchscript,input\n";
    ProgressLine op_progress;
    for (const auto& [key, edge] : configs) {
      char name[16];
      std::snprintf(name, sizeof(name), "%03zu", num_ops);
      const std::string ts = std::string("ops/") + name + ".torchscript.pt";
      const std::string ox = onnx ? std::string("ops/") + name + ".onnx" : "";
      if (int8) {
        ExportInt8OperationTorchScript(edge, o.seed + num_ops, o.out + "/" + ts);
        if (onnx) ExportInt8OperationOnnx(edge, o.seed + num_ops, o.out + "/" + ox);
      } else {
        ExportOperationTorchScript(edge, o.seed + num_ops, o.out + "/" + ts);
        if (onnx) ExportOperationOnnx(edge, o.seed + num_ops, o.out + "/" + ox);
      }
      ops << num_ops << "," << CsvField(key) << "," << ox << "," << ts << "," << edge.in.c
          << "x" << edge.in.h << "x" << edge.in.w << "\n";
      ++num_ops;
      op_progress.Update(static_cast<double>(num_ops) / static_cast<double>(configs.size()), [&] {
        return "exporting operations " + std::to_string(num_ops) + " / " + std::to_string(configs.size());
      });
    }
    search::WriteFileAtomic(o.out + "/ops.csv", ops.str());
  }
  search::WriteFileAtomic(o.out + "/run_latency.py", kKitRunner);
  search::WriteFileAtomic(o.out + "/parse_ort_perf.py", kKitOrtParser);
  ::chmod((o.out + "/run_latency.py").c_str(), 0755);
  ::chmod((o.out + "/parse_ort_perf.py").c_str(), 0755);
  std::string space_args = "--space " + ref.name_or_path;
  for (const auto& [k, v] : ref.overrides) space_args += " --set " + k + "=" + v;
  space_args += " --input " + shape;
  std::ostringstream readme;
  readme << "paretonas latency kit: " << chosen.size() << (int8 ? " int8" : "") << " architectures of " << sp.name()
         << " (input " << shape << "), chosen to cover the space's latency features\n"
         << "(greedy k-centre on the standardised features of " << pool.size() << " candidates).\n"
         << (int8 ? "The models are int8, quantized as paretonas's deploy stage does (batch norm folded,\n"
                    "per-channel int8 weights, uint8 activations): ONNX in QDQ form, which ONNX Runtime\n"
                    "runs on its int8 kernels, and TorchScript on PyTorch's quantized engine (the runner\n"
                    "sets it; the weights were packed for " + evaluator::Int8EngineName() + "). The fit reads kit.json\n"
                    "and records that the model predicts int8 latency.\n"
                  : "")
         << "\n"
         << "1. Copy this folder to the device and time the models at batch 1 (Python 3 with NumPy and\n"
         << "   onnxruntime or PyTorch; nothing of paretonas):\n"
         << "     python3 run_latency.py --threads 1        # writes latency.csv and latency.json\n"
         << (num_ops ? "   It also times the " + std::to_string(num_ops) +
                           " operation configurations of ops/ alone (ops_latency.csv).\n"
                     : std::string())
         << "   On Android, with ONNX Runtime's benchmark tool instead (onnxruntime_perf_test):\n"
         << "     adb push models /data/local/tmp/kit/models\n"
         << "     for f in models/*.onnx; do i=$(basename \"$f\" .onnx); adb shell \\\n"
         << "       /data/local/tmp/onnxruntime_perf_test -e cpu -x 1 -r 100 -I /data/local/tmp/kit/$f \\\n"
         << "       > ort_logs/$i.txt; done\n"
         << "     python3 parse_ort_perf.py ort_logs       # writes latency.csv\n"
         << (num_ops ? "   (and the same for ops/*.onnx into op_logs/, then\n"
                       "     python3 parse_ort_perf.py op_logs --ops   # writes ops_latency.csv)\n"
                     : std::string())
         << "\n"
         << "2. Back on the machine with paretonas, fit the device's model (add --prior MODEL for the\n"
         << "   models of other devices you have: few measurements then go much further):\n"
         << "     paretonas latency fit " << space_args << " \\\n"
         << "       --data latency.csv --key-column key"
         << (num_ops ? " --ops ops_latency.csv" : "") << " --out device.model\n\n"
         << "3. Use it in a search: evaluator.latency.predictor: device.model, objective\n"
         << "   predicted_latency_ms.\n";
  search::WriteFileAtomic(o.out + "/README.txt", readme.str());
  std::cout << "\nwrote " << o.out << ": " << chosen.size() << (int8 ? " int8" : "") << " models (TorchScript" << (onnx ? " and ONNX" : "")
            << "), manifest.csv, "
            << (num_ops ? std::to_string(num_ops) + " operation models with ops.csv, " : std::string())
            << "run_latency.py, parse_ort_perf.py, README.txt\n"
            << "next: copy it to the device and run `python3 run_latency.py`; README.txt says the rest\n";
  return kExitOk;
}

}  // namespace latency_cli
}  // namespace paretonas::experiments

// CommandEvaluator: the user's own training code. Each candidate is written to files, the user's
// command trains it in a subprocess and answers with a result file. Header is torch-free.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "evaluator/command_result.h"
#include "evaluator/eval_types.h"
#include "evaluator/train_evaluator.h"
#include "space/search_space.h"

namespace paretonas::evaluator {

struct CommandOptions {
  /// Run with /bin/sh in the working directory; "{request}" is replaced by the request file's
  /// path, else the path is appended as the last argument.
  std::string command;
  double timeout_s = 0;      ///< per candidate; 0: no limit
  /// Where each trial gets its folder: <work_dir>/trials/<id>/ (request, candidate files,
  /// stdout, stderr, result).
  std::string work_dir;
  std::string device = "cpu";  ///< cpu | cuda: on cuda each worker slot names its own GPU index
  int gpus = 1;                ///< GPUs to spread the slots over (cuda: all LibTorch sees)
  /// JSON members added to every request (the dataset and the training recipe), e.g.
  /// "\"dataset\": {...}, \"training\": {...}".
  std::string context_json;
};

/// Writes a candidate's files into a trial folder: `model.torchscript.pt` (trainable in Python),
/// `graph.json` and, where the build has ONNX, `model.onnx`. Throws on failure.
using CandidateWriter = std::function<void(const EvalRequest&, const std::string& dir)>;


/// Metrics: those of the result file, plus params, macs, activation_bytes (static),
/// export_seconds (writing the candidate's files), command_seconds (the command's wall time) and, when
/// `train.measure_latency`, latency_ms, latency_iqr_ms, peak_activation_bytes, model_bytes
/// measured here at batch 1 while the commands of the other worker slots are paused
/// (SIGSTOP/SIGCONT of their process groups), so that training does not disturb the timing.
/// A non-zero exit, a signal, a timeout, a missing or malformed result file is a failed result
/// whose reason ends with the tail of the command's stderr. Thread-safe.
class CommandEvaluator : public Evaluator {
 public:
  CommandEvaluator(const space::SearchSpace& space, CommandOptions options,
                   const TrainOptions& train, CandidateWriter writer);
  ~CommandEvaluator() override;
  EvalResult Evaluate(const EvalRequest& request) override;
  void PrepareWorkerThread() override;
  std::string Describe() const override;
  /// With TrainOptions::measure_latency: the latency stage (MeasureRequests on the CPU), with
  /// every running command paused.
  bool CanMeasureLatencies() const override;
  std::vector<EvalResult> MeasureLatencies(const std::vector<EvalRequest>& requests) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace paretonas::evaluator

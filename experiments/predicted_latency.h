// PredictedLatency: adds the latency predictor's estimate to every result of a search
// (metrics predicted_latency_ms, predicted_latency_std_ms), so that it can be an objective or a
// constraint; with `online`, refits the predictor on the measured latencies between batches.
// The prediction is the deployed model's latency: an int8 model (`latency ... --precision int8`)
// for deploy.precision int8, refit online on int8_latency_ms; an fp32 one otherwise.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "evaluator/batch_evaluator.h"
#include "predictors/latency_model.h"
#include "search/search_state.h"

namespace paretonas::experiments {

class PredictedLatency : public evaluator::BatchEvaluator {
 public:
  /// `inner` and `space` must outlive this. Throws InputError when the model was fit for another
  /// space or input shape than `space`.
  PredictedLatency(evaluator::BatchEvaluator& inner, const space::SearchSpace& space,
                   predictors::LatencyModel model, const std::string& model_path, bool online,
                   const std::string& deploy_precision = "fp32");

  /// Throws InputError when `model` was fit for another space, input shape or space parameters
  /// than `space`, or predicts another precision than `deploy_precision` (what the constructor
  /// checks; `validate` checks it too).
  static void CheckFits(const predictors::LatencyModel& model, const space::SearchSpace& space,
                        const std::string& model_path, const std::string& deploy_precision = "fp32");

  /// Online: starts from the measurements of `state`'s finished trials outside its current
  /// generation (what an uninterrupted run had at this point; resume stays exact).
  void Seed(const search::SearchState& state);

  /// Refits (online) on every measurement of earlier batches, in trial-id order, then evaluates.
  /// Predictions inside one batch all come from one model: the same for any worker count.
  void EvaluateBatch(const std::vector<evaluator::EvalRequest>& requests,
                     const std::function<void(const evaluator::EvalResult&)>& on_done,
                     const std::atomic<bool>* cancel) override;
  std::string Describe() const override;

  const predictors::LatencyModel& model() const { return *model_; }

 private:
  struct Measurement {
    std::int64_t trial_id;
    space::Genotype genotype;
    double ms;
  };
  void Refit();

  evaluator::BatchEvaluator& inner_;
  const space::SearchSpace& space_;
  const predictors::LatencyModel base_;
  std::unique_ptr<predictors::LatencyModel> model_;
  std::string path_;
  bool online_;
  std::string measured_;  // the metric an online refit learns from: latency_ms or int8_latency_ms
  std::vector<Measurement> used_;    // in the current model
  std::vector<Measurement> queued_;  // arrived during the current batch
  std::mutex mu_;
};

}  // namespace paretonas::experiments

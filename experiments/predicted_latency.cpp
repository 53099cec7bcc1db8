#include "experiments/predicted_latency.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "space/input_error.h"

namespace paretonas::experiments {

PredictedLatency::PredictedLatency(evaluator::BatchEvaluator& inner, const space::SearchSpace& space,
                                   predictors::LatencyModel model, const std::string& model_path,
                                   bool online, const std::string& deploy_precision)
    : inner_(inner), space_(space), base_(std::move(model)), path_(model_path), online_(online),
      measured_(deploy_precision == "int8" ? "int8_latency_ms" : "latency_ms") {
  CheckFits(base_, space, path_, deploy_precision);
  model_ = std::make_unique<predictors::LatencyModel>(base_);
}

void PredictedLatency::CheckFits(const predictors::LatencyModel& model, const space::SearchSpace& space,
                                 const std::string& path_, const std::string& deploy_precision) {
  if (model.precision != deploy_precision)
    throw InputError("evaluator.latency.predictor: " + path_ + " predicts " + model.precision +
                     " latency, and this experiment deploys " + deploy_precision + " models (deploy.precision " +
                     deploy_precision + "): predicted_latency_ms is the deployed model's latency. " +
                     (deploy_precision == "int8"
                          ? "Fit an int8 model (`latency calibrate --precision int8`, or `latency kit "
                            "--precision int8` measured on the device and `latency fit`)"
                          : "Use an fp32 model, or set deploy: {precision: " + model.precision + "}"));
  const auto& ref = model.space();
  const auto& in = space.input();
  // The same space: same name and the same decisions (a space file may be named by another
  // path than the one the model was fit with).
  bool same_space = ref.name_or_path == space.source() || ref.name_or_path == space.name();
  if (!same_space) {
    try {
      const space::SearchSpace fitted = ref.Load();
      same_space = fitted.name() == space.name() && fitted.decisions().size() == space.decisions().size();
      for (std::size_t i = 0; same_space && i < space.decisions().size(); ++i)
        same_space = fitted.decisions()[i].labels == space.decisions()[i].labels;
    } catch (const InputError&) {
      // Not readable from here (a run directory resumed from elsewhere keeps its own copy of the
      // space, and search checked the model against it when it started): the file's name then.
      std::string stem = ref.name_or_path.substr(ref.name_or_path.find_last_of('/') + 1);
      stem = stem.substr(0, stem.find_last_of('.'));
      same_space = stem == space.name();
    }
  }
  if (!same_space)
    throw InputError("evaluator.latency.predictor: " + path_ + " was fit for space '" +
                     ref.name_or_path + "', this experiment searches '" + space.source() + "'");
  if (ref.c != in.shape.c || ref.h != in.shape.h || ref.w != in.shape.w)
    throw InputError("evaluator.latency.predictor: " + path_ + " was fit for input " +
                     std::to_string(ref.c) + "x" + std::to_string(ref.h) + "x" + std::to_string(ref.w) +
                     ", this experiment's is " + std::to_string(in.shape.c) + "x" +
                     std::to_string(in.shape.h) + "x" + std::to_string(in.shape.w));
  for (const auto& [k, v] : ref.overrides) {
    const auto it = space.parameters().find(k);
    if (it == space.parameters().end() || std::abs(it->second - std::strtod(v.c_str(), nullptr)) > 1e-9)
      throw InputError("evaluator.latency.predictor: " + path_ + " was fit with space parameter " + k +
                       "=" + v + ", which this experiment's space does not have (set it under space.set)");
  }
}

void PredictedLatency::Seed(const search::SearchState& state) {
  if (!online_) return;
  const std::set<std::int64_t> pending(state.pending.begin(), state.pending.end());
  std::lock_guard<std::mutex> lock(mu_);
  queued_.clear();
  used_.clear();
  for (const auto& t : state.trials) {
    if (!t.finished() || pending.count(t.id)) continue;
    const auto it = t.metrics.find(measured_);
    if (it != t.metrics.end() && it->second > 0) queued_.push_back({t.id, t.genotype, it->second});
  }
  Refit();
}

void PredictedLatency::Refit() {
  if (queued_.empty()) return;
  used_.insert(used_.end(), queued_.begin(), queued_.end());
  queued_.clear();
  std::sort(used_.begin(), used_.end(),
            [](const Measurement& a, const Measurement& b) { return a.trial_id < b.trial_id; });
  std::vector<space::Genotype> archs;
  std::vector<double> ms;
  for (const auto& m : used_) archs.push_back(m.genotype), ms.push_back(m.ms);
  model_ = std::make_unique<predictors::LatencyModel>(base_.Refit(space_, archs, ms));
}

void PredictedLatency::EvaluateBatch(const std::vector<evaluator::EvalRequest>& requests,
                                     const std::function<void(const evaluator::EvalResult&)>& on_done,
                                     const std::atomic<bool>* cancel) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (online_) Refit();
  }
  std::map<std::int64_t, const space::Genotype*> genotype;
  for (const auto& r : requests) genotype[r.trial_id] = &r.genotype;
  const predictors::LatencyModel& model = *model_;  // unchanged until the batch ends
  inner_.EvaluateBatch(requests, [&](const evaluator::EvalResult& result) {
    evaluator::EvalResult out = result;
    const auto g = genotype.find(result.trial_id);
    if (g != genotype.end() && space_.CheckGenotype(*g->second).empty()) {
      const auto p = model.Predict(space_, *g->second);
      out.metrics["predicted_latency_ms"] = p.ms;
      out.metrics["predicted_latency_std_ms"] = p.std_ms;
      const auto measured = result.metrics.find(measured_);
      if (online_ && result.ok && measured != result.metrics.end() && measured->second > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        queued_.push_back({result.trial_id, *g->second, measured->second});
      }
    }
    on_done(out);
  }, cancel);
}

std::string PredictedLatency::Describe() const {
  return inner_.Describe() + ", latency predictor " + path_ + (online_ ? " (online)" : "");
}

}  // namespace paretonas::experiments

#include "search/problem.h"

#include <cmath>
#include <sstream>

namespace paretonas::search {

const char* TrialStateName(TrialState s) {
  switch (s) {
    case TrialState::kPending: return "pending";
    case TrialState::kRunning: return "running";
    case TrialState::kComplete: return "complete";
    case TrialState::kFailed: return "failed";
    case TrialState::kStopped: return "stopped";
    case TrialState::kScreened: return "screened";
  }
  return "?";
}

std::string Constraint::ToString() const {
  std::ostringstream os;
  os << metric << (less_equal ? " <= " : " >= ") << bound;
  return os.str();
}

const std::vector<std::string>& KnownMetrics() {
  static const std::vector<std::string> kMetrics{
      "val_accuracy", "val_error", "latency_ms", "params", "macs", "model_bytes",
      "activation_bytes", "peak_activation_bytes", "train_seconds", "predicted_latency_ms",
      "synflow", "naswot", "snip", "grad_norm", "jacob_cov", "proxy_seconds",
      // the deploy stage (deploy.precision: int8)
      "int8_val_accuracy", "int8_val_error", "int8_latency_ms", "int8_model_bytes", "int8_peak_memory_bytes",
      // the files export writes (less their check data): computed when an objective or constraint uses them
      "torchscript_bytes", "onnx_bytes", "int8_torchscript_bytes", "int8_onnx_bytes"};
  return kMetrics;
}

Point Problem::ObjectiveVector(const Trial& t) const {
  Point p;
  for (const auto& o : objectives) {
    auto it = t.metrics.find(o.metric);
    const double v = it == t.metrics.end() ? NAN : it->second;
    p.push_back(o.maximize ? -v : v);
  }
  return p;
}

double Problem::Violation(const Trial& t) const {
  double total = 0;
  for (const auto& c : constraints) {
    auto it = t.metrics.find(c.metric);
    if (it == t.metrics.end()) continue;
    const double excess = c.less_equal ? it->second - c.bound : c.bound - it->second;
    if (excess > 0) total += excess / std::max(std::abs(c.bound), 1e-12);
  }
  return total;
}

std::vector<std::string> Problem::Violated(const Trial& t) const {
  std::vector<std::string> out;
  for (const auto& c : constraints) {
    auto it = t.metrics.find(c.metric);
    if (it == t.metrics.end()) continue;
    if (c.less_equal ? it->second > c.bound : it->second < c.bound) out.push_back(c.ToString());
  }
  return out;
}

std::string Problem::CheckMetrics(const Trial& t) const {
  auto check = [&](const std::string& m) -> std::string {
    auto it = t.metrics.find(m);
    if (it == t.metrics.end()) return "the evaluator reported no '" + m + "'";
    if (!std::isfinite(it->second)) return "metric '" + m + "' is not finite";
    return "";
  };
  for (const auto& o : objectives)
    if (auto e = check(o.metric); !e.empty()) return e;
  for (const auto& c : constraints)
    if (auto e = check(c.metric); !e.empty()) return e;
  return "";
}

}  // namespace paretonas::search

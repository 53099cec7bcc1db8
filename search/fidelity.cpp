#include "search/fidelity.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "search/proxy_names.h"
#include "search/strategy.h"

namespace paretonas::search {

std::string FidelityOptions::Validate() const {
  if (rungs.empty()) return "";
  if (resource != "epochs" && resource != "steps" && resource != "images")
    return "fidelity.resource: '" + resource + "' is not one of epochs, steps, images";
  if (mode != "sync" && mode != "async")
    return "fidelity.mode: '" + mode + "' is not one of sync, async";
  if (!(eta > 1) || !std::isfinite(eta))
    return "fidelity.eta: " + std::to_string(eta) + " must be a number > 1";
  for (size_t i = 0; i < rungs.size(); ++i) {
    if (!(rungs[i] > 0) || !std::isfinite(rungs[i]))
      return "fidelity.rungs: rung " + std::to_string(i) + " is " + std::to_string(rungs[i]) +
             "; rungs must be finite and > 0";
    if (i > 0 && !(rungs[i] > rungs[i - 1]))
      return "fidelity.rungs: must increase, but rung " + std::to_string(i) + " (" +
             std::to_string(rungs[i]) + ") is not above rung " + std::to_string(i - 1) + " (" +
             std::to_string(rungs[i - 1]) + ")";
    if (resource != "epochs" && std::floor(rungs[i]) != rungs[i])
      return "fidelity.rungs: rung " + std::to_string(i) + " is " + std::to_string(rungs[i]) +
             "; " + resource + " must be whole numbers";
  }
  return "";
}

std::string FidelityOptions::Describe() const {
  std::ostringstream os;
  os << resource << " ";
  for (size_t i = 0; i < rungs.size(); ++i) os << (i ? ", " : "") << rungs[i];
  os << " (eta " << eta << ", " << mode << ")";
  return os.str();
}

std::vector<double> GeometricRungs(double min, double max, double eta) {
  std::vector<double> r;
  if (!(min > 0) || !(max >= min) || !(eta > 1)) return r;
  for (double v = max; v >= min * (1 - 1e-9); v /= eta) {
    // Six significant digits, as the resolved config writes them back exactly.
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6g", v);
    r.push_back(std::strtod(buf, nullptr));
    if (r.size() > 64) break;
  }
  std::reverse(r.begin(), r.end());
  return r;
}

int PromoteCount(int n, double eta) {
  if (n <= 0) return 0;
  return std::max(1, static_cast<int>(std::floor(n / eta + 1e-9)));
}

std::vector<std::int64_t> SelectPromotions(const SearchState& state, const Problem& problem,
                                           const std::vector<std::int64_t>& ids, int count) {
  if (count >= static_cast<int>(ids.size())) {
    std::vector<std::int64_t> all = ids;
    std::sort(all.begin(), all.end());
    return all;
  }
  std::vector<std::int64_t> out = SurvivalOrder(state, problem, ids);
  out.resize(static_cast<size_t>(std::max(count, 0)));
  std::sort(out.begin(), out.end());
  return out;
}

bool IsPerArchitectureMetric(const std::string& m) {
  return m == "latency_ms" || m == "latency_iqr_ms" || m == "peak_activation_bytes" ||
         m == "predicted_latency_ms" || m == "proxy_seconds" || IsProxyName(m) ||
         (m.size() > 8 && m.compare(m.size() - 8, 8, "_seconds") == 0 && IsProxyName(m.substr(0, m.size() - 8)));
}

}  // namespace paretonas::search

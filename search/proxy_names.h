// Names of the zero-cost proxies an evaluator can compute (evaluator.proxies). Torch-free: the
// config parser, the search (metrics carried across rungs) and the evaluator share the list.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace paretonas::search {

/// synflow (Tanaka et al. 2020, as scored by Abdelfattah et al. 2021), naswot (Mellor et al.
/// 2021), snip, grad_norm and jacob_cov (Abdelfattah et al. 2021). Higher is better for all.
inline const std::vector<std::string>& ProxyNames() {
  static const std::vector<std::string> kNames{"synflow", "naswot", "snip", "grad_norm", "jacob_cov"};
  return kNames;
}

inline bool IsProxyName(const std::string& name) {
  const auto& n = ProxyNames();
  return std::find(n.begin(), n.end(), name) != n.end();
}

}  // namespace paretonas::search

#include "evaluator/inherit.h"

#include <map>
#include <string>

namespace paretonas::evaluator {

Inherited InheritShared(space::GraphNetImpl& child, space::GraphNetImpl& parent, const std::set<int>& skip) {
  Inherited out;
  std::map<int, const space::PlanEdge*> parent_edges;
  for (const auto& e : parent.plan().edges) parent_edges[e.id] = &e;
  const auto parent_params = parent.named_parameters();
  const auto parent_buffers = parent.named_buffers();
  const auto child_modules = child.named_children();
  const auto parent_modules = parent.named_children();
  auto child_params = child.named_parameters();
  auto child_buffers = child.named_buffers();
  torch::NoGradGuard no_grad;
  for (const auto& e : child.plan().edges) {
    if (skip.count(e.id)) continue;
    const std::string name = "e" + std::to_string(e.id);
    if (!child_modules.contains(name) || !parent_modules.contains(name)) continue;  // not built
    const auto it = parent_edges.find(e.id);
    if (it == parent_edges.end()) continue;
    const space::PlanEdge& p = *it->second;
    if (!(p.op == e.op) || p.in != e.in || p.out != e.out) continue;
    const std::string prefix = name + ".";
    bool copied = false;
    auto copy = [&](auto& mine, const auto& theirs, bool count_elements) {
      for (auto& item : mine) {
        if (item.key().compare(0, prefix.size(), prefix) != 0) continue;
        const torch::Tensor* src = theirs.find(item.key());
        if (!src || !src->sizes().equals(item.value().sizes())) continue;
        item.value().copy_(*src);
        ++out.tensors;
        if (count_elements) out.elements += item.value().numel();
        copied = true;
      }
    };
    copy(child_params, parent_params, true);
    copy(child_buffers, parent_buffers, false);
    if (copied) out.edges.insert(e.id);
  }
  return out;
}

}  // namespace paretonas::evaluator

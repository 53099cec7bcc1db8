#include "evaluator/supernet.h"

#include <random>

#include "space/input_error.h"
#include "space/supernet_slots.h"

namespace paretonas::evaluator {
namespace {

bool IsCellDecision(const space::Decision& d) { return d.name.compare(0, 5, "cell.") == 0; }

// Most: every op as written (so that each cell edge counts on its own, connected or not); fewest:
// what the builder makes.
std::int64_t Params(const space::SearchSpace& space, const space::Genotype& g, bool most) {
  const space::StaticCosts c = space.Costs(g);
  return most ? c.params : c.params_pruned;
}

// A sub-network's tensor path inside its edge's module, as the slot's module names it: an
// inverted-residual block without expansion has no expanding conv, so its layers come 3 earlier
// in the sequence than in a slot built with one.
std::string SlotPath(const space::OpSpec& sub, const space::OpSpec& slot, const std::string& path) {
  if (sub.kind == space::OpKind::kMBConv && sub.expansion == 1 && slot.expansion != 1) {
    const auto dot = path.find('.');
    return std::to_string(std::stoi(path.substr(0, dot)) + 3) + path.substr(dot);
  }
  return path;
}

}  // namespace

space::Genotype ExtremeGenotype(const space::SearchSpace& space, bool most) {
  space::Genotype g(space.decisions().size(), 0);
  if (!most) g = ExtremeGenotype(space, true);  // connected, to start the descent from
  for (int pass = 0; pass < 3; ++pass) {
    for (size_t d = 0; d < g.size(); ++d) {
      int best = g[d];
      std::int64_t best_params = -1;
      for (int o = 0; o < static_cast<int>(space.decisions()[d].labels.size()); ++o) {
        space::Genotype c = g;
        c[d] = o;
        if (!most && !space.Connected(c)) continue;
        const std::int64_t p = Params(space, c, most);
        if (best_params < 0 || (most ? p > best_params : p < best_params)) best = o, best_params = p;
      }
      g[d] = best;
    }
  }
  return g;
}

SupernetImpl::SupernetImpl(const space::SearchSpace& space, int check_samples) : space_(space) {
  largest_ = ExtremeGenotype(space_, true);
  smallest_ = ExtremeGenotype(space_, false);
  AddSlots(largest_);
  // Single path: every op of the cell on every edge, at the largest width.
  if (space_.HasCells()) {
    int ops = 0;
    for (const auto& d : space_.decisions())
      if (IsCellDecision(d)) ops = static_cast<int>(d.labels.size());
    for (int o = 0; o < ops; ++o) {
      space::Genotype g = largest_;
      for (size_t d = 0; d < g.size(); ++d)
        if (IsCellDecision(space_.decisions()[d])) g[d] = o;
      AddSlots(g);
    }
  }
  std::mt19937_64 rng(0x50b3e7);
  Take(smallest_);
  for (int i = 0; i < check_samples; ++i) Take(space_.Sample(rng));
}

void SupernetImpl::AddSlots(const space::Genotype& g) {
  const space::NetworkPlan plan = space_.Plan(g);
  const std::vector<std::string> names = space::SupernetSlots(space_, g);
  for (const space::PlanEdge& e : plan.edges) {
    const std::string& name = names[e.id];
    if (name.empty() || !e.live || slot_index_.count(name)) continue;
    Slot slot{e, space::GraphNet(space::OneOpPlan(e), space::GraphNetOptions{})};
    slot_index_[name] = static_cast<int>(slots_.size());
    register_module("s" + std::to_string(slots_.size()), slot.module);
    slots_.push_back(std::move(slot));
    slot_names_.push_back(name);
  }
}

SubNetwork SupernetImpl::Take(const space::Genotype& g) const {
  SubNetwork out;
  out.genotype = g;
  const space::NetworkPlan plan = space_.Plan(g);
  const std::vector<std::string> names = space::SupernetSlots(space_, g);
  out.net = space::GraphNet(plan, space::GraphNetOptions{});
  const std::string where = "space " + space_.source() + ", architecture " + space_.Key(g);
  const auto params = out.net->named_parameters();
  const auto buffers = out.net->named_buffers();
  for (const space::PlanEdge& e : plan.edges) {
    const std::string prefix = "e" + std::to_string(e.id) + ".";
    auto bind = [&](const torch::OrderedDict<std::string, torch::Tensor>& tensors, bool parameter) {
      for (const auto& item : tensors) {
        if (item.key().compare(0, prefix.size(), prefix) != 0) continue;
        const std::string& slot_name = names[e.id];
        const auto it = slot_index_.find(slot_name);
        if (slot_name.empty() || it == slot_index_.end())
          throw InputError(where + ": the supernet has no weights for " + e.op.Label() +
                           (slot_name.empty() ? "" : " at " + slot_name) +
                           " (no weight-sharing rule for this operation here)");
        const Slot& slot = slots_[it->second];
        if (slot.edge.op.kind != e.op.kind)
          throw InputError(where + ": " + slot_name + " holds " + slot.edge.op.Label() + ", not " +
                           e.op.Label() + " (a slot shares weights between one kind of operation)");
        SubNetwork::Binding b;
        b.sub = item.value();
        b.slot = it->second;
        b.name = "e0." + SlotPath(e.op, slot.edge.op, item.key().substr(prefix.size()));
        b.parameter = parameter;
        const torch::Tensor full = SuperTensor(b);
        if (!full.defined() || full.dim() != b.sub.dim())
          throw InputError(where + ": " + slot_name + " has no tensor " + b.name + " for " + e.op.Label());
        for (int64_t d = 0; d < full.dim(); ++d) {
          const int64_t s = b.sub.size(d), m = full.size(d);
          const bool spatial = full.dim() == 4 && d >= 2;
          if (s > m || (spatial && (m - s) % 2 != 0))
            throw InputError(where + ": " + e.op.Label() + " at " + slot_name + " needs " + b.name +
                             " of size " + std::to_string(s) + " in dimension " + std::to_string(d) +
                             " where the supernet holds " + std::to_string(m) +
                             (spatial ? " (a kernel is the centre of the slot's largest; sizes must differ by an even number)"
                                      : " (a narrower choice takes the first channels of the widest)"));
          b.start.push_back(spatial ? (m - s) / 2 : 0);
        }
        out.bindings.push_back(std::move(b));
      }
    };
    bind(params, true);
    bind(buffers, false);
  }
  torch::NoGradGuard no_grad;
  for (const auto& b : out.bindings) b.sub.copy_(Slice(SuperTensor(b), b));
  out.net->train();
  return out;
}

torch::Tensor SupernetImpl::SuperTensor(const SubNetwork::Binding& b) const {
  const auto& module = *slots_[b.slot].module;
  const torch::Tensor* t = b.parameter ? module.named_parameters().find(b.name) : module.named_buffers().find(b.name);
  return t ? *t : torch::Tensor();
}

torch::Tensor SupernetImpl::Slice(const torch::Tensor& full, const SubNetwork::Binding& b) {
  torch::Tensor v = full;
  for (int64_t d = 0; d < full.dim(); ++d) v = v.narrow(d, b.start[d], b.sub.size(d));
  return v;
}

void SupernetImpl::AddGradients(const SubNetwork& sub) {
  torch::NoGradGuard no_grad;
  for (const auto& b : sub.bindings) {
    if (!b.parameter || !b.sub.grad().defined()) continue;
    torch::Tensor full = SuperTensor(b);
    torch::Tensor& grad = full.mutable_grad();
    if (!grad.defined()) grad = torch::zeros_like(full);
    Slice(grad, b).add_(b.sub.grad());
  }
}

void SupernetImpl::StoreBuffers(const SubNetwork& sub) {
  torch::NoGradGuard no_grad;
  for (const auto& b : sub.bindings)
    if (!b.parameter) Slice(SuperTensor(b), b).copy_(b.sub);
}

void SupernetImpl::Initialize(at::Generator generator) {
  for (auto& slot : slots_) space::InitializeParameters(*slot.module, generator);
}

}  // namespace paretonas::evaluator

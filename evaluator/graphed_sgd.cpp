#include "evaluator/graphed_sgd.h"

#include <iostream>
#include <mutex>
#include <set>

namespace paretonas::evaluator {

void NoteEagerOnce(const std::string& why) {
  static std::mutex mu;
  static std::set<std::string> said;
  std::lock_guard<std::mutex> lock(mu);
  if (said.insert(why).second) std::cerr << "paretonas: CUDA graphs not used: " << why << "; these steps run eagerly\n";
}

std::string WhyEager(const TrainOptions& o, bool rungs) {
  if (!CudaGraphsBuilt()) return "this build's LibTorch has no CUDA graphs";
  if (o.optimizer != "sgd") return "training.optimizer " + o.optimizer + " (graphs capture SGD)";
  if (o.precision == "fp16") return "training.precision fp16 (a skipped step needs the host)";
  if (rungs) return "multi-fidelity rungs (their saved states hold torch::optim's state)";
  return "";
}

}  // namespace paretonas::evaluator

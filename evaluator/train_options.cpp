// TrainOptions without LibTorch (validated by the config parser, which stays torch-free).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "evaluator/train_evaluator.h"
#include "search/proxy_names.h"

namespace paretonas::evaluator {

std::string TrainOptions::Validate() const {
  std::ostringstream e;
  if (epochs < 1 && steps <= 0) e << "training.epochs: " << epochs << " must be >= 1";
  else if (steps < 0) e << "training.steps: " << steps << " must be >= 0 (0: use epochs)";
  else if (batch_size < 1) e << "training.batch_size: " << batch_size << " must be >= 1";
  else if (optimizer != "sgd" && optimizer != "adamw")
    e << "training.optimizer: '" << optimizer << "' is unknown; allowed: sgd, adamw";
  else if (!(lr > 0) || !std::isfinite(lr)) e << "training.lr: " << lr << " must be > 0";
  else if (momentum < 0 || momentum >= 1) e << "training.momentum: " << momentum << " must be in [0, 1)";
  else if (weight_decay < 0) e << "training.weight_decay: " << weight_decay << " must be >= 0";
  else if (label_smoothing < 0 || label_smoothing >= 1)
    e << "training.label_smoothing: " << label_smoothing << " must be in [0, 1)";
  else if (layout != "auto" && layout != "channels_last" && layout != "nchw")
    e << "training.layout: '" << layout << "' is unknown; allowed: auto, channels_last, nchw";
  else if (threads_per_worker < 1)
    e << "evaluator.threads_per_worker: " << threads_per_worker << " must be >= 1";
  else if (device != "cpu" && device != "cuda")
    e << "evaluator.device: '" << device << "' is unknown; allowed: cpu, cuda";
  else if (cuda_graphs != "auto" && cuda_graphs != "on" && cuda_graphs != "off")
    e << "training.cuda_graphs: '" << cuda_graphs << "' is unknown; allowed: auto, on, off";
  else if (cuda_graphs == "on" && device != "cuda")
    e << "training.cuda_graphs: on needs evaluator.device: cuda (it is '" << device
      << "'; CPU steps have no kernel launches to save)";
  else if (precision != "fp32" && precision != "bf16" && precision != "fp16")
    e << "training.precision: '" << precision << "' is unknown; allowed: fp32, bf16, fp16";
  else if (precision != "fp32" && device != "cuda")
    e << "training.precision: " << precision << " needs evaluator.device: cuda (it is '" << device
      << "'); CPU training runs in fp32";
  else if (max_params < 0 || max_macs < 0 || max_activation_bytes < 0)
    e << "evaluator limits (max_params, max_macs, max_activation_bytes) must be >= 0";
  else if (latency_threads < 1) e << "evaluator.latency.threads: " << latency_threads << " must be >= 1";
  else if (latency_warmup < 0) e << "evaluator.latency.warmup: " << latency_warmup << " must be >= 0";
  else if (latency_repeats < 3) e << "evaluator.latency.repeats: " << latency_repeats << " must be >= 3";
  else if (latency_rounds < 0 || latency_max_passes < 0)
    e << "evaluator.latency.rounds and max_passes must be >= 1 (0: the default)";
  else if (const std::string bad = LatencyPolicy().Validate(); !bad.empty()) e << "evaluator." << bad;
  else if (proxy_batch < 2 || proxy_batch > 4096)
    e << "evaluator.proxy_batch: " << proxy_batch << " must be in [2, 4096]";
  else if (deploy_precision != "fp32" && deploy_precision != "int8")
    e << "deploy.precision: '" << deploy_precision << "' is unknown; allowed: fp32, int8";
  else if (Int8() && device != "cpu")
    e << "deploy.precision: int8 runs on the CPU's int8 kernels; evaluator.device is '" << device << "'";
  else if (calibration_images < 1)
    e << "deploy.calibration_images: " << calibration_images << " must be >= 1";
  else if (calibration != "minmax" && calibration != "percentile")
    e << "deploy.calibration: '" << calibration << "' is unknown; allowed: minmax, percentile";
  else if (finetune_epochs < 0)
    e << "deploy.finetune_epochs: " << finetune_epochs << " must be >= 0";
  else if (finetune_epochs > 0 && !Int8())
    e << "deploy.finetune_epochs: " << finetune_epochs << " fine-tunes the int8 model; set deploy.precision: int8";
  if (!e.str().empty()) return e.str();
  for (const std::string& p : proxies) {
    if (search::IsProxyName(p)) continue;
    e << "evaluator.proxies: '" << p << "' is unknown; allowed:";
    for (const auto& n : search::ProxyNames()) e << " " << n;
    return e.str();
  }
  return e.str();
}

TimingPolicy TrainOptions::LatencyPolicy() const {
  TimingPolicy p;
  p.warmup = latency_warmup;
  p.repeats = latency_repeats;
  p.rounds = latency_rounds > 0 ? latency_rounds : std::min(5, latency_repeats);
  p.target = latency_target;
  p.max_seconds = latency_max_seconds;
  p.max_passes = latency_max_passes > 0 ? latency_max_passes : std::max(200, latency_repeats);
  return p;
}

std::string TrainOptions::Signature() const {
  std::ostringstream s;
  s << "e" << epochs << " s" << steps << " b" << batch_size << " " << optimizer << " lr" << lr
    << " m" << momentum << " wd" << weight_decay << " ls" << label_smoothing << " " << layout << " " << device
    << " bn" << rung_bn_batches;
  if (rung_validation > 0) s << " rv" << rung_validation;  // only then: earlier caches keep their keys
  if (UseCudaGraphs()) s << " graphs";  // rounding differs from eager
  if (precision != "fp32") s << " " << precision;  // only then: earlier caches keep their keys
  if (Int8()) s << " int8 c" << calibration_images << " " << calibration;  // only then: earlier keys kept
  if (finetune_epochs > 0) s << " qat" << finetune_epochs;
  if (!supernet.empty()) s << " supernet " << supernet << " c" << supernet_calibration_images;
  if (!proxies.empty()) {  // only then, so that earlier caches keep their keys
    s << " proxies";
    for (const auto& p : proxies) s << " " << p;
    s << " pb" << proxy_batch;
  }
  return s.str();
}

std::string RejectReason(const space::StaticCosts& c, const TrainOptions& o) {
  auto over = [](const char* what, std::int64_t v, std::int64_t limit) {
    return std::string("rejected before training: ") + what + " " + std::to_string(v) +
           " exceeds the limit " + std::to_string(limit);
  };
  if (o.max_params > 0 && c.params_pruned > o.max_params) return over("params", c.params_pruned, o.max_params);
  if (o.max_macs > 0 && c.macs_pruned > o.max_macs) return over("macs", c.macs_pruned, o.max_macs);
  if (o.max_activation_bytes > 0 && c.activation_bytes > o.max_activation_bytes)
    return over("activation_bytes", c.activation_bytes, o.max_activation_bytes);
  return "";
}


}  // namespace paretonas::evaluator

// deploy: what the user ships, when it is not the trained fp32 network (int8 quantization).
#include "experiments/config_sections.h"

#include "space/input_error.h"

namespace paretonas::experiments::config_parse {

void ParseDeploySection(const std::string& file, const YAML::Node& root, ExperimentConfig& c) {
  auto& o = c.training;
  if (const YAML::Node d = root["deploy"]) {
    CheckKeys(file, "deploy", d, {"precision", "calibration_images", "calibration", "finetune_epochs"});
    if (d["precision"]) {
      o.deploy_precision = AsString(file, "deploy.precision", d["precision"]);
      if (o.deploy_precision != "fp32" && o.deploy_precision != "int8")
        throw InputError(Where(file, d["precision"]) + "field 'deploy.precision': '" + o.deploy_precision +
                         "' (allowed: fp32, int8)");
    }
    if (d["calibration_images"]) {
      o.calibration_images = AsInt(file, "deploy.calibration_images", d["calibration_images"]);
      CheckIn(file, "deploy.calibration_images", d["calibration_images"], o.calibration_images, 1, 1000000);
    }
    if (d["calibration"]) {
      o.calibration = AsString(file, "deploy.calibration", d["calibration"]);
      if (o.calibration != "minmax" && o.calibration != "percentile")
        throw InputError(Where(file, d["calibration"]) + "field 'deploy.calibration': '" + o.calibration +
                         "' (allowed: minmax, percentile)");
    }
    if (d["finetune_epochs"]) {
      o.finetune_epochs = AsInt(file, "deploy.finetune_epochs", d["finetune_epochs"]);
      CheckIn(file, "deploy.finetune_epochs", d["finetune_epochs"], o.finetune_epochs, 0, 10000);
      if (o.finetune_epochs > 0 && !o.Int8())
        throw InputError(Where(file, d["finetune_epochs"]) + "field 'deploy.finetune_epochs': " +
                         std::to_string(o.finetune_epochs) + " fine-tunes the int8 model (quantization-aware); "
                         "it needs 'precision: int8'");
    }
    if (o.Int8() && !c.BuildsNetworks())
      throw InputError(Where(file, d) + "field 'deploy.precision': int8 quantizes the networks this engine "
                       "trains (evaluator.kind: train; this one is '" + c.evaluator_kind + "')");
    if (o.Int8() && o.device != "cpu")
      throw InputError(Where(file, d) + "field 'deploy.precision': int8 runs on the CPU's int8 kernels "
                       "(evaluator.device: cpu; this one is '" + o.device + "')");
  }
  for (const std::string& m : MetricsUsed(c))
    if ((m.find("torchscript_bytes") != std::string::npos || m.find("onnx_bytes") != std::string::npos) &&
        !c.BuildsNetworks())
      throw InputError(file + ": metric '" + m + "' is the size of a file `export` writes for a network this "
                       "engine trains (evaluator.kind: train; this one is '" + c.evaluator_kind + "')");
  if (!o.Int8()) {
    for (const std::string& m : MetricsUsed(c))
      if (m.rfind("int8_", 0) == 0)
        throw InputError(file + ": metric '" + m + "' in objectives or constraints is measured on the int8 "
                         "model: add 'deploy: {precision: int8}'");
  }
}

}  // namespace paretonas::experiments::config_parse

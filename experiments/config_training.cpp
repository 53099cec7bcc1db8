#include "experiments/config_sections.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "evaluator/dataset_info.h"

#include "evaluator/user_data.h"
#include "search/proxy_names.h"
#include "space/input_error.h"
#include "space/search_space.h"
#include "space/yaml_util.h"

namespace paretonas::experiments::config_parse {

void ParseTrainingSection(const std::string& file, const YAML::Node& root, ExperimentConfig& c) {
  if (const YAML::Node t = root["training"]) {
    CheckKeys(file, "training", t,
              {"epochs", "steps", "batch_size", "optimizer", "lr", "momentum", "weight_decay",
               "label_smoothing", "layout", "rung_bn_batches", "rung_validation", "cuda_graphs",
               "precision"});
    auto& o = c.training;
    if (t["epochs"]) o.epochs = AsInt(file, "training.epochs", t["epochs"]);
    if (t["steps"]) o.steps = AsInt(file, "training.steps", t["steps"]);
    if (t["batch_size"]) o.batch_size = AsInt(file, "training.batch_size", t["batch_size"]);
    if (t["optimizer"]) o.optimizer = AsString(file, "training.optimizer", t["optimizer"]);
    if (t["lr"]) o.lr = AsDouble(file, "training.lr", t["lr"]);
    if (t["momentum"]) o.momentum = AsDouble(file, "training.momentum", t["momentum"]);
    if (t["weight_decay"]) o.weight_decay = AsDouble(file, "training.weight_decay", t["weight_decay"]);
    if (t["label_smoothing"]) o.label_smoothing = AsDouble(file, "training.label_smoothing", t["label_smoothing"]);
    if (t["rung_bn_batches"]) {
      o.rung_bn_batches = AsInt(file, "training.rung_bn_batches", t["rung_bn_batches"]);
      CheckIn(file, "training.rung_bn_batches", t["rung_bn_batches"], o.rung_bn_batches, 0, 100000);
    }
    if (t["rung_validation"]) {
      o.rung_validation = AsInt(file, "training.rung_validation", t["rung_validation"]);
      CheckIn(file, "training.rung_validation", t["rung_validation"], o.rung_validation, 0, 100000000);
    }
    if (t["layout"]) o.layout = AsString(file, "training.layout", t["layout"]);
    if (t["cuda_graphs"]) {
      o.cuda_graphs = AsString(file, "training.cuda_graphs", t["cuda_graphs"]);
      if (o.cuda_graphs == "true") o.cuda_graphs = "on";  // YAML's booleans read as on / off
      if (o.cuda_graphs == "false") o.cuda_graphs = "off";
    }
    if (t["precision"]) o.precision = AsString(file, "training.precision", t["precision"]);
  }

}

void ParseFidelitySection(const std::string& file, const YAML::Node& root, ExperimentConfig& c) {
  if (const YAML::Node f = root["fidelity"]) {
    CheckKeys(file, "fidelity", f, {"resource", "rungs", "min", "max", "eta", "mode", "promotion", "promotion_pool"});
    auto& o = c.fidelity;
    if (f["resource"]) o.resource = AsString(file, "fidelity.resource", f["resource"]);
    if (f["eta"]) {
      o.eta = AsDouble(file, "fidelity.eta", f["eta"]);
      if (!(o.eta > 1) || !std::isfinite(o.eta))
        throw InputError(Where(file, f["eta"]) + "field 'fidelity.eta': " + Fmt(o.eta) +
                         " is not allowed; it must be a number > 1 (each rung keeps 1/eta of the one "
                         "below; 3 is usual)");
    }
    if (f["mode"]) o.mode = AsString(file, "fidelity.mode", f["mode"]);
    if (f["promotion"]) o.promotion = AsString(file, "fidelity.promotion", f["promotion"]);
    if (const YAML::Node p = f["promotion_pool"]) {
      if (p.IsScalar() && p.Scalar() == "all") {
        o.promotion_pool = 0;
      } else {
        const double v = AsDouble(file, "fidelity.promotion_pool", p);
        if (!(v >= 1) || std::floor(v) != v)
          throw InputError(Where(file, p) + "field 'fidelity.promotion_pool': " + p.Scalar() +
                           " is not allowed; give a whole number of generations >= 1 (1: this "
                           "generation only, the default) or all");
        o.promotion_pool = static_cast<int>(v);
      }
    }
    if (f["rungs"] && (f["min"] || f["max"]))
      throw InputError(Where(file, f) + "fidelity: give either rungs or min and max, not both");
    if (const YAML::Node r = f["rungs"]) {
      if (!r.IsSequence() || r.size() == 0)
        throw InputError(Where(file, r) + "field 'fidelity.rungs': expected a list of resources, "
                         "e.g. [0.25, 0.75, 2]");
      for (size_t i = 0; i < r.size(); ++i)
        o.rungs.push_back(AsDouble(file, "fidelity.rungs[" + std::to_string(i) + "]", r[i]));
    } else if (f["min"] && f["max"]) {
      const double lo = AsDouble(file, "fidelity.min", f["min"]);
      const double hi = AsDouble(file, "fidelity.max", f["max"]);
      if (!(lo > 0))
        throw InputError(Where(file, f["min"]) + "field 'fidelity.min': " + Fmt(lo) + " must be > 0");
      if (!(hi >= lo))
        throw InputError(Where(file, f["min"]) + "field 'fidelity.min': " + Fmt(lo) +
                         " is above fidelity.max (" + Fmt(hi) + "); min <= max");
      o.rungs = search::GeometricRungs(lo, hi, o.eta > 1 ? o.eta : 2);
      if (lo == hi)
        c.warnings.push_back(file + ": fidelity.min equals fidelity.max (" + Fmt(hi) +
                             "): one rung, so no successive halving; every proposal is trained fully");
    } else {
      throw InputError(Where(file, f) + "fidelity: give rungs (a list) or min and max (with eta)");
    }
    std::string bad = o.Validate();
    if (!bad.empty()) throw InputError(Where(file, f) + bad);
    if (o.rungs.size() > 4)
      c.warnings.push_back(file + ": fidelity: " + std::to_string(o.rungs.size()) + " rungs (" + o.Describe() +
                           "); with eta " + Fmt(o.eta) + " most candidates train for a sliver of an "
                           "epoch; eta 3 or a higher fidelity.min gives fewer, longer rungs");
    if (c.evaluator_kind == "command")
      throw InputError(Where(file, f) + "fidelity: evaluator.kind command does not train in "
                       "rungs (yet); use evaluator.kind train or table");
    if (c.evaluator_kind == "supernet")
      throw InputError(Where(file, f) + "fidelity: evaluator.kind supernet trains nothing per candidate "
                       "(its sub-networks inherit their weights); remove the fidelity section");
    if (c.evaluator_kind == "train") {
      const YAML::Node tr = root["training"];
      if (tr && tr["steps"] && c.training.steps > 0)
        throw InputError(Where(file, tr["steps"]) + "training.steps: with a fidelity section the "
                         "top rung is the training length; remove training.steps");
      // The smallest rung must train at least one step (the evaluator rounds a rung to steps).
      const std::int64_t n = evaluator::TrainingImages(c.dataset);
      const int batch = c.training.batch_size;
      if (n > 0 && batch > 0) {
        const double per_epoch = std::ceil(static_cast<double>(n) / batch);
        const double first = o.rungs.front();
        const double steps = o.resource == "epochs" ? std::round(first * per_epoch)
                             : o.resource == "images" ? std::ceil(first / batch)
                                                      : std::round(first);
        if (steps < 1) {
          const YAML::Node at = f["rungs"] ? f["rungs"] : f["min"];
          const std::string given = f["rungs"] ? Fmt(first) + " " + o.resource
                                                : Fmt(AsDouble(file, "fidelity.min", f["min"])) +
                                                      " gives a first rung of " + Fmt(first) + " " + o.resource + ", which";
          throw InputError(Where(file, at) + "field 'fidelity." + (f["rungs"] ? "rungs[0]" : "min") + "': " +
                           given + " is less than one training step (batches of " +
                           std::to_string(batch) + " of about " + std::to_string(n) + " training images: " +
                           Fmt(per_epoch) + " steps an epoch); every candidate would fail. The smallest "
                           "rung that trains a step is " +
                           (o.resource == "epochs" ? Fmt(std::ceil(500.0 / per_epoch) / 1000.0) + " epochs"
                                                   : o.resource == "images" ? "1 image" : "1 step"));
        }
      }
      if (o.resource == "epochs") {
        if (tr && tr["epochs"] && static_cast<double>(c.training.epochs) != o.max_resource())
          throw InputError(Where(file, tr["epochs"]) + "training.epochs: " +
                           std::to_string(c.training.epochs) + " differs from the top rung (" +
                           Fmt(o.max_resource()) + " epochs), which is the full training");
        if (std::floor(o.max_resource()) == o.max_resource())
          c.training.epochs = static_cast<int>(o.max_resource());
      }
    }
  }
  if (!c.fidelity.enabled() && c.training.rung_validation > 0) {
    const YAML::Node tr = root["training"];
    throw InputError(Where(file, tr ? tr["rung_validation"] : root) +
                     "training.rung_validation: acts below the top rung of a fidelity section, "
                     "and this experiment has none; remove it or add a fidelity section");
  }

}

}  // namespace paretonas::experiments::config_parse

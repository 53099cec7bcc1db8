#include "experiments/config_sections.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "evaluator/user_data.h"

namespace paretonas::experiments {

using config_parse::Fmt;

std::string ExperimentConfig::ToYaml() const {
    YAML::Emitter y;
    y << YAML::BeginMap;
    y << YAML::Key << "name" << YAML::Value << name;
    y << YAML::Key << "seed" << YAML::Value << seed;
    y << YAML::Key << "space" << YAML::Value << YAML::BeginMap << YAML::Key << "name"
      << YAML::Value << space;
    std::map<std::string, std::string> set, fix;  // fixed decisions are kept as "fix:NAME"
    for (const auto& [k, v] : space_set) (k.rfind("fix:", 0) == 0 ? fix[k.substr(4)] : set[k]) = v;
    if (!set.empty()) {
      y << YAML::Key << "set" << YAML::Value << YAML::BeginMap;
      for (const auto& [k, v] : set) y << YAML::Key << k << YAML::Value << v;
      y << YAML::EndMap;
    }
    if (!fix.empty()) {
      y << YAML::Key << "fix" << YAML::Value << YAML::BeginMap;
      for (const auto& [k, v] : fix) y << YAML::Key << YAML::DoubleQuoted << k << YAML::Value << v;
      y << YAML::EndMap;
    }
    y << YAML::EndMap;
    const auto& d = dataset;
    y << YAML::Key << "dataset" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "name" << YAML::Value << d.name;
    y << YAML::Key << "path" << YAML::Value << (d.path.empty() ? d.DefaultPath() : d.path);
    y << YAML::Key << "validation" << YAML::Value << d.validation;
    y << YAML::Key << "train_subset" << YAML::Value << d.train_subset;
    y << YAML::Key << "split_seed" << YAML::Value << d.split_seed;
    y << YAML::Key << "augment" << YAML::Value << d.augment;
    if (evaluator::IsUserDataset(d.name)) {
      // Only for the user's kinds, so that run directories of the built-in ones keep their hash.
      if (d.name == "idx") {
        y << YAML::Key << "train_images" << YAML::Value << d.train_images;
        y << YAML::Key << "train_labels" << YAML::Value << d.train_labels;
        if (!d.test_images.empty()) {
          y << YAML::Key << "test_images" << YAML::Value << d.test_images;
          y << YAML::Key << "test_labels" << YAML::Value << d.test_labels;
        }
      }
      if (d.name == "image_folder") {
        y << YAML::Key << "size" << YAML::Value << d.size;
        y << YAML::Key << "channels" << YAML::Value << d.channels;
        y << YAML::Key << "skip_unreadable" << YAML::Value << d.skip_unreadable;
        if (!d.cache_dir.empty()) y << YAML::Key << "cache_dir" << YAML::Value << d.cache_dir;
      } else {
        y << YAML::Key << "layout" << YAML::Value << d.layout;
      }
      y << YAML::Key << "max_memory_mb" << YAML::Value << d.max_memory_mb;
      y << YAML::Key << "pixel_max" << YAML::Value << Fmt(d.pixel_max);
      y << YAML::Key << "mean" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (double v : d.mean) y << Fmt(v);
      y << YAML::EndSeq;
      y << YAML::Key << "std" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (double v : d.std) y << Fmt(v);
      y << YAML::EndSeq;
      y << YAML::Key << "classes" << YAML::Value << d.classes;
      y << YAML::Key << "input" << YAML::Value << YAML::Flow << YAML::BeginSeq << d.input_c
        << d.input_h << d.input_w << YAML::EndSeq;
      if (!d.class_names.empty()) {
        y << YAML::Key << "class_names" << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const auto& n : d.class_names) y << n;
        y << YAML::EndSeq;
      }
    }
    if (d.name == "synthetic") {
      y << YAML::Key << "synthetic_train" << YAML::Value << d.synthetic_train;
      y << YAML::Key << "synthetic_test" << YAML::Value << d.synthetic_test;
      y << YAML::Key << "synthetic_size" << YAML::Value << d.synthetic_size;
      y << YAML::Key << "synthetic_channels" << YAML::Value << d.synthetic_channels;
      y << YAML::Key << "synthetic_classes" << YAML::Value << d.synthetic_classes;
    }
    y << YAML::EndMap;
    const auto& t = training;
    y << YAML::Key << "training" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "epochs" << YAML::Value << t.epochs;
    y << YAML::Key << "steps" << YAML::Value << t.steps;
    y << YAML::Key << "batch_size" << YAML::Value << t.batch_size;
    y << YAML::Key << "optimizer" << YAML::Value << t.optimizer;
    y << YAML::Key << "lr" << YAML::Value << Fmt(t.lr);
    y << YAML::Key << "momentum" << YAML::Value << Fmt(t.momentum);
    y << YAML::Key << "weight_decay" << YAML::Value << Fmt(t.weight_decay);
    y << YAML::Key << "label_smoothing" << YAML::Value << Fmt(t.label_smoothing);
    // Only with a fidelity (it acts below the top rung), so other run directories keep their hash.
    if (fidelity.enabled()) y << YAML::Key << "rung_bn_batches" << YAML::Value << t.rung_bn_batches;
    if (fidelity.enabled() && t.rung_validation > 0)  // only then: earlier runs keep their hash
      y << YAML::Key << "rung_validation" << YAML::Value << t.rung_validation;
    y << YAML::Key << "layout" << YAML::Value << t.layout;
    // Only when set, so that earlier run directories keep their hash.
    if (t.cuda_graphs != "auto") y << YAML::Key << "cuda_graphs" << YAML::Value << t.cuda_graphs;
    if (t.precision != "fp32") y << YAML::Key << "precision" << YAML::Value << t.precision;
    y << YAML::EndMap;
    if (t.Int8()) {  // only then, so that earlier run directories keep their hash
      y << YAML::Key << "deploy" << YAML::Value << YAML::BeginMap;
      y << YAML::Key << "precision" << YAML::Value << t.deploy_precision;
      y << YAML::Key << "calibration_images" << YAML::Value << t.calibration_images;
      y << YAML::Key << "calibration" << YAML::Value << t.calibration;
      if (t.finetune_epochs > 0) y << YAML::Key << "finetune_epochs" << YAML::Value << t.finetune_epochs;
      y << YAML::EndMap;
    }
    y << YAML::Key << "objectives" << YAML::Value << YAML::BeginSeq;
    for (const auto& o : objectives)
      y << YAML::Flow << YAML::BeginMap << YAML::Key << "metric" << YAML::Value << o.metric
        << YAML::Key << "goal" << YAML::Value << (o.maximize ? "max" : "min") << YAML::EndMap;
    y << YAML::EndSeq;
    y << YAML::Key << "constraints" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& c : constraints) y << c.ToString();
    y << YAML::EndSeq;
    const auto& s = search;
    y << YAML::Key << "search" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "strategy" << YAML::Value << s.name;
    y << YAML::Key << "population" << YAML::Value << s.population;
    y << YAML::Key << "batch" << YAML::Value << s.batch;
    y << YAML::Key << "crossover_prob" << YAML::Value << Fmt(s.crossover_prob);
    y << YAML::Key << "mutation_rate" << YAML::Value << Fmt(s.mutation_rate);
    y << YAML::Key << "sample_size" << YAML::Value << s.sample_size;
    y << YAML::Key << "reject_disconnected" << YAML::Value << s.reject_disconnected;
    y << YAML::Key << "max_tries" << YAML::Value << s.max_tries;
    // Written only when not the default, so run directories made before the key existed keep
    // their config hash (and resume).
    if (s.dedup != search::StrategyOptions{}.dedup)
      y << YAML::Key << "dedup" << YAML::Value << s.dedup;
    y << YAML::Key << "sampler" << YAML::Value << s.sampler;
    y << YAML::Key << "mutation" << YAML::Value << s.mutation;
    y << YAML::Key << "crossover" << YAML::Value << s.crossover;
    y << YAML::Key << "surrogate" << YAML::Value << s.surrogate;
    y << YAML::Key << "surrogate_pool" << YAML::Value << s.surrogate_pool;
    y << YAML::Key << "surrogate_kappa" << YAML::Value << Fmt(s.surrogate_kappa);
    y << YAML::Key << "surrogate_fraction" << YAML::Value << Fmt(s.surrogate_fraction);
    if (!s.enqueue.empty()) {  // likewise only when given
      y << YAML::Key << "enqueue" << YAML::Value << YAML::BeginSeq;
      for (const auto& k : s.enqueue) y << YAML::DoubleQuoted << k;
      y << YAML::EndSeq;
    }
    // Like dedup: only when set, so older run directories keep their config hash.
    if (inherit_weights) y << YAML::Key << "inherit_weights" << YAML::Value << true;
    if (max_failures_in_a_row != ExperimentConfig{}.max_failures_in_a_row)  // likewise
      y << YAML::Key << "max_failures_in_a_row" << YAML::Value << max_failures_in_a_row;
    if (prescreen.enabled()) {
      y << YAML::Key << "prescreen" << YAML::Value << YAML::BeginMap;
      y << YAML::Key << "keep" << YAML::Value << prescreen.keep;
      if (prescreen.surrogate) {
        y << YAML::Key << "by" << YAML::Value << "surrogate";
        y << YAML::Key << "features" << YAML::Value << YAML::Flow << prescreen.features;
        y << YAML::Key << "kappa" << YAML::Value << Fmt(prescreen.kappa);
      } else {
        y << YAML::Key << "by" << YAML::Value << YAML::BeginSeq;
        for (const auto& o : prescreen.by)
          y << YAML::Flow << YAML::BeginMap << YAML::Key << "metric" << YAML::Value << o.metric
            << YAML::Key << "goal" << YAML::Value << (o.maximize ? "max" : "min") << YAML::EndMap;
        y << YAML::EndSeq;
      }
      y << YAML::EndMap;
    }
    if (s.remeasure_front) {
      y << YAML::Key << "remeasure_front" << YAML::Value << true;
      y << YAML::Key << "remeasure_margin" << YAML::Value << Fmt(s.remeasure_margin);
      y << YAML::Key << "remeasure_after" << YAML::Value << s.remeasure_after;
    }
    y << YAML::EndMap;
    if (fidelity.enabled()) {  // only when set, so older run directories keep their config hash
      y << YAML::Key << "fidelity" << YAML::Value << YAML::BeginMap;
      y << YAML::Key << "resource" << YAML::Value << fidelity.resource;
      y << YAML::Key << "rungs" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (double r : fidelity.rungs) y << Fmt(r);
      y << YAML::EndSeq;
      y << YAML::Key << "eta" << YAML::Value << Fmt(fidelity.eta);
      y << YAML::Key << "mode" << YAML::Value << fidelity.mode;
      if (fidelity.promotion != "crowding")  // only then: earlier runs keep their hash
        y << YAML::Key << "promotion" << YAML::Value << fidelity.promotion;
      if (fidelity.promotion_pool != 1) {  // likewise
        y << YAML::Key << "promotion_pool" << YAML::Value;
        if (fidelity.promotion_pool == 0) y << "all"; else y << fidelity.promotion_pool;
      }
      y << YAML::EndMap;
    }
    y << YAML::Key << "evaluator" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "kind" << YAML::Value << evaluator_kind;
    y << YAML::Key << "workers" << YAML::Value;
    if (workers > 0) y << workers; else y << "auto";
    y << YAML::Key << "cache" << YAML::Value << cache;
    auto emit_predictor = [&] {  // evaluator.latency.predictor/online, for either kind
      if (latency_predictor.empty()) return;
      y << YAML::Key << "predictor" << YAML::Value << latency_predictor;
      y << YAML::Key << "online" << YAML::Value << latency_online;
    };
    if (evaluator_kind == "command") {
      y << YAML::Key << "command" << YAML::Value << command;
      y << YAML::Key << "command_timeout" << YAML::Value << Fmt(command_timeout);
    }
    if (evaluator_kind == "supernet") {
      y << YAML::Key << "supernet" << YAML::Value << YAML::BeginMap;
      y << YAML::Key << "path" << YAML::Value << supernet_dir;
      y << YAML::Key << "calibration_images" << YAML::Value << t.supernet_calibration_images;
      y << YAML::EndMap;
    }
    if (evaluator_kind == "train" || evaluator_kind == "command" || evaluator_kind == "supernet") {
      y << YAML::Key << "threads_per_worker" << YAML::Value << t.threads_per_worker;
      y << YAML::Key << "device" << YAML::Value << t.device;
      y << YAML::Key << "max_params" << YAML::Value << t.max_params;
      y << YAML::Key << "max_macs" << YAML::Value << t.max_macs;
      y << YAML::Key << "max_activation_bytes" << YAML::Value << t.max_activation_bytes;
      // Only when set, so that run directories of earlier versions keep their hash.
      if (!t.proxies.empty()) {
        y << YAML::Key << "proxies" << YAML::Value << YAML::Flow << t.proxies;
        y << YAML::Key << "proxy_batch" << YAML::Value << t.proxy_batch;
      }
      y << YAML::Key << "latency" << YAML::Value << YAML::BeginMap;
      y << YAML::Key << "measure" << YAML::Value << t.measure_latency;
      y << YAML::Key << "threads" << YAML::Value << t.latency_threads;
      y << YAML::Key << "warmup" << YAML::Value << t.latency_warmup;
      y << YAML::Key << "repeats" << YAML::Value << t.latency_repeats;
      {  // Only when not the default, so that run directories of earlier versions keep their hash.
        const evaluator::TrainOptions d;
        if (t.latency_rounds != d.latency_rounds) y << YAML::Key << "rounds" << YAML::Value << t.latency_rounds;
        if (t.latency_target != d.latency_target) y << YAML::Key << "target" << YAML::Value << Fmt(t.latency_target);
        if (t.latency_max_seconds != d.latency_max_seconds)
          y << YAML::Key << "max_seconds" << YAML::Value << Fmt(t.latency_max_seconds);
        if (t.latency_max_passes != d.latency_max_passes)
          y << YAML::Key << "max_passes" << YAML::Value << t.latency_max_passes;
      }
      emit_predictor();
      y << YAML::EndMap;
    } else {
      if (!latency_predictor.empty()) {
        y << YAML::Key << "latency" << YAML::Value << YAML::BeginMap;
        emit_predictor();
        y << YAML::EndMap;
      }
      y << YAML::Key << "table" << YAML::Value << YAML::BeginMap;
      y << YAML::Key << "path" << YAML::Value << table.path;
      y << YAML::Key << "key_column" << YAML::Value << table.key_column;
      y << YAML::Key << "accuracy_column" << YAML::Value << table.accuracy_column;
      y << YAML::Key << "latency_column" << YAML::Value << table.latency_column;
      y << YAML::Key << "simulated_cost_ms" << YAML::Value << Fmt(table.simulated_cost_ms);
      y << YAML::EndMap;
    }
    y << YAML::EndMap;
    // NOTE: the budget must stay the last section: Hash() cuts the text there.
    y << YAML::Key << "budget" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "max_evals" << YAML::Value << max_evals;
    y << YAML::Key << "generations" << YAML::Value << generations;
    if (budget_seconds > 0) y << YAML::Key << "seconds" << YAML::Value << Fmt(budget_seconds);
    y << YAML::EndMap;
    y << YAML::EndMap;
    return std::string(y.c_str()) + "\n";
}

}  // namespace paretonas::experiments

#include "experiments/config_sections.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "evaluator/user_data.h"
#include "search/proxy_names.h"
#include "space/input_error.h"
#include "space/search_space.h"
#include "space/yaml_util.h"

namespace paretonas::experiments::config_parse {

void ParseSpaceSection(const std::string& file, const YAML::Node& root, ExperimentConfig& c) {
  // A preset, or a space file here or beside the experiment: else say so with the line.
  auto check_space = [&](const YAML::Node& where) {
    const auto presets = space::SearchSpace::PresetNames();
    const size_t slash = file.find_last_of('/');
    const bool found = std::find(presets.begin(), presets.end(), c.space) != presets.end() ||
                       std::ifstream(c.space).good() ||
                       (slash != std::string::npos && std::ifstream(file.substr(0, slash + 1) + c.space).good());
    if (found) return;
    std::string names;
    for (const auto& n : presets) names += (names.empty() ? "" : ", ") + n;
    std::string msg = Where(file, where) + "field 'space.name': '" + c.space + "' is not a preset (" +
                      names + ") and no such space file";
    const std::string close = yamlutil::ClosestWord(c.space, presets);
    if (!close.empty()) msg += "; did you mean '" + close + "'?";
    throw InputError(msg);
  };
  if (const YAML::Node sp = root["space"]) {
    if (sp.IsScalar()) {
      c.space = AsString(file, "space", sp);
      check_space(sp);
    } else {
      CheckKeys(file, "space", sp, {"name", "set", "fix"});
      if (sp["name"]) {
        c.space = AsString(file, "space.name", sp["name"]);
        check_space(sp["name"]);
      }
      if (const YAML::Node set = sp["set"]) {
        if (!set.IsMap()) throw InputError(Where(file, set) + "field 'space.set': expected a map");
        for (const auto& kv : set)
          c.space_set[yamlutil::KeyName(file, kv.first)] =
              AsString(file, "space.set." + yamlutil::KeyName(file, kv.first), kv.second);
      }
      // Fixed decisions travel with the space's overrides, as "fix:NAME" (SearchSpace::Load).
      if (const YAML::Node fix = sp["fix"]) {
        if (!fix.IsMap())
          throw InputError(Where(file, fix) + "field 'space.fix': expected a map of decision: option, e.g. "
                           "{\"cell.0->1\": nor_conv_3x3}");
        for (const auto& kv : fix)
          c.space_set["fix:" + yamlutil::KeyName(file, kv.first)] =
              AsString(file, "space.fix." + yamlutil::KeyName(file, kv.first), kv.second);
      }
    }
  }

  // Where to read it: as written, or beside the experiment file (a run directory's config.yaml
  // names the copy of the space file it keeps beside it).
  const auto presets = space::SearchSpace::PresetNames();
  c.space_path = std::find(presets.begin(), presets.end(), c.space) != presets.end() ? c.space : BesideFile(file, c.space);
}

void ParseDatasetSection(const std::string& file, const YAML::Node& root, ExperimentConfig& c) {
  if (const YAML::Node d = root["dataset"]) {
    CheckKeys(file, "dataset", d,
              {"name", "path", "validation", "train_subset", "split_seed", "augment",
               "synthetic_train", "synthetic_test", "synthetic_size", "synthetic_channels",
               "synthetic_classes", "train_images", "train_labels", "test_images",
               "test_labels", "layout", "size", "channels", "skip_unreadable", "cache_dir",
               "max_memory_mb", "mean", "std", "pixel_max", "classes", "class_names", "input"});
    auto& o = c.dataset;
    if (d["name"]) o.name = AsString(file, "dataset.name", d["name"]);
    if (d["path"]) o.path = AsString(file, "dataset.path", d["path"]);
    if (d["validation"]) o.validation = AsInt(file, "dataset.validation", d["validation"]);
    if (d["train_subset"]) o.train_subset = AsInt(file, "dataset.train_subset", d["train_subset"]);
    if (d["split_seed"]) o.split_seed = AsInt(file, "dataset.split_seed", d["split_seed"]);
    if (d["augment"]) o.augment = AsBool(file, "dataset.augment", d["augment"]);
    if (d["synthetic_train"]) o.synthetic_train = AsInt(file, "dataset.synthetic_train", d["synthetic_train"]);
    if (d["synthetic_test"]) o.synthetic_test = AsInt(file, "dataset.synthetic_test", d["synthetic_test"]);
    if (d["synthetic_size"]) o.synthetic_size = AsInt(file, "dataset.synthetic_size", d["synthetic_size"]);
    if (d["synthetic_channels"]) o.synthetic_channels = AsInt(file, "dataset.synthetic_channels", d["synthetic_channels"]);
    if (d["synthetic_classes"]) o.synthetic_classes = AsInt(file, "dataset.synthetic_classes", d["synthetic_classes"]);
    for (auto [key, field] : {std::pair{"train_images", &o.train_images},
                              {"train_labels", &o.train_labels}, {"test_images", &o.test_images},
                              {"test_labels", &o.test_labels}, {"layout", &o.layout},
                              {"cache_dir", &o.cache_dir}})
      if (d[key]) *field = AsString(file, std::string("dataset.") + key, d[key]);
    if (d["size"]) o.size = AsInt(file, "dataset.size", d["size"]);
    if (d["channels"]) o.channels = AsInt(file, "dataset.channels", d["channels"]);
    if (d["skip_unreadable"]) o.skip_unreadable = AsBool(file, "dataset.skip_unreadable", d["skip_unreadable"]);
    if (d["max_memory_mb"]) o.max_memory_mb = AsInt(file, "dataset.max_memory_mb", d["max_memory_mb"]);
    if (d["classes"]) o.classes = AsInt(file, "dataset.classes", d["classes"]);
    if (d["pixel_max"]) o.pixel_max = AsDouble(file, "dataset.pixel_max", d["pixel_max"]);
    if (const YAML::Node in = d["input"]) {  // recorded by the resolved config: C, H, W
      const std::vector<int> chw = yamlutil::AsIntList(file, "dataset.input", in);
      if (chw.size() != 3 || chw[0] < 1 || chw[1] < 1 || chw[2] < 1 || chw[0] > 4 || chw[1] > 4096 || chw[2] > 4096)
        throw InputError(Where(file, in) + "field 'dataset.input': expected [C, H, W] (C 1..4, H and W 1..4096), "
                         "as the resolved config records it");
      o.input_c = chw[0], o.input_h = chw[1], o.input_w = chw[2];
    }
    for (auto [key, field] : {std::pair{"mean", &o.mean}, {"std", &o.std}}) {
      if (!d[key]) continue;
      const YAML::Node list = d[key];
      if (!list.IsSequence() || list.size() == 0)
        throw InputError(Where(file, list) + "field 'dataset." + key +
                         "': expected a list of numbers, one per channel, e.g. [0.5]");
      for (size_t i = 0; i < list.size(); ++i)
        field->push_back(AsDouble(file, std::string("dataset.") + key + "[" + std::to_string(i) + "]", list[i]));
    }
    if (const YAML::Node names = d["class_names"]) {
      if (!names.IsSequence())
        throw InputError(Where(file, names) + "field 'dataset.class_names': expected a list of names");
      for (size_t i = 0; i < names.size(); ++i)
        o.class_names.push_back(AsString(file, "dataset.class_names[" + std::to_string(i) + "]", names[i]));
    }
    // Like a space file: a relative data path is looked up from the working directory, then
    // beside the experiment file.
    const size_t slash = file.find_last_of('/');
    for (std::string* p : {&o.path, &o.train_images, &o.train_labels, &o.test_images, &o.test_labels}) {
      if (p->empty() || (*p)[0] == '/' || slash == std::string::npos || std::ifstream(*p)) continue;
      const std::string beside = file.substr(0, slash + 1) + *p;
      struct stat st {};
      if (::stat(beside.c_str(), &st) == 0) *p = beside;
    }
    const std::string bad = o.Validate();
    if (!bad.empty()) throw InputError(Where(file, d) + bad);
    // The user's data decides the input shape, the classes and (unless given) the normalisation;
    // they are resolved here so that `validate` prints them and the run directory records them.
    try {
      evaluator::ResolveUserData(&o);
    } catch (const InputError& e) {
      throw InputError(Where(file, d) + "dataset: " + e.what());
    }
  }

}

}  // namespace paretonas::experiments::config_parse

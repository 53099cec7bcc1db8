#include "experiments/export_input.h"

#include <cstdio>
#include <sstream>

#include "space/text_io.h"

namespace paretonas::experiments {
namespace {

std::string Num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.12g", v);
  return buf;
}

std::string List(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + Num(v[i]);
  return s + "]";
}

std::string Names(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + JsonQuote(v[i]);
  return s + "]";
}

std::string Shape(const std::vector<int>& v) {
  std::string s = "[\"batch\"";
  for (int d : v) s += ", " + std::to_string(d);
  return s + "]";
}

}  // namespace

std::string ExportInput::Formula() const {
  std::ostringstream f;
  const std::string norm = mean.empty()
                               ? "pixels / " + Num(pixel_max)
                               : "(pixels / " + Num(pixel_max) + " - mean[c]) / std[c] for each channel c";
  if (baked) {
    f << "feed the pixels (float32, 0.." << Num(pixel_max) << ", NCHW); the model computes x = "
      << norm << " itself";
  } else {
    f << "x = " << norm << ", float32, NCHW";
  }
  return f.str();
}

std::string ExportInput::Json() const {
  std::ostringstream j;
  j << "{\"shape\": " << Shape(shape) << ", \"layout\": \"NCHW\", \"dtype\": \"float32\", "
    << "\"pixel_max\": " << Num(pixel_max) << ", \"mean\": " << List(mean) << ", \"std\": "
    << List(std) << ", \"normalization_baked\": " << (baked ? "true" : "false")
    << ", \"formula\": " << JsonQuote(Formula()) << ", \"class_names\": " << Names(class_names) << "}";
  return j.str();
}

std::vector<std::pair<std::string, std::string>> ExportInput::Metadata() const {
  return {{"paretonas.input.shape", Shape(shape)},
          {"paretonas.input.layout", "NCHW"},
          {"paretonas.input.dtype", "float32"},
          {"paretonas.input.pixel_max", Num(pixel_max)},
          {"paretonas.input.mean", List(mean)},
          {"paretonas.input.std", List(std)},
          {"paretonas.input.normalization_baked", baked ? "true" : "false"},
          {"paretonas.input.formula", Formula()},
          {"paretonas.output.class_names", Names(class_names)}};
}

}  // namespace paretonas::experiments

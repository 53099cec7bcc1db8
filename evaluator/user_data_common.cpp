#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "evaluator/user_data_readers.h"
#include "space/input_error.h"

namespace paretonas::evaluator::userdata {

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

bool IsDir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool IsFile(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw InputError(dir + ": cannot read folder (" + std::strerror(errno) + ")");
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::uint64_t GetLE(const std::string& s, std::size_t pos, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t(static_cast<unsigned char>(s[pos + i])) << (8 * i);
  return v;
}

std::string MiB(std::int64_t bytes) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(bytes) / kMiB);
  return buf;
}

void ImageShape(const std::vector<std::int64_t>& shape, const std::string& layout,
                const std::string& where, ImageArray* img, bool* nhwc) {
  if (shape.size() == 3) {
    img->n = shape[0], img->c = 1, img->h = shape[1], img->w = shape[2];
    *nhwc = false;
    return;
  }
  if (shape.size() != 4)
    throw InputError(where + ": images must be N x H x W or 4-D (NHWC or NCHW), not " +
                     std::to_string(shape.size()) + "-D");
  bool is_nhwc = false;
  if (layout == "nhwc") {
    is_nhwc = true;
  } else if (layout == "nchw") {
    is_nhwc = false;
  } else if (shape[3] <= 4 && shape[1] > 4) {
    is_nhwc = true;
  } else if (shape[1] <= 4 && shape[3] > 4) {
    is_nhwc = false;
  } else {
    throw InputError(where + ": cannot tell NHWC from NCHW for shape (" + std::to_string(shape[0]) +
                     ", " + std::to_string(shape[1]) + ", " + std::to_string(shape[2]) + ", " +
                     std::to_string(shape[3]) + "); set dataset.layout: nhwc or nchw");
  }
  img->n = shape[0];
  img->c = is_nhwc ? shape[3] : shape[1];
  img->h = is_nhwc ? shape[1] : shape[2];
  img->w = is_nhwc ? shape[2] : shape[3];
  *nhwc = is_nhwc;
  if (img->c != 1 && img->c != 3)
    throw InputError(where + ": " + std::to_string(img->c) + " channels (layout " +
                     (is_nhwc ? "NHWC" : "NCHW") + "); 1 or 3 are supported (set dataset.layout "
                     "if the axes were guessed wrong)");
}

void FillImages(const std::string& data, char kind, int itemsize, bool nhwc, const std::string& where,
                ImageArray* img) {
  const std::size_t total = static_cast<std::size_t>(img->n * img->c * img->h * img->w);
  const std::size_t hw = static_cast<std::size_t>(img->h * img->w), c = static_cast<std::size_t>(img->c);
  auto dst = [&](std::size_t i) {  // source element i (in file order) -> NCHW index
    if (!nhwc) return i;
    const std::size_t n = i / (hw * c), rem = i % (hw * c), p = rem / c, ch = rem % c;
    return (n * c + ch) * hw + p;
  };
  if (kind == 'u' && itemsize == 1) {
    img->is_uint8 = true;
    img->u8.resize(total);
    for (std::size_t i = 0; i < total; ++i) img->u8[dst(i)] = static_cast<std::uint8_t>(data[i]);
  } else if (kind == 'f' && (itemsize == 4 || itemsize == 8)) {
    img->is_uint8 = false;
    img->f32.resize(total);
    for (std::size_t i = 0; i < total; ++i) {
      float v;
      if (itemsize == 4) {
        std::memcpy(&v, data.data() + 4 * i, 4);
      } else {
        double d;
        std::memcpy(&d, data.data() + 8 * i, 8);
        v = static_cast<float>(d);
      }
      img->f32[dst(i)] = v;
    }
  } else {
    throw InputError(where + ": images of dtype kind '" + std::string(1, kind) +
                     std::to_string(itemsize) + "' are not supported; uint8 (0-255, scaled by "
                     "1/255) or float32 (used as they are)");
  }
}

void CheckMemory(const DatasetOptions& o, std::int64_t elements, const std::string& where) {
  const std::int64_t bytes = elements * 4;
  if (o.max_memory_mb > 0 && bytes > std::int64_t{o.max_memory_mb} * kMiB)
    throw InputError(where + ": the training tensors would take " + MiB(bytes) +
                     " (float32), above dataset.max_memory_mb = " + std::to_string(o.max_memory_mb) +
                     "; raise it if this machine has the memory, or use a smaller dataset.size");
}

}  // namespace paretonas::evaluator::userdata

#include "evaluator/user_data.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <sstream>

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#include "space/input_error.h"
#include "space/text_io.h"

namespace paretonas::evaluator {
namespace {

constexpr std::int64_t kMiB = 1024 * 1024;

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

std::string Fmt12(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.12g", v);
  return buf;
}

std::string MiB(std::int64_t bytes) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(bytes) / kMiB);
  return buf;
}

// ---- NumPy: .npy arrays, alone or as members of a .npz (zip, stored or deflated) ---------------

struct NpyArray {
  char kind = 0;      ///< 'u', 'i', 'f', 'b'
  int itemsize = 0;
  std::vector<std::int64_t> shape;
  std::string data;   ///< little-endian element bytes, C order
  std::string where;  ///< "file.npz:x_train.npy" for messages
};

NpyArray ParseNpy(const std::string& bytes, const std::string& where) {
  NpyArray a;
  a.where = where;
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    throw InputError(where + ": not a .npy array (no \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = GetLE(bytes, 8, 2);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw InputError(where + ": truncated .npy header");
    header_len = GetLE(bytes, 8, 4);
    start = 12;
  } else {
    throw InputError(where + ": .npy format version " + std::to_string(major) +
                     " is not supported (1, 2 or 3)");
  }
  if (bytes.size() - start < header_len) throw InputError(where + ": truncated .npy header");
  const std::string header = bytes.substr(start, header_len);
  static const std::regex kDescr(R"('descr'\s*:\s*'([<>|=])([a-z])(\d+)')");
  static const std::regex kFortran(R"('fortran_order'\s*:\s*(True|False))");
  static const std::regex kShape(R"('shape'\s*:\s*\(([^)]*)\))");
  std::smatch m;
  if (!std::regex_search(header, m, kDescr))
    throw InputError(where + ": cannot read the dtype of the .npy header '" + header + "'");
  if (m[1] == ">")
    throw InputError(where + ": big-endian arrays are not supported; save with "
                     "arr.astype(arr.dtype.newbyteorder('<'))");
  a.kind = m[2].str()[0];
  a.itemsize = m[3].length() == 1 ? std::stoi(m[3]) : 0;
  if (a.itemsize != 1 && a.itemsize != 2 && a.itemsize != 4 && a.itemsize != 8)
    throw InputError(where + ": element size '" + m[3].str() + "' bytes is not supported (1, 2, 4 or 8)");
  if (std::regex_search(header, m, kFortran) && m[1] == "True")
    throw InputError(where + ": the array is in Fortran order; save np.ascontiguousarray(arr)");
  if (!std::regex_search(header, m, kShape))
    throw InputError(where + ": cannot read the shape of the .npy header '" + header + "'");
  std::stringstream dims(m[1].str());
  std::int64_t count = 1;
  for (std::string d; std::getline(dims, d, ',');) {
    d.erase(std::remove_if(d.begin(), d.end(), ::isspace), d.end());
    if (d.empty()) continue;
    char* end = nullptr;
    const long long v = std::strtoll(d.c_str(), &end, 10);
    if (*end != 0 || v < 0 || v > (1LL << 40)) throw InputError(where + ": bad shape entry '" + d + "'");
    a.shape.push_back(v);
    if (v > 0 && count > (std::int64_t{1} << 50) / v) throw InputError(where + ": the shape is too large");
    count *= v;
  }
  const std::size_t need = static_cast<std::size_t>(count) * static_cast<std::size_t>(a.itemsize);
  const std::size_t have = bytes.size() - start - header_len;
  if (have != need)
    throw InputError(where + ": the header announces " + std::to_string(need) +
                     " data bytes, the array has " + std::to_string(have) + " (truncated?)");
  a.data = bytes.substr(start + header_len);
  return a;
}

std::string Inflate(const std::string& in, std::size_t out_size, const std::string& where) {
  std::string out(out_size, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw InputError(where + ": cannot start zlib");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const std::size_t produced = out.size() - z.avail_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != out_size)
    throw InputError(where + ": damaged compressed member (inflated " + std::to_string(produced) +
                     " of " + std::to_string(out_size) + " bytes)");
  return out;
}

/// Members of a .npz: name (without .npy) -> raw .npy bytes.
std::map<std::string, std::string> ReadNpz(const std::string& path) {
  const std::string z = ReadBytes(path);
  auto damaged = [&](const std::string& why) {
    return InputError(path + ": not a readable .npz (zip) file: " + why);
  };
  if (z.size() < 22) throw damaged("too short");
  std::size_t eocd = std::string::npos;
  for (std::size_t i = z.size() - 22 + 1; i-- > 0 && z.size() - i <= 22 + 65535;)
    if (GetLE(z, i, 4) == 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd == std::string::npos) throw damaged("no end-of-central-directory record");
  std::uint64_t entries = GetLE(z, eocd + 10, 2), cd_offset = GetLE(z, eocd + 16, 4);
  if ((entries == 0xffff || cd_offset == 0xffffffffULL) && eocd >= 20 &&
      GetLE(z, eocd - 20, 4) == 0x07064b50) {
    const std::uint64_t z64 = GetLE(z, eocd - 20 + 8, 8);
    if (z64 + 56 > z.size() || GetLE(z, z64, 4) != 0x06064b50) throw damaged("bad zip64 record");
    entries = GetLE(z, z64 + 32, 8);
    cd_offset = GetLE(z, z64 + 48, 8);
  }
  std::map<std::string, std::string> out;
  std::size_t pos = cd_offset;
  for (std::uint64_t e = 0; e < entries; ++e) {
    if (pos + 46 > z.size() || GetLE(z, pos, 4) != 0x02014b50) throw damaged("bad central directory");
    const int method = static_cast<int>(GetLE(z, pos + 10, 2));
    std::uint64_t csize = GetLE(z, pos + 20, 4), usize = GetLE(z, pos + 24, 4);
    const std::size_t nlen = GetLE(z, pos + 28, 2), xlen = GetLE(z, pos + 30, 2),
                      clen = GetLE(z, pos + 32, 2);
    std::uint64_t local = GetLE(z, pos + 42, 4);
    if (pos + 46 + nlen + xlen + clen > z.size()) throw damaged("bad central directory entry");
    const std::string name = z.substr(pos + 46, nlen);
    // Zip64 extra field: the 64-bit values of the fields that read 0xffffffff, in this order.
    for (std::size_t x = pos + 46 + nlen; x + 4 <= pos + 46 + nlen + xlen;) {
      const std::uint64_t id = GetLE(z, x, 2), len = GetLE(z, x + 2, 2);
      if (x + 4 + len > pos + 46 + nlen + xlen) break;
      if (id == 1) {
        std::size_t f = x + 4;
        auto take = [&](std::uint64_t* v) {
          if (*v == 0xffffffffULL && f + 8 <= x + 4 + len) {
            *v = GetLE(z, f, 8);
            f += 8;
          }
        };
        take(&usize);
        take(&csize);
        take(&local);
      }
      x += 4 + len;
    }
    pos += 46 + nlen + xlen + clen;
    if (local + 30 > z.size() || GetLE(z, local, 4) != 0x04034b50) throw damaged("bad local header of " + name);
    const std::size_t data = local + 30 + GetLE(z, local + 26, 2) + GetLE(z, local + 28, 2);
    if (data > z.size() || csize > z.size() - data) throw damaged(name + " is truncated");
    const std::string raw = z.substr(data, csize);
    const std::string where = path + ":" + name;
    std::string bytes;
    if (method == 0) {
      bytes = raw;
    } else if (method == 8) {
      // Deflate expands at most about 1032:1: a larger announced size is damage, refused before
      // it is allocated.
      if (usize > 1100 * csize + 1024) throw damaged(name + ": announces " + std::to_string(usize) +
                                                     " bytes from " + std::to_string(csize) + " compressed");
      bytes = Inflate(raw, usize, where);
    } else {
      throw damaged(name + " uses compression method " + std::to_string(method) +
                    " (np.savez and np.savez_compressed write 0 and 8)");
    }
    std::string key = name;
    if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
    out[key] = std::move(bytes);
  }
  return out;
}

/// Reads the arrays `names` of a .npz file or a folder of .npy files (absent ones are omitted).
std::map<std::string, NpyArray> ReadNumpy(const std::string& path,
                                          const std::vector<std::string>& names) {
  std::map<std::string, NpyArray> out;
  if (IsDir(path)) {
    for (const auto& n : names) {
      const std::string f = path + "/" + n + ".npy";
      if (IsFile(f)) out[n] = ParseNpy(ReadBytes(f), f);
    }
    return out;
  }
  if (!IsFile(path)) throw InputError(path + ": no such file or folder (dataset.path)");
  auto members = ReadNpz(path);
  for (const auto& n : names) {
    auto it = members.find(n);
    if (it != members.end()) out[n] = ParseNpy(it->second, path + ":" + n);
  }
  return out;
}

std::vector<std::int64_t> Labels(const NpyArray& a) {
  if (a.shape.size() != 1 && !(a.shape.size() == 2 && a.shape[1] == 1))
    throw InputError(a.where + ": labels must be a 1-D array (or N x 1), not " +
                     std::to_string(a.shape.size()) + "-D");
  if (a.kind != 'i' && a.kind != 'u')
    throw InputError(a.where + ": labels must be integers, not dtype kind '" +
                     std::string(1, a.kind) + std::to_string(a.itemsize) + "'");
  const std::size_t n = a.data.size() / a.itemsize;
  std::vector<std::int64_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t v = GetLE(a.data, i * a.itemsize, a.itemsize);
    if (a.kind == 'i' && a.itemsize < 8 && (v >> (8 * a.itemsize - 1)) & 1)
      v |= ~std::uint64_t{0} << (8 * a.itemsize);  // sign-extend
    out[i] = static_cast<std::int64_t>(v);
  }
  return out;
}

/// Decides NCHW from a 3-D (N, H, W) or 4-D array's shape and dataset.layout.
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

/// Copies element bytes into img (uint8 or float32), transposing NHWC to NCHW.
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

UserData LoadNumpy(const DatasetOptions& o, bool with_test) {
  UserData d;
  const std::vector<std::string> names{"x_train", "y_train", "x_val", "y_val", "x_test", "y_test"};
  auto arrays = ReadNumpy(o.path, names);
  for (const char* need : {"x_train", "y_train"})
    if (!arrays.count(need)) {
      std::string have;
      for (const auto& [k, v] : arrays) have += (have.empty() ? "" : ", ") + k;
      throw InputError(o.path + ": no array '" + need + "' (expected x_train, y_train and "
                       "optionally x_val, y_val, x_test, y_test" +
                       (IsDir(o.path) ? std::string(" as .npy files") : "") + ")");
    }
  auto split = [&](const std::string& x, const std::string& y, ImageArray* img) {
    if (!arrays.count(x) && !arrays.count(y)) return;
    if (!arrays.count(x) || !arrays.count(y))
      throw InputError(o.path + ": '" + (arrays.count(x) ? x : y) + "' without '" +
                       (arrays.count(x) ? y : x) + "'; give both or neither");
    const NpyArray& xa = arrays[x];
    bool nhwc = false;
    ImageShape(xa.shape, o.layout, xa.where, img, &nhwc);
    img->labels = Labels(arrays[y]);
    if (static_cast<std::int64_t>(img->labels.size()) != img->n)
      throw InputError(o.path + ": " + x + " has " + std::to_string(img->n) + " images but " + y +
                       " has " + std::to_string(img->labels.size()) + " labels");
    if (x == "x_train") CheckMemory(o, img->n * img->c * img->h * img->w, xa.where);
    FillImages(xa.data, xa.kind, xa.itemsize, nhwc, xa.where, img);
    img->source = xa.where;
  };
  split("x_train", "y_train", &d.train);
  split("x_val", "y_val", &d.val);
  if (with_test) split("x_test", "y_test", &d.test);
  d.description = "numpy " + o.path;
  return d;
}

}  // namespace

// ---- IDX --------------------------------------------------------------------------------------

IdxFile ReadIdxFile(const std::string& path, int expected_magic) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError(path + ": cannot open");
  std::string data;
  std::vector<char> buf(1 << 16);
  int n = 0;
  while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0) data.append(buf.data(), n);
  int err = 0;
  const char* msg = gzerror(f, &err);
  const bool bad = n < 0 || (err != Z_OK && err != Z_STREAM_END);
  const std::string zmsg = msg ? msg : "";
  gzclose(f);
  if (bad) throw InputError(path + ": cannot decompress: " + zmsg);
  if (data.size() < 8) throw InputError(path + ": truncated: " + std::to_string(data.size()) + " bytes");
  auto be = [&](std::size_t p) {
    return (std::uint32_t(static_cast<unsigned char>(data[p])) << 24) |
           (std::uint32_t(static_cast<unsigned char>(data[p + 1])) << 16) |
           (std::uint32_t(static_cast<unsigned char>(data[p + 2])) << 8) |
           std::uint32_t(static_cast<unsigned char>(data[p + 3]));
  };
  const std::uint32_t magic = be(0);
  if (static_cast<int>(magic) != expected_magic) {
    char hex[64];
    std::snprintf(hex, sizeof(hex), "0x%08x (expected 0x%08x", magic,
                  static_cast<unsigned>(expected_magic));
    throw InputError(path + ": wrong magic number " + hex + ": not an IDX file of this kind)");
  }
  const int dims = static_cast<int>(magic & 0xff);
  if (data.size() < 4 + 4 * static_cast<std::size_t>(dims)) throw InputError(path + ": truncated IDX header");
  IdxFile out;
  std::uint64_t total = 1;
  for (int d = 0; d < dims; ++d) {
    out.dims.push_back(be(4 + 4 * d));
    total *= static_cast<std::uint64_t>(out.dims.back());
    if (total > data.size()) total = data.size() + 1;  // no overflow; reported just below
  }
  const std::size_t offset = 4 + 4 * static_cast<std::size_t>(dims);
  if (data.size() - offset != total)
    throw InputError(path + ": truncated or oversized: the header announces " +
                     std::to_string(total) + " data bytes, the file has " +
                     std::to_string(data.size() - offset));
  out.bytes = data.substr(offset);
  return out;
}

namespace {

UserData LoadIdx(const DatasetOptions& o, bool with_test) {
  UserData d;
  auto split = [&](const std::string& images, const std::string& labels, ImageArray* img) {
    // 0x00000803: uint8, 3 dims; 0x00000804: uint8, 4 dims.
    IdxFile x;
    {
      gzFile f = gzopen(images.c_str(), "rb");
      if (!f) throw InputError(images + ": cannot open (dataset.train_images / test_images)");
      unsigned char head[4] = {0, 0, 0, 0};
      const int got = gzread(f, head, 4);
      gzclose(f);
      const int magic = got == 4 ? (head[2] << 8) | head[3] : 0;
      x = ReadIdxFile(images, magic == 0x0804 ? 0x00000804 : 0x00000803);
    }
    bool nhwc = false;
    ImageShape(x.dims, o.layout, images, img, &nhwc);
    const IdxFile y = ReadIdxFile(labels, 0x00000801);
    if (static_cast<std::int64_t>(y.bytes.size()) != img->n)
      throw InputError(labels + ": " + std::to_string(y.bytes.size()) + " labels for the " +
                       std::to_string(img->n) + " images of " + images);
    img->labels.assign(y.bytes.begin(), y.bytes.end());
    for (auto& l : img->labels) l &= 0xff;
    if (img == &d.train) CheckMemory(o, img->n * img->c * img->h * img->w, images);
    FillImages(x.bytes, 'u', 1, nhwc, images, img);
    img->source = images;
  };
  split(o.train_images, o.train_labels, &d.train);
  if (with_test && !o.test_images.empty()) split(o.test_images, o.test_labels, &d.test);
  d.description = "idx " + o.train_images;
  return d;
}

// ---- Image folders ----------------------------------------------------------------------------

bool IsImageFile(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || name[0] == '.') return false;
  std::string ext = name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == "png" || ext == "jpg" || ext == "jpeg" || ext == "bmp";
}

struct FolderFile {
  std::string path;
  int label = 0;
  std::int64_t size = 0, mtime_ns = 0;
};

struct FolderListing {
  std::vector<FolderFile> files[3];  // train, val, test
  std::vector<std::string> classes;
  int ignored = 0;  // files that are not images by their extension
};

FolderListing ListImageFolder(const DatasetOptions& o) {
  FolderListing l;
  const std::string root = o.path;
  if (!IsDir(root)) throw InputError(root + ": no such folder (dataset.path of an image_folder)");
  if (!IsDir(root + "/train"))
    throw InputError(root + "/train: no such folder; an image_folder holds train/<class>/*.png|*.jpg "
                     "(and optionally val/ and test/ of the same form)");
  for (const auto& c : ListDir(root + "/train"))
    if (IsDir(root + "/train/" + c)) l.classes.push_back(c);
  if (l.classes.size() < 2)
    throw InputError(root + "/train: " + std::to_string(l.classes.size()) +
                     " class folder(s); a classifier needs at least 2");
  const char* splits[3] = {"train", "val", "test"};
  for (int s = 0; s < 3; ++s) {
    const std::string dir = root + "/" + splits[s];
    if (s > 0 && !IsDir(dir)) continue;
    for (const auto& c : ListDir(dir)) {
      const std::string cdir = dir + "/" + c;
      if (!IsDir(cdir)) {
        ++l.ignored;
        continue;
      }
      auto it = std::find(l.classes.begin(), l.classes.end(), c);
      if (it == l.classes.end())
        throw InputError(cdir + ": class '" + c + "' is not among the classes of " + root +
                         "/train (" + std::to_string(l.classes.size()) + " folders)");
      int count = 0;
      for (const auto& f : ListDir(cdir)) {
        if (!IsImageFile(f)) {
          ++l.ignored;
          continue;
        }
        FolderFile ff;
        ff.path = cdir + "/" + f;
        ff.label = static_cast<int>(it - l.classes.begin());
        struct stat st {};
        if (::stat(ff.path.c_str(), &st) == 0) {
          ff.size = st.st_size;
          ff.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        }
        l.files[s].push_back(ff);
        ++count;
      }
      if (s == 0 && count == 0)
        throw InputError(cdir + ": empty class folder (no .png, .jpg, .jpeg or .bmp file); remove "
                         "it or add images");
    }
  }
  return l;
}

std::uint64_t Fnv(const std::string& s, std::uint64_t h = 1469598103934665603ULL) {
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ULL;
  return h;
}

std::string CacheDir(const DatasetOptions& o) {
  if (!o.cache_dir.empty()) return o.cache_dir;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/paretonas";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/paretonas";
  return "/tmp/paretonas-cache";
}

constexpr char kCacheMagic[8] = {'P', 'N', 'A', 'S', 'I', 'M', 'G', '1'};

void PutU64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string EncodeCache(const UserData& d) {
  std::string out(kCacheMagic, 8);
  for (const ImageArray* a : {&d.train, &d.val, &d.test}) {
    for (std::int64_t v : {a->n, a->c, a->h, a->w}) PutU64(out, static_cast<std::uint64_t>(v));
    out.append(reinterpret_cast<const char*>(a->u8.data()), a->u8.size());
    for (std::int64_t l : a->labels) PutU64(out, static_cast<std::uint64_t>(l));
  }
  PutU64(out, d.class_names.size());
  for (const auto& n : d.class_names) {
    PutU64(out, n.size());
    out += n;
  }
  PutU64(out, static_cast<std::uint64_t>(d.skipped));
  return out;
}

/// Decodes a cache file; false when it is damaged (every length bounded by the bytes left).
bool DecodeCache(const std::string& b, UserData* d) {
  std::size_t pos = 8;
  auto u64 = [&](std::uint64_t* v) {
    if (b.size() - pos < 8) return false;
    *v = GetLE(b, pos, 8);
    pos += 8;
    return true;
  };
  if (b.size() < 8 || b.compare(0, 8, std::string(kCacheMagic, 8)) != 0) return false;
  for (ImageArray* a : {&d->train, &d->val, &d->test}) {
    std::uint64_t dims[4];
    for (auto& v : dims)
      if (!u64(&v) || v > b.size()) return false;
    std::uint64_t elems = 1;
    for (std::uint64_t v : dims)
      if (__builtin_mul_overflow(elems, v, &elems)) return false;
    if (elems > b.size() - pos || dims[0] * 8 > b.size() - pos - elems) return false;
    a->n = static_cast<std::int64_t>(dims[0]), a->c = static_cast<std::int64_t>(dims[1]);
    a->h = static_cast<std::int64_t>(dims[2]), a->w = static_cast<std::int64_t>(dims[3]);
    a->is_uint8 = true;
    a->u8.assign(b.begin() + pos, b.begin() + pos + elems);
    pos += elems;
    a->labels.resize(dims[0]);
    for (auto& l : a->labels) {
      std::uint64_t v;
      u64(&v);
      l = static_cast<std::int64_t>(v);
    }
  }
  std::uint64_t names = 0;
  if (!u64(&names) || names > b.size() - pos) return false;
  for (std::uint64_t i = 0; i < names; ++i) {
    std::uint64_t len = 0;
    if (!u64(&len) || len > b.size() - pos) return false;
    d->class_names.push_back(b.substr(pos, len));
    pos += len;
  }
  std::uint64_t skipped = 0;
  if (!u64(&skipped)) return false;
  d->skipped = static_cast<int>(skipped);
  return pos == b.size();
}

/// Decodes one image to `channels` (1 or 3) at size x size (shorter side resized, centre crop)
/// or, when size is 0, at its own size. Returns false with `why` for an unreadable file.
bool DecodeImage(const std::string& path, int channels, int size, std::vector<std::uint8_t>* out,
                 int* w_out, int* h_out, std::string* why) {
  int w = 0, h = 0, comp = 0;
  stbi_uc* px = stbi_load(path.c_str(), &w, &h, &comp, channels);
  if (!px) {
    *why = stbi_failure_reason() ? stbi_failure_reason() : "unknown decoder error";
    return false;
  }
  std::vector<std::uint8_t> img(px, px + static_cast<std::size_t>(w) * h * channels);
  stbi_image_free(px);
  if (size > 0 && (w != size || h != size)) {
    const double scale = static_cast<double>(size) / std::min(w, h);
    const int nw = std::max(size, static_cast<int>(std::lround(w * scale)));
    const int nh = std::max(size, static_cast<int>(std::lround(h * scale)));
    std::vector<std::uint8_t> resized(static_cast<std::size_t>(nw) * nh * channels);
    if (!stbir_resize_uint8(img.data(), w, h, 0, resized.data(), nw, nh, 0, channels)) {
      *why = "cannot resize";
      return false;
    }
    const int x0 = (nw - size) / 2, y0 = (nh - size) / 2;
    img.assign(static_cast<std::size_t>(size) * size * channels, 0);
    for (int y = 0; y < size; ++y)
      std::memcpy(img.data() + static_cast<std::size_t>(y) * size * channels,
                  resized.data() + (static_cast<std::size_t>(y + y0) * nw + x0) * channels,
                  static_cast<std::size_t>(size) * channels);
    w = h = size;
  }
  // HWC -> CHW
  out->resize(img.size());
  const std::size_t hw = static_cast<std::size_t>(w) * h;
  for (std::size_t p = 0; p < hw; ++p)
    for (int c = 0; c < channels; ++c) (*out)[c * hw + p] = img[p * channels + c];
  *w_out = w;
  *h_out = h;
  return true;
}

UserData DecodeFolder(const DatasetOptions& o, const FolderListing& l) {
  UserData d;
  d.class_names = l.classes;
  // Channels: as given, or as the files are when they all agree (grey+alpha counts as grey).
  int channels = o.channels;
  std::string first_gray, first_color;
  int w0 = 0, h0 = 0;
  std::string first_file;
  for (const auto& split : l.files)
    for (const auto& f : split) {
      int w = 0, h = 0, comp = 0;
      if (!stbi_info(f.path.c_str(), &w, &h, &comp)) continue;  // reported when decoded
      std::string& first = comp <= 2 ? first_gray : first_color;
      if (first.empty()) first = f.path;
      if (o.size == 0) {
        if (first_file.empty()) {
          first_file = f.path, w0 = w, h0 = h;
        } else if (w != w0 || h != h0) {
          throw InputError(f.path + ": " + std::to_string(w) + "x" + std::to_string(h) +
                           " pixels, but " + first_file + " has " + std::to_string(w0) + "x" +
                           std::to_string(h0) + "; set dataset.size to resize all images "
                           "(shorter side, then centre crop)");
        }
      }
    }
  if (channels == 0) {
    if (!first_gray.empty() && !first_color.empty())
      throw InputError(o.path + ": mixed channel counts: " + first_gray + " is greyscale, " +
                       first_color + " is colour; set dataset.channels: 3 (or 1) to convert all");
    channels = first_color.empty() ? 1 : 3;
  }
  const int side_h = o.size > 0 ? o.size : h0, side_w = o.size > 0 ? o.size : w0;
  const std::int64_t train_elems =
      static_cast<std::int64_t>(l.files[0].size()) * channels * side_h * side_w;
  CheckMemory(o, train_elems, o.path + "/train");
  std::size_t total = l.files[0].size() + l.files[1].size() + l.files[2].size();
  std::cerr << "paretonas: decoding " << total << " images of " << o.path << " ("
            << l.classes.size() << " classes, " << channels << " channel(s), " << side_w << "x"
            << side_h << ") once; later runs read the cache\n";
  std::size_t done = 0;
  ImageArray* arrays[3] = {&d.train, &d.val, &d.test};
  for (int s = 0; s < 3; ++s) {
    ImageArray& a = *arrays[s];
    a.c = channels, a.h = side_h, a.w = side_w;
    a.source = o.path;
    const std::size_t per = static_cast<std::size_t>(channels) * side_h * side_w;
    a.u8.reserve(l.files[s].size() * per);
    for (const auto& f : l.files[s]) {
      std::vector<std::uint8_t> px;
      int w = 0, h = 0;
      std::string why;
      if (!DecodeImage(f.path, channels, o.size, &px, &w, &h, &why)) {
        if (o.skip_unreadable) {
          ++d.skipped;
          continue;
        }
        throw InputError(f.path + ": cannot decode the image (" + why +
                         "); fix or remove it, or set dataset.skip_unreadable: true to skip and "
                         "count such files");
      }
      if (w != side_w || h != side_h)
        throw InputError(f.path + ": " + std::to_string(w) + "x" + std::to_string(h) +
                         " pixels, the others " + std::to_string(side_w) + "x" +
                         std::to_string(side_h) + "; set dataset.size");
      a.u8.insert(a.u8.end(), px.begin(), px.end());
      a.labels.push_back(f.label);
      ++a.n;
      if (++done % 10000 == 0) std::cerr << "paretonas: decoded " << done << " / " << total << "\n";
    }
  }
  for (std::size_t c = 0; c < l.classes.size(); ++c)
    if (std::find(d.train.labels.begin(), d.train.labels.end(), static_cast<std::int64_t>(c)) ==
        d.train.labels.end())
      throw InputError(o.path + "/train/" + l.classes[c] + ": no readable image in this class");
  return d;
}

UserData LoadImageFolder(const DatasetOptions& o, bool with_test) {
  const FolderListing l = ListImageFolder(o);
  std::ostringstream key;
  key << "v1|" << o.path << "|" << o.size << "|" << o.channels << "|" << o.skip_unreadable;
  for (const auto& split : l.files)
    for (const auto& f : split) key << "|" << f.path << ":" << f.size << ":" << f.mtime_ns;
  char name[64];
  std::snprintf(name, sizeof(name), "images-%016llx.bin",
                static_cast<unsigned long long>(Fnv(key.str())));
  const std::string dir = CacheDir(o), cache = dir + "/" + name;
  UserData d;
  bool cached = false;
  if (IsFile(cache)) {
    cached = DecodeCache(ReadBytes(cache), &d) && d.class_names == l.classes;
    if (!cached) {
      std::cerr << "paretonas: warning: " << cache << " is damaged; decoding the images again\n";
      d = UserData{};
    }
  }
  if (!cached) {
    d = DecodeFolder(o, l);
    MakeDirsBestEffort(dir);
    const std::string tmp = cache + ".tmp." + std::to_string(::getpid());
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      const std::string bytes = EncodeCache(d);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!out) std::cerr << "paretonas: warning: cannot write the image cache " << tmp << "\n";
    }
    if (std::rename(tmp.c_str(), cache.c_str()) != 0) ::unlink(tmp.c_str());
  }
  CheckMemory(o, d.train.n * d.train.c * d.train.h * d.train.w, o.path + "/train");
  if (!with_test) d.test = ImageArray{};
  std::ostringstream desc;
  desc << "image_folder " << o.path;
  if (d.skipped > 0) desc << " (" << d.skipped << " unreadable images skipped)";
  if (l.ignored > 0) desc << " (" << l.ignored << " non-image files ignored)";
  d.description = desc.str();
  return d;
}

}  // namespace

bool IsUserDataset(const std::string& name) {
  return name == "numpy" || name == "idx" || name == "image_folder";
}

std::int64_t TrainingBytes(const UserData& d) {
  std::int64_t e = 0;
  for (const ImageArray* a : {&d.train, &d.val, &d.test}) e += a->n * a->c * a->h * a->w;
  return 4 * e;
}

UserData LoadUserData(const DatasetOptions& o, bool with_test) {
  UserData d = o.name == "numpy" ? LoadNumpy(o, with_test)
               : o.name == "idx" ? LoadIdx(o, with_test)
                                 : LoadImageFolder(o, with_test);
  if (d.train.n < 2) throw InputError(d.train.source + ": fewer than 2 training images");
  // Classes: as given, else the largest label + 1; every label must be in range.
  std::int64_t max_label = -1;
  for (const ImageArray* a : {&d.train, &d.val, &d.test}) {
    if (!a->empty() && (a->c != d.train.c || a->h != d.train.h || a->w != d.train.w))
      throw InputError(a->source + ": images of " + std::to_string(a->c) + "x" +
                       std::to_string(a->h) + "x" + std::to_string(a->w) +
                       " (CxHxW), the training images are " + std::to_string(d.train.c) + "x" +
                       std::to_string(d.train.h) + "x" + std::to_string(d.train.w));
    for (std::size_t i = 0; i < a->labels.size(); ++i) {
      const std::int64_t l = a->labels[i];
      if (l < 0 || (o.classes > 0 && l >= o.classes))
        throw InputError(a->source + ": label " + std::to_string(l) + " at index " +
                         std::to_string(i) + " is out of range [0, " +
                         (o.classes > 0 ? std::to_string(o.classes - 1) : std::string("...")) +
                         "]" + (o.classes > 0 ? " (dataset.classes = " + std::to_string(o.classes) + ")" : ""));
      max_label = std::max(max_label, l);
    }
  }
  if (d.class_names.empty()) d.class_names = o.class_names;
  d.classes = o.classes > 0 ? o.classes
              : !d.class_names.empty() ? static_cast<int>(d.class_names.size())
                                       : static_cast<int>(max_label + 1);
  if (max_label >= d.classes)
    throw InputError(d.train.source + ": label " + std::to_string(max_label) + " is out of range for " +
                     std::to_string(d.classes) + " class names");
  if (d.classes < 2) throw InputError(d.train.source + ": all labels are 0; a classifier needs 2 classes");
  if (!d.class_names.empty() && static_cast<int>(d.class_names.size()) != d.classes)
    throw InputError("dataset.class_names: " + std::to_string(d.class_names.size()) +
                     " names for " + std::to_string(d.classes) + " classes");
  d.description += " (" + MiB(TrainingBytes(d)) + " as float32)";
  return d;
}

void StratifiedSplit(const std::vector<std::int64_t>& y, int validation, int subset,
                     std::uint64_t seed, std::vector<std::int64_t>* train,
                     std::vector<std::int64_t>* val) {
  std::map<std::int64_t, std::vector<std::int64_t>> by_class;
  for (std::size_t i = 0; i < y.size(); ++i) by_class[y[i]].push_back(static_cast<std::int64_t>(i));
  std::mt19937_64 rng(seed ^ 0x5eed5011ULL);
  const auto n = static_cast<std::int64_t>(y.size());
  for (auto& [cls, idx] : by_class) {
    std::shuffle(idx.begin(), idx.end(), rng);
    const auto nv = static_cast<size_t>(
        std::llround(static_cast<double>(validation) * idx.size() / static_cast<double>(n)));
    size_t nt = idx.size() - std::min(nv, idx.size());
    if (subset > 0)
      nt = std::min<size_t>(nt, static_cast<size_t>(std::llround(
                                    static_cast<double>(subset) * idx.size() / n)));
    val->insert(val->end(), idx.begin(), idx.begin() + std::min(nv, idx.size()));
    train->insert(train->end(), idx.begin() + std::min(nv, idx.size()),
                  idx.begin() + std::min(nv, idx.size()) + nt);
  }
  std::sort(train->begin(), train->end());
  std::sort(val->begin(), val->end());
}

void ResolveUserData(DatasetOptions* o) {
  if (!IsUserDataset(o->name)) return;
  // A resolved config (a run directory's) records everything: `status`, `report` and `export`
  // need not read the data, and still work when it has moved. Training reads it.
  if (o->input_c > 0 && o->classes > 0 && o->pixel_max > 0 && !o->mean.empty()) {
    if (static_cast<int>(o->mean.size()) != o->input_c)
      throw InputError("dataset.mean: " + std::to_string(o->mean.size()) + " values for " +
                       std::to_string(o->input_c) + "-channel images");
    return;
  }
  const UserData d = LoadUserData(*o, false);
  if (!o->class_names.empty() && !d.class_names.empty() && o->class_names != d.class_names)
    throw InputError("dataset.class_names: the config names " + std::to_string(o->class_names.size()) +
                     " classes, the data " + std::to_string(d.class_names.size()) +
                     " others (did the class folders change since the run started?)");
  o->classes = d.classes;
  o->class_names = d.class_names;
  o->input_c = static_cast<int>(d.train.c);
  o->input_h = static_cast<int>(d.train.h);
  o->input_w = static_cast<int>(d.train.w);
  if (o->pixel_max <= 0) o->pixel_max = d.train.is_uint8 ? 255.0 : 1.0;
  if (!o->mean.empty()) {
    if (static_cast<std::int64_t>(o->mean.size()) != d.train.c)
      throw InputError("dataset.mean: " + std::to_string(o->mean.size()) + " values for " +
                       std::to_string(d.train.c) + "-channel images");
    return;
  }
  // Per-channel mean and std of the images trained on (the split as LoadDataset makes it).
  std::vector<std::int64_t> train_idx, val_idx;
  if (d.val.empty()) {
    StratifiedSplit(d.train.labels, o->validation, o->train_subset, o->split_seed, &train_idx, &val_idx);
  } else {
    StratifiedSplit(d.train.labels, 0, o->train_subset, o->split_seed, &train_idx, &val_idx);
  }
  const std::size_t hw = static_cast<std::size_t>(d.train.h * d.train.w);
  o->mean.assign(d.train.c, 0.0);
  o->std.assign(d.train.c, 0.0);
  for (std::int64_t c = 0; c < d.train.c; ++c) {
    double sum = 0, sq = 0;
    for (std::int64_t i : train_idx) {
      const std::size_t base = (static_cast<std::size_t>(i) * d.train.c + c) * hw;
      for (std::size_t p = 0; p < hw; ++p) {
        const double v = d.train.Scaled(base + p, o->pixel_max);
        sum += v;
        sq += v * v;
      }
    }
    const double count = static_cast<double>(train_idx.size() * hw);
    const double mean = sum / count;
    const double sd = std::sqrt(std::max(0.0, sq / count - mean * mean));
    // Rounded to what the resolved config keeps, so a resumed run normalises identically.
    o->mean[c] = std::stod(Fmt12(mean));
    o->std[c] = std::stod(Fmt12(sd > 1e-12 ? sd : 1.0));
  }
}

}  // namespace paretonas::evaluator

// dataset.name: numpy. .npy arrays, alone or as members of a .npz (zip, stored or deflated).
#include <zlib.h>

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "evaluator/user_data_readers.h"
#include "space/input_error.h"

namespace paretonas::evaluator::userdata {
namespace {

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


}  // namespace

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
    img->labels_source = arrays[y].where;
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

}  // namespace paretonas::evaluator::userdata

// dataset.name: image_folder. PNG, JPEG and BMP files in train/CLASS/ (and optional val/, test/),
// decoded with stb to one size and channel count, and cached as one binary file.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#include "evaluator/user_data_readers.h"
#include "space/input_error.h"
#include "space/text_io.h"

namespace paretonas::evaluator::userdata {
namespace {

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

constexpr char kCacheMagic[8] = {'P', 'N', 'A', 'S', 'I', 'M', 'G', '2'};

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
  PutU64(out, d.skipped_files.size());
  for (const auto& n : d.skipped_files) {
    PutU64(out, n.size());
    out += n;
  }
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
  std::uint64_t named = 0;
  if (!u64(&named) || named > b.size() - pos) return false;
  for (std::uint64_t i = 0; i < named; ++i) {
    std::uint64_t len = 0;
    if (!u64(&len) || len > b.size() - pos) return false;
    d->skipped_files.push_back(b.substr(pos, len));
    pos += len;
  }
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
          if (++d.skipped <= 5) d.skipped_files.push_back(f.path + " (" + why + ")");
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


}  // namespace

UserData LoadImageFolder(const DatasetOptions& o, bool with_test) {
  const FolderListing l = ListImageFolder(o);
  std::ostringstream key;
  key << "v2|" << o.path << "|" << o.size << "|" << o.channels << "|" << o.skip_unreadable;
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
  if (d.skipped > 0) {
    desc << " (" << d.skipped << " unreadable images skipped: ";
    for (std::size_t i = 0; i < d.skipped_files.size(); ++i) desc << (i ? ", " : "") << d.skipped_files[i];
    if (d.skipped > static_cast<int>(d.skipped_files.size())) desc << ", ...";
    desc << ")";
  }
  if (l.ignored > 0) desc << " (" << l.ignored << " non-image files ignored)";
  d.description = desc.str();
  return d;
}

}  // namespace paretonas::evaluator::userdata

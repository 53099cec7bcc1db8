// dataset.name: idx. IDX files (optionally gzip-compressed) by path.
#include <zlib.h>

#include "evaluator/user_data_readers.h"
#include "space/input_error.h"

namespace paretonas::evaluator {

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

namespace userdata {

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
    img->labels_source = labels;
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

}  // namespace userdata
}  // namespace paretonas::evaluator

// The user's own data (evaluator/user_data.h): NumPy arrays, IDX files by path, image folders.
// Every file is made here: .npy/.npz by a tiny writer of NumPy's format (stored and deflated zip
// members, as np.savez and np.savez_compressed write them), PNG and JPEG with stb_image_write
// (the library that decodes them too).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <stb/stb_image_write.h>

#include "evaluator/dataset_info.h"
#include "evaluator/user_data.h"
#include "space/input_error.h"
#include "tests/test_paths.h"

namespace paretonas::evaluator {
namespace {

void PutLE(std::string& s, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

/// A .npy file as NumPy writes it (format 1.0, header padded to 64 bytes).
std::string Npy(const std::string& descr, const std::vector<std::int64_t>& shape, const std::string& data) {
  std::string dims;
  for (auto d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  PutLE(out, header.size(), 2);
  return out + header + data;
}

template <class T>
std::string Bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

/// A zip archive of `members` (name -> bytes); `deflate` compresses them (raw deflate).
std::string Zip(const std::map<std::string, std::string>& members, bool compress) {
  std::string out, central;
  for (const auto& [name, bytes] : members) {
    std::string body = bytes;
    if (compress) {
      z_stream z{};
      deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
      body.assign(deflateBound(&z, bytes.size()), '\0');
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
      z.avail_in = static_cast<uInt>(bytes.size());
      z.next_out = reinterpret_cast<Bytef*>(body.data());
      z.avail_out = static_cast<uInt>(body.size());
      deflate(&z, Z_FINISH);
      body.resize(z.total_out);
      deflateEnd(&z);
    }
    const auto crc = crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()));
    const std::uint64_t offset = out.size();
    std::string local;
    PutLE(local, 0x04034b50, 4);
    PutLE(local, 20, 2);
    PutLE(local, 0, 2);
    PutLE(local, compress ? 8 : 0, 2);
    PutLE(local, 0, 4);
    PutLE(local, crc, 4);
    PutLE(local, body.size(), 4);
    PutLE(local, bytes.size(), 4);
    PutLE(local, name.size(), 2);
    PutLE(local, 0, 2);
    out += local + name + body;
    PutLE(central, 0x02014b50, 4);
    PutLE(central, 20, 2);
    PutLE(central, 20, 2);
    PutLE(central, 0, 2);
    PutLE(central, compress ? 8 : 0, 2);
    PutLE(central, 0, 4);
    PutLE(central, crc, 4);
    PutLE(central, body.size(), 4);
    PutLE(central, bytes.size(), 4);
    PutLE(central, name.size(), 2);
    PutLE(central, 0, 2);
    PutLE(central, 0, 2);
    PutLE(central, 0, 2);
    PutLE(central, 0, 2);
    PutLE(central, 0, 4);
    PutLE(central, offset, 4);
    central += name;
  }
  const std::uint64_t cd = out.size();
  out += central;
  PutLE(out, 0x06054b50, 4);
  PutLE(out, 0, 4);
  PutLE(out, members.size(), 2);
  PutLE(out, members.size(), 2);
  PutLE(out, central.size(), 4);
  PutLE(out, cd, 4);
  PutLE(out, 0, 2);
  return out;
}

/// n images of h x w x c (NHWC) whose pixel (i, y, x, ch) is (7i + 3y + 5x + 11ch) mod 256.
std::vector<std::uint8_t> Pixels(int n, int h, int w, int c) {
  std::vector<std::uint8_t> v;
  for (int i = 0; i < n; ++i)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int ch = 0; ch < c; ++ch) v.push_back(static_cast<std::uint8_t>((7 * i + 3 * y + 5 * x + 11 * ch) % 256));
  return v;
}

std::string ErrorOf(const DatasetOptions& o) {
  try {
    LoadUserData(o, true);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(text, needle) EXPECT_NE(std::string(text).find(needle), std::string::npos) << text

TEST(NumpyData, ReadsNhwcArraysFromStoredAndDeflatedNpzAsNchw) {
  const std::string dir = testing::TempDir("npz");
  const auto px = Pixels(6, 6, 5, 3);
  const std::vector<std::int64_t> y{0, 1, 2, 0, 1, 2};
  const std::map<std::string, std::string> members{
      {"x_train.npy", Npy("|u1", {6, 6, 5, 3}, Bytes(px))},
      {"y_train.npy", Npy("<i8", {6}, Bytes(y))},
  };
  for (bool deflate : {false, true}) {
    DatasetOptions o;
    o.name = "numpy";
    o.path = dir + (deflate ? "/c.npz" : "/s.npz");
    testing::WriteText(o.path, Zip(members, deflate));
    const UserData d = LoadUserData(o, true);
    ASSERT_EQ(d.train.n, 6);
    EXPECT_EQ(d.train.c, 3);
    EXPECT_EQ(d.train.h, 6);
    EXPECT_EQ(d.train.w, 5);
    EXPECT_TRUE(d.train.is_uint8);
    EXPECT_EQ(d.classes, 3);
    EXPECT_EQ(d.train.labels, y);
    // NCHW element (i=4, ch=2, y=3, x=1) is the NHWC pixel of the same coordinates.
    EXPECT_EQ(d.train.u8[((4 * 3 + 2) * 6 + 3) * 5 + 1], px[((4 * 6 + 3) * 5 + 1) * 3 + 2]);
    EXPECT_TRUE(d.test.empty());
  }
}

TEST(NumpyData, ReadsAFolderOfNpyFilesWithFloatImagesAndAValidationSplit) {
  const std::string dir = testing::TempDir("npy");
  std::vector<float> x(8 * 1 * 5 * 5);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.01f * static_cast<float>(i);
  const std::vector<std::int32_t> y{0, 1, 0, 1, 0, 1, 0, 1};
  testing::WriteText(dir + "/x_train.npy", Npy("<f4", {8, 1, 5, 5}, Bytes(x)));
  testing::WriteText(dir + "/y_train.npy", Npy("<i4", {8}, Bytes(y)));
  testing::WriteText(dir + "/x_val.npy", Npy("<f4", {2, 1, 5, 5}, Bytes(std::vector<float>(50, 0.5f))));
  testing::WriteText(dir + "/y_val.npy", Npy("<i4", {2}, Bytes(std::vector<std::int32_t>{1, 0})));
  DatasetOptions o;
  o.name = "numpy";
  o.path = dir;
  const UserData d = LoadUserData(o, false);
  EXPECT_FALSE(d.train.is_uint8);
  EXPECT_EQ(d.train.c, 1);  // NCHW guessed: axis 1 has 1 entry, the last 5
  EXPECT_FLOAT_EQ(d.train.f32[10], 0.10f);
  EXPECT_EQ(d.val.n, 2);
  EXPECT_EQ(d.val.labels, (std::vector<std::int64_t>{1, 0}));
}

TEST(NumpyData, BadArraysAreRefusedNamingTheFileAndWhatIsWrong) {
  const std::string dir = testing::TempDir("npz-bad");
  auto with = [&](const std::map<std::string, std::string>& m, int classes = 0, std::string layout = "auto") {
    DatasetOptions o;
    o.name = "numpy";
    o.path = dir + "/bad.npz";
    o.classes = classes;
    o.layout = layout;
    testing::WriteText(o.path, Zip(m, false));
    return ErrorOf(o);
  };
  const std::string x5 = Npy("|u1", {5, 4, 4}, Bytes(Pixels(5, 4, 4, 1)));
  const std::string y5 = Npy("<i8", {5}, Bytes(std::vector<std::int64_t>{0, 1, 2, 1, 0}));
  const std::string y4 = Npy("<i8", {4}, Bytes(std::vector<std::int64_t>{0, 1, 2, 1}));
  const std::string yneg = Npy("<i8", {5}, Bytes(std::vector<std::int64_t>{0, 1, -3, 1, 0}));
  std::string e = with({{"x_train.npy", x5}, {"y_train.npy", y4}});
  EXPECT_HAS(e, "bad.npz: x_train has 5 images but y_train has 4 labels");
  e = with({{"x_train.npy", x5}, {"y_train.npy", yneg}});
  EXPECT_HAS(e, "bad.npz:y_train: label -3 at index 2 is negative; labels are class indices");  // names y_train
  e = with({{"x_train.npy", x5}, {"y_train.npy", y5}}, 2);
  EXPECT_HAS(e, "label 2 at index 2 is out of range [0, 1] (dataset.classes = 2)");
  e = with({{"images.npy", x5}, {"y_train.npy", y5}});
  EXPECT_HAS(e, "bad.npz: no array 'x_train'");
  e = with({{"x_train.npy", Npy("|u1", {5, 4, 4, 4}, Bytes(Pixels(5, 4, 4, 4)))}, {"y_train.npy", y5}});
  EXPECT_HAS(e, "cannot tell NHWC from NCHW for shape (5, 4, 4, 4); set dataset.layout");
  e = with({{"x_train.npy", x5.substr(0, x5.size() - 7)}, {"y_train.npy", y5}});
  EXPECT_HAS(e, "bad.npz:x_train: the header announces 80 data bytes, the array has 73");
  e = with({{"x_train.npy", Npy("<i8", {5, 4, 4}, std::string(5 * 16 * 8, '\0'))}, {"y_train.npy", y5}});
  EXPECT_HAS(e, "images of dtype kind 'i8' are not supported");
  testing::WriteText(dir + "/bad.npz", "PK not really a zip");
  DatasetOptions o;
  o.name = "numpy";
  o.path = dir + "/bad.npz";
  EXPECT_HAS(ErrorOf(o), "bad.npz: not a readable .npz (zip) file");
  o.max_memory_mb = 1;
  testing::WriteText(o.path, Zip({{"x_train.npy", Npy("|u1", {300, 32, 32, 3}, std::string(300 * 32 * 32 * 3, '\x01'))},
                                  {"y_train.npy", Npy("|u1", {300}, std::string(300, '\x01'))}}, false));
  EXPECT_HAS(ErrorOf(o), "the training tensors would take 3.5 MiB (float32), above dataset.max_memory_mb = 1");
}

std::string Idx(std::uint32_t magic, const std::vector<std::uint32_t>& dims, const std::string& data) {
  std::string s;
  for (std::uint32_t v : std::vector<std::uint32_t>{magic}) PutLE(s, __builtin_bswap32(v), 4);
  for (std::uint32_t d : dims) PutLE(s, __builtin_bswap32(d), 4);
  return s + data;
}

TEST(IdxData, ReadsAnyIdxFilesByPathIncludingColourNhwc) {
  const std::string dir = testing::TempDir("idx");
  const auto px = Pixels(4, 6, 6, 3);
  DatasetOptions o;
  o.name = "idx";
  o.train_images = dir + "/x.idx";
  o.train_labels = dir + "/y.idx";
  testing::WriteText(o.train_images, Idx(0x00000804, {4, 6, 6, 3}, Bytes(px)));
  testing::WriteText(o.train_labels, Idx(0x00000801, {4}, std::string("\x00\x01\x02\x03", 4)));
  const UserData d = LoadUserData(o, true);
  EXPECT_EQ(d.train.c, 3);
  EXPECT_EQ(d.classes, 4);
  EXPECT_EQ(d.train.u8[((1 * 3 + 2) * 6 + 5) * 6 + 4], px[((1 * 6 + 5) * 6 + 4) * 3 + 2]);
  testing::WriteText(o.train_labels, Idx(0x00000801, {3}, std::string("\x00\x01\x02", 3)));
  EXPECT_HAS(ErrorOf(o), "y.idx: 3 labels for the 4 images of " + o.train_images);
}

void WritePng(const std::string& path, int w, int h, int c, std::uint8_t base) {
  std::vector<std::uint8_t> px(static_cast<size_t>(w) * h * c);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(base + i);
  ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, c, px.data(), w * c));
}

std::string MakeFolder(const std::string& tag) {
  const std::string root = testing::TempDir(tag);
  for (const char* c : {"train", "train/cat", "train/dog", "test", "test/dog"})
    ::mkdir((root + "/" + c).c_str(), 0755);
  return root;
}

TEST(ImageFolder, DecodesPngAndJpegWithClassNamesAndCachesTheResult) {
  const std::string root = MakeFolder("folder");
  const std::string cache = testing::TempDir("folder-cache");
  WritePng(root + "/train/cat/a.png", 8, 8, 1, 0);
  WritePng(root + "/train/cat/b.png", 8, 8, 1, 40);
  std::vector<std::uint8_t> grey(64, 128);
  ASSERT_TRUE(stbi_write_jpg((root + "/train/dog/c.jpg").c_str(), 8, 8, 1, grey.data(), 95));
  WritePng(root + "/test/dog/d.png", 8, 8, 1, 7);
  testing::WriteText(root + "/train/dog/notes.txt", "not an image");
  DatasetOptions o;
  o.name = "image_folder";
  o.path = root;
  o.cache_dir = cache;
  o.channels = 1;  // stb writes every JPEG as 3-component YCbCr
  const UserData d = LoadUserData(o, true);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(d.train.n, 3);
  EXPECT_EQ(d.train.c, 1);
  EXPECT_EQ(d.train.labels, (std::vector<std::int64_t>{0, 0, 1}));
  EXPECT_EQ(d.train.u8[64 + 5], 45);                    // PNG is lossless
  EXPECT_NEAR(d.train.u8[2 * 64 + 10], 128, 2);         // JPEG nearly
  EXPECT_EQ(d.test.n, 1);
  EXPECT_EQ(d.test.labels[0], 1);
  EXPECT_HAS(d.description, "1 non-image files ignored");
  // A second load reads the cache: same data, and one cache file.
  const UserData again = LoadUserData(o, true);
  EXPECT_EQ(again.train.u8, d.train.u8);
  EXPECT_EQ(again.test.labels, d.test.labels);
  int files = 0;
  {
    std::string cmd = "ls " + cache + " | wc -l";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_TRUE(fscanf(p, "%d", &files) == 1);
    ::pclose(p);
  }
  EXPECT_EQ(files, 1);
  // A changed image changes the key: decoded again, into a second cache file.
  ::usleep(10000);
  WritePng(root + "/train/cat/b.png", 8, 8, 1, 41);
  const UserData changed = LoadUserData(o, true);
  EXPECT_EQ(changed.train.u8[64 + 5], 46);
}

TEST(ImageFolder, ResizesTheShorterSideThenCropsTheCentreAndConvertsChannels) {
  const std::string root = MakeFolder("folder-resize");
  WritePng(root + "/train/cat/a.png", 16, 8, 3, 0);
  WritePng(root + "/train/dog/b.png", 4, 4, 1, 0);
  DatasetOptions o;
  o.name = "image_folder";
  o.path = root;
  o.cache_dir = testing::TempDir("folder-resize-cache");
  EXPECT_HAS(ErrorOf(o), "set dataset.size");
  o.size = 4;
  EXPECT_HAS(ErrorOf(o), "mixed channel counts");
  o.channels = 3;
  const UserData d = LoadUserData(o, false);
  EXPECT_EQ(d.train.c, 3);
  EXPECT_EQ(d.train.h, 4);
  EXPECT_EQ(d.train.w, 4);
  // The greyscale image is copied to all three channels.
  EXPECT_EQ(d.train.u8[48 + 0], d.train.u8[48 + 16]);
  EXPECT_EQ(d.train.u8[48 + 5], d.train.u8[48 + 32 + 5]);
}

TEST(ImageFolder, BadFoldersAndImagesAreNamedAndSkippingIsExplicitAndCounted) {
  const std::string root = MakeFolder("folder-bad");
  DatasetOptions o;
  o.name = "image_folder";
  o.path = root;
  o.cache_dir = testing::TempDir("folder-bad-cache");
  WritePng(root + "/train/cat/a.png", 4, 4, 1, 0);
  EXPECT_HAS(ErrorOf(o), root + "/train/dog: empty class folder");
  WritePng(root + "/train/dog/b.png", 4, 4, 1, 0);
  WritePng(root + "/train/dog/c.png", 4, 4, 1, 0);
  std::ifstream in(root + "/train/dog/c.png", std::ios::binary);
  std::string png((std::istreambuf_iterator<char>(in)), {});
  testing::WriteText(root + "/train/dog/c.png", png.substr(0, png.size() / 2));  // truncated
  EXPECT_HAS(ErrorOf(o), root + "/train/dog/c.png: cannot decode the image");
  o.skip_unreadable = true;
  const UserData d = LoadUserData(o, false);
  EXPECT_EQ(d.skipped, 1);
  EXPECT_EQ(d.train.n, 2);
  EXPECT_HAS(d.description, "1 unreadable images skipped: " + root + "/train/dog/c.png (");  // named
  ASSERT_EQ(d.skipped_files.size(), 1u);
  const UserData cached = LoadUserData(o, false);  // from the cache: still named
  EXPECT_EQ(cached.skipped_files, d.skipped_files);
  ::mkdir((root + "/test/bird").c_str(), 0755);
  EXPECT_HAS(ErrorOf(o), root + "/test/bird: class 'bird' is not among the classes");
  o.path = root + "/nowhere";
  EXPECT_HAS(ErrorOf(o), "nowhere: no such folder");
}

TEST(UserData, ResolvingFillsShapeClassesAndTheTrainingSplitsMeanAndStd) {
  const std::string dir = testing::TempDir("resolve");
  // 20 greyscale images of 2x2, every pixel of image i is i (i/255 once scaled); labels alternate.
  std::string x;
  std::vector<std::int64_t> y;
  for (int i = 0; i < 20; ++i) {
    x += std::string(4, static_cast<char>(i));
    y.push_back(i % 2);
  }
  DatasetOptions o;
  o.name = "numpy";
  o.path = dir + "/d.npz";
  o.validation = 4;
  testing::WriteText(o.path, Zip({{"x_train.npy", Npy("|u1", {20, 2, 2}, x)}, {"y_train.npy", Npy("<i8", {20}, Bytes(y))}}, false));
  ResolveUserData(&o);
  EXPECT_EQ(o.classes, 2);
  EXPECT_EQ(o.input_c, 1);
  EXPECT_EQ(o.input_h, 2);
  // By hand over the 16 training images of the same split.
  std::vector<std::int64_t> train, val;
  StratifiedSplit(y, 4, 0, 0, &train, &val);
  ASSERT_EQ(train.size(), 16u);
  double s = 0, q = 0;
  for (auto i : train) s += i / 255.0, q += (i / 255.0) * (i / 255.0);
  const double mean = s / 16, sd = std::sqrt(q / 16 - mean * mean);
  ASSERT_EQ(o.mean.size(), 1u);
  EXPECT_NEAR(o.mean[0], mean, 1e-11);
  EXPECT_NEAR(o.std[0], sd, 1e-11);
  // Given values are kept; a wrong count is refused.
  DatasetOptions given = o;
  given.mean = {0.5};
  given.std = {0.25};
  ResolveUserData(&given);
  EXPECT_EQ(given.mean, std::vector<double>{0.5});
  given.mean = {0.5, 0.5};
  given.std = {1, 1};
  EXPECT_THROW(ResolveUserData(&given), InputError);
}

// dataset.validation and train_subset are exact: three classes of 5 images, 2 asked for, give 2
// (per-class rounding gave 3: "train_subset: 2000 trains on 2002"), still one class at a time.
TEST(StratifiedSplit, TakesExactlyTheSubsetAndTheValidationAsked) {
  std::vector<std::int64_t> y;
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 5; ++i) y.push_back(c);
  std::vector<std::int64_t> train, val;
  StratifiedSplit(y, 0, 2, 7, &train, &val);
  EXPECT_EQ(train.size(), 2u);
  EXPECT_TRUE(val.empty());
  train.clear();
  StratifiedSplit(y, 2, 0, 7, &train, &val);
  EXPECT_EQ(val.size(), 2u);
  EXPECT_EQ(train.size(), 13u);
  // Unbalanced: 4, 9 and 17 images; 6 held out and 12 trained on, each class in proportion.
  std::vector<std::int64_t> u;
  for (int i = 0; i < 4; ++i) u.push_back(0);
  for (int i = 0; i < 9; ++i) u.push_back(1);
  for (int i = 0; i < 17; ++i) u.push_back(2);
  train.clear(), val.clear();
  StratifiedSplit(u, 6, 12, 1, &train, &val);
  EXPECT_EQ(val.size(), 6u);
  EXPECT_EQ(train.size(), 12u);
  std::map<std::int64_t, int> per_class;
  for (auto i : train) ++per_class[u[i]];
  EXPECT_GE(per_class[2], 6);  // about 17/30 of 12
  EXPECT_LE(per_class[0], 2);
}

TEST(DatasetOptions, UserKindsNeedTheirFieldsAndBuiltInsRefuseThem) {
  DatasetOptions o;
  o.name = "numpy";
  EXPECT_HAS(o.Validate(), "dataset.path: dataset 'numpy' needs a path");
  o.name = "idx";
  EXPECT_HAS(o.Validate(), "dataset 'idx' needs both");
  o.name = "fashion_mnist";
  o.mean = {0.5};
  o.std = {0.5};
  EXPECT_HAS(o.Validate(), "only for your own data");
  o = DatasetOptions{};
  o.size = 32;
  EXPECT_HAS(o.Validate(), "only for dataset 'image_folder'");
  o = DatasetOptions{};
  o.name = "image_folder";
  o.path = "x";
  o.channels = 2;
  EXPECT_HAS(o.Validate(), "dataset.channels: 2 is not allowed; allowed: 1, 3");
}

}  // namespace
}  // namespace paretonas::evaluator

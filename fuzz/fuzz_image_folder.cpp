// The user's image folders (dataset.name: image_folder): the input is one image file (PNG, JPEG,
// BMP by its first bytes) in two class folders, decoded by stb_image at a fixed size and at its
// own. Refused with InputError naming the file, or decoded to the size asked.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "evaluator/user_data.h"
#include "fuzz/fuzz_common.h"
#include "space/input_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace paretonas;
  const std::string root = "/tmp/paretonas-fuzz-folder-" + std::to_string(::getpid());
  for (const char* d : {"", "/train", "/train/a", "/train/b", "/cache"}) ::mkdir((root + d).c_str(), 0755);
  const char* ext = size >= 2 && data[0] == 0xff && data[1] == 0xd8 ? ".jpg"
                    : size >= 2 && data[0] == 'B' && data[1] == 'M' ? ".bmp"
                                                                     : ".png";
  for (const char* cls : {"a", "b"})
    std::ofstream(root + "/train/" + cls + "/x" + ext, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  for (int side : {8, 0}) {
    evaluator::DatasetOptions o;
    o.name = "image_folder";
    o.path = root;
    o.size = side;
    o.channels = 1;
    o.cache_dir = root + "/cache";
    o.max_memory_mb = 64;
    o.validation = 0;
    try {
      const evaluator::UserData d = evaluator::LoadUserData(o, false);
      if (d.train.n != 2) fuzz::Fail("two images, one per class folder");
      if (side > 0 && (d.train.h != side || d.train.w != side)) fuzz::Fail("resized to dataset.size");
    } catch (const InputError&) {
    }
    // The next input decodes afresh: drop the cache file this one wrote (no fork: fast).
    if (DIR* d = ::opendir((root + "/cache").c_str())) {
      while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') ::unlink((root + "/cache/" + e->d_name).c_str());
      ::closedir(d);
    }
  }
  return 0;
}

#include "search/trial_files.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace paretonas::search {

std::string WeightsPath(const std::string& run_dir, std::int64_t id) {
  return run_dir + "/weights/" + std::to_string(id) + ".pt";
}

std::string RungStatePath(const std::string& run_dir, std::int64_t id, int rung) {
  return run_dir + "/states/" + std::to_string(id) + ".r" + std::to_string(rung) + ".pt";
}

StateDiskUse RungStateDiskUse(const std::string& run_dir) {
  StateDiskUse use;
  const std::string dir = run_dir + "/states";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return use;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::stat((dir + "/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      ++use.files;
      use.bytes += static_cast<std::int64_t>(st.st_size);
    }
  }
  ::closedir(d);
  return use;
}

std::string StatesRunDir(const std::string& run_dir) {
  std::string dir = run_dir;
  if (char* real = ::realpath(dir.c_str(), nullptr)) {
    dir = real;
    std::free(real);
  }
  ::mkdir((dir + "/states").c_str(), 0755);
  ::mkdir((dir + "/weights").c_str(), 0755);
  return dir;
}

void RemoveFile(const std::string& path) { ::unlink(path.c_str()); }

void CleanRungStates(const std::string& dir, const Trial& t, int r) {
  if (r > 0) RemoveFile(RungStatePath(dir, t.id, r - 1));
  if (t.state == TrialState::kFailed) RemoveFile(RungStatePath(dir, t.id, r));
}

}  // namespace paretonas::search

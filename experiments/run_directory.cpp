#include "experiments/run_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

#include "evaluator/mpi_cluster.h"
#include "space/input_error.h"

namespace paretonas::experiments {

RunLock::RunLock(const std::string& dir) {
  const std::string path = dir + "/lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(path + ": cannot open lock file: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    const ssize_t n = ::pread(fd_, buf, sizeof(buf) - 1, 0);
    ::close(fd_);
    fd_ = -1;
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    throw InputError(dir + ": another paretonas process (pid " + pid +
                     ") is using this run directory; wait for it or stop it first");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) (void)::pwrite(fd_, pid.data(), pid.size(), 0);
}

RunLock::~RunLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

void MakeDirectories(const std::string& dir) {
  std::string cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
        throw InputError(dir + ": cannot create directory " + cur + ": " + std::strerror(errno));
    }
    if (i < dir.size()) cur += dir[i];
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw InputError(dir + ": not a directory");
}

namespace {
std::atomic<bool> g_stop{false};
bool g_under_mpi = false;  // set before the handlers are installed

extern "C" void HandleStop(int sig) {
  if (g_stop.load()) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_stop.store(true);
  const char msg[] =
      "\nparetonas: stopping after the evaluations in flight (signal again to abort now)\n";
  const char mpi_msg[] = "\nparetonas: stopping (signal again to abort now)\n";
  if (g_under_mpi) (void)!::write(STDERR_FILENO, mpi_msg, sizeof(mpi_msg) - 1);
  else (void)!::write(STDERR_FILENO, msg, sizeof(msg) - 1);
}
}  // namespace

const std::atomic<bool>* InstallStopHandlers() {
  // Under mpirun rank 0 does not wait for work running on other ranks (see RemoteEvaluator).
  g_under_mpi = evaluator::mpi::Active();
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = HandleStop;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  return &g_stop;
}

}  // namespace paretonas::experiments

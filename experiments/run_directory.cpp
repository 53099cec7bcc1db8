#include "experiments/run_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
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

void RefuseFileAsRunDirectory(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) return;
  std::string hint;
  const auto slash = dir.find_last_of('/');
  const std::string name = slash == std::string::npos ? dir : dir.substr(slash + 1);
  for (const char* f : {"config.yaml", "checkpoint.bin", "journal.bin", "trials.jsonl", "front.csv", "int8.json", "ended"})
    if (name == f) hint = "; it is a run's " + name + ": give its directory, " + (slash == std::string::npos ? "." : dir.substr(0, slash));
  throw InputError(dir + ": is a file, not a run directory (the directory `paretonas search --run-dir DIR` wrote, "
                   "holding config.yaml, checkpoint.bin and journal.bin)" + hint);
}

long LockHolder(const std::string& dir) {
  const std::string path = dir + "/lock";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  long pid = 0;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    char buf[32] = {0};
    const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    pid = n > 0 ? std::strtol(buf, nullptr, 10) : -1;
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return pid;
}

void RecordEnd(const std::string& dir, const std::string& kind, const std::string& message) {
  const std::string path = dir + "/ended", tmp = path + ".tmp";
  std::string line = message;
  for (char& c : line)
    if (c == '\n') c = ' ';
  const std::string text = kind + "\n" + line + "\n" + std::to_string(static_cast<long long>(::time(nullptr))) + "\n";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
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
const char* g_stop_message = nullptr;
std::size_t g_stop_message_length = 0;

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
  if (g_stop_message) (void)!::write(STDERR_FILENO, g_stop_message, g_stop_message_length);
  else if (g_under_mpi) (void)!::write(STDERR_FILENO, mpi_msg, sizeof(mpi_msg) - 1);
  else (void)!::write(STDERR_FILENO, msg, sizeof(msg) - 1);
}
}  // namespace

std::atomic<bool>* InstallStopHandlers(const char* message) {
  g_stop_message = message;
  g_stop_message_length = message ? std::strlen(message) : 0;
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

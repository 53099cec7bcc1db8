#include "evaluator/command_evaluator.h"

#include <ATen/CPUGeneratorImpl.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "evaluator/latency.h"
#include "space/graph_net.h"
#include "space/input_error.h"
#include "space/text_io.h"

extern char** environ;

namespace paretonas::evaluator {
namespace {

using Clock = std::chrono::steady_clock;

std::string ReadText(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::ostringstream os;
  if (in) os << in.rdbuf();
  return os.str();
}

/// The last `lines` lines of a file (at most 2,000 bytes), for failure reasons.
std::string Tail(const std::string& path, int lines = 8) {
  bool ok = false;
  std::string t = ReadText(path, &ok);
  if (t.size() > 2000) t = t.substr(t.size() - 2000);
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  size_t pos = t.size();
  for (int i = 0; i < lines && pos != std::string::npos && pos > 0; ++i) pos = t.rfind('\n', pos - 1);
  if (pos != std::string::npos && pos < t.size()) t = t.substr(pos + 1);
  return t;
}

std::string Quote(const std::string& s) {  // for /bin/sh, single quotes
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// The supervisor's SIGTERM handler (PDEATHSIG: the search died): kill the whole process group,
/// the supervisor included. Async-signal-safe.
void KillOwnGroup(int) { ::kill(0, SIGKILL); }

/// Process groups of the commands now running, so that a latency measurement can pause them.
class RunningCommands {
 public:
  void Add(pid_t pgid) {
    std::lock_guard<std::mutex> lock(mu_);
    groups_.insert(pgid);
    if (paused_) ::kill(-pgid, SIGSTOP);
  }
  void Remove(pid_t pgid) {
    std::lock_guard<std::mutex> lock(mu_);
    groups_.erase(pgid);
  }
  /// Pauses every running command until Resume (one measurement at a time).
  void Pause() {
    measure_.lock();
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = true;
    for (pid_t g : groups_) ::kill(-g, SIGSTOP);
  }
  void Resume() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      paused_ = false;
      for (pid_t g : groups_) ::kill(-g, SIGCONT);
    }
    measure_.unlock();
  }
  void KillAll() {
    std::lock_guard<std::mutex> lock(mu_);
    for (pid_t g : groups_) ::kill(-g, SIGKILL);
  }

 private:
  std::mutex mu_, measure_;
  std::set<pid_t> groups_;
  bool paused_ = false;
};

thread_local int t_slot = -1;

/// Commands an earlier process left running (it died before it could kill them; its
/// supervisors should have): every trials/ID/running.pgid whose process group is still alive and
/// led by a paretonas process (a supervisor) is killed, and said on stderr.
void KillLeftoverCommands(const std::string& trials_dir) {
  DIR* d = ::opendir(trials_dir.c_str());
  if (!d) return;
  int killed = 0;
  while (dirent* e = ::readdir(d)) {
    const std::string file = trials_dir + "/" + e->d_name + "/running.pgid";
    std::ifstream in(file);
    long pgid = 0;
    if (!(in >> pgid) || pgid <= 1) continue;
    std::ifstream cmdline("/proc/" + std::to_string(pgid) + "/cmdline");
    std::string leader((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (::kill(-static_cast<pid_t>(pgid), 0) == 0 && leader.find("paretonas") != std::string::npos) {
      ::kill(-static_cast<pid_t>(pgid), SIGKILL);
      ++killed;
    }
    ::unlink(file.c_str());
  }
  ::closedir(d);
  if (killed > 0)
    std::cerr << "paretonas: warning: killed " << killed << " training command(s) an earlier process left "
              << "running in " << trials_dir << "\n";
}

}  // namespace

struct CommandEvaluator::Impl {
  const space::SearchSpace& space;
  CommandOptions options;
  TrainOptions train;
  CandidateWriter writer;
  RunningCommands running;
  std::atomic<int> next_slot{0};
  std::atomic<std::uint64_t> attempts{0};
};

CommandEvaluator::CommandEvaluator(const space::SearchSpace& space, CommandOptions options,
                                   const TrainOptions& train, CandidateWriter writer)
    : impl_(new Impl{space, std::move(options), train, std::move(writer), {}, {0}, {0}}) {
  if (impl_->options.command.empty()) throw InputError("evaluator.command: empty");
  if (impl_->options.device == "cuda") {
    ResolveDevice("cuda");  // a clear error when there is none
    impl_->options.gpus = std::max<int>(1, static_cast<int>(torch::cuda::device_count()));
  }
  if (impl_->options.work_dir.empty())
    impl_->options.work_dir = "/tmp/paretonas-command-" + std::to_string(::getpid());
  MakeDirsBestEffort(impl_->options.work_dir + "/trials");
  KillLeftoverCommands(impl_->options.work_dir + "/trials");
}

CommandEvaluator::~CommandEvaluator() { impl_->running.KillAll(); }

void CommandEvaluator::PrepareWorkerThread() {
  t_slot = impl_->next_slot.fetch_add(1);
  at::init_num_threads();
  at::set_num_threads(1);
}

std::string CommandEvaluator::Describe() const {
  return "command `" + impl_->options.command + "`, trial folders in " + impl_->options.work_dir +
         "/trials" +
         (impl_->options.timeout_s > 0
              ? ", timeout " + std::to_string(static_cast<long long>(impl_->options.timeout_s)) + " s"
              : std::string(", no timeout"));
}

bool CommandEvaluator::CanMeasureLatencies() const { return impl_->train.measure_latency; }

std::vector<EvalResult> CommandEvaluator::MeasureLatencies(const std::vector<EvalRequest>& requests) {
  impl_->running.Pause();
  struct Resume {
    Impl& im;
    ~Resume() { im.running.Resume(); }
  } resume{*impl_};
  return MeasureRequests(impl_->space, requests, impl_->train, torch::Device(torch::kCPU));
}

EvalResult CommandEvaluator::Evaluate(const EvalRequest& request) {
  const auto start = Clock::now();
  Impl& im = *impl_;
  EvalResult r;
  r.trial_id = request.trial_id;
  const std::string bad = im.space.CheckGenotype(request.genotype);
  if (!bad.empty()) {
    r.failure = bad;
    return r;
  }
  const space::StaticCosts costs = im.space.Costs(request.genotype);
  r.metrics["macs"] = static_cast<double>(costs.macs_pruned);
  r.metrics["activation_bytes"] = static_cast<double>(costs.activation_bytes);
  r.metrics["params"] = static_cast<double>(costs.params_pruned);
  const std::string reject = RejectReason(costs, im.train);
  if (!reject.empty()) {
    r.failure = reject;
    return r;
  }
  const std::string dir = im.options.work_dir + "/trials/" + std::to_string(request.trial_id);
  MakeDirsBestEffort(dir);
  // A fresh result name per attempt: a command left running by a killed search cannot answer
  // for the re-run of the same trial.
  const std::string attempt = std::to_string(::getpid()) + "-" + std::to_string(im.attempts.fetch_add(1));
  const std::string result_path = dir + "/result-" + attempt + ".json";
  const std::string request_path = dir + "/request.json";
  const auto export_start = Clock::now();
  try {
    im.writer(request, dir);
    r.metrics["export_seconds"] = std::chrono::duration<double>(Clock::now() - export_start).count();
  } catch (const std::exception& e) {
    r.failure = std::string("could not write the candidate's files: ") + e.what();
    return r;
  }
  // Latency and the module's size, measured here on quiet cores (the other commands paused).
  space::GraphNet net(im.space.Plan(request.genotype), space::GraphNetOptions{});
  {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(request.seed);
    space::InitializeParameters(*net, gen);
  }
  if (im.train.measure_latency && request.measure_latency) {
    im.running.Pause();
    Latency lat;
    try {
      lat = MeasureLatency(net, im.space.input(), LatencyOptions{im.train.latency_threads, im.train.LatencyPolicy()},
                           torch::Device(torch::kCPU));
    } catch (const std::exception& e) {
      im.running.Resume();
      r.failure = std::string("latency measurement failed: ") + e.what();
      return r;
    }
    im.running.Resume();
    AddLatencyMetrics(lat.estimate, &r.metrics);
    r.metrics["peak_activation_bytes"] = static_cast<double>(lat.peak_bytes);
  }
  {
    std::ostringstream bytes;
    torch::save(net, bytes);
    r.metrics["model_bytes"] = static_cast<double>(bytes.str().size());
  }
  const int slot = std::max(0, t_slot);
  const std::string device =
      im.options.device == "cuda" ? "cuda:" + std::to_string(slot % std::max(1, im.options.gpus)) : "cpu";
  {
    std::ostringstream q;
    q << "{\n  \"trial_id\": " << request.trial_id << ",\n  \"seed\": " << request.seed
      << ",\n  \"arch\": " << JsonQuote(request.key) << ",\n  \"device\": " << JsonQuote(device)
      << ",\n  \"slot\": " << slot << ",\n  \"trial_dir\": " << JsonQuote(dir)
      << ",\n  \"model_torchscript\": " << JsonQuote(dir + "/model.torchscript.pt")
      << ",\n  \"model_onnx\": " << JsonQuote(dir + "/model.onnx")
      << ",\n  \"graph_json\": " << JsonQuote(dir + "/graph.json")
      << ",\n  \"result\": " << JsonQuote(result_path);
    if (!im.options.context_json.empty()) q << ",\n  " << im.options.context_json;
    q << "\n}\n";
    std::ofstream out(request_path + ".tmp", std::ios::trunc);
    out << q.str();
    out.close();
    if (!out || std::rename((request_path + ".tmp").c_str(), request_path.c_str()) != 0) {
      r.failure = "could not write " + request_path;
      return r;
    }
  }
  // Run it: /bin/sh -c, its own process group (a pause or a timeout reaches its children), stdout
  // and stderr into the trial folder, killed if this process dies.
  std::string cmd = im.options.command;
  const size_t at = cmd.find("{request}");
  if (at != std::string::npos) cmd.replace(at, 9, Quote(request_path));
  else cmd += " " + Quote(request_path);
  const std::string out_path = dir + "/stdout.txt", err_path = dir + "/stderr.txt";
  std::vector<std::string> env_strings{"PARETONAS_REQUEST=" + request_path,
                                       "PARETONAS_TRIAL_DIR=" + dir,
                                       "PARETONAS_RESULT=" + result_path};
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "PARETONAS_", 10) != 0) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  const std::string sh = "/bin/sh", dash_c = "-c";
  char* argv[] = {const_cast<char*>(sh.c_str()), const_cast<char*>(dash_c.c_str()), cmd.data(), nullptr};
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    r.failure = std::string("cannot start the command: fork: ") + std::strerror(errno);
    return r;
  }
  if (pid == 0) {
    // The command's supervisor (async-signal-safe calls only until exec). It leads a process
    // group of its own, with the command and everything the command starts in it. When this
    // process dies, even by SIGKILL, the kernel sends the supervisor SIGTERM (PDEATHSIG), and it
    // kills its whole group: no training command outlives its search.
    ::setpgid(0, 0);
    struct sigaction sa {};
    sa.sa_handler = KillOwnGroup;
    ::sigaction(SIGTERM, &sa, nullptr);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the search died before the line above
    const int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int in = ::open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || in < 0) ::_exit(126);
    const pid_t command = ::fork();
    if (command < 0) ::_exit(127);
    if (command == 0) {  // the command: dies with the supervisor too
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(in, 0);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::execve(argv[0], argv, envp.data());
      ::_exit(127);
    }
    int st = 0;
    while (::waitpid(command, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(st)) {  // die of the same signal, so that the search reports it
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(WTERMSIG(st), &dfl, nullptr);
      ::raise(WTERMSIG(st));
    }
    ::_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 127);
  }
  ::setpgid(pid, pid);  // also here: no race with a pause before the child ran
  im.running.Add(pid);
  const std::string pgid_file = dir + "/running.pgid";  // for a later process's check
  std::ofstream(pgid_file, std::ios::trunc) << pid << "\n";
  int status = 0;
  bool timed_out = false;
  const auto launched = Clock::now();
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    const double elapsed = std::chrono::duration<double>(Clock::now() - launched).count();
    if (im.options.timeout_s > 0 && elapsed > im.options.timeout_s && !timed_out) {
      timed_out = true;
      ::kill(-pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(elapsed < 1 ? 5 : 50));
  }
  ::kill(-pid, SIGKILL);  // whatever the command left behind in its group
  im.running.Remove(pid);
  ::unlink(pgid_file.c_str());
  const double command_seconds = std::chrono::duration<double>(Clock::now() - launched).count();
  auto fail = [&](const std::string& why) {
    const std::string tail = Tail(err_path);
    r.failure = why + (tail.empty() ? std::string("; stderr was empty") : "; stderr ends:\n" + tail) +
                "\n(" + dir + ")";
    r.metrics.clear();
    return r;
  };
  if (timed_out)
    return fail("the command ran past evaluator.command_timeout (" +
                std::to_string(static_cast<long long>(im.options.timeout_s)) + " s) and was killed");
  if (WIFSIGNALED(status))
    return fail("the command was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                strsignal(WTERMSIG(status)) + ")");
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return fail("the command exited with status " + std::to_string(WEXITSTATUS(status)));
  bool ok = false;
  const std::string text = ReadText(result_path, &ok);
  if (!ok) return fail("the command exited with status 0 but wrote no result file " + result_path);
  std::map<std::string, double> user;
  const std::string problem = ParseCommandResult(text, &user);
  if (!problem.empty()) return fail("the result file " + result_path + " is malformed: " + problem);
  for (const auto& [k, v] : user) {
    // What paretonas computes itself stays its own; the script's value is kept beside it.
    if (r.metrics.count(k)) r.metrics["script_" + k] = v;
    else r.metrics[k] = v;
  }
  if (r.metrics.count("val_accuracy") && !r.metrics.count("val_error"))
    r.metrics["val_error"] = search::ErrorPercent(r.metrics["val_accuracy"]);
  r.metrics["command_seconds"] = command_seconds;
  r.ok = true;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

}  // namespace paretonas::evaluator

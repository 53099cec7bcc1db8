#include "evaluator/mpi_cluster.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "space/bounded_binary_archive.h"
#include "space/input_error.h"

#ifdef PARETONAS_WITH_MPI
#include <mpi.h>
#endif

namespace paretonas::evaluator::mpi {

int LocalRank() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
    const char* v = std::getenv(name);
    if (v && *v) {
      char* end = nullptr;
      const long r = std::strtol(v, &end, 10);
      if (*end == '\0' && r >= 0 && r < 1 << 20) return static_cast<int>(r);
    }
  }
  return -1;
}

#ifndef PARETONAS_WITH_MPI

bool Built() { return false; }
std::string LibraryVersion() { return ""; }
void Init(int*, char***) {
  // Started by mpirun all the same: run once, on rank 0, and say why.
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  if (!size || !rank || std::atoi(size) < 2) return;
  if (std::atoi(rank) != 0) std::exit(0);
  std::cerr << "paretonas: warning: started by mpirun with " << size << " ranks, but this binary "
            << "was built without MPI support (see `paretonas --version`; install libopenmpi-dev and "
            << "rebuild): rank 0 runs alone as a single process, the other ranks exit\n";
}
bool Active() { return false; }
int Rank() { return 0; }
int Size() { return 1; }
int WorkerRanksOnThisNode() { return 1; }
int Finish(int exit_code) { return exit_code; }
int ServeWorker(const EngineFactory&) { return 1; }

struct RemoteEvaluator::Impl {};
RemoteEvaluator::RemoteEvaluator(const std::string&) {
  throw std::runtime_error("this paretonas was built without MPI support");
}
RemoteEvaluator::~RemoteEvaluator() = default;
void RemoteEvaluator::EvaluateBatch(const std::vector<EvalRequest>&,
                                    const std::function<void(const EvalResult&)>&,
                                    const std::atomic<bool>*) {}
void RemoteEvaluator::EvaluateAsReady(const std::function<std::optional<EvalRequest>()>&,
                                      const std::function<void(const EvalResult&)>&,
                                      const std::atomic<bool>*) {}
std::string RemoteEvaluator::Describe() const { return "MPI (not built)"; }

#else  // PARETONAS_WITH_MPI

namespace {

enum Tag : int {
  kStart = 1,   // 0 -> worker: experiment text
  kQuit = 2,    // 0 -> worker: no more work, finalize
  kWork = 3,    // 0 -> worker: one EvalRequest
  kHello = 4,   // worker -> 0: ready (slots, pid, host, description)
  kResult = 5,  // worker -> 0: one EvalResult
  kFatal = 6,   // worker -> 0: could not build its evaluator (exit code, message)
};

struct Hello {
  int slots = 0;
  std::int64_t pid = 0;
  std::string host;
  std::string describe;
  template <class Archive>
  void serialize(Archive& ar) { ar(slots, pid, host, describe); }
};

struct Fatal {
  int exit_code = 1;
  std::string host;
  std::string message;
  template <class Archive>
  void serialize(Archive& ar) { ar(exit_code, host, message); }
};

bool g_initialized = false;
int g_rank = 0;
int g_size = 1;
bool g_workers_quit = false;
int g_in_flight = 0;  // requests sent to workers and not answered (rank 0, main thread only)
int g_worker_ranks_here = 1;

template <class T>
std::string Pack(const T& value) {
  std::ostringstream os(std::ios::binary);
  {
    cereal::PortableBinaryOutputArchive ar(os);
    ar(value);
  }
  return os.str();
}

template <class T>
T Unpack(const std::string& bytes, const char* what, int source) {
  T value{};
  try {
    BoundedBinaryInputArchive ar(bytes);
    ar(value);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("MPI: a malformed ") + what + " message from rank " +
                             std::to_string(source) + ": " + e.what());
  }
  return value;
}

void Send(int dest, int tag, const std::string& bytes) {
  MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, dest, tag, MPI_COMM_WORLD);
}

struct Message {
  int source = 0;
  int tag = 0;
  std::string bytes;
};

/// Receives one message from `source` (or any) if one is waiting; never blocks.
bool TryReceive(int source, Message* out) {
  int flag = 0;
  MPI_Status status;
  MPI_Iprobe(source, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status);
  if (!flag) return false;
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  out->source = status.MPI_SOURCE;
  out->tag = status.MPI_TAG;
  out->bytes.assign(static_cast<std::size_t>(count), '\0');
  MPI_Recv(count ? &out->bytes[0] : nullptr, count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG,
           MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return true;
}

/// Idle waiting between polls, about 1% of the time already spent idle (20 us to `max_us`): an
/// answer to a short evaluation is seen within a fraction of a millisecond, and a rank waiting
/// minutes on training wakes rarely. Open MPI's blocking calls spin instead, which would take a
/// core from the trainers.
class Backoff {
 public:
  explicit Backoff(int max_us) : max_us_(max_us) {}
  std::chrono::microseconds Next() const {
    const auto idle = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - since_);
    return std::chrono::microseconds(std::clamp<long long>(idle.count() / 100, 20, max_us_));
  }
  void Sleep() const { std::this_thread::sleep_for(Next()); }
  void Reset() { since_ = std::chrono::steady_clock::now(); }

 private:
  int max_us_;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
};

std::string HostName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "?";
  return buf;
}

/// Requests handed to a worker rank, taken by its evaluation threads.
class RequestQueue {
 public:
  void Push(EvalRequest r) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(r));
    }
    cv_.notify_one();
  }
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  std::optional<EvalRequest> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    EvalRequest r = std::move(items_.front());
    items_.pop_front();
    return r;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<EvalRequest> items_;
  bool closed_ = false;
};

}  // namespace

bool Built() { return true; }

std::string LibraryVersion() {
  char buf[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int len = 0;
  MPI_Get_library_version(buf, &len);
  std::string s(buf, static_cast<std::size_t>(len));
  const auto cut = s.find_first_of(",\n");
  return cut == std::string::npos ? s : s.substr(0, cut);
}

void Init(int* argc, char*** argv) {
  // Open MPI's mpirun, PMIx launchers (srun, prterun) and MPICH/Hydra set one of these.
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") ||
                        std::getenv("PMI_RANK") || std::getenv("PMI_SIZE");
  if (!launched || g_initialized) return;
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  g_initialized = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  if (provided < MPI_THREAD_FUNNELED && g_rank == 0) {
    std::cerr << "paretonas: warning: the MPI library does not support MPI_THREAD_FUNNELED; "
                 "only the main thread calls MPI, which is usually still fine\n";
  }
  if (g_size < 2) {  // `mpirun -np 1`: a plain single-process run
    MPI_Finalize();
    g_initialized = false;
    g_size = 1;
    g_rank = 0;
    return;
  }
  // The ranks on this node (shared memory), and whether rank 0 is one of them.
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &node);
  int here = 1, lowest = 0;
  MPI_Comm_size(node, &here);
  MPI_Allreduce(&g_rank, &lowest, 1, MPI_INT, MPI_MIN, node);
  MPI_Comm_free(&node);
  g_worker_ranks_here = std::max(1, here - (lowest == 0 ? 1 : 0));
}

bool Active() { return g_initialized && g_size > 1; }
int Rank() { return g_rank; }
int Size() { return g_size; }
int WorkerRanksOnThisNode() { return g_worker_ranks_here; }

int Finish(int exit_code) {
  if (!g_initialized) return exit_code;
  std::cout.flush();
  std::cerr.flush();
  if (g_rank == 0 && (g_in_flight > 0 || exit_code == 130)) {
    // Workers are busy on evaluations nobody will record (or a peer is already gone, which is
    // why mpirun stopped us): end the whole job now rather than wait for them.
    MPI_Abort(MPI_COMM_WORLD, exit_code);
  }
  if (g_rank == 0 && !g_workers_quit) {
    for (int w = 1; w < g_size; ++w) Send(w, kQuit, "");
    g_workers_quit = true;
  }
  MPI_Finalize();
  g_initialized = false;
  return exit_code;
}

int ServeWorker(const EngineFactory& make_engine) {
  Backoff idle(10000);
  Message m;
  // 1. The experiment, or "quit" when rank 0 ran another verb or failed before starting.
  while (!TryReceive(0, &m)) idle.Sleep();
  if (m.tag != kStart) return Finish(0);
  WorkerEngine engine;
  Fatal fatal;
  try {
    engine = make_engine(m.bytes);
    if (!engine.pool) throw std::runtime_error("no evaluator was built");
  } catch (const InputError& e) {
    fatal.exit_code = 2;
    fatal.message = e.what();
  } catch (const std::exception& e) {
    fatal.exit_code = 1;
    fatal.message = e.what();
  }
  if (!fatal.message.empty()) {
    fatal.host = HostName();
    Send(0, kFatal, Pack(fatal));
    while (!TryReceive(0, &m) || m.tag != kQuit) idle.Sleep();
    return Finish(0);
  }
  Hello hello;
  hello.slots = engine.pool->workers();
  hello.pid = static_cast<std::int64_t>(::getpid());
  hello.host = HostName();
  hello.describe = engine.pool->Describe();
  Send(0, kHello, Pack(hello));

  // 2. Serve: this (main) thread does all MPI; the pool's threads evaluate.
  RequestQueue work;
  std::mutex results_mu;
  std::condition_variable results_cv;
  std::deque<EvalResult> results;
  std::atomic<bool> cancel{false};
  std::thread evaluation([&] {
    engine.pool->EvaluateStream([&] { return work.Pop(); },
                                [&](const EvalResult& r) {
                                  {
                                    std::lock_guard<std::mutex> lock(results_mu);
                                    results.push_back(r);
                                  }
                                  results_cv.notify_one();
                                },
                                &cancel);
  });
  Backoff poll(2000);
  bool quit = false;
  while (!quit) {
    bool active = false;
    while (TryReceive(0, &m)) {
      active = true;
      if (m.tag == kWork) work.Push(Unpack<EvalRequest>(m.bytes, "work", 0));
      if (m.tag == kQuit) quit = true;
    }
    std::deque<EvalResult> ready;
    {
      std::unique_lock<std::mutex> lock(results_mu);
      if (results.empty() && !active && !quit) results_cv.wait_for(lock, poll.Next());
      ready.swap(results);
    }
    for (const EvalResult& r : ready) Send(0, kResult, Pack(r));
    if (active || !ready.empty()) poll.Reset();
  }
  cancel = true;  // rank 0 wants nothing more: requests still queued are dropped
  work.Close();
  evaluation.join();
  return Finish(0);
}

struct RemoteEvaluator::Impl {
  std::vector<int> free_slots;  // by rank (index 0 unused)
  int total_slots = 0;
  std::string worker_describe;
  std::size_t next_rank = 1;    // round-robin start among ranks with a free slot
};

RemoteEvaluator::RemoteEvaluator(const std::string& experiment_text) : impl_(std::make_unique<Impl>()) {
  if (!Active() || g_rank != 0) throw std::logic_error("RemoteEvaluator: only rank 0 under mpirun");
  impl_->free_slots.assign(static_cast<std::size_t>(g_size), 0);
  for (int w = 1; w < g_size; ++w) Send(w, kStart, experiment_text);
  std::vector<bool> replied(static_cast<std::size_t>(g_size), false);
  int pending = g_size - 1;
  std::string errors;
  int error_code = 0;
  Backoff idle(5000);
  Message m;
  while (pending > 0) {
    if (!TryReceive(MPI_ANY_SOURCE, &m)) {
      idle.Sleep();
      continue;
    }
    if (m.tag != kHello && m.tag != kFatal) continue;
    if (replied[static_cast<std::size_t>(m.source)]) continue;
    replied[static_cast<std::size_t>(m.source)] = true;
    --pending;
    if (m.tag == kFatal) {
      const Fatal f = Unpack<Fatal>(m.bytes, "fatal", m.source);
      errors += "\n  rank " + std::to_string(m.source) + " on " + f.host + ": " + f.message;
      error_code = std::max(error_code, f.exit_code);
      continue;
    }
    const Hello h = Unpack<Hello>(m.bytes, "hello", m.source);
    impl_->free_slots[static_cast<std::size_t>(m.source)] = h.slots;
    impl_->total_slots += h.slots;
    if (impl_->worker_describe.empty()) impl_->worker_describe = h.describe;
    worker_lines_.push_back("rank " + std::to_string(m.source) + ": pid " + std::to_string(h.pid) +
                            " on " + h.host + ", " + h.describe);
  }
  if (!errors.empty()) {
    const std::string text = "worker ranks could not start:" + errors +
                             "\n(files named in the experiment must exist at the same paths on every node)";
    if (error_code == 2) throw InputError(text);
    throw std::runtime_error(text);
  }
}

RemoteEvaluator::~RemoteEvaluator() = default;

std::string RemoteEvaluator::Describe() const {
  return "MPI: " + std::to_string(g_size - 1) + " worker rank" + (g_size == 2 ? "" : "s") + ", " +
         std::to_string(impl_->total_slots) + " slot" + (impl_->total_slots == 1 ? "" : "s") + " (" +
         impl_->worker_describe + " on rank 1)";
}

void RemoteEvaluator::EvaluateBatch(const std::vector<EvalRequest>& requests,
                                    const std::function<void(const EvalResult&)>& on_done,
                                    const std::atomic<bool>* cancel) {
  std::size_t i = 0;
  EvaluateAsReady(
      [&]() -> std::optional<EvalRequest> {
        if (i >= requests.size()) return std::nullopt;
        return requests[i++];
      },
      on_done, cancel);
}

void RemoteEvaluator::EvaluateAsReady(const std::function<std::optional<EvalRequest>()>& next,
                                      const std::function<void(const EvalResult&)>& on_done,
                                      const std::atomic<bool>* cancel) {
  std::set<std::int64_t> outstanding;  // sent in this call, not answered yet
  Backoff idle(2000);
  Message m;
  const std::size_t ranks = impl_->free_slots.size();
  while (true) {
    if (cancel && cancel->load()) {
      // Said first and at once: mpirun kills every rank a second after its SIGTERM.
      std::cerr << "paretonas: the MPI job is stopping (a signal, or mpirun ending the job "
                   "because a rank was lost). Every finished evaluation is already in the "
                   "journal; "
                << outstanding.size()
                << " running on worker ranks are dropped and run again, with the same seeds, by `"
                << resume_command_ << "` (with or without mpirun).\n";
      std::cerr.flush();
      return;
    }
    bool progressed = false;
    bool none_ready = false;
    // Hand out work to free slots, rotating over ranks so that the load spreads.
    while (true) {
      int rank = -1;
      for (std::size_t k = 0; k < ranks - 1 && rank < 0; ++k) {
        const std::size_t r = 1 + (impl_->next_rank - 1 + k) % (ranks - 1);
        if (impl_->free_slots[r] > 0) rank = static_cast<int>(r);
      }
      if (rank < 0) break;
      const std::optional<EvalRequest> next_request = next();
      if (!next_request) {
        none_ready = true;
        break;
      }
      impl_->next_rank = 1 + static_cast<std::size_t>(rank) % (ranks - 1);
      const EvalRequest& request = *next_request;
      Send(rank, kWork, Pack(request));
      --impl_->free_slots[static_cast<std::size_t>(rank)];
      ++g_in_flight;
      outstanding.insert(request.trial_id);
      progressed = true;
    }
    // With nothing out, every slot was free and asked: nothing ready and nothing running.
    if (none_ready && outstanding.empty()) return;
    while (TryReceive(MPI_ANY_SOURCE, &m)) {
      progressed = true;
      if (m.tag == kResult) {
        const EvalResult r = Unpack<EvalResult>(m.bytes, "result", m.source);
        ++impl_->free_slots[static_cast<std::size_t>(m.source)];
        --g_in_flight;
        if (outstanding.erase(r.trial_id)) on_done(r);
      } else if (m.tag == kFatal) {
        throw std::runtime_error("rank " + std::to_string(m.source) + ": " +
                                 Unpack<Fatal>(m.bytes, "fatal", m.source).message);
      }
    }
    if (progressed) idle.Reset();
    else idle.Sleep();
  }
}

#endif  // PARETONAS_WITH_MPI

}  // namespace paretonas::evaluator::mpi

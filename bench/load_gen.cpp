// A reproducible background load for the latency benchmarks, bounded in time.
//
// Usage: load_gen compute|memory THREADS SECONDS
//   compute: THREADS threads each spinning on floating-point work that stays in registers;
//   memory:  THREADS threads each streaming over a 256 MiB buffer of its own (memory-bandwidth
//            bound: every pass misses every cache).
// Exits after SECONDS (or at SIGTERM); prints what it ran and how much work each thread did.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

double Compute(std::atomic<bool>& stop) {
  double a = 1.0, b = 1.000001;
  std::uint64_t n = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    for (int i = 0; i < 100000; ++i) a = a * b + 1e-9;
    ++n;
  }
  return a + static_cast<double>(n);
}

double Memory(std::atomic<bool>& stop) {
  constexpr std::size_t kBytes = std::size_t{256} << 20;
  std::vector<std::uint64_t> buf(kBytes / sizeof(std::uint64_t), 1);
  std::uint64_t sum = 0, passes = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    for (std::size_t i = 0; i < buf.size(); i += 8) {  // one 64-byte line per step
      sum += buf[i];
      buf[i] = sum;
    }
    ++passes;
  }
  return static_cast<double>(sum % 7 + passes);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || (std::strcmp(argv[1], "compute") != 0 && std::strcmp(argv[1], "memory") != 0)) {
    std::fprintf(stderr, "usage: load_gen compute|memory THREADS SECONDS\n");
    return 2;
  }
  const bool memory = std::strcmp(argv[1], "memory") == 0;
  const int threads = std::atoi(argv[2]);
  const double seconds = std::atof(argv[3]);
  if (threads < 1 || threads > 64 || !(seconds > 0)) {
    std::fprintf(stderr, "load_gen: THREADS 1..64 and SECONDS > 0\n");
    return 2;
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::vector<std::thread> pool;
  std::vector<double> out(threads);
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] { out[t] = memory ? Memory(g_stop) : Compute(g_stop); });
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!g_stop && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  g_stop = true;
  for (auto& th : pool) th.join();
  double check = 0;
  for (double v : out) check += v;
  std::printf("load_gen: %s x%d for up to %.0f s (checksum %.0f)\n", argv[1], threads, seconds, check);
  return 0;
}

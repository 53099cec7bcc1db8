#include "evaluator/latency_estimate.h"

#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "space/text_io.h"

namespace paretonas::evaluator {
namespace {

double Quantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double pos = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

TimingPolicy TimingPolicy::Legacy(int warmup, int repeats, int rounds) {
  TimingPolicy p;
  p.warmup = warmup;
  p.repeats = repeats;
  p.rounds = rounds;
  p.target = 0;
  p.discard_descheduled = false;
  p.max_passes = repeats;
  p.fastest_round = false;
  return p;
}

std::string TimingPolicy::Validate() const {
  auto num = [](double v) {
    std::ostringstream os;
    os << v;
    return os.str();
  };
  if (warmup < 0) return "latency.warmup: " + std::to_string(warmup) + " must be >= 0";
  if (repeats < 1) return "latency.repeats: " + std::to_string(repeats) + " must be >= 1";
  if (rounds < 1 || rounds > repeats)
    return "latency.rounds: " + std::to_string(rounds) + " is not allowed: from 1 to the number of timed passes (repeats " +
           std::to_string(repeats) + ")";
  if (!(target >= 0) || target >= 1)
    return "latency.target: " + num(target) + " must be in [0, 1) (0.03: +-3% of the median; 0: no added rounds)";
  if (!(max_seconds >= 0)) return "latency.max_seconds: " + num(max_seconds) + " must be >= 0";
  if (max_passes < repeats)
    return "latency.max_passes: " + std::to_string(max_passes) + " must be at least repeats (" +
           std::to_string(repeats) + ")";
  if (!(deschedule_margin >= 0) || !(deschedule_slack_ms >= 0))
    return "latency.deschedule margin and slack must be >= 0";
  return "";
}

double LatencyEstimate::RelativeHalfWidth() const {
  return median_ms > 0 ? HalfWidthMs() / median_ms : 0.0;
}

void MedianInterval(const std::vector<double>& sorted, double* low, double* high) {
  const std::size_t n = sorted.size();
  if (n == 0) {
    *low = *high = 0;
    return;
  }
  if (n < 6) {
    *low = sorted.front();
    *high = sorted.back();
    return;
  }
  // Ranks n/2 -+ 1.96 sqrt(n)/2 (the normal approximation of the binomial), 0-based.
  const double half = 0.98 * std::sqrt(static_cast<double>(n));
  const auto k = static_cast<std::size_t>(std::max(0.0, std::floor(0.5 * static_cast<double>(n) - half)));
  *low = sorted[k];
  *high = sorted[std::min(n - 1, n - 1 - k)];
}

bool PassLog::Descheduled(const Pass& p) const {
  return policy_.discard_descheduled &&
         p.wall_ms > p.cpu_ms * (1.0 + policy_.deschedule_margin) + policy_.deschedule_slack_ms;
}

bool PassLog::Add(const Pass& pass) {
  Pass p = pass;
  p.round = rounds_;
  all_.push_back(p);
  seconds_ += p.wall_ms / 1000.0;
  if (Descheduled(p)) {
    ++discarded_;
    return false;
  }
  kept_.push_back(p.wall_ms);
  if (rounds_ >= 1) {
    if (kept_by_round_.size() < static_cast<std::size_t>(rounds_)) kept_by_round_.resize(static_cast<std::size_t>(rounds_));
    kept_by_round_[static_cast<std::size_t>(rounds_ - 1)].push_back(p.wall_ms);
  }
  return true;
}

bool PassLog::Precise() const {
  if (kept() < policy_.repeats) return false;
  const LatencyEstimate e = Estimate();
  return e.RelativeHalfWidth() <= policy_.target;
}

bool PassLog::WantsMore() const {
  return policy_.target > 0 && !Precise() && !Exhausted() && seconds_ < policy_.max_seconds;
}

LatencyEstimate PassLog::Estimate() const {
  LatencyEstimate e;
  std::vector<double> sorted = kept_;
  std::sort(sorted.begin(), sorted.end());
  e.median_ms = Quantile(sorted, 0.5);
  e.iqr_ms = Quantile(sorted, 0.75) - Quantile(sorted, 0.25);
  MedianInterval(sorted, &e.ci_low_ms, &e.ci_high_ms);
  // The fastest round's median, confirmed by the second fastest (rounds with at least half the
  // passes a round asks for count).
  std::vector<double> medians;
  const std::size_t enough = static_cast<std::size_t>(std::max(1, policy_.repeats / policy_.rounds / 2));
  for (const auto& r : kept_by_round_) {
    if (r.size() < enough) continue;
    std::vector<double> v = r;
    std::sort(v.begin(), v.end());
    medians.push_back(Quantile(v, 0.5));
  }
  if (policy_.fastest_round && medians.size() >= 2) {
    std::sort(medians.begin(), medians.end());
    const double spread = medians[1] - medians[0];
    e.median_ms = medians[0];
    e.fastest_round_ms = medians[0];
    e.ci_low_ms = medians[0] - spread;
    e.ci_high_ms = medians[0] + spread;
  }
  e.kept = kept();
  e.discarded = discarded_;
  e.rounds = rounds_;
  e.seconds = seconds_;
  if (kept_.empty() && !all_.empty()) {
    // Every pass lost its core: the least affected quarter of them (smallest excess of wall over
    // CPU time) tells the most; flagged, whatever the policy.
    std::vector<Pass> by_excess = all_;
    auto excess = [](const Pass& p) { return p.cpu_ms > 0 ? p.wall_ms / p.cpu_ms : p.wall_ms + 1e9; };
    std::sort(by_excess.begin(), by_excess.end(), [&](const Pass& a, const Pass& b) { return excess(a) < excess(b); });
    by_excess.resize(std::max<std::size_t>(1, by_excess.size() / 4));
    std::vector<double> wall;
    double low = by_excess.front().wall_ms;
    for (const Pass& p : by_excess) {
      wall.push_back(p.wall_ms);
      low = std::min(low, p.cpu_ms > 0 ? p.cpu_ms : p.wall_ms);
    }
    std::sort(wall.begin(), wall.end());
    e.median_ms = Quantile(wall, 0.5);
    e.iqr_ms = Quantile(wall, 0.75) - Quantile(wall, 0.25);
    e.ci_low_ms = std::min(low, e.median_ms);
    e.ci_high_ms = wall.back();
    e.fastest_round_ms = 0;
    e.noisy = true;
    e.noisy_reasons = kNoisyNoCleanPass;
    return e;
  }
  e.noisy = policy_.target > 0 && (kept() == 0 || e.RelativeHalfWidth() > policy_.target);
  if (e.noisy) e.noisy_reasons = kNoisyNotConfirmed;
  return e;
}

std::string NoisyReasonNames(int reasons) {
  std::string out;
  auto add = [&](int bit, const char* name) {
    if (reasons & bit) out += (out.empty() ? "" : ", ") + std::string(name);
  };
  add(kNoisyOversubscribed, "oversubscribed");
  add(kNoisySlowdown, "slowdown");
  add(kNoisyNoCleanPass, "no undisturbed pass");
  add(kNoisyNotConfirmed, "not confirmed");
  return out;
}

int NoisyReasonsOf(const std::map<std::string, double>& m, const std::string& prefix, double target) {
  auto get = [&](const char* k, double d) {
    const auto it = m.find(prefix + k);
    return it == m.end() ? d : it->second;
  };
  if (!(get("latency_noisy", 0) > 0)) return 0;
  const double recorded = get("latency_noisy_reasons", -1);
  if (recorded > 0) return static_cast<int>(recorded);
  int r = 0;  // a run from before the reasons were recorded
  if (get("latency_slowdown", 1) > 1 + kSlowdownTolerance) r |= kNoisySlowdown;
  if (get("latency_passes", 1) <= 0) r |= kNoisyNoCleanPass;
  const double ms = get("latency_ms", 0), ci = get("latency_ci_ms", 0);
  if (ms > 0 && target > 0 && ci / ms > target) r |= kNoisyNotConfirmed;
  return r;
}

void ApplySlowdown(LatencyEstimate& e, double slowdown, double target) {
  if (!(slowdown > 1)) return;
  e.slowdown = slowdown;
  e.ci_low_ms = std::min(e.ci_low_ms, e.median_ms / slowdown);
  if (target > 0 && slowdown > 1 + kSlowdownTolerance) {
    e.noisy = true;
    e.noisy_reasons |= kNoisySlowdown;
  }
}

namespace {

std::mutex g_reference_mu;
std::map<std::string, double> g_reference_best;  // this process's, over the file's
bool g_reference_loaded = false;

std::string ReferenceFile() {
  std::string dir;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) dir = std::string(x) + "/paretonas";
  else if (const char* h = std::getenv("HOME"); h && *h) dir = std::string(h) + "/.cache/paretonas";
  else dir = "/tmp/paretonas-cache";
  return dir + "/reference-speed.txt";
}

/// Lines "setting<TAB>ms"; the file is small and read once per process.
void LoadReferenceFile() {
  if (g_reference_loaded) return;
  g_reference_loaded = true;
  std::ifstream in(ReferenceFile());
  std::string line;
  while (std::getline(in, line)) {
    const auto tab = line.rfind('\t');
    if (tab == std::string::npos) continue;
    char* end = nullptr;
    const double ms = std::strtod(line.c_str() + tab + 1, &end);
    if (ms > 0) {
      auto& best = g_reference_best[line.substr(0, tab)];
      best = best > 0 ? std::min(best, ms) : ms;
    }
  }
}

}  // namespace

double BestReferenceMs(const std::string& setting) {
  std::lock_guard<std::mutex> lock(g_reference_mu);
  LoadReferenceFile();
  const auto it = g_reference_best.find(setting);
  return it == g_reference_best.end() ? 0.0 : it->second;
}

void RecordReferenceMs(const std::string& setting, double ms) {
  if (!(ms > 0)) return;
  std::lock_guard<std::mutex> lock(g_reference_mu);
  LoadReferenceFile();
  double& best = g_reference_best[setting];
  if (best > 0 && ms >= best * 0.99) return;  // not a new best worth a write
  best = best > 0 ? std::min(best, ms) : ms;
  const std::string path = ReferenceFile();
  MakeDirsBestEffort(path.substr(0, path.rfind('/')));
  std::ostringstream text;
  for (const auto& [k, v] : g_reference_best) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    text << k << "\t" << buf << "\n";
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text.str();
    if (!out) return;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) std::remove(tmp.c_str());
}

void AddLatencyMetrics(const LatencyEstimate& e, std::map<std::string, double>* m) {
  (*m)["latency_ms"] = e.median_ms;
  (*m)["latency_iqr_ms"] = e.iqr_ms;
  (*m)["latency_ci_ms"] = e.HalfWidthMs();
  (*m)["latency_noisy"] = e.noisy ? 1.0 : 0.0;
  if (e.noisy && e.noisy_reasons) (*m)["latency_noisy_reasons"] = e.noisy_reasons;
  (*m)["latency_passes"] = e.kept;
  (*m)["latency_discarded"] = e.discarded;
  if (e.load >= 0) (*m)["latency_load"] = e.load;
  (*m)["latency_slowdown"] = e.slowdown;
  if (e.runnable >= 0) (*m)["latency_runnable"] = e.runnable;
}

int ProcsRunning() {
  std::ifstream in("/proc/stat");
  std::string word;
  while (in >> word)
    if (word == "procs_running") {
      int n = -1;
      in >> n;
      return n;
    }
  return -1;
}

void ApplyRunnable(LatencyEstimate& e, const std::vector<int>& samples, double target) {
  std::vector<int> v;
  for (int s : samples)
    if (s >= 0) v.push_back(s);
  if (v.empty()) return;
  std::sort(v.begin(), v.end());
  e.runnable = v[v.size() / 2];
  const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (target > 0 && cores > 0 && e.runnable > static_cast<double>(cores) + 1) {
    e.noisy = true;
    e.noisy_reasons |= kNoisyOversubscribed;
  }
}

double LoadPerCore() {
  std::ifstream in("/proc/loadavg");
  double one = -1;
  if (!(in >> one)) return -1;
  const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  return cores > 0 ? one / static_cast<double>(cores) : one;
}

std::string NoiseSummary(const std::vector<LatencyEstimate>& estimates, double target) {
  int noisy = 0, discarded = 0, passes = 0;
  double load = -1, slowdown = 1, runnable = -1;
  for (const auto& e : estimates) {
    runnable = std::max(runnable, e.runnable);
    noisy += e.noisy;
    discarded += e.discarded;
    passes += e.kept + e.discarded;
    load = std::max(load, e.load);
    slowdown = std::max(slowdown, e.slowdown);
  }
  if (noisy == 0 && discarded == 0 && slowdown <= 1 + kSlowdownTolerance) return "";
  std::ostringstream os;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.0f", 100 * target);
  os << noisy << " of " << estimates.size() << " latencies noisy (interval wider than +-" << buf
     << "%, the machine over " << static_cast<int>(100 * kSlowdownTolerance + 0.5)
     << "% slower than its best, or more threads ready to run than cores + 1)";
  if (discarded > 0) os << "; " << discarded << " of " << passes << " timed passes discarded as descheduled";
  if (slowdown > 1.005) {
    std::snprintf(buf, sizeof(buf), "%.2f", slowdown);
    os << "; the machine ran up to " << buf << "x slower than its best on a reference network";
  }
  if (runnable >= 0) {
    std::snprintf(buf, sizeof(buf), "%.0f", runnable);
    os << "; up to " << buf << " threads ready to run on " << ::sysconf(_SC_NPROCESSORS_ONLN) << " cores";
  }
  if (load >= 0) {
    std::snprintf(buf, sizeof(buf), "%.2f", load);
    os << "; load average up to " << buf << " per core";
  }
  return os.str();
}

}  // namespace paretonas::evaluator

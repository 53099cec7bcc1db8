#include "evaluator/latency_estimate.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

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
  e.kept = kept();
  e.discarded = discarded_;
  e.rounds = rounds_;
  e.seconds = seconds_;
  e.noisy = policy_.target > 0 && (kept() == 0 || e.RelativeHalfWidth() > policy_.target);
  return e;
}

void AddLatencyMetrics(const LatencyEstimate& e, std::map<std::string, double>* m) {
  (*m)["latency_ms"] = e.median_ms;
  (*m)["latency_iqr_ms"] = e.iqr_ms;
  (*m)["latency_ci_ms"] = e.HalfWidthMs();
  (*m)["latency_noisy"] = e.noisy ? 1.0 : 0.0;
  (*m)["latency_passes"] = e.kept;
  (*m)["latency_discarded"] = e.discarded;
  if (e.load >= 0) (*m)["latency_load"] = e.load;
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
  double load = -1;
  for (const auto& e : estimates) {
    noisy += e.noisy;
    discarded += e.discarded;
    passes += e.kept + e.discarded;
    load = std::max(load, e.load);
  }
  if (noisy == 0 && discarded == 0) return "";
  std::ostringstream os;
  char pct[16];
  std::snprintf(pct, sizeof(pct), "%.0f", 100 * target);
  os << noisy << " of " << estimates.size() << " latencies noisy (interval wider than +-" << pct << "%)";
  if (discarded > 0) os << "; " << discarded << " of " << passes << " timed passes discarded as descheduled";
  if (load >= 0) {
    char l[16];
    std::snprintf(l, sizeof(l), "%.2f", load);
    os << "; load average up to " << l << " per core";
  }
  return os.str();
}

}  // namespace paretonas::evaluator

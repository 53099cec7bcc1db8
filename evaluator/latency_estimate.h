// A latency as a measurement with its error (STYLE 17): the timed passes of one network, which
// of them were descheduled, when precision is reached, and the estimate with its interval.
// Torch-free: the timing loops (latency.cpp) feed it, the tests feed it an injected clock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace paretonas::evaluator {

/// One timed forward pass: its wall-clock time and the CPU time the timing thread spent in it.
struct Pass {
  double wall_ms = 0;
  double cpu_ms = 0;
  int round = 0;  ///< the round that timed it (1 for the first; set by PassLog::Add)
};

/// How latencies are timed: passes, rounds, the precision to reach and the caps. The defaults
/// are the search's; `Legacy()` is how paretonas timed before (a fixed number of passes, every
/// pass counted, nothing flagged), kept for the benchmark that compares the two.
struct TimingPolicy {
  int warmup = 5;    ///< untimed passes before a network's first timed pass
  int repeats = 30;  ///< kept passes of the first rounds, before precision is judged
  int rounds = 5;    ///< the first `repeats` passes are spread over this many rounds
  /// Keep timing (more rounds of repeats / rounds passes) until the 95% interval of the median
  /// is within +-target of it; 0: never add rounds.
  double target = 0.03;
  double max_seconds = 2.0;  ///< per network: no extra round starts after this much timing
  int max_passes = 300;      ///< per network: timed passes, kept and discarded, at the most
  /// A pass whose wall time exceeds the timing thread's CPU time by more than
  /// `deschedule_margin` of it plus `deschedule_slack_ms` was descheduled (the thread waited for
  /// a core): it is not counted and another pass runs in its place. Off on CUDA, where the
  /// thread waits for the device by design.
  bool discard_descheduled = true;
  double deschedule_margin = 0.10;
  double deschedule_slack_ms = 0.05;

  static TimingPolicy Legacy(int warmup, int repeats, int rounds);
  /// "" when valid, else what is wrong, naming the field.
  std::string Validate() const;
};

/// The estimate of one network's latency with its error.
struct LatencyEstimate {
  double median_ms = 0;  ///< median of the kept passes: the latency
  double iqr_ms = 0;     ///< interquartile range of the kept passes
  double ci_low_ms = 0;  ///< 95% distribution-free interval of the median (order statistics)
  double ci_high_ms = 0;
  int kept = 0;       ///< passes counted
  int discarded = 0;  ///< passes not counted: descheduled
  int rounds = 0;     ///< rounds that timed this network
  double seconds = 0;  ///< wall time of its timed passes, kept and discarded
  /// The interval ended wider than +-target (a precision the caps did not let it reach): the
  /// number may be off by more than it says, and the search measures it again before a
  /// decision depends on it.
  bool noisy = false;
  double load = -1;  ///< 1-minute load average per online core when it ended (-1: unknown)

  /// Half the interval's width relative to the median (0 for a zero median).
  double RelativeHalfWidth() const;
  /// Half the interval's width in ms.
  double HalfWidthMs() const { return 0.5 * (ci_high_ms - ci_low_ms); }
};

/// A result's latency metrics: latency_ms (the median), latency_iqr_ms, latency_ci_ms (half the
/// 95% interval of the median), latency_noisy (1 or 0), latency_passes (kept),
/// latency_discarded (descheduled), latency_load (load average per core; absent when unknown).
void AddLatencyMetrics(const LatencyEstimate& e, std::map<std::string, double>* metrics);

/// The passes of one network as they are timed, judged against a policy.
class PassLog {
 public:
  explicit PassLog(const TimingPolicy& policy) : policy_(policy) {}
  /// Records a pass; returns whether it was kept (not descheduled).
  bool Add(const Pass& pass);
  bool Descheduled(const Pass& pass) const;
  int kept() const { return static_cast<int>(kept_.size()); }
  int discarded() const { return discarded_; }
  int total() const { return kept() + discarded_; }
  double seconds() const { return seconds_; }
  void NextRound() { ++rounds_; }
  /// Whether the interval is within the target (with at least `repeats` kept passes).
  bool Precise() const;
  /// Whether more rounds may run: not precise, and neither cap reached.
  bool WantsMore() const;
  /// Whether the pass cap is reached (no further pass may run).
  bool Exhausted() const { return total() >= policy_.max_passes; }
  LatencyEstimate Estimate() const;
  const std::vector<Pass>& all() const { return all_; }

 private:
  TimingPolicy policy_;
  std::vector<double> kept_;
  std::vector<Pass> all_;
  int discarded_ = 0;
  int rounds_ = 0;
  double seconds_ = 0;
};

/// The 95% distribution-free interval of the median of `sorted` (ascending): the order
/// statistics at ranks n/2 -+ 0.98 sqrt(n); the whole range for fewer than 6 values.
void MedianInterval(const std::vector<double>& sorted, double* low, double* high);

/// The 1-minute load average divided by the online cores (/proc/loadavg); -1 when unreadable.
double LoadPerCore();

/// "4 of 60 latencies noisy (interval wider than +-3%); 117 of 2,100 timed passes discarded as
/// descheduled; load average 2.6 per core" and the like, for logs and warnings; "" when none was
/// noisy and none discarded.
std::string NoiseSummary(const std::vector<LatencyEstimate>& estimates, double target);

}  // namespace paretonas::evaluator

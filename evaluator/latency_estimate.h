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
  /// The estimate: the fastest round's median of kept passes, confirmed by the second fastest
  /// (true, the default: chosen by bench/latency_load_bench.sh, bench/RESULTS.md "Latency on a
  /// busy machine"); or the median of every kept pass (false: Legacy).
  bool fastest_round = true;

  static TimingPolicy Legacy(int warmup, int repeats, int rounds);
  /// "" when valid, else what is wrong, naming the field.
  std::string Validate() const;
};

/// Why a latency is noisy (LatencyEstimate::noisy_reasons; the metric latency_noisy_reasons):
/// bits, any number of them at once.
enum NoisyReason : int {
  /// Not confirmed: its two fastest rounds did not agree within +-target (or too few passes
  /// were kept) by the time the caps stopped the timing.
  kNoisyNotConfirmed = 1,
  /// Slowdown: the machine ran over kSlowdownTolerance slower than its best on the reference
  /// network timed in the same rounds.
  kNoisySlowdown = 2,
  /// Oversubscribed: more threads ready to run than cores + 1 while it was timed.
  kNoisyOversubscribed = 4,
  /// No undisturbed pass: every timed pass was descheduled; the estimate comes from the passes
  /// least affected (PassLog::Estimate).
  kNoisyNoCleanPass = 8,
};

/// "oversubscribed, slowdown" and the like, the reasons' short names in a fixed order; "" for 0.
std::string NoisyReasonNames(int reasons);

/// The noisy reasons of a result's metrics (prefix "" or "int8_"): latency_noisy_reasons when
/// recorded; for a run that predates it, derived from what it recorded (latency_slowdown,
/// latency_passes, latency_ci_ms against `target`; oversubscription is not derivable: the cores
/// of that machine are unknown). 0 when the latency is not noisy.
int NoisyReasonsOf(const std::map<std::string, double>& metrics, const std::string& prefix, double target);

/// The estimate of one network's latency with its error.
///
/// The machine's speed changes in phases of seconds (other programs, other tenants of a virtual
/// machine): whole rounds run up to 2x slower than others. The latency is therefore the median
/// of the kept passes of the fastest round (TimingPolicy::fastest_round), and its interval
/// reaches from the fastest round's median minus, to plus, the distance to the second fastest
/// round's: the estimate is confirmed when the two fastest rounds agree within +-target. (With
/// one round, or fastest_round false: the median of every kept pass and the 95% interval of
/// that median by order statistics.)
struct LatencyEstimate {
  double median_ms = 0;  ///< the latency (see above)
  double iqr_ms = 0;     ///< interquartile range of every kept pass
  double ci_low_ms = 0;  ///< the interval (see above)
  double ci_high_ms = 0;
  int kept = 0;       ///< passes counted
  int discarded = 0;  ///< passes not counted: descheduled
  int rounds = 0;     ///< rounds that timed this network
  double seconds = 0;  ///< wall time of its timed passes, kept and discarded
  /// The interval ended wider than +-target (a precision the caps did not let it reach): the
  /// number may be off by more than it says, and the search measures it again before a
  /// decision depends on it.
  bool noisy = false;
  int noisy_reasons = 0;  ///< NoisyReason bits (0 when not noisy)
  double load = -1;  ///< 1-minute load average per online core when it ended (-1: unknown)
  /// How much slower than its best on this host the machine ran a fixed reference network timed
  /// in the same rounds (1: as fast as ever). Another program sharing the caches and memory
  /// (not only the cores) slows a pass without descheduling it; then the interval reaches down
  /// to median / slowdown, and above 1 + kSlowdownTolerance the measurement is noisy.
  double slowdown = 1;
  /// Threads ready to run on the machine while it was timed (procs_running of /proc/stat, the
  /// median over its rounds, this one included); above the cores + 1, every core was shared by
  /// two programs or more besides this one, and the measurement is noisy (-1: unknown).
  double runnable = -1;

  /// Half the interval's width relative to the estimate (0 for a zero estimate).
  double RelativeHalfWidth() const;
  /// Half the interval's width in ms.
  double HalfWidthMs() const { return 0.5 * (ci_high_ms - ci_low_ms); }
  double fastest_round_ms = 0;  ///< the fastest round's median (0: fewer than two rounds)
};

/// A machine this much slower than its best (the reference network's time) flags what it
/// measures noisy: the same ±10% within which a latency counts as right.
constexpr double kSlowdownTolerance = 0.10;

/// Records `slowdown` in `e` and widens its interval down to median / slowdown (the machine ran
/// that much slower than its best while `e` was timed); with a target (not Legacy) a slowdown
/// above 1 + kSlowdownTolerance flags it noisy.
void ApplySlowdown(LatencyEstimate& e, double slowdown, double target);

/// The fastest median this host has timed the reference network in, for `setting` (device and
/// threads), from $XDG_CACHE_HOME/paretonas/reference-speed.txt (or ~/.cache/...); 0 when unknown.
double BestReferenceMs(const std::string& setting);
/// Records `ms` for `setting` when it beats the best known (the file rewritten atomically; best
/// effort: a host whose cache cannot be written keeps its best for this process only).
void RecordReferenceMs(const std::string& setting, double ms);

/// A result's latency metrics: latency_ms (the estimate), latency_iqr_ms, latency_ci_ms (half its
/// interval), latency_noisy (1 or 0), latency_noisy_reasons (NoisyReason bits, when noisy),
/// latency_passes (kept),
/// latency_discarded (descheduled), latency_load (load average per core; absent when unknown),
/// latency_slowdown (LatencyEstimate::slowdown), latency_runnable (when known).
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
  /// The estimate (see LatencyEstimate). When every pass was descheduled (none kept), it is the
  /// median wall time of the least affected quarter of the passes (those whose wall time exceeds
  /// their CPU time by the smallest share), its interval from the smallest CPU time among them to
  /// their largest wall time, flagged noisy (kNoisyNoCleanPass): never 0 ms while a pass ran.
  LatencyEstimate Estimate() const;
  const std::vector<Pass>& all() const { return all_; }

 private:
  TimingPolicy policy_;
  std::vector<double> kept_;
  std::vector<std::vector<double>> kept_by_round_;  ///< [round - 1]
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

/// Threads ready to run right now (procs_running of /proc/stat); -1 when unreadable.
int ProcsRunning();

/// Records the median of `samples` (ProcsRunning during a measurement) in `e` and, with a
/// target, flags it noisy when it exceeds the online cores + 1.
void ApplyRunnable(LatencyEstimate& e, const std::vector<int>& samples, double target);

/// "4 of 60 latencies noisy (interval wider than +-3%); 117 of 2,100 timed passes discarded as
/// descheduled; load average 2.6 per core" and the like, for logs and warnings; "" when none was
/// noisy and none discarded.
std::string NoiseSummary(const std::vector<LatencyEstimate>& estimates, double target);

}  // namespace paretonas::evaluator

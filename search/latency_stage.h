// The latency stage: a generation's latencies measured before it trains, journaled at once, and
// measured again where a decision would otherwise rest on noise.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "search/eval_contract.h"
#include "search/problem.h"
#include "search/search_state.h"

namespace paretonas::search {

struct GenerationContext;

/// How many times a decision may measure the same candidates again before it decides on what it
/// has (RunOptions::latency_stage).
constexpr int kMaxRemeasures = 2;

/// Before a generation trains (RunOptions::latency_stage and an evaluator that
/// CanMeasureLatencies): the batch-1 latency of each of its pending proposals, measured together
/// (BatchEvaluator::MeasureLatencies) and journaled at once (rung kLatencyRung), so that
/// `resume` reuses it and never measures a journaled candidate again. Then every proposal whose
/// latency interval straddles the bound of a constraint on latency_ms is measured again, together
/// with the others that do, up to kMaxRemeasures times (journaled at kRemeasureRung - k); the
/// last measurement decides. Journaled measurements are replayed, so a resumed generation
/// decides as an uninterrupted one. Returns false when interrupted.
bool MeasureGenerationLatencies(const GenerationContext& g);

/// Whether `t` has its latency from the stage (its requests then do not measure it again).
bool HasLatency(const Trial& t);

/// The interval [median - half, median + half] of `t`'s latency_ms (latency_ci_ms; 0 when the
/// evaluator reported none).
void LatencyInterval(const Trial& t, double* low, double* high);

/// Of `ids` (trials with a latency), those whose latency interval straddles the bound of a
/// constraint on latency_ms: the constraint's verdict could flip within the noise.
std::vector<std::int64_t> StraddlingConstraint(const SearchState& state, const Problem& problem,
                                               const std::vector<std::int64_t>& ids);

/// Of `candidates`, those whose own selection by `select` changes when its latency_ms moves to
/// either end of its interval (the others held at their medians): a cut decided within the
/// noise. Only candidates measured again fewer than kMaxRemeasures times, and nothing when
/// `problem` reads no latency_ms. `state` is changed while it tries and restored.
std::vector<std::int64_t> DecidedWithinNoise(SearchState& state, const Problem& problem,
                                             const std::vector<std::int64_t>& candidates,
                                             const std::function<std::vector<std::int64_t>()>& select);

/// Measures `ids` again, together (replayed from the journal where it holds this measurement):
/// the `round`-th measurement again of the decision at hand, journaled at kRemeasureRung -
/// the trial's count of measurements again, which its metric latency_remeasured keeps. The new
/// latency replaces the old in each trial's metrics. `why` names the decision for the log.
/// Returns false when the evaluator cannot measure (then nothing changed).
bool MeasureAgain(const GenerationContext& g, const std::vector<std::int64_t>& ids, const std::string& why);

}  // namespace paretonas::search

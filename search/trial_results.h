// How an evaluation's result is recorded in its trial: a full-fidelity result, or one rung's.
#pragma once

#include <map>
#include <string>

#include "search/eval_contract.h"
#include "search/problem.h"
#include "search/trial.h"

namespace paretonas::search {

/// Records `result` in `trial`: kComplete with its metrics, or kFailed with the reason (also when
/// an objective or constraint metric is missing or not finite). What the trial had measured once
/// per architecture (its latency, from the latency stage) stays where the result lacks it.
void ApplyResult(Trial& trial, const EvalResult& result, const Problem& problem);

/// A trial's metrics after a rung: the rung's, with those measured once per architecture carried
/// over from `before` where the rung did not report them.
std::map<std::string, double> MergeRungMetrics(const std::map<std::string, double>& before,
                                               const std::map<std::string, double>& rung);

/// Records rung `rung`'s result in `t` (its curve, its metrics, its state): kComplete at the top
/// rung, kRunning below it, kFailed with "rung N: reason". `generation` is the one that trained it.
void ApplyRungResult(Trial& t, const EvalResult& r, int rung, double resource, bool top,
                     const Problem& problem, int generation);

}  // namespace paretonas::search

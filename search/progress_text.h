// How the search loop writes numbers, durations and outcomes in its progress lines (log.txt and
// the terminal). Internal to search/.
#pragma once

#include <cstdint>
#include <string>

#include "search/problem.h"
#include "search/trial.h"

namespace paretonas::search {

/// "1h02m", "3m05s", "42s"; "?" for a negative or non-finite number.
std::string FormatDuration(double seconds);
/// Seconds as a budget is read: "2.0 s" below 100 s (tenths), FormatDuration above.
std::string FormatSeconds(double seconds);

/// Four significant digits ("0.9312", "1.2e+04"); whole numbers from 1e5 up in full.
std::string Fmt(double v);

/// "1.5 MB" from 1 MiB up, else "12.0 kB".
std::string FormatBytes(std::int64_t bytes);

/// The end of a progress line: the objectives (or the failure), the seconds and the key.
std::string Outcome(const Trial& t, const Problem& problem, double seconds);

}  // namespace paretonas::search

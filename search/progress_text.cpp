#include "search/progress_text.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace paretonas::search {

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  char buf[32];
  const long s = std::lround(seconds);
  if (s >= 3600) std::snprintf(buf, sizeof(buf), "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else if (s >= 60) std::snprintf(buf, sizeof(buf), "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof(buf), "%lds", s);
  return buf;
}

std::string FormatSeconds(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds >= 100) return FormatDuration(seconds);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s", seconds);
  return buf;
}

std::string Fmt(double v) {
  char buf[32];
  if (std::abs(v) >= 1e5 && std::floor(v) == v) std::snprintf(buf, sizeof(buf), "%.0f", v);
  else std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

std::string FormatBytes(std::int64_t b) {
  char buf[32];
  if (b >= (1 << 20)) std::snprintf(buf, sizeof(buf), "%.1f MB", static_cast<double>(b) / (1 << 20));
  else std::snprintf(buf, sizeof(buf), "%.1f kB", static_cast<double>(b) / 1024);
  return buf;
}

std::string Outcome(const Trial& t, const Problem& problem, double seconds) {
  std::ostringstream line;
  if (t.state == TrialState::kFailed) {
    line << "FAILED: " << t.failure << " ";
  } else {
    for (const auto& o : problem.objectives) line << o.metric << "=" << Fmt(t.metrics.at(o.metric)) << " ";
  }
  line << "(" << Fmt(seconds) << "s) " << t.key;
  return line.str();
}

}  // namespace paretonas::search

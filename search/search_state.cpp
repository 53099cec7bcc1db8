#include "search/search_state.h"

#include <sstream>

namespace paretonas::search {

std::mt19937_64 SearchState::Rng() const {
  std::mt19937_64 rng(seed);
  if (!this->rng.empty()) {
    std::istringstream in(this->rng);
    in >> rng;
  }
  return rng;
}

void SearchState::SetRng(const std::mt19937_64& r) {
  std::ostringstream out;
  out << r;
  rng = out.str();
}

std::int64_t SearchState::NumFinished() const {
  std::int64_t n = 0;
  for (const auto& t : trials) n += t.finished() && t.state != TrialState::kScreened;
  return n;
}

std::int64_t SearchState::NumScreened() const {
  std::int64_t n = 0;
  for (const auto& t : trials) n += t.state == TrialState::kScreened;
  return n;
}

std::uint64_t TrialSeed(std::uint64_t experiment_seed, std::int64_t id) {
  std::uint64_t z = experiment_seed * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(id) +
                    0x632be59bd9b4e019ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace paretonas::search

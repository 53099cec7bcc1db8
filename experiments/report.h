// The self-contained HTML report of a run (inline SVG, no scripts, no network).
#pragma once

#include <string>

#include "search/problem.h"
#include "search/search_state.h"

namespace paretonas::experiments {

/// Renders the report: a scatter of every evaluated architecture (front green and joined,
/// dominated red), hypervolume vs evaluations, a table of the front and a drawing of each front
/// member's graph.
std::string RenderReport(const std::string& title, const search::SearchState& state,
                         const search::Problem& problem);

}  // namespace paretonas::experiments

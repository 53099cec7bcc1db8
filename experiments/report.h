// The self-contained HTML report of a run (inline SVG, no scripts, no network).
#pragma once

#include <string>

#include "search/fidelity.h"
#include "search/problem.h"
#include "search/search_state.h"

namespace paretonas::experiments {

/// Renders the report: a scatter of every evaluated architecture (front green and joined,
/// dominated red), hypervolume vs evaluations, a table of the front and a drawing of each front
/// member's graph. With a fidelity, also how many trials reached each rung and the learning
/// curves (the first objective at each rung) of every trial, the front's highlighted.
std::string RenderReport(const std::string& title, const search::SearchState& state,
                         const search::Problem& problem,
                         const search::FidelityOptions& fidelity = {});

}  // namespace paretonas::experiments

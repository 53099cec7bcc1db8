// The pieces of the run page that experiments/report.cpp assembles: SVG plots
// (report_svg.cpp) and the drawing of an architecture (report_graph.cpp). Internal to report.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "experiments/report.h"
#include "search/search_state.h"
#include "space/network_plan.h"

namespace paretonas::experiments::report_parts {

/// HTML-escaped text.
std::string Esc(const std::string& s);
/// A number with `digits` significant digits, as the page prints it.
std::string Num(double v, int digits = 4);
/// A metric's name as an axis or column label (with its unit).
std::string Label(const std::string& metric);
/// Whether a larger value of `metric` is better for this problem.
bool HigherIsBetter(const std::string& metric, const search::Problem& problem);
/// Every complete trial on the chosen axes, the front on them joined, the search's own `front`
/// outlined; points link to `link` + id when `link` is not empty.
std::string Scatter(const search::SearchState& state, const search::Problem& problem, const PlotChoice& pc,
                    const std::vector<std::int64_t>& front, const std::string& link);
/// Learning curves (multi-fidelity): `ym` at each rung against the rung's resource (`unit`), every
/// trial with a curve in grey, the `front` members in green.
std::string LearningCurves(const search::SearchState& state, const std::string& ym,
                           const std::vector<std::int64_t>& front, const std::string& unit);
/// The hypervolume by generation.
std::string HypervolumePlot(const search::SearchState& state);
/// One architecture as a graph: its nodes and operations, coloured by op.
std::string GraphDrawing(const space::NetworkPlan& plan);

}  // namespace paretonas::experiments::report_parts

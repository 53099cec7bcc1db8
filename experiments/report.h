// The one renderer of a run: the static `report` (a self-contained HTML file: inline SVG, no
// scripts, no network) and the live page of `serve` draw the same plots from this code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "experiments/live_run.h"
#include "search/front.h"
#include "search/search_state.h"

namespace paretonas::experiments {

/// The two metrics of the front plot and their scales.
struct PlotChoice {
  std::string x, y;
  bool log_x = false, log_y = false;
};

/// The report's axes: latency against accuracy when both are objectives (the int8 ones in an
/// int8 search), else the second objective against the first. Linear.
PlotChoice DefaultPlot(const search::Problem& problem);

/// The metrics a front plot can use: those of the run's objectives, then every other metric of
/// its first complete trial, sorted.
std::vector<std::string> PlotMetrics(const search::SearchState& state, const search::Problem& problem);
/// Whether `metric` is one of PlotMetrics; when not, `allowed` gets them, comma-separated (for
/// the message of serve's ?x=/?y= and report's --x/--y).
bool IsPlotMetric(const search::SearchState& state, const search::Problem& problem, const std::string& metric,
                  std::string* allowed);

struct RenderOptions {
  PlotChoice plot;
  /// "" in the static report; in `serve`, the address of a trial's page less its id
  /// ("/run/0/trial/"): points and table rows link to it.
  std::string trial_link;
};

/// What a run's page shows, below its title: the state (running, finished, ... as `status`
/// says), progress (budget used, failures and their reasons, the pre-screen, rungs, trials in
/// flight, latency noise, measured against predicted latency), the front plot over every
/// complete trial, the hypervolume by generation, learning curves (multi-fidelity), the front's
/// table and graphs, and notes (damaged journal records skipped).
std::string RenderRunBody(const RunView& view, const RenderOptions& options);

/// The static report: RenderRunBody in a self-contained page, its front plot on `plot` (default:
/// DefaultPlot).
std::string RenderReport(const RunView& view);
std::string RenderReport(const RunView& view, const PlotChoice& plot);

/// What the common box of several runs' hypervolumes is, and which numbers compare (a
/// paragraph for `serve` and `report` of several runs).
std::string CommonBoxExplanation(const search::CommonBox& box);

/// The static report of several runs: a table (evaluations, front, hypervolumes in one common
/// box and in each own box), their fronts on one plot, then each run's body.
std::string RenderReports(const std::vector<RunView>& views, const PlotChoice& plot);

/// One trial: its state, metrics, graph, learning curve (rungs, or `command_curve`: the command
/// evaluator's `curve` as rung results, resource = epoch) and the command that exports it.
/// `run_link`: the address of the run's page. Empty when `id` is not a trial of the run.
std::string RenderTrialBody(const RunView& view, std::int64_t id,
                            const std::vector<search::RungResult>& command_curve, const std::string& run_link);

/// Several runs on one plot (seeds, or an fp32 and an int8 search): each run's complete trials
/// faint and its front joined, in the run's colour. `link`: a run's page ("" for none).
struct OverlayRun {
  std::string label;
  std::string link;
  const search::SearchState* state = nullptr;
  const search::Problem* problem = nullptr;
};
std::string FrontsOverlay(const std::vector<OverlayRun>& runs, const PlotChoice& plot);

/// The start of a page of either (doctype, title, the style sheet) up to and including </head>.
std::string PageHead(const std::string& title);

/// HTML escaping of text and attribute values.
std::string HtmlEscape(const std::string& s);

}  // namespace paretonas::experiments

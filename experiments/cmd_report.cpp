// `paretonas report RUN... [--out report.html] [--x METRIC --y METRIC --xscale log ...]`.
#include <iostream>
#include <memory>

#include "experiments/cli_common.h"
#include "experiments/live_run.h"
#include "experiments/report.h"
#include "search/run_files.h"
#include "space/input_error.h"

namespace paretonas::experiments {
namespace {

struct ReportOptions {
  std::vector<std::string> run_dirs;
  std::string out;
  std::string x, y;                 // "": the default axes
  std::string xscale, yscale;       // "" | linear | log
};

/// The front plot's axes as `serve` takes them (?x=, ?y=, ?xscale=, ?yscale=): metrics of the
/// run's trials, checked against every run's.
PlotChoice Axes(const ReportOptions& o, const std::vector<RunView>& views) {
  PlotChoice plot = DefaultPlot(*views[0].problem);
  for (const auto& [flag, metric, axis] :
       {std::make_tuple("--x", o.x, &plot.x), std::make_tuple("--y", o.y, &plot.y)}) {
    if (metric.empty()) continue;
    for (const auto& v : views) {
      std::string list;
      if (!IsPlotMetric(*v.state, *v.problem, metric, &list))
        throw InputError(std::string("report ") + flag + " " + metric + ": not a metric of the trials of " + v.dir +
                         " (allowed: " + list + ")");
    }
    *axis = metric;
  }
  plot.log_x = o.xscale == "log";
  plot.log_y = o.yscale == "log";
  return plot;
}

int RunReport(const ReportOptions& o) {
  if (o.run_dirs.size() > 1 && o.out.empty())
    throw InputError("report of " + std::to_string(o.run_dirs.size()) + " runs: give --out FILE (one page for them all)");
  // What `serve` would show now, including the generation in progress of a running search.
  std::vector<std::unique_ptr<LiveRun>> runs;
  std::vector<RunView> views;
  for (const auto& dir : o.run_dirs) {
    LoadRunConfig(dir);  // not a run directory: an InputError (exit 2)
    runs.push_back(std::make_unique<LiveRun>(dir));
    runs.back()->Refresh();
    views.push_back(runs.back()->View());
    const RunView& view = views.back();
    if (!view.error.empty()) throw search::RunFileError(view.error);
    if (!view.state)
      throw InputError(dir + ": no checkpoint yet (the search has not finished its first generation); "
                       "nothing to report");
  }
  const PlotChoice plot = Axes(o, views);
  const std::string out = o.out.empty() ? o.run_dirs[0] + "/report.html" : o.out;
  search::WriteFileAtomic(out, views.size() == 1 ? RenderReport(views[0], plot) : RenderReports(views, plot));
  std::cout << out << "\n";
  return kExitOk;
}

}  // namespace

void SetupReport(CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();
  auto* sub = app.add_subcommand(
      "report", "Write a self-contained HTML report of a run (front plot, hypervolume, table, graphs), or of "
                "several runs on one page (their fronts on one plot, hypervolumes in one common box)");
  sub->add_option("run_dir", o->run_dirs, "Run directory (several: one page for them all, with --out)")->required();
  sub->add_option("-o,--out", o->out, "Output HTML file (default RUN/report.html)");
  sub->add_option("--x", o->x, "The front plot's x axis: a metric of the trials (default: as serve's page)");
  sub->add_option("--y", o->y, "The front plot's y axis: a metric of the trials");
  sub->add_option("--xscale", o->xscale, "linear or log")->check(CLI::IsMember({"linear", "log"}));
  sub->add_option("--yscale", o->yscale, "linear or log")->check(CLI::IsMember({"linear", "log"}));
  sub->callback([o] { RunCommand([o] { return RunReport(*o); }); });
}

}  // namespace paretonas::experiments

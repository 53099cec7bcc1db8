// The one renderer of a run (experiments/report.h), on a state built by hand: what the page says
// of noisy latencies, infeasible trials, the front of the axes shown, the hypervolume chart; and
// trials.jsonl's feasibility (issue #54).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "evaluator/latency_estimate.h"
#include "experiments/experiment_config.h"
#include "experiments/report.h"
#include "search/front.h"
#include "search/run_files.h"
#include "test_paths.h"

namespace paretonas::experiments {
namespace {

const char* kConfig = R"(name: r
space: {name: nb201, set: {channels: 4}}
dataset: {name: synthetic, validation: 100}
objectives:
  - {metric: val_accuracy, goal: max}
  - {metric: latency_ms, goal: min}
constraints: ["latency_ms <= 5"]
budget: {max_evals: 20}
)";

search::Trial Complete(std::int64_t id, double acc, double ms, double bytes) {
  search::Trial t;
  t.id = id;
  t.key = "arch" + std::to_string(id);
  t.state = search::TrialState::kComplete;
  t.metrics = {{"val_accuracy", acc}, {"latency_ms", ms}, {"model_bytes", bytes}, {"latency_ci_ms", 0.01 * ms},
               {"latency_passes", 30}, {"latency_noisy", 0}};
  return t;
}

struct Fixture {
  ExperimentConfig config = ParseExperiment(kConfig, "r.yaml", {});
  search::Problem problem;
  search::SearchState state;
  Fixture() {
    problem.objectives = config.objectives;
    problem.constraints = config.constraints;
    // #0, #1: the front on accuracy/latency; #2 dominated there but the smallest model;
    // #3 infeasible (latency 6 > 5) and better than everything in accuracy.
    state.trials = {Complete(0, 90, 2.0, 5000), Complete(1, 80, 1.0, 4000), Complete(2, 70, 3.0, 1000),
                    Complete(3, 99, 6.0, 3000)};
    // #1's latency noisy because the machine was oversubscribed (recorded), #0's from an older
    // run (derived: its interval is wider than +-3%).
    state.trials[1].metrics["latency_noisy"] = 1;
    state.trials[1].metrics["latency_noisy_reasons"] = evaluator::kNoisyOversubscribed;
    state.trials[0].metrics["latency_noisy"] = 1;
    state.trials[0].metrics["latency_ci_ms"] = 0.2;
    state.hv_history = {0.5, 0.6};
    state.hv_evals = {2, 4};
  }
  RunView View() const {
    RunView v;
    v.title = "r";
    v.config = &config;
    v.state = &state;
    v.problem = &problem;
    v.front = search::ParetoFront(state, problem);  // what LiveRun::View() keeps
    v.condition = {"finished", "finished", 0};
    return v;
  }
};

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(Report, InfeasibleTrialsAreCrossesNeverOnAFrontAndSayWhichConstraint) {
  Fixture f;
  const std::string page = RenderReport(f.View());
  EXPECT_EQ(Count(page, "class='infeasible'"), 1u);
  EXPECT_NE(page.find("infeasible: violates latency_ms &lt;= 5"), std::string::npos);
  EXPECT_NE(page.find("infeasible (1)"), std::string::npos);
  EXPECT_NE(page.find("Pareto front (2)"), std::string::npos);  // #0 and #1, not the infeasible #3
  EXPECT_NE(page.find("dominated (1)"), std::string::npos);
  const auto front = search::ParetoFront(f.state, f.problem);
  EXPECT_EQ(front, (std::vector<std::int64_t>{0, 1}));
}

TEST(Report, TheFrontIsTheOneOfTheAxesShownAndTheSearchsFrontIsOutlined) {
  Fixture f;
  RenderOptions o;
  o.plot = {"model_bytes", "val_accuracy"};  // smaller is better; #2 (1,000 bytes) joins, #0 and #1 stay
  const std::string body = RenderRunBody(f.View(), o);
  EXPECT_NE(body.find("front on these axes (3)"), std::string::npos) << body.substr(body.find("<svg"), 4000);
  EXPECT_NE(body.find("The green line is the front on the axes shown"), std::string::npos);
  EXPECT_NE(body.find("model_bytes down"), std::string::npos);
  // The search's 2 front members, outlined; the caption counts them.
  EXPECT_NE(body.find("holds 2 trial(s): 2 of them drawn here, outlined in black"), std::string::npos);
  // On its own axes, no caption: the two fronts are one.
  o.plot = DefaultPlot(f.problem);
  EXPECT_EQ(RenderRunBody(f.View(), o).find("The green line is the front on the axes shown"), std::string::npos);
}

// Several runs on one plot (serve A B, report A B): a run with no point on the chosen axes says
// why; their hypervolumes in one common box, explained (issue #56).
TEST(Report, SeveralRunsShareABoxAndARunWithoutPointsSaysWhy) {
  Fixture f, g;
  for (auto& t : g.state.trials) t.metrics.erase("model_bytes");
  std::vector<OverlayRun> runs{{"a", "", &f.state, &f.problem}, {"b", "", &g.state, &g.problem}};
  const std::string plot = FrontsOverlay(runs, {"model_bytes", "val_accuracy"});
  EXPECT_NE(plot.find("b: no point on these axes: none of its 4 complete trials has both model_bytes and "
                      "val_accuracy"), std::string::npos);
  EXPECT_EQ(plot.find("a: no point"), std::string::npos);
  const std::string page = RenderReports({f.View(), g.View()}, DefaultPlot(f.problem));
  EXPECT_NE(page.find("hypervolume, common box"), std::string::npos);
  EXPECT_NE(page.find("these compare"), std::string::npos);
  EXPECT_NE(page.find("id='run1'"), std::string::npos);
}

TEST(Report, NoisyLatenciesGiveTheirRealReasonAndTheIntervalAsDefined) {
  Fixture f;
  const std::string page = RenderReport(f.View());
  EXPECT_NE(page.find("2 of 4 measured latencies are noisy"), std::string::npos);
  EXPECT_NE(page.find("1 because more threads were ready to run than cores + 1"), std::string::npos);
  EXPECT_NE(page.find("1 because its two fastest rounds did not agree within the target"), std::string::npos);
  EXPECT_EQ(page.find("95% interval"), std::string::npos);  // not what the interval is
  EXPECT_NE(page.find("plus or minus the distance between its two fastest rounds"), std::string::npos);
}

TEST(Report, TheHypervolumeChartsLabelFitsAndItsBoxIsExplained) {
  Fixture f;
  const std::string page = RenderReport(f.View());
  EXPECT_NE(page.find("rotate(-90)' font-size='13' text-anchor='middle'>hypervolume</text>"), std::string::npos);
  EXPECT_NE(page.find("In the box of the first front"), std::string::npos);
}

TEST(TrialsJsonl, SaysWhetherATrialIsFeasibleAndWhatItViolates) {
  Fixture f;
  const std::string dir = testing::TempDir("report-jsonl");
  search::WriteTrialFiles(dir, f.state, f.problem);
  std::ifstream in(dir + "/trials.jsonl");
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find("\"feasible\":true"), std::string::npos) << lines[0];
  EXPECT_NE(lines[3].find("\"feasible\":false,\"violated\":[\"latency_ms <= 5\"]"), std::string::npos) << lines[3];
}

}  // namespace
}  // namespace paretonas::experiments

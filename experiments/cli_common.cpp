#include "experiments/cli_common.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <unistd.h>

#include "evaluator/command_evaluator.h"
#include "evaluator/table_evaluator.h"
#include "evaluator/train_evaluator.h"
#include "experiments/onnx_export.h"
#include "experiments/run_directory.h"
#include "experiments/config_sections.h"
#include "experiments/torchscript_export.h"
#include "search/run_files.h"
#include "search/search_loop.h"
#include "space/input_error.h"

namespace paretonas::experiments {

int& CommandExitCode() {
  static int code = kExitOk;
  return code;
}

void RunCommand(const std::function<int()>& body) {
  try {
    CommandExitCode() = body();
  } catch (const InputError& e) {
    std::cerr << "paretonas: error: " << e.what() << "\n";
    CommandExitCode() = kExitUsage;
  } catch (const search::RunFileError& e) {
    std::cerr << "paretonas: error: " << e.what() << "\n";
    CommandExitCode() = kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "paretonas: error: " << e.what() << "\n";
    CommandExitCode() = kExitFailure;
  }
}

void NotImplemented(const std::string& what) {
  std::cerr << "paretonas: " << what << ": not implemented yet\n";
  CommandExitCode() = kExitNotImplemented;
}

ExperimentConfig LoadRunConfig(const std::string& run_dir, const std::vector<std::string>& overrides) {
  RefuseFileAsRunDirectory(run_dir);
  const RunPaths paths(run_dir);
  std::ifstream in(paths.config());
  if (!in) throw InputError(paths.dir + ": not a run directory (no config.yaml)");
  std::stringstream text;
  text << in.rdbuf();
  return ParseExperiment(text.str(), paths.config(), overrides);
}

LoadedRun LoadRun(const std::string& run_dir) {
  LoadedRun run;
  run.config = LoadRunConfig(run_dir);
  run.state = search::LoadCheckpoint(RunPaths(run_dir).checkpoint());
  run.session = MakeSession(run.config, false);
  return run;
}

space::InputSpec ParseInputOption(const std::string& input, int classes, const std::string& space_name) {
  space::InputSpec in;
  in.num_classes = classes;
  if (input.empty()) {
    in.shape = space_name == "mobilenet" ? space::TensorShape{1, 28, 28} : space::TensorShape{3, 32, 32};
    return in;
  }
  int c = 0, h = 0, w = 0;
  char x1 = 0, x2 = 0;
  std::istringstream is(input);
  if (!(is >> c >> x1 >> h >> x2 >> w) || x1 != 'x' || x2 != 'x' || c < 1 || h < 1 || w < 1 ||
      !is.eof()) {
    throw InputError("--input '" + input + "': expected CxHxW, e.g. 1x28x28");
  }
  in.shape = {c, h, w};
  return in;
}

std::map<std::string, std::string> ParseSpaceSets(const std::vector<std::string>& sets) {
  std::map<std::string, std::string> out;
  for (const auto& s : sets) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError("--set '" + s + "': expected name=value, e.g. --set channels=8");
    out[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return out;
}

std::string GraphJson(const space::SearchSpace& sp, const space::Genotype& g) {
  const space::NetworkPlan plan = sp.Plan(g);
  std::ostringstream os;
  os << "{\"input\":" << plan.input << ",\"output\":" << plan.output << ",\"vertices\":[";
  for (size_t v = 0; v < plan.vertices.size(); ++v) {
    const auto& s = plan.vertices[v];
    os << (v ? "," : "") << "{\"id\":" << v << ",\"shape\":[" << s.c << "," << s.h << "," << s.w << "]}";
  }
  os << "],\"edges\":[";
  bool first = true;
  for (const auto& e : plan.edges) {
    if (e.op.kind == space::OpKind::kNone) continue;
    os << (first ? "" : ",") << "{\"id\":" << e.id << ",\"src\":" << e.src << ",\"dst\":" << e.dst
       << ",\"op\":" << search::JsonString(e.op.Label()) << ",\"live\":" << (e.live ? "true" : "false") << "}";
    first = false;
  }
  os << "]}";
  return os.str();
}

PendingCounts CountPending(const search::SearchState& state, const search::Journal::ReadResult& journal) {
  std::set<std::int64_t> in_journal;
  for (const auto& e : journal.entries)
    // Rung and pre-screen results are not evaluations (see status).
    if (e.result.rung == -1) in_journal.insert(e.result.trial_id);
  PendingCounts c;
  for (auto id : state.pending) {
    if (id < 0 || id >= static_cast<std::int64_t>(state.trials.size()) || state.trials[id].finished())
      continue;
    ++(in_journal.count(id) ? c.journaled : c.to_run);
  }
  return c;
}

predictors::LatencyModel LoadLatencyPredictor(const std::string& path) {
  try {
    return predictors::LatencyModel::Load(path);
  } catch (const std::runtime_error& e) {
    throw InputError(std::string("evaluator.latency.predictor: ") + e.what());
  }
}

ExportInput MakeExportInput(const ExperimentConfig& config, const space::InputSpec& in, bool baked) {
  ExportInput e;
  e.shape = {in.shape.c, in.shape.h, in.shape.w};
  evaluator::DatasetNormalization(config.dataset, &e.mean, &e.std, &e.pixel_max);
  e.class_names = evaluator::DatasetClassNames(config.dataset);
  if (static_cast<int>(e.class_names.size()) != in.num_classes) e.class_names.clear();
  e.baked = baked;
  return e;
}

namespace {

std::string JsonList(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + search::JsonNumber(v[i]);
  return s + "]";
}

/// What a training command is told besides its candidate: the dataset (with its normalisation)
/// and the recipe of the experiment file, as JSON members of the request.
std::string CommandContext(const ExperimentConfig& c, const space::InputSpec& in) {
  const auto& d = c.dataset;
  std::vector<double> mean, sd;
  double pixel_max = 1;
  evaluator::DatasetNormalization(d, &mean, &sd, &pixel_max);
  std::ostringstream j;
  j << "\"dataset\": {\"name\": " << search::JsonString(d.name)
    << ", \"path\": " << search::JsonString(d.path.empty() ? d.DefaultPath() : d.path);
  if (d.name == "idx")
    j << ", \"train_images\": " << search::JsonString(d.train_images) << ", \"train_labels\": "
      << search::JsonString(d.train_labels);
  j << ", \"input_shape\": [" << in.shape.c << ", " << in.shape.h << ", " << in.shape.w
    << "], \"classes\": " << in.num_classes << ", \"pixel_max\": " << search::JsonNumber(pixel_max)
    << ", \"mean\": " << JsonList(mean) << ", \"std\": " << JsonList(sd)
    << ", \"validation\": " << d.validation << ", \"train_subset\": " << d.train_subset
    << ", \"split_seed\": " << d.split_seed << ", \"augment\": " << (d.augment ? "true" : "false") << "},\n  ";
  const auto& t = c.training;
  j << "\"training\": {\"epochs\": " << t.epochs << ", \"steps\": " << t.steps
    << ", \"batch_size\": " << t.batch_size << ", \"optimizer\": " << search::JsonString(t.optimizer)
    << ", \"lr\": " << search::JsonNumber(t.lr) << ", \"momentum\": " << search::JsonNumber(t.momentum)
    << ", \"weight_decay\": " << search::JsonNumber(t.weight_decay)
    << ", \"label_smoothing\": " << search::JsonNumber(t.label_smoothing)
    << ", \"threads\": " << t.threads_per_worker << "}";
  return j.str();
}

}  // namespace

std::unique_ptr<Session> MakeSession(const ExperimentConfig& config, bool with_evaluator) {
  auto s = std::make_unique<Session>();
  s->config = config;
  s->space = std::make_unique<space::SearchSpace>(space::SearchSpace::Load(
      config.space_path.empty() ? config.space : config.space_path, config.space_set,
      evaluator::DatasetInput(config.dataset)));
  s->problem.space = s->space.get();
  s->problem.objectives = config.objectives;
  s->problem.constraints = config.constraints;
  for (size_t i = 0; i < config.search.enqueue.size(); ++i) {
    const std::string& key = config.search.enqueue[i];
    try {
      s->space->ParseKey(key);
    } catch (const InputError& e) {
      throw InputError("search.enqueue[" + std::to_string(i) + "]: '" + key + "' is not an architecture of " +
                       s->space->name() + ": " + e.what());
    }
  }
  s->strategy = search::CreateStrategy(config.search);
  if (!with_evaluator) return s;
  if (evaluator::mpi::Active() && evaluator::mpi::Rank() == 0) {
    // Rank 0 only searches; the workers load the data and train.
    // The worker ranks read the space file by its absolute path (a run directory names the copy
    // beside its config.yaml, which they do not read).
    ExperimentConfig sent = config;
    if (!config.space_path.empty() && config.space_path != config.space) {
      sent.space = config.space_path;
      if (char* real = ::realpath(config.space_path.c_str(), nullptr)) {
        sent.space = real;
        std::free(real);
      }
    }
    s->remote = std::make_unique<evaluator::mpi::RemoteEvaluator>(sent.ToYaml());
  } else {
    if (config.evaluator_kind == "table") {
      s->evaluator = std::make_unique<evaluator::TableEvaluator>(config.table, s->space.get());
    } else if (config.evaluator_kind == "command") {
      evaluator::CommandOptions co;
      co.command = config.command;
      co.timeout_s = config.command_timeout;
      co.work_dir = config.run_dir;
      co.device = config.training.device;
      co.context_json = CommandContext(config, s->space->input());
      const space::SearchSpace* sp = s->space.get();
      const ExportInput feed = MakeExportInput(config, sp->input(), false);
      auto writer = [sp, feed](const evaluator::EvalRequest& req, const std::string& dir) {
        ExportTorchScript(*sp, req.genotype, "", req.seed, dir + "/model.torchscript.pt", &feed);
        if (OnnxSupported()) ExportOnnx(*sp, req.genotype, "", req.seed, dir + "/model.onnx", &feed);
        search::WriteFileAtomic(dir + "/graph.json", GraphJson(*sp, req.genotype) + "\n");
      };
      s->evaluator = std::make_unique<evaluator::CommandEvaluator>(*s->space, co, config.training, writer);
    } else {
      evaluator::TrainOptions training = config.training;
      // The sizes of the files export writes, computed only when the search uses one.
      std::vector<std::string> sizes;
      for (const std::string& m : {"torchscript_bytes", "onnx_bytes", "int8_torchscript_bytes", "int8_onnx_bytes"})
        for (const auto& used : config_parse::MetricsUsed(config))
          if (used == m) sizes.push_back(m);
      if (!sizes.empty()) {
        for (const auto& m : sizes)
          if (m.find("onnx") != std::string::npos && !OnnxSupported())
            throw InputError(config.file + ": metric '" + m + "' is the size of the ONNX file export writes, and "
                             "this paretonas was built without ONNX support (install libonnx-dev and rebuild)");
        const space::TensorShape in = s->space->input().shape;
        const auto feed = std::make_shared<ExportInput>(MakeExportInput(config, s->space->input(), false));
        const std::string name = s->space->name();
        training.file_bytes = [sizes, in, feed, name](space::GraphNet& net, const evaluator::Int8Net* q,
                                                      std::map<std::string, double>* metrics) {
          AddExportFileBytes(net, q, in, feed.get(), name, sizes, metrics);
        };
      }
      s->evaluator = std::make_unique<evaluator::TrainEvaluator>(*s->space, config.dataset, training);
    }
    evaluator::Evaluator* inner = s->evaluator.get();
    if (config.cache) {
      s->cache = std::make_unique<evaluator::CachingEvaluator>(
          *inner, config.training.Signature(), config.search.dedup != search::StrategyOptions{}.dedup);
      inner = s->cache.get();
    }
    s->pool = std::make_unique<evaluator::WorkerPool>(
        *inner, config.ResolvedWorkers(evaluator::mpi::WorkerRanksOnThisNode()));
    if (evaluator::mpi::Active()) return s;  // a worker rank: rank 0 applies the predictor
  }
  if (!config.latency_predictor.empty()) {
    s->predicted = std::make_unique<PredictedLatency>(s->evaluation(), *s->space,
                                                      LoadLatencyPredictor(config.PredictorPath()),
                                                      config.latency_predictor, config.latency_online,
                                                      config.training.deploy_precision);
  }
  return s;
}

evaluator::mpi::WorkerEngine MakeWorkerEngine(const std::string& experiment_text) {
  const ExperimentConfig config = ParseExperiment(experiment_text, "the experiment from rank 0", {});
  std::shared_ptr<Session> session = MakeSession(config, true);
  evaluator::mpi::WorkerEngine engine;
  engine.pool = session->pool.get();
  engine.owner = std::move(session);
  return engine;
}

namespace {
std::string Num(double v) {
  char buf[32];
  if (!std::isfinite(v)) return "-";
  if (std::abs(v) >= 1e4 && std::floor(v) == v) std::snprintf(buf, sizeof(buf), "%.0f", v);
  else std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}
}  // namespace

std::string FrontTable(const search::SearchState& state, const search::Problem& problem,
                       std::size_t max_arch_chars) {
  const auto front = search::ParetoFront(state, problem);
  std::vector<std::string> cols{"id"};
  for (const auto& o : problem.objectives) cols.push_back(o.metric);
  for (const char* extra : {"params", "macs", "latency_ms"}) {
    if (std::none_of(problem.objectives.begin(), problem.objectives.end(),
                     [&](const search::Objective& o) { return o.metric == extra; }))
      cols.push_back(extra);
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<std::int64_t> ids(front.begin(), front.end());
  // Sort by the first objective, best first.
  std::sort(ids.begin(), ids.end(), [&](std::int64_t a, std::int64_t b) {
    return problem.ObjectiveVector(state.trials[a])[0] < problem.ObjectiveVector(state.trials[b])[0];
  });
  for (auto id : ids) {
    const auto& t = state.trials[id];
    std::vector<std::string> row{std::to_string(t.id)};
    for (size_t c = 1; c < cols.size(); ++c) {
      auto it = t.metrics.find(cols[c]);
      row.push_back(it == t.metrics.end() ? "-" : Num(it->second));
    }
    std::string arch = t.key;
    if (arch.size() > max_arch_chars) arch = arch.substr(0, max_arch_chars - 3) + "...";
    row.push_back(arch);
    rows.push_back(row);
  }
  cols.push_back("arch");
  std::vector<size_t> width(cols.size());
  for (size_t c = 0; c < cols.size(); ++c) {
    width[c] = cols[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  std::ostringstream os;
  auto line = [&](const std::vector<std::string>& r) {
    for (size_t c = 0; c < r.size(); ++c) {
      if (c + 1 == r.size()) os << r[c];
      else os << std::string(width[c] - r[c].size(), ' ') << r[c] << "  ";
    }
    os << "\n";
  };
  line(cols);
  for (const auto& r : rows) line(r);
  if (rows.empty()) os << "(no feasible architecture evaluated yet)\n";
  return os.str();
}

namespace {
/// "12m05s" (or "1h05m") style durations for progress lines.
std::string Duration(double s) {
  const int t = static_cast<int>(std::lround(std::max(0.0, s)));
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", t / 3600, t / 60 % 60);
  else std::snprintf(buf, sizeof buf, "%dm%02ds", t / 60, t % 60);
  return buf;
}
}  // namespace

ProgressLine::ProgressLine(bool newline_at_end)
    : start_(std::chrono::steady_clock::now()),
      last_print_(start_ - std::chrono::hours(1)),
      tty_(::isatty(STDERR_FILENO) != 0),
      newline_at_end_(newline_at_end) {}

void ProgressLine::Update(double fraction, const std::function<std::string()>& text) {
  const auto now = std::chrono::steady_clock::now();
  const bool done = fraction >= 1;
  const double tenth = std::floor(10 * fraction);
  if (tty_ ? now - last_print_ < std::chrono::seconds(1) && !done : tenth <= last_tenth_) return;
  last_print_ = now;
  last_tenth_ = tenth;
  const double s = std::chrono::duration<double>(now - start_).count();
  std::cerr << (tty_ ? "\r" : "") << text() << "  eta "
            << Duration(fraction > 0 ? s / fraction * (1 - fraction) : 0) << "   "
            << (!tty_ || (done && newline_at_end_) ? "\n" : "") << std::flush;
}

const CLI::Validator& NonNegative() {
  static const CLI::Validator v(
      [](std::string& text) -> std::string {
        double x = 0;
        try {
          std::size_t used = 0;
          x = std::stod(text, &used);
          if (used != text.size()) throw std::invalid_argument(text);
        } catch (const std::exception&) {
          return "'" + text + "' is not a number (allowed: 0 or more)";
        }
        return x >= 0 ? std::string() : "'" + text + "' is negative (allowed: 0 or more)";
      },
      "NUMBER >= 0");
  return v;
}

}  // namespace paretonas::experiments

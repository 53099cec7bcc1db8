// `paretonas search` and `paretonas resume`.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "evaluator/measure.h"
#include "evaluator/train_evaluator.h"
#include "experiments/cli_common.h"
#include "experiments/run_directory.h"
#include "search/progress_text.h"
#include "search/run_files.h"
#include "search/search_loop.h"
#include "space/input_error.h"

namespace paretonas::experiments {
namespace {

struct SearchOptions {
  std::string config;
  std::string run_dir;
  std::vector<std::string> sets;
  std::int64_t seed = -1;
  std::int64_t max_evals = -1;
  int generations = -1;
  double seconds = -1;
  bool quiet = false;
  bool online = false;
};

struct ResumeOptions {
  std::string run_dir;
  std::int64_t max_evals = -1;
  int generations = -1;
  double seconds = -1;
  bool quiet = false;
  bool accept_int8_arithmetic = false;
};

/// RUN/int8.json of an int8 search: the arithmetic its int8 accuracies were computed with (two
/// processes with the same one compute the same int8 outputs) and, for the record, the CPU.
std::string Int8RecordJson(const std::vector<std::pair<std::string, std::string>>& arithmetic,
                           const std::string& resumed, const std::string& warning = "") {
  std::ostringstream js;
  js << "{";
  for (const auto& [k, v] : arithmetic) js << search::JsonString(k) << ": " << search::JsonString(v) << ", ";
  js << "\"cpu\": " << search::JsonString(evaluator::CpuModelName())
     << ", \"vnni\": " << (evaluator::CpuInt8HasVnni() ? "true" : "false");
  if (!warning.empty()) js << ", \"warning\": " << search::JsonString(warning);
  if (!resumed.empty()) js << ", \"resumed_with_another_arithmetic\": " << search::JsonString(resumed);
  js << "}\n";
  return js.str();
}

bool DeploysInt8(const ExperimentConfig& c) {
  return c.BuildsNetworks() && c.training.deploy_precision == "int8";
}

/// Refuses to resume an int8 search whose trials were computed with another int8 arithmetic than
/// this process's (another engine; 8-bit weights, before 7-bit ones made every x86 CPU compute
/// alike), unless `accept`: then the change is recorded in RUN/int8.json.
void CheckInt8Arithmetic(const RunPaths& paths, bool accept) {
  const auto now = evaluator::Int8ArithmeticOfThisProcess();
  std::string differs;
  std::string before_cpu;
  try {
    const YAML::Node before = YAML::LoadFile(paths.int8());
    for (const auto& [k, v] : now) {
      const std::string was = before[k] ? before[k].as<std::string>() : "(not recorded)";
      if (was != v) differs += "\n  " + k + ": " + was + " -> " + v;
    }
    if (before["cpu"]) before_cpu = before["cpu"].as<std::string>();
  } catch (const YAML::BadFile&) {
    differs = "\n  " + paths.int8() + " is missing: the run was started by a paretonas that quantized "
              "weights to 8 bits, which CPUs without VNNI (AVX2) compute differently; this one uses 7 bits";
  } catch (const YAML::Exception& e) {
    throw InputError(paths.int8() + ": unreadable (" + std::string(e.what()) + ")");
  }
  if (differs.empty()) return;
  if (!accept)
    throw InputError(paths.dir + ": its int8 trials were computed with another int8 arithmetic than this "
                     "process's, so its int8 accuracies and the ones a resume adds would not compare" +
                     (before_cpu.empty() ? std::string() : " (started on " + before_cpu + ")") + ":" + differs +
                     "\nresume it where it started, or pass --accept-int8-arithmetic to continue anyway "
                     "(recorded in " + paths.int8() + ")");
  std::cerr << "paretonas: warning: resuming with another int8 arithmetic (--accept-int8-arithmetic):" << differs
            << "\n";
  std::string flat = differs;
  std::replace(flat.begin(), flat.end(), '\n', ';');
  search::WriteFileAtomic(paths.int8(), Int8RecordJson(now, flat));
}

/// A search on predicted latency (measure: false) ends by measuring its front for real on this
/// machine; both numbers are kept (latency_ms next to predicted_latency_ms; with deploy.precision
/// int8, the int8 models are timed: int8_latency_ms).
void MeasureFrontIfPredicted(Session& session, search::SearchState& state, const RunPaths& paths) {
  const ExperimentConfig& c = session.config;
  if (!session.predicted || !c.BuildsNetworks() || c.training.measure_latency) return;
  const auto front = search::ParetoFront(state, session.problem);
  evaluator::MeasureOptions mo;
  mo.device = c.training.device;
  mo.threads = c.training.latency_threads;
  mo.warmup = c.training.latency_warmup;
  mo.repeats = c.training.latency_repeats;
  mo.rounds = evaluator::DefaultRounds(mo.repeats);  // interleaved, as `latency measure` does
  mo.precision = c.training.deploy_precision;
  const std::string prefix = mo.precision == "int8" ? "int8_" : "";
  std::vector<std::int64_t> ids;
  std::vector<space::Genotype> archs;
  for (std::int64_t id : front) {
    const search::Trial& t = state.trials[static_cast<std::size_t>(id)];
    if (t.metrics.count(prefix + "latency_ms")) continue;
    ids.push_back(id);
    archs.push_back(t.genotype);
  }
  std::cout << "\nmeasuring the " << ids.size() << " front members for real"
            << (prefix.empty() ? "" : ", as int8 models") << " (predicted -> measured ms):\n";
  const auto measured = evaluator::MeasureArchitectures(*session.space, archs, mo);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::int64_t id = ids[i];
    search::Trial& t = state.trials[static_cast<std::size_t>(id)];
    const evaluator::Measured& m = measured[i];
    std::map<std::string, double> metrics;
    evaluator::AddLatencyMetrics(m, &metrics);
    for (const auto& [key, v] : metrics) t.metrics[prefix + key] = v;
    const auto p = t.metrics.find("predicted_latency_ms");
    std::cout << "  #" << id << "  " << (p == t.metrics.end() ? -1.0 : p->second) << " -> "
              << m.median_ms << "\n";
  }
  search::WriteTrialFiles(paths.dir, state, session.problem);
  search::SaveCheckpoint(paths.checkpoint(), state);
}

int DriveImpl(Session& session, search::SearchState& state, const RunPaths& paths, bool quiet);

/// A run directory stands on its own: resume, status, report and export work from any working
/// directory, and after the directory is moved or copied to another machine. The space file and
/// the latency predictor are copied beside config.yaml (space.yaml, latency-predictor.model),
/// which names the copies; the data's paths are recorded absolutely.
void KeepInRunDirectory(ExperimentConfig& config, const RunPaths& paths) {
  auto copy = [&](const std::string& from, const std::string& name) {
    std::ifstream in(from, std::ios::binary);
    if (!in) throw InputError(from + ": cannot read it to keep a copy in the run directory");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    search::WriteFileAtomic(paths.dir + "/" + name, bytes.str());
  };
  const auto presets = space::SearchSpace::PresetNames();
  if (std::find(presets.begin(), presets.end(), config.space) == presets.end()) {
    copy(config.space_path.empty() ? config.space : config.space_path, "space.yaml");
    config.space = "space.yaml";
    config.space_path = paths.dir + "/space.yaml";
  }
  if (!config.latency_predictor.empty()) {
    copy(config.PredictorPath(), "latency-predictor.model");
    config.latency_predictor = "latency-predictor.model";
    config.latency_predictor_path = paths.dir + "/latency-predictor.model";
  }
  auto absolute = [](std::string& p) {
    if (p.empty() || p[0] == '/') return;
    if (char* real = ::realpath(p.c_str(), nullptr)) {
      p = real;
      std::free(real);
    }
  };
  auto& d = config.dataset;
  for (std::string* p : {&d.path, &d.train_images, &d.train_labels, &d.test_images, &d.test_labels, &d.cache_dir})
    absolute(*p);
  if (!config.supernet_dir.empty()) {  // the supernet stays where it is (large): named absolutely
    std::string dir = config.training.supernet.substr(0, config.training.supernet.size() - std::string("/supernet.pt").size());
    absolute(dir);
    config.supernet_dir = dir;
    config.training.supernet = dir + "/supernet.pt";
  }
}

/// Drives the search and records how it ended (RunPaths::ended), for `status`.
int Drive(Session& session, search::SearchState& state, const RunPaths& paths, bool quiet) {
  ::unlink(paths.ended().c_str());
  try {
    return DriveImpl(session, state, paths, quiet);
  } catch (const std::exception& e) {
    RecordEnd(paths.dir, "error", e.what());
    throw;
  }
}

int DriveImpl(Session& session, search::SearchState& state, const RunPaths& paths, bool quiet) {
  std::cout << "paretonas: " << session.config.name << " | space " << session.space->name()
            << " (" << session.space->decisions().size() << " decisions) | "
            << session.strategy->options().name << " | " << session.batch().Describe() << "\n";
  if (session.remote) {
    session.remote->set_resume_command("paretonas resume " + paths.dir);
    for (const std::string& line : session.remote->worker_lines()) std::cout << "  " << line << "\n";
  }
  if (session.config.fidelity.enabled())
    std::cout << "  fidelity: successive halving over " << session.config.fidelity.Describe()
              << "; training states in " << paths.dir << "/states\n";
  if (session.config.prescreen.enabled()) {
    const auto& so = session.strategy->options();
    std::cout << "  pre-screen: each generation's " << (so.batch > 0 ? so.batch : so.population)
              << " proposals scored without training; the best " << session.config.prescreen.keep
              << " go on (by " << session.config.prescreen.Describe() << ")\n";
  }
  std::cout.flush();
  search::RunOptions options;
  options.run_dir = paths.dir;
  options.max_evals = session.config.max_evals;
  options.max_generations = session.config.generations;
  options.max_seconds = session.config.budget_seconds;
  options.fidelity = session.config.fidelity;
  options.prescreen = session.config.prescreen;
  options.inherit_weights = session.config.inherit_weights;
  options.max_failures_in_a_row = session.config.max_failures_in_a_row;
  // Latencies measured by this process (not looked up in a table): each generation's together,
  // journaled before it trains (an MPI cluster's evaluator cannot, and measures them as before).
  options.latency_stage = session.config.evaluator_kind != "table" && session.config.training.measure_latency;
  options.stop = InstallStopHandlers();
  options.log = [quiet](const std::string& line) {
    if (!quiet || line.rfind("generation", 0) == 0 || line.rfind("warning", 0) == 0) {
      std::cout << line << "\n";
      std::cout.flush();
    }
  };
  if (session.predicted) session.predicted->Seed(state);
  const search::RunSummary summary =
      search::RunSearch(session.problem, *session.strategy, state, session.batch(), options);
  if (summary.termination != search::RunSummary::Termination::kInterrupted)
    MeasureFrontIfPredicted(session, state, paths);
  std::cout << "\n" << summary.BriefReport() << "\n\nPareto front ("
            << search::ParetoFront(state, session.problem).size() << " architectures):\n"
            << FrontTable(state, session.problem) << "\nrun directory: " << paths.dir
            << "\n  trials: " << paths.trials() << "\n  front:  " << paths.front()
            << "\n  report: paretonas report " << paths.dir << " --out " << paths.dir
            << "/report.html\n";
  if (summary.termination == search::RunSummary::Termination::kFailures) {
    RecordEnd(paths.dir, "failed", summary.message);
    std::cerr << "paretonas: " << summary.message << "\nfix the cause, then `paretonas resume " << paths.dir
              << "` continues (its failed trials stay failed), or start again\n";
    return kExitFailure;
  }
  if (summary.termination == search::RunSummary::Termination::kInterrupted) {
    RecordEnd(paths.dir, "stopped", "stopped by a signal after " + std::to_string(summary.evaluations) +
                                        " evaluations");
    std::cout << "stopped: resume with `paretonas resume " << paths.dir << "`\n";
    return kExitInterrupted;
  }
  RecordEnd(paths.dir, "finished", summary.message);
  return kExitOk;
}

int RunSearchVerb(const SearchOptions& o) {
  std::vector<std::string> overrides = o.sets;
  if (o.seed >= 0) overrides.push_back("seed=" + std::to_string(o.seed));
  if (o.max_evals >= 0) overrides.push_back("budget.max_evals=" + std::to_string(o.max_evals));
  if (o.generations >= 0) overrides.push_back("budget.generations=" + std::to_string(o.generations));
  if (o.seconds >= 0) overrides.push_back("budget.seconds=" + search::JsonNumber(o.seconds));
  if (o.online) overrides.push_back("evaluator.latency.online=true");
  ExperimentConfig config = LoadExperiment(o.config, overrides);
  for (const std::string& w : config.warnings) std::cerr << "paretonas: warning: " << w << "\n";
  const RunPaths paths(o.run_dir);
  config.run_dir = paths.dir;
  const bool existed = ::access(paths.dir.c_str(), F_OK) == 0;
  MakeDirectories(paths.dir);
  RunLock lock(paths.dir);
  // A start that fails before the config is written (bad data, a worker that cannot start)
  // leaves nothing behind: not a directory that holds only the lock.
  struct CleanUpFailedStart {
    const RunPaths& paths;
    bool existed;
    bool armed = true;
    ~CleanUpFailedStart() {
      if (!armed || ::access(paths.config().c_str(), F_OK) == 0) return;
      ::unlink(paths.lock().c_str());
      ::unlink(paths.journal().c_str());
      if (!existed) ::rmdir(paths.dir.c_str());
    }
  } clean_up{paths, existed};
  // From here on SIGINT/SIGTERM stop gracefully, also while the dataset loads.
  InstallStopHandlers();
  if (::access(paths.checkpoint().c_str(), F_OK) == 0) {
    throw InputError(paths.dir + ": already holds a search; continue it with `paretonas resume " +
                     paths.dir + "` or choose another --run-dir");
  }
  KeepInRunDirectory(config, paths);
  auto session = MakeSession(config, true);
  // A journal without a checkpoint is left from a search killed before its first checkpoint.
  ::unlink(paths.journal().c_str());
  search::WriteFileAtomic(paths.config(), config.ToYaml());
  if (DeploysInt8(config)) {
    // deploy.calibration_images beyond the training set: every training image calibrates; say so
    // and keep it with the run.
    std::string warning;
    const auto* trainer = dynamic_cast<const evaluator::TrainEvaluator*>(session->evaluator.get());
    const std::int64_t used = trainer ? trainer->CalibrationImagesUsed() : 0;
    if (trainer && used < config.training.calibration_images) {
      warning = "deploy.calibration_images: " + std::to_string(config.training.calibration_images) +
                ", but the training set has " + std::to_string(used) + " images: each candidate is calibrated on all " +
                std::to_string(used);
      std::cerr << "paretonas: warning: " << warning << "\n";
    }
    search::WriteFileAtomic(paths.int8(), Int8RecordJson(evaluator::Int8ArithmeticOfThisProcess(), "", warning));
  }
  clean_up.armed = false;
  search::SearchState state;
  state.config_hash = config.Hash();
  state.config_text = config.ToYaml();
  state.strategy = config.search.name;
  state.seed = config.seed;
  state.SetRng(std::mt19937_64(config.seed));
  return Drive(*session, state, paths, o.quiet);
}

search::SearchState LoadStateWithFallback(const RunPaths& paths) {
  try {
    return search::LoadCheckpoint(paths.checkpoint());
  } catch (const search::RunFileError& e) {
    const std::string prev = paths.checkpoint() + ".prev";
    if (::access(prev.c_str(), F_OK) != 0) throw;
    std::cerr << "paretonas: warning: " << e.what() << "\nparetonas: warning: using the previous "
              << "snapshot " << prev << "; evaluations after it are replayed from the journal\n";
    return search::LoadCheckpoint(prev);
  }
}

int RunResumeVerb(const ResumeOptions& o) {
  const RunPaths paths(o.run_dir);
  RefuseFileAsRunDirectory(paths.dir);
  if (::access(paths.config().c_str(), F_OK) != 0) {
    if (::access(paths.dir.c_str(), F_OK) == 0)
      throw InputError(paths.dir + ": nothing ran here to resume (no config.yaml: the search "
                       "stopped before it wrote its config); start it with `paretonas search "
                       "--config FILE --run-dir " + paths.dir + "`");
    throw InputError(paths.dir + ": no such run directory");
  }
  RunLock lock(paths.dir);
  InstallStopHandlers();  // a stop while the dataset loads is graceful too
  std::vector<std::string> overrides;
  if (o.max_evals >= 0) overrides.push_back("budget.max_evals=" + std::to_string(o.max_evals));
  if (o.generations >= 0) overrides.push_back("budget.generations=" + std::to_string(o.generations));
  if (o.seconds >= 0) overrides.push_back("budget.seconds=" + search::JsonNumber(o.seconds));
  ExperimentConfig config = LoadRunConfig(paths.dir, overrides);
  config.run_dir = paths.dir;
  if (::access(paths.checkpoint().c_str(), F_OK) != 0 &&
      ::access((paths.checkpoint() + ".prev").c_str(), F_OK) != 0) {
    throw InputError(paths.dir + ": no checkpoint yet (the search stopped before its first "
                     "one); start it again with `paretonas search`");
  }
  search::SearchState state = LoadStateWithFallback(paths);
  if (state.config_hash != config.Hash()) {
    const auto before = FlattenYaml(state.config_text);
    const auto after = FlattenYaml(config.ToYaml());
    std::string changed;
    for (const auto& [k, v] : after) {
      if (k.rfind("budget.", 0) == 0) continue;
      auto it = before.find(k);
      if (it == before.end() || it->second != v)
        changed += "\n  " + k + ": " + (it == before.end() ? "(absent)" : it->second) + " -> " + v;
    }
    for (const auto& [k, v] : before)
      if (k.rfind("budget.", 0) != 0 && !after.count(k)) changed += "\n  " + k + ": " + v + " -> (absent)";
    throw InputError(paths.config() + ": the config changed since the search started; resume "
                     "accepts only budget changes (--max-evals, --generations, --seconds). Changed keys:" +
                     changed);
  }
  if (DeploysInt8(config)) CheckInt8Arithmetic(paths, o.accept_int8_arithmetic);
  // Counts that add up: what the checkpoint holds, what the journal adds, what is left to run.
  const auto [journaled, to_run] = CountPending(state, search::Journal::Read(paths.journal()));
  const std::int64_t done = state.NumFinished() + journaled;
  // A budget only grows: one below what is done would rewrite config.yaml to a budget the run
  // has already spent (status would say "36 of a budget of 24").
  if (o.max_evals >= 0 && o.max_evals < done)
    throw InputError("resume --max-evals " + std::to_string(o.max_evals) + ": " + paths.dir + " has done " +
                     std::to_string(done) + " evaluations already; a budget can only grow (give " +
                     std::to_string(done) + " or more, or leave --max-evals out to finish the run's own budget of " +
                     std::to_string(LoadRunConfig(paths.dir).max_evals) + ")");
  if (o.seconds >= 0 && o.seconds < state.search_seconds)
    throw InputError("resume --seconds " + search::JsonNumber(o.seconds) + ": " + paths.dir + " has searched for " +
                     search::JsonNumber(std::round(state.search_seconds)) +
                     " s already; the time budget counts every process's time and can only grow (give more)");
  if (o.generations >= 0 && o.generations < state.generation)
    throw InputError("resume --generations " + std::to_string(o.generations) + ": " + paths.dir + " has done " +
                     std::to_string(state.generation) + " generations already; a budget can only grow");
  if (!overrides.empty()) search::WriteFileAtomic(paths.config(), config.ToYaml());
  auto session = MakeSession(config, true);
  {
    std::cout << "resuming " << paths.dir << " at generation " << state.generation
              << " (numbered from 0): " << done << " evaluations done";
    if (config.budget_seconds > 0)
      std::cout << ", " << search::FormatSeconds(state.search_seconds) << " of the time budget of "
                << search::FormatSeconds(config.budget_seconds) << " spent";
    if (journaled > 0)
      std::cout << " (" << state.NumFinished() << " in the checkpoint, " << journaled
                << " more in the journal)";
    if (to_run > 0) {
      std::int64_t now = to_run;
      if (config.max_evals > 0) now = std::max<std::int64_t>(0, std::min(to_run, config.max_evals - done));
      std::cout << "; " << now << " of generation " << state.generation << "'s "
                << state.pending.size() << " to evaluate now";
      if (now < to_run) std::cout << " (" << to_run - now << " more wait for a larger --max-evals)";
    }
    std::cout << "\n";
  }
  return Drive(*session, state, paths, o.quiet);
}

}  // namespace

void SetupSearch(CLI::App& app) {
  auto o = std::make_shared<SearchOptions>();
  auto* sub = app.add_subcommand("search", "Run a multi-objective architecture search into a run directory");
  sub->add_option("-c,--config", o->config, "Experiment file (YAML or JSON)")->required()->check(CLI::ExistingFile);
  sub->add_option("-r,--run-dir", o->run_dir, "Run directory to create (config, journal, checkpoint, trials, front)")->required();
  sub->add_option("--set", o->sets, "Override a config value, e.g. --set search.population=20 (repeatable)");
  sub->add_option("--seed", o->seed, "Experiment seed (overrides the config)")->check(CLI::Range(0LL, 4294967295LL));
  sub->add_option("--max-evals", o->max_evals, "Evaluation budget (overrides budget.max_evals)")->check(NonNegative());
  sub->add_option("--generations", o->generations, "Generation budget (overrides budget.generations)")->check(NonNegative());
  sub->add_option("--seconds", o->seconds,
                  "Time budget in seconds of wall time (overrides budget.seconds): no generation starts after "
                  "it, the one running ends; `resume` counts the time already spent")
      ->check(NonNegative());
  sub->add_flag("-q,--quiet", o->quiet, "Print one line per generation instead of per evaluation");
  sub->add_flag("--online", o->online, "Refit the latency predictor (evaluator.latency.predictor) on "
                                       "every measured latency, between generations");
  sub->callback([o] { RunCommand([o] { return RunSearchVerb(*o); }); });
}

void SetupResume(CLI::App& app) {
  auto o = std::make_shared<ResumeOptions>();
  auto* sub = app.add_subcommand("resume", "Continue a stopped or killed search exactly where it was");
  sub->add_option("run_dir", o->run_dir, "Run directory of the search")->required();
  sub->add_option("--max-evals", o->max_evals, "Extend the evaluation budget")->check(NonNegative());
  sub->add_option("--generations", o->generations, "Extend the generation budget")->check(NonNegative());
  sub->add_option("--seconds", o->seconds, "Extend the time budget: the new total, the time already spent included")
      ->check(NonNegative());
  sub->add_flag("-q,--quiet", o->quiet, "Print one line per generation instead of per evaluation");
  sub->add_flag("--accept-int8-arithmetic", o->accept_int8_arithmetic,
                "An int8 search: continue although this process computes int8 networks with another "
                "arithmetic (engine, weight bits) than the one that started it (RUN/int8.json says which); "
                "the change is recorded there");
  sub->callback([o] { RunCommand([o] { return RunResumeVerb(*o); }); });
}

}  // namespace paretonas::experiments

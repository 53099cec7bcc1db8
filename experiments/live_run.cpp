#include "experiments/live_run.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "search/eval_contract.h"
#include "search/front.h"
#include "search/trial_results.h"

namespace paretonas::experiments {

RunCondition ReadRunCondition(const RunPaths& paths) {
  RunCondition c;
  c.pid = LockHolder(paths.dir);
  const std::string resume = "`paretonas resume " + paths.dir + "`";
  if (c.pid != 0) {
    c.kind = "running";
    c.text = "running (pid " + std::to_string(c.pid) + ")";
    return c;
  }
  std::ifstream in(paths.ended());
  std::string kind, message;
  if (in) {
    std::getline(in, kind);
    std::getline(in, message);
  }
  c.kind = kind;
  if (kind == "finished") {
    c.text = "finished: " + message;
  } else if (kind == "stopped") {
    c.text = message + "; continue with " + resume;
  } else if (kind == "failed") {
    c.text = "failed: " + message;
  } else if (kind == "error") {
    c.text = "stopped by an error: " + message + "; continue with " + resume;
  } else {
    c.kind = "unknown";
    c.text = "not running, and it recorded no end (killed, crashed, or run by a paretonas older than this "
             "record); continue with " + resume;
  }
  return c;
}

void ApplyInProgress(search::Trial& t, const search::EvalResult& r, const ExperimentConfig& config,
                     const search::Problem& problem, int generation) {
  const int rung = r.rung;
  if (rung == search::kLatencyRung || rung <= search::kRemeasureRung) {
    if (r.ok)
      for (const auto& [k, v] : r.metrics) t.metrics[k] = v;
  } else if (rung == -1 && !config.fidelity.enabled()) {
    search::ApplyResult(t, r, problem);
  } else if (rung >= 0 && config.fidelity.enabled() && rung <= config.fidelity.top()) {
    search::ApplyRungResult(t, r, rung, config.fidelity.rungs[static_cast<std::size_t>(rung)],
                            rung == config.fidelity.top(), problem, generation);
  }
}

LiveRun::LiveRun(std::string dir) : paths_(std::move(dir)), tail_(paths_.journal()) {}
LiveRun::~LiveRun() = default;

bool LiveRun::Relevant(std::int64_t id) const {
  return id >= 0 && (id >= static_cast<std::int64_t>(pending_.size()) || pending_[static_cast<std::size_t>(id)]);
}

void LiveRun::Apply(const search::JournalEntry& e) {
  const std::int64_t id = e.result.trial_id;
  if (!have_checkpoint_ || id < 0 || id >= static_cast<std::int64_t>(now_.trials.size()) ||
      !pending_[static_cast<std::size_t>(id)])
    return;  // a trial of a generation the checkpoint does not have yet: applied once it does
  search::Trial& t = now_.trials[static_cast<std::size_t>(id)];
  ApplyInProgress(t, e.result, *config_, session_->problem, checkpoint_generation_);
  if (e.result.rung >= 0) rung_done_[id] = std::max(rung_done_.count(id) ? rung_done_[id] : -1, e.result.rung);
}

void LiveRun::Rebuild() {
  // The pending trials as the checkpoint has them, then every kept record applied again.
  for (const search::Trial& t : pending_saved_) now_.trials[static_cast<std::size_t>(t.id)] = t;
  rung_done_.clear();
  // Records of trials the checkpoint has finished are in it: drop them.
  kept_.erase(std::remove_if(kept_.begin(), kept_.end(),
                             [&](const search::JournalEntry& e) { return !Relevant(e.result.trial_id); }),
              kept_.end());
  for (const auto& e : kept_) Apply(e);
}

bool LiveRun::Refresh() {
  bool changed = false;
  try {
    struct stat dst {};
    if (::stat(paths_.dir.c_str(), &dst) != 0 || !S_ISDIR(dst.st_mode))
      throw search::RunFileError(paths_.dir + ": the run directory is gone (deleted or moved); this page "
                                 "shows it again if it comes back");
    const RunCondition condition = ReadRunCondition(paths_);
    if (!(condition == condition_)) {
      condition_ = condition;
      changed = true;
    }
    if (!config_ && ::access(paths_.config().c_str(), F_OK) == 0) {
      config_ = LoadRunConfig(paths_.dir);
      session_ = MakeSession(*config_, false);
      changed = true;
    }
    if (config_) {
      bool rebuild = false;
      struct stat cst {};
      if (::stat(paths_.checkpoint().c_str(), &cst) == 0) {
        const FileId id{static_cast<std::uint64_t>(cst.st_ino), static_cast<std::uint64_t>(cst.st_size),
                        static_cast<std::int64_t>(cst.st_mtim.tv_sec) * 1000000000 + cst.st_mtim.tv_nsec};
        if (!(id == checkpoint_id_)) {
          now_ = search::LoadCheckpoint(paths_.checkpoint());
          checkpoint_id_ = id;
          checkpoint_generation_ = now_.generation;
          have_checkpoint_ = true;
          pending_.assign(now_.trials.size(), false);
          pending_saved_.clear();
          for (std::int64_t p : now_.pending)
            if (p >= 0 && p < static_cast<std::int64_t>(now_.trials.size())) {
              pending_[static_cast<std::size_t>(p)] = true;
              pending_saved_.push_back(now_.trials[static_cast<std::size_t>(p)]);
            }
          std::vector<std::int64_t> finished;
          for (std::size_t t = 0; t < now_.trials.size(); ++t)
            if (!pending_[t]) finished.push_back(static_cast<std::int64_t>(t));
          finished_front_ = search::ParetoFrontAmong(now_, session_->problem, finished);
          rebuild = true;
        }
      }
      search::JournalTail::Update u = tail_.Poll();
      if (u.restarted) {
        kept_.clear();
        rebuild = true;
      }
      for (auto& s : u.skipped) {
        if (std::find(notes_.begin(), notes_.end(), s) != notes_.end()) continue;  // read again after a restart
        if (notes_.size() < 20) notes_.push_back(std::move(s));
        else if (notes_.size() == 20) notes_.push_back("... more damaged records skipped");
        changed = true;
      }
      if (rebuild) {
        for (auto& e : u.entries) kept_.push_back(std::move(e));
        Rebuild();
        changed = true;
      } else {
        for (auto& e : u.entries) {
          if (!Relevant(e.result.trial_id)) continue;
          Apply(e);
          kept_.push_back(std::move(e));
          changed = true;
        }
      }
    }
    if (!error_.empty()) {
      error_.clear();
      changed = true;
    }
  } catch (const std::exception& e) {
    if (error_ != e.what()) {
      error_ = e.what();
      changed = true;
    }
  }
  if (changed) ++version_;
  return changed;
}

RunView LiveRun::View() const {
  RunView v;
  v.dir = paths_.dir;
  v.title = config_ ? config_->name : paths_.dir;
  v.config = config_ ? &*config_ : nullptr;
  v.problem = session_ ? &session_->problem : nullptr;
  v.state = have_checkpoint_ ? &now_ : nullptr;
  v.condition = condition_;
  v.notes = notes_;
  v.error = error_;
  if (have_checkpoint_) {
    std::vector<std::int64_t> among = finished_front_;
    for (std::int64_t id : now_.pending)
      if (id >= 0 && id < static_cast<std::int64_t>(now_.trials.size())) among.push_back(id);
    std::sort(among.begin(), among.end());
    among.erase(std::unique(among.begin(), among.end()), among.end());
    v.front = search::ParetoFrontAmong(now_, session_->problem, among);
    for (std::int64_t id : now_.pending) {
      if (id < 0 || id >= static_cast<std::int64_t>(now_.trials.size())) continue;
      const search::Trial& t = now_.trials[static_cast<std::size_t>(id)];
      if (t.state == search::TrialState::kComplete) ++v.in_progress_complete;
      if (t.finished() || condition_.kind != "running") continue;
      const auto it = rung_done_.find(id);
      v.in_flight.push_back({id, it == rung_done_.end() ? -1 : it->second});
    }
  }
  return v;
}

}  // namespace paretonas::experiments

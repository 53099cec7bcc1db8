#include "experiments/serve.h"

#include <dirent.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "experiments/live_run.h"
#include "experiments/report.h"
#include "search/front.h"
#include "search/run_files.h"
#include "space/input_error.h"

#ifdef PARETONAS_WITH_HTTPLIB
#include <httplib.h>
#endif

namespace paretonas::experiments {

#ifndef PARETONAS_WITH_HTTPLIB

bool ServeAvailable() { return false; }
struct LiveServer::Impl {};
LiveServer::LiveServer(std::vector<std::string>, ServeLimits) {
  throw search::RunFileError("this paretonas was built without cpp-httplib (Debian: libcpp-httplib-dev), "
                             "which `serve` needs; install it and build again");
}
LiveServer::~LiveServer() = default;
int LiveServer::Bind(const std::string&, int) { return 0; }
void LiveServer::Run() {}
void LiveServer::Stop() {}
std::uint64_t LiveServer::waits() const { return 0; }

#else

bool ServeAvailable() { return true; }

namespace {

using search::JsonNumber;
using search::JsonString;

/// httplib's thread pool with a bound: beyond `max_queued` waiting connections, the accepting
/// thread handles the next one itself, so it stops accepting until that one is done and the
/// rest wait in the kernel's listen backlog. Memory and threads stay bounded under a flood.
class BoundedQueue : public httplib::TaskQueue {
 public:
  BoundedQueue(int threads, int max_queued) : max_queued_(static_cast<std::size_t>(max_queued)) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
  }
  void enqueue(std::function<void()> fn) override {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (jobs_.size() < max_queued_) {
        jobs_.push_back(std::move(fn));
        cond_.notify_one();
        return;
      }
    }
    fn();
  }
  void shutdown() override {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      shutdown_ = true;
    }
    cond_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cond_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
        if (shutdown_ && jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      fn();
    }
  }
  std::size_t max_queued_;
  std::vector<std::thread> threads_;
  std::deque<std::function<void()>> jobs_;
  std::mutex mutex_;
  std::condition_variable cond_;
  bool shutdown_ = false;
};

/// A trial id from the path's digits; -1 when too long to be one (it is then no trial).
std::int64_t TrialId(const std::string& digits) { return digits.size() <= 12 ? std::stoll(digits) : -1; }

std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4f", v);
  return buf;
}

/// The command evaluator's `curve` of trial `id`: RUN/trials/ID/result-*.json, the newest
/// attempt. Empty when there is none or it cannot be read. The path is built from the run's
/// directory and an integer only.
std::vector<search::RungResult> CommandCurve(const std::string& run_dir, std::int64_t id) {
  const std::string dir = run_dir + "/trials/" + std::to_string(id);
  std::vector<search::RungResult> curve;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return curve;
  std::string newest;
  std::int64_t newest_ns = -1;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind("result-", 0) != 0 || name.size() < 12 || name.substr(name.size() - 5) != ".json") continue;
    struct stat st {};
    if (::stat((dir + "/" + name).c_str(), &st) != 0) continue;
    const std::int64_t ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (ns > newest_ns) {
      newest_ns = ns;
      newest = name;
    }
  }
  ::closedir(d);
  if (newest.empty()) return curve;
  try {
    const YAML::Node root = YAML::LoadFile(dir + "/" + newest);
    const YAML::Node c = root["curve"];
    if (!c || !c.IsSequence()) return curve;
    for (std::size_t i = 0; i < c.size() && i < 100000; ++i) {
      if (!c[i].IsMap()) continue;
      search::RungResult r;
      r.rung = static_cast<int>(i);
      r.resource = static_cast<double>(i + 1);
      for (const auto& kv : c[i]) {
        double v = 0;
        if (!YAML::convert<double>::decode(kv.second, v)) continue;
        const std::string k = kv.first.as<std::string>();
        if (k == "epoch") r.resource = v;
        else r.metrics[k] = v;
      }
      curve.push_back(std::move(r));
    }
  } catch (const std::exception&) {
    curve.clear();  // a result being written, or not JSON: the page shows no curve
  }
  return curve;
}

const char* kScript = R"JS(
<script>
(function () {
  const body = document.body, fragment = body.dataset.fragment + location.search;
  let version = +body.dataset.version;
  function say(text) { document.getElementById('live').textContent = text; }
  async function poll() {
    try {
      const r = await fetch('/api/wait?version=' + version + '&timeout=20', {cache: 'no-store'});
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const j = await r.json();
      if (j.version !== version) {
        const f = await fetch(fragment, {cache: 'no-store'});
        if (!f.ok) throw new Error('HTTP ' + f.status);
        document.getElementById('content').innerHTML = await f.text();
        version = j.version;
        body.dataset.version = version;
        body.dataset.updates = +body.dataset.updates + 1;
        say('live: updated ' + new Date().toLocaleTimeString());
      }
      setTimeout(poll, 200);
    } catch (e) {
      say('live: the server does not answer (' + e.message + '); trying again');
      setTimeout(poll, 3000);
    }
  }
  setTimeout(poll, 200);
})();
</script>
)JS";

}  // namespace

struct LiveServer::Impl {
  struct Run {
    std::unique_ptr<LiveRun> live;
    std::mutex mutex;
    /// Rendered pages by plot, with the run's version they show: each version is rendered once
    /// however many pages poll it.
    std::map<std::string, std::pair<std::uint64_t, std::string>> rendered;
  };
  ServeLimits limits;
  std::vector<std::unique_ptr<Run>> runs;
  httplib::Server server;
  std::mutex version_mutex;
  std::condition_variable version_changed;
  std::uint64_t version = 1;
  std::atomic<std::uint64_t> waits{0};
  std::atomic<bool> stopping{false};
  std::thread refresher;

  void RefreshAll() {
    bool changed = false;
    for (auto& r : runs) {
      std::lock_guard<std::mutex> lock(r->mutex);
      changed = r->live->Refresh() || changed;
    }
    if (changed) {
      std::lock_guard<std::mutex> lock(version_mutex);
      ++version;
      version_changed.notify_all();
    }
  }
  std::uint64_t Version() {
    std::lock_guard<std::mutex> lock(version_mutex);
    return version;
  }

  static void Html(httplib::Response& res, int status, const std::string& body) {
    res.status = status;
    res.set_content(body, "text/html; charset=utf-8");
    res.set_header("Cache-Control", "no-store");
  }
  static void Json(httplib::Response& res, int status, const std::string& body) {
    res.status = status;
    res.set_content(body, "application/json");
    res.set_header("Cache-Control", "no-store");
  }
  static std::string ErrorPage(const std::string& title, const std::string& text) {
    return PageHead(title) + "<body><h1>" + HtmlEscape(title) + "</h1><p>" + HtmlEscape(text) +
           "</p><p><a href='/'>the runs this server shows</a></p></body></html>";
  }
  /// What the page's title says of updates: `running` whether a search writes a run shown now.
  static std::string LiveNote(bool running) {
    return running ? "live: updates itself while the search runs"
                   : "no search is running here now: the page updates itself if one resumes";
  }
  std::string Shell(const std::string& title, const std::string& fragment_path, const std::string& controls,
                    const std::string& content, std::uint64_t v, bool running) const {
    std::ostringstream os;
    os << PageHead(title) << "<body data-version='" << v << "' data-updates='0' data-fragment='"
       << fragment_path << "'><h1>" << HtmlEscape(title) << " <small id='live' style='font-size:12px;color:#666'>"
       << LiveNote(running) << "</small></h1>" << controls << "<div id='content'>" << content
       << "</div>" << kScript << "</body></html>";
    return os.str();
  }

  /// Run index from the path, or -1 (the response is then set: 404).
  int RunIndex(const std::string& s, httplib::Response& res) const {
    std::size_t i = 0;
    try {
      if (s.size() > 6) throw std::out_of_range(s);
      i = std::stoul(s);
    } catch (const std::exception&) {
      i = runs.size();
    }
    if (i >= runs.size()) {
      Html(res, 404, ErrorPage("No such run", "This server shows " + std::to_string(runs.size()) +
                                                  " run(s), numbered from 0 in the order they were named."));
      return -1;
    }
    return static_cast<int>(i);
  }

  /// The plot the query asks for, or "" and a 400 response naming the bad parameter.
  bool Plot(const httplib::Request& req, const RunView& v, PlotChoice* plot, httplib::Response& res) const {
    if (!v.problem) return true;
    *plot = DefaultPlot(*v.problem);
    const std::vector<std::string> allowed = v.state ? PlotMetrics(*v.state, *v.problem) : std::vector<std::string>{};
    for (const char* axis : {"x", "y"}) {
      if (!req.has_param(axis)) continue;
      const std::string m = req.get_param_value(axis);
      if (std::find(allowed.begin(), allowed.end(), m) == allowed.end()) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        Html(res, 400, ErrorPage("Bad request", std::string("query parameter ") + axis + "='" + m +
                                                    "': not a metric of this run's trials (allowed: " + list + ")"));
        return false;
      }
      (std::string(axis) == "x" ? plot->x : plot->y) = m;
    }
    for (const char* axis : {"xscale", "yscale"}) {
      if (!req.has_param(axis)) continue;
      const std::string s = req.get_param_value(axis);
      if (s != "log" && s != "linear") {
        Html(res, 400, ErrorPage("Bad request", std::string("query parameter ") + axis + "='" + s +
                                                    "': allowed values are linear and log"));
        return false;
      }
      (std::string(axis) == "xscale" ? plot->log_x : plot->log_y) = s == "log";
    }
    return true;
  }

  static std::string Controls(const RunView& v, const PlotChoice& plot) {
    if (!v.state || !v.problem) return "";
    std::ostringstream os;
    os << "<form method='get' style='margin:8px 0'>";
    for (const char* axis : {"y", "x"}) {
      const std::string& chosen = std::string(axis) == "x" ? plot.x : plot.y;
      const bool log = std::string(axis) == "x" ? plot.log_x : plot.log_y;
      os << axis << ": <select name='" << axis << "'>";
      for (const auto& m : PlotMetrics(*v.state, *v.problem))
        os << "<option" << (m == chosen ? " selected" : "") << ">" << HtmlEscape(m) << "</option>";
      os << "</select> <select name='" << axis << "scale'><option" << (log ? "" : " selected")
         << ">linear</option><option" << (log ? " selected" : "") << ">log</option></select> &nbsp; ";
    }
    os << "<button>plot</button></form>";
    return os.str();
  }

  std::string RunJson(int index, const RunView& v, std::uint64_t run_version) const {
    std::ostringstream os;
    os << "{\"index\":" << index << ",\"name\":" << JsonString(v.title) << ",\"dir\":" << JsonString(v.dir)
       << ",\"version\":" << run_version << ",\"state\":" << JsonString(v.condition.kind)
       << ",\"state_text\":" << JsonString(v.condition.text) << ",\"error\":" << JsonString(v.error) << ",\"notes\":[";
    for (std::size_t i = 0; i < v.notes.size(); ++i) os << (i ? "," : "") << JsonString(v.notes[i]);
    os << "]";
    if (v.state && v.problem && v.config) {
      const auto& s = *v.state;
      int failed = 0, stopped = 0;
      for (const auto& t : s.trials) {
        failed += t.state == search::TrialState::kFailed;
        stopped += t.state == search::TrialState::kStopped;
      }
      os << ",\"generation\":" << s.generation << ",\"trials\":" << s.trials.size() << ",\"evaluations\":"
         << s.NumFinished() << ",\"budget\":" << v.config->max_evals << ",\"failed\":" << failed
         << ",\"stopped\":" << stopped << ",\"screened\":" << s.NumScreened() << ",\"in_flight\":[";
      for (std::size_t i = 0; i < v.in_flight.size(); ++i)
        os << (i ? "," : "") << "{\"id\":" << v.in_flight[i].id << ",\"rung_done\":" << v.in_flight[i].rung_done << "}";
      os << "],\"objectives\":[";
      for (std::size_t i = 0; i < v.problem->objectives.size(); ++i)
        os << (i ? "," : "") << "{\"metric\":" << JsonString(v.problem->objectives[i].metric)
           << ",\"goal\":" << (v.problem->objectives[i].maximize ? "\"max\"" : "\"min\"") << "}";
      os << "],\"hypervolume\":[";
      for (std::size_t i = 0; i < s.hv_history.size(); ++i)
        os << (i ? "," : "") << "{\"generation\":" << i << ",\"evaluations\":"
           << (i < s.hv_evals.size() ? s.hv_evals[i] : 0) << ",\"value\":" << JsonNumber(s.hv_history[i]) << "}";
      os << "],\"front\":[";
      const auto front = search::ParetoFront(s, *v.problem);
      for (std::size_t i = 0; i < front.size(); ++i) os << (i ? "," : "") << front[i];
      os << "]";
    }
    os << "}";
    return os.str();
  }

  void Routes() {
    using httplib::Request;
    using httplib::Response;
    auto run_page = [this](int i, const Request& req, Response& res, bool whole) {
      Run& r = *runs[static_cast<std::size_t>(i)];
      const std::uint64_t v = Version();
      std::lock_guard<std::mutex> lock(r.mutex);
      const RunView view = r.live->View();
      RenderOptions o;
      if (!Plot(req, view, &o.plot, res)) return;
      o.trial_link = "/run/" + std::to_string(i) + "/trial/";
      const std::string key = o.plot.x + '\n' + o.plot.y + '\n' + (o.plot.log_x ? "log" : "") + '\n' + (o.plot.log_y ? "log" : "");
      if (r.rendered.size() >= 16 && !r.rendered.count(key)) r.rendered.clear();  // bounded
      auto& cached = r.rendered[key];
      if (cached.second.empty() || cached.first != r.live->version()) cached = {r.live->version(), RenderRunBody(view, o)};
      const std::string& body = cached.second;
      if (!whole) return Html(res, 200, body);
      Html(res, 200, Shell(view.title, "/fragment/run/" + std::to_string(i), Controls(view, o.plot), body, v,
                           view.condition.kind == "running"));
    };
    auto index_page = [this, run_page](const Request& req, Response& res, bool whole) {
      if (runs.size() == 1) return run_page(0, req, res, whole);
      const std::uint64_t v = Version();
      std::vector<std::unique_lock<std::mutex>> locks;
      for (auto& r : runs) locks.emplace_back(r->mutex);
      std::vector<RunView> views;
      for (auto& r : runs) views.push_back(r->live->View());
      PlotChoice plot;
      for (const auto& view : views)
        if (view.problem) {
          if (!Plot(req, view, &plot, res)) return;
          break;
        }
      std::vector<OverlayRun> overlay;
      // Hypervolumes that compare: every run's front in one box (each run's own box differs).
      std::vector<const search::SearchState*> states;
      std::vector<const search::Problem*> problems;
      std::vector<int> box_index(views.size(), -1);
      for (std::size_t i = 0; i < views.size(); ++i)
        if (views[i].state && views[i].problem) {
          box_index[i] = static_cast<int>(states.size());
          states.push_back(views[i].state);
          problems.push_back(views[i].problem);
        }
      const search::CommonBox box = search::CommonBoxHypervolumes(states, problems);
      std::ostringstream os;
      os << "<table><tr><th>run</th><th>state</th><th>evaluations</th><th>front</th><th>hypervolume, common "
            "box</th><th>own box</th><th>directory</th></tr>";
      for (std::size_t i = 0; i < views.size(); ++i) {
        const RunView& view = views[i];
        const std::string link = "/run/" + std::to_string(i);
        // The run's name and its directory's (two seeds of one config share the name).
        const std::string base = view.dir.substr(view.dir.find_last_of('/', view.dir.size() - 2) + 1);
        overlay.push_back({view.title + " [" + std::to_string(i) + "] " + base, link, view.state, view.problem});
        os << "<tr><td style='text-align:left'><a href='" << link << "'>" << HtmlEscape(view.title) << " [" << i
           << "]</a></td><td style='text-align:left'><span class='state " << HtmlEscape(view.condition.kind) << "'>"
           << HtmlEscape(view.error.empty() ? view.condition.text : view.error) << "</span></td><td>"
           << (view.state ? std::to_string(view.state->NumFinished()) : "-") << "</td><td>"
           << (view.state && view.problem ? std::to_string(search::ParetoFront(*view.state, *view.problem).size()) : "-")
           << "</td><td>"
           << (box_index[i] < 0 || std::isnan(box.hv[box_index[i]])
                   ? std::string("-") + (box_index[i] >= 0 && !box.why[box_index[i]].empty()
                                             ? " <small>(" + HtmlEscape(box.why[box_index[i]]) + ")</small>"
                                             : "")
                   : Fixed(box.hv[box_index[i]]))
           << "</td><td>"
           << (view.state && !view.state->hv_history.empty() ? Fixed(view.state->hv_history.back()) : "-")
           << "</td><td style='text-align:left'><code>" << HtmlEscape(view.dir) << "</code></td></tr>";
      }
      os << "</table><p class='note'>" << CommonBoxExplanation(box) << "</p>";
      std::string body = os.str();
      if (!plot.x.empty()) body += "<h2>The runs' fronts</h2>" + FrontsOverlay(overlay, plot);
      if (!whole) return Html(res, 200, body);
      std::string controls;
      for (const auto& view : views)
        if (view.state && view.problem) {
          controls = Controls(view, plot);
          break;
        }
      const bool running = std::any_of(views.begin(), views.end(), [](const RunView& w) { return w.condition.kind == "running"; });
      Html(res, 200, Shell("paretonas: " + std::to_string(runs.size()) + " runs", "/fragment/index", controls, body, v, running));
    };
    auto trial_page = [this](int i, const std::string& id_text, const Request&, Response& res, bool whole) {
      Run& r = *runs[static_cast<std::size_t>(i)];
      const std::uint64_t v = Version();
      const std::int64_t id = TrialId(id_text);
      std::string body;
      std::string title;
      bool running = false;
      {
        std::lock_guard<std::mutex> lock(r.mutex);
        const RunView view = r.live->View();
        title = view.title + " #" + id_text;
        running = view.condition.kind == "running";
        const bool command = view.config && view.config->evaluator_kind == "command";
        body = RenderTrialBody(view, id, command ? CommandCurve(view.dir, id) : std::vector<search::RungResult>{},
                               "/run/" + std::to_string(i));
      }
      if (body.empty())
        return Html(res, 404, ErrorPage("No such trial", "Run " + std::to_string(i) + " has no trial " + id_text + "."));
      if (!whole) return Html(res, 200, body);
      Html(res, 200, Shell(title, "/fragment/run/" + std::to_string(i) + "/trial/" + id_text, "", body, v, running));
    };
    server.Get("/", [index_page](const Request& req, Response& res) { index_page(req, res, true); });
    server.Get("/fragment/index", [index_page](const Request& req, Response& res) { index_page(req, res, false); });
    server.Get(R"(/run/(\d+))", [this, run_page](const Request& req, Response& res) {
      const int i = RunIndex(req.matches[1], res);
      if (i >= 0) run_page(i, req, res, true);
    });
    server.Get(R"(/fragment/run/(\d+))", [this, run_page](const Request& req, Response& res) {
      const int i = RunIndex(req.matches[1], res);
      if (i >= 0) run_page(i, req, res, false);
    });
    server.Get(R"(/run/(\d+)/trial/(\d+))", [this, trial_page](const Request& req, Response& res) {
      const int i = RunIndex(req.matches[1], res);
      if (i >= 0) trial_page(i, req.matches[2], req, res, true);
    });
    server.Get(R"(/fragment/run/(\d+)/trial/(\d+))", [this, trial_page](const Request& req, Response& res) {
      const int i = RunIndex(req.matches[1], res);
      if (i >= 0) trial_page(i, req.matches[2], req, res, false);
    });
    server.Get("/api/runs", [this](const Request&, Response& res) {
      std::string body = "{\"version\":" + std::to_string(Version()) + ",\"runs\":[";
      for (std::size_t i = 0; i < runs.size(); ++i) {
        std::lock_guard<std::mutex> lock(runs[i]->mutex);
        body += (i ? "," : "") + RunJson(static_cast<int>(i), runs[i]->live->View(), runs[i]->live->version());
      }
      Json(res, 200, body + "]}");
    });
    server.Get(R"(/api/run/(\d+))", [this](const Request& req, Response& res) {
      const int i = RunIndex(req.matches[1], res);
      if (i < 0) return;
      std::lock_guard<std::mutex> lock(runs[static_cast<std::size_t>(i)]->mutex);
      const LiveRun& live = *runs[static_cast<std::size_t>(i)]->live;
      Json(res, 200, RunJson(i, live.View(), live.version()));
    });
    // Trials from id `since` on (all when absent), each as its line of trials.jsonl: a client that
    // keeps the ids it has asks only for the new ones. At most `limit` (default and cap 100000).
    server.Get(R"(/api/run/(\d+)/trials)", [this](const Request& req, Response& res) {
      const int i = RunIndex(req.matches[1], res);
      if (i < 0) return;
      std::int64_t since = 0, limit = 100000;
      try {
        if (req.has_param("since")) since = std::stoll(req.get_param_value("since"));
        if (req.has_param("limit")) limit = std::min<std::int64_t>(limit, std::stoll(req.get_param_value("limit")));
      } catch (const std::exception&) {
        return Json(res, 400, "{\"error\":\"since and limit are whole numbers\"}");
      }
      std::lock_guard<std::mutex> lock(runs[static_cast<std::size_t>(i)]->mutex);
      const RunView view = runs[static_cast<std::size_t>(i)]->live->View();
      std::string body = "{\"trials\":[";
      std::int64_t n = 0, next = since;
      if (view.state)
        for (std::int64_t id = std::max<std::int64_t>(0, since);
             id < static_cast<std::int64_t>(view.state->trials.size()) && n < limit; ++id, ++n) {
          body += (n ? "," : "") + search::TrialJson(view.state->trials[static_cast<std::size_t>(id)], view.problem);
          next = id + 1;
        }
      Json(res, 200, body + "],\"next\":" + std::to_string(next) + "}");
    });
    server.Get(R"(/api/run/(\d+)/trial/(\d+))", [this](const Request& req, Response& res) {
      const int i = RunIndex(req.matches[1], res);
      if (i < 0) return;
      std::lock_guard<std::mutex> lock(runs[static_cast<std::size_t>(i)]->mutex);
      const RunView view = runs[static_cast<std::size_t>(i)]->live->View();
      const std::int64_t id = TrialId(req.matches[2]);
      if (!view.state || id < 0 || id >= static_cast<std::int64_t>(view.state->trials.size()))
        return Json(res, 404, "{\"error\":\"no such trial\"}");
      Json(res, 200, search::TrialJson(view.state->trials[static_cast<std::size_t>(id)], view.problem));
    });
    // Long poll: answers when the version differs from `version`, or after `timeout` seconds.
    server.Get("/api/wait", [this](const Request& req, Response& res) {
      std::uint64_t seen = 0;
      double timeout = limits.max_wait_seconds;
      try {
        if (req.has_param("version")) seen = std::stoull(req.get_param_value("version"));
        if (req.has_param("timeout")) timeout = std::min(timeout, std::stod(req.get_param_value("timeout")));
      } catch (const std::exception&) {
        return Json(res, 400, "{\"error\":\"version is a whole number, timeout a number of seconds\"}");
      }
      ++waits;
      std::unique_lock<std::mutex> lock(version_mutex);
      version_changed.wait_for(lock, std::chrono::duration<double>(std::max(0.0, timeout)),
                               [&] { return version != seen || stopping.load(); });
      Json(res, 200, "{\"version\":" + std::to_string(version) + "}");
    });
    server.set_error_handler([](const Request& req, Response& res) {
      if (!res.body.empty()) return;  // a handler's own page (404 of a run or trial, 400)
      if (res.status == 404)
        Html(res, 404, ErrorPage("Not found", "Nothing here: " + req.path + ". This server shows only its runs' "
                                                                              "pages: / and /run/N, /run/N/trial/ID."));
      else
        Html(res, res.status, ErrorPage("Error", "HTTP " + std::to_string(res.status)));
    });
    server.set_exception_handler([](const Request&, Response& res, std::exception_ptr ep) {
      std::string what = "internal error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      Html(res, 500, ErrorPage("Error", what));
    });
    // Read-only: nothing but GET (and HEAD) is answered.
    for (const char* p : {R"(.*)"}) {
      server.Post(p, [](const Request&, Response& res) { Html(res, 405, ErrorPage("Method not allowed", "read-only")); });
      server.Put(p, [](const Request&, Response& res) { Html(res, 405, ErrorPage("Method not allowed", "read-only")); });
      server.Delete(p, [](const Request&, Response& res) { Html(res, 405, ErrorPage("Method not allowed", "read-only")); });
    }
  }
};

LiveServer::LiveServer(std::vector<std::string> run_dirs, ServeLimits limits) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
  for (const auto& d : run_dirs) {
    struct stat st {};
    RefuseFileAsRunDirectory(d);
    if (::stat(d.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw InputError(d + ": no such run directory");
    const RunPaths paths(d);
    if (::access(paths.config().c_str(), F_OK) != 0 && LockHolder(d) == 0)
      throw InputError(d + ": not a run directory (no config.yaml, and no search is starting there)");
    auto r = std::make_unique<Impl::Run>();
    r->live = std::make_unique<LiveRun>(d);
    r->live->Refresh();
    impl_->runs.push_back(std::move(r));
  }
  Impl& im = *impl_;
  im.server.new_task_queue = [&im] { return new BoundedQueue(im.limits.threads, im.limits.max_queued); };
  // httplib's default sets SO_REUSEPORT, with which a second `serve` on the same port starts
  // without a word and the kernel shares the connections out between both. SO_REUSEADDR only:
  // a restart may take the port at once, a second server is refused.
  im.server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  im.server.set_payload_max_length(limits.max_request_bytes);
  im.server.set_keep_alive_max_count(100);
  im.server.set_keep_alive_timeout(2);  // an idle keep-alive connection holds a thread
  im.server.set_read_timeout(5, 0);
  im.server.set_write_timeout(10, 0);
  im.Routes();
}

LiveServer::~LiveServer() {
  Stop();
  if (impl_->refresher.joinable()) impl_->refresher.join();
}

int LiveServer::Bind(const std::string& host, int port) {
  const int bound = port == 0 ? impl_->server.bind_to_any_port(host.c_str())
                              : (impl_->server.bind_to_port(host.c_str(), port) ? port : -1);
  if (bound <= 0)
    throw search::RunFileError("cannot listen on " + host + ":" + std::to_string(port) +
                               " (in use, or not an address of this machine); choose another with --port/--host");
  return bound;
}

void LiveServer::Run() {
  Impl& im = *impl_;
  im.refresher = std::thread([&im] {
    // The kernel says when a run directory's files change (a journal record appended, a
    // checkpoint renamed in place), so a result shows at once; the timed check stays for file
    // systems that do not tell (NFS written from another machine) and for the lock's holder.
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd >= 0)
      for (const auto& r : im.runs)
        ::inotify_add_watch(fd, r->live->dir().c_str(),
                            IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF);
    const int step_ms = 100;  // how soon Stop() is noticed
    double waited = 0;
    while (!im.stopping) {
      im.RefreshAll();
      waited = 0;
      while (!im.stopping && waited < im.limits.refresh_seconds) {
        const int ms = static_cast<int>(std::min<double>(step_ms, 1000 * (im.limits.refresh_seconds - waited)) + 0.5);
        if (fd >= 0) {
          pollfd p{fd, POLLIN, 0};
          if (::poll(&p, 1, std::max(1, ms)) > 0) {
            char buf[4096];
            while (::read(fd, buf, sizeof(buf)) > 0) {
            }
            break;
          }
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(std::max(1, ms)));
        }
        waited += ms / 1000.0;
      }
    }
    if (fd >= 0) ::close(fd);
  });
  if (!im.stopping) im.server.listen_after_bind();
}

void LiveServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->version_mutex);
    impl_->stopping = true;
    impl_->version_changed.notify_all();
  }
  impl_->server.stop();
}

std::uint64_t LiveServer::waits() const { return impl_->waits; }

#endif

}  // namespace paretonas::experiments

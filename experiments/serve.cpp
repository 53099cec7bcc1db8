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

// The page of every trial (/run/N/trials): the trials come as columns (/api/run/N/columns), new
// ones only after each change; a history plot and parallel coordinates drawn on canvases, and a
// table paged 100 rows at a time, sorted by any column and filtered by conditions as `pick`'s.
const char* kTrialsScript = R"JS(
<script>
(function () {
  const run = document.body.dataset.run, $ = id => document.getElementById(id);
  const T = {id: [], generation: [], status: [], feasible: [], finished: [], m: {}}, front = new Set();
  let next = 0, version = +document.body.dataset.version, objectives = [], page = 0, sortKey = 'id', sortDir = -1;
  const S = ['pending', 'running', 'complete', 'failed', 'stopped', 'screened'];
  function append(c) {
    // The rows from c.since on replace those the page had: trials still pending or running then
    // may have finished since.
    for (const f of ['id', 'generation', 'status', 'feasible', 'finished']) T[f].length = c.since;
    for (const name in T.m) T.m[name].length = c.since;
    const n0 = T.id.length, k = c.id.length;
    for (const f of ['id', 'generation', 'status', 'feasible', 'finished']) for (const v of c[f]) T[f].push(v);
    for (const name in T.m) if (!(name in c.metrics)) for (let j = 0; j < k; ++j) T.m[name].push(null);
    for (const name in c.metrics) {
      if (!(name in T.m)) T.m[name] = new Array(n0).fill(null);
      for (const v of c.metrics[name]) T.m[name].push(v);
    }
    front.clear(); for (const id of c.front) front.add(id);
    objectives = c.objectives; next = c.next;
  }
  function value(key, i) {
    if (key in T.m) return T.m[key][i];
    if (key === 'status') return S[T.status[i]];
    return T[key] ? T[key][i] : null;
  }
  function conditions() {
    const out = [], text = $('filter').value.trim();
    $('bad').textContent = '';
    if (!text) return out;
    for (const part of text.split(',')) {
      const m = part.trim().match(/^([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|==|!=|<|>)\s*(-?[0-9.eE+-]+)$/);
      if (!m) { $('bad').textContent = "'" + part.trim() + "': expected METRIC OP NUMBER"; continue; }
      out.push([m[1], m[2], +m[3]]);
    }
    return out;
  }
  const ops = {'<=': (a, b) => a <= b, '>=': (a, b) => a >= b, '<': (a, b) => a < b, '>': (a, b) => a > b,
               '==': (a, b) => a === b, '!=': (a, b) => a !== b};
  function rows() {
    const cs = conditions(), idx = [];
    for (let i = 0; i < T.id.length; ++i) {
      let ok = true;
      for (const [k, op, v] of cs) { const x = value(k, i); if (x === null || x === undefined || !ops[op](x, v)) { ok = false; break; } }
      if (ok) idx.push(i);
    }
    const key = sortKey, dir = sortDir;
    idx.sort((a, b) => { const x = value(key, a), y = value(key, b);
      if (x === y) return T.id[a] - T.id[b]; if (x === null) return 1; if (y === null) return -1; return x < y ? -dir : dir; });
    return idx;
  }
  function fmt(v) { return v === null || v === undefined ? '' : typeof v === 'number' ? +v.toPrecision(6) : v; }
  function table() {
    const idx = rows(), pages = Math.max(1, Math.ceil(idx.length / 100));
    page = Math.min(page, pages - 1);
    const cols = ['id', 'generation', 'status', 'feasible'].concat(Object.keys(T.m).sort());
    let h = '<tr>' + cols.map(c => '<th data-k="' + c + '" style="cursor:pointer">' + c + (c === sortKey ? (sortDir < 0 ? ' &darr;' : ' &uarr;') : '') + '</th>').join('') + '</tr>';
    for (const i of idx.slice(page * 100, page * 100 + 100)) {
      h += '<tr' + (front.has(T.id[i]) ? ' style="font-weight:bold"' : '') + '>' + cols.map(c =>
        c === 'id' ? '<td><a href="/run/' + run + '/trial/' + T.id[i] + '">' + T.id[i] + '</a></td>'
        : c === 'feasible' ? '<td>' + (T.feasible[i] === null ? '' : T.feasible[i] ? 'yes' : 'no') + '</td>'
        : '<td>' + fmt(value(c, i)) + '</td>').join('') + '</tr>';
    }
    $('tab').innerHTML = h;
    $('count').textContent = idx.length + ' of ' + T.id.length + ' trials match; page ' + (page + 1) + ' of ' + pages + ' (bold: on the front)';
    for (const th of $('tab').querySelectorAll('th')) th.onclick = () => {
      sortDir = th.dataset.k === sortKey ? -sortDir : -1; sortKey = th.dataset.k; draw(); };
  }
  function options(sel, names, keep) {
    const had = sel.value; sel.innerHTML = names.map(n => '<option>' + n + '</option>').join('');
    sel.value = names.includes(had) ? had : keep;
  }
  function colour(i) { return front.has(T.id[i]) ? '#d62728' : T.feasible[i] === false ? '#aaa' : '#1f77b4'; }
  function history() {
    const c = $('hist'), g = c.getContext('2d'), W = c.width, H = c.height, L = 60, B = 30;
    g.clearRect(0, 0, W, H);
    const y = $('hy').value, x = $('hx').value, ys = T.m[y] || [], pts = [];
    for (let i = 0; i < T.id.length; ++i) {
      const v = ys[i], u = x === 'trial' ? T.id[i] : x === 'generation' ? T.generation[i] : T.finished[i];
      if (v !== null && v !== undefined && u !== null && u !== undefined && S[T.status[i]] !== 'failed') pts.push([u, v, i]);
    }
    if (!pts.length) { g.fillText('no trial has ' + y + ' yet', L, H / 2); return; }
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const [u, v] of pts) { x0 = Math.min(x0, u); x1 = Math.max(x1, u); y0 = Math.min(y0, v); y1 = Math.max(y1, v); }
    if (x1 === x0) x1 = x0 + 1; if (y1 === y0) y1 = y0 + 1;
    const X = u => L + (u - x0) / (x1 - x0) * (W - L - 10), Y = v => H - B - (v - y0) / (y1 - y0) * (H - B - 10);
    g.strokeStyle = '#888'; g.beginPath(); g.moveTo(L, 5); g.lineTo(L, H - B); g.lineTo(W - 5, H - B); g.stroke();
    g.fillStyle = '#333'; g.fillText(fmt(y1), 2, 12); g.fillText(fmt(y0), 2, H - B); g.fillText(y + ' against ' + x, L + 5, 12);
    g.fillText(x === 'time' ? new Date(x0 * 1000).toISOString().slice(11, 19) : fmt(x0), L, H - 10);
    g.fillText(x === 'time' ? new Date(x1 * 1000).toISOString().slice(11, 19) + ' UTC' : fmt(x1), W - 90, H - 10);
    for (const [u, v, i] of pts) { g.fillStyle = colour(i); g.fillRect(X(u) - 1.5, Y(v) - 1.5, 3, 3); }
  }
  function parallel() {
    const c = $('par'), g = c.getContext('2d'), W = c.width, H = c.height;
    g.clearRect(0, 0, W, H);
    const names = objectives.map(o => o.metric);
    if (names.length < 2) return;
    const lo = {}, hi = {}, ok = [];
    for (let i = 0; i < T.id.length; ++i) {
      if (S[T.status[i]] !== 'complete') continue;
      if (names.some(n => T.m[n] === undefined || T.m[n][i] === null)) continue;
      ok.push(i);
      for (const n of names) { const v = T.m[n][i]; lo[n] = Math.min(lo[n] ?? v, v); hi[n] = Math.max(hi[n] ?? v, v); }
    }
    const X = k => 40 + k * (W - 80) / (names.length - 1);
    // Better is up on every axis (max goals as they are, min goals flipped).
    const Y = (n, v, k) => { const r = hi[n] > lo[n] ? (v - lo[n]) / (hi[n] - lo[n]) : 0.5;
      return 20 + (objectives[k].goal === 'max' ? 1 - r : r) * (H - 50); };
    const line = i => { g.beginPath(); names.forEach((n, k) => { const p = [X(k), Y(n, T.m[n][i], k)]; k ? g.lineTo(...p) : g.moveTo(...p); }); g.stroke(); };
    g.globalAlpha = Math.max(0.03, Math.min(0.4, 200 / Math.max(1, ok.length)));
    for (const i of ok) if (!front.has(T.id[i])) { g.strokeStyle = T.feasible[i] === false ? '#aaa' : '#1f77b4'; line(i); }
    g.globalAlpha = 1; g.strokeStyle = '#d62728';
    for (const i of ok) if (front.has(T.id[i])) line(i);
    g.fillStyle = '#333';
    names.forEach((n, k) => { g.strokeStyle = '#888'; g.beginPath(); g.moveTo(X(k), 20); g.lineTo(X(k), H - 30); g.stroke();
      g.fillText(n + ' (' + objectives[k].goal + ', better up)', X(k) - 40, H - 12); });
  }
  function draw() {
    options($('hy'), Object.keys(T.m).sort(), objectives.length ? objectives[0].metric : '');
    table(); history(); parallel();
    document.body.dataset.rows = $('tab').rows.length - 1;
  }
  async function load() {
    const r = await fetch('/api/run/' + run + '/columns?since=' + next, {cache: 'no-store'});
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const c = await r.json();
    if (c.since !== next || c.since > T.id.length) { location.reload(); return; }
    append(c);
    draw();
  }
  async function poll() {
    try {
      const r = await fetch('/api/wait?version=' + version + '&timeout=20', {cache: 'no-store'});
      const j = await r.json();
      if (j.version !== version) { version = j.version; await load();
        document.body.dataset.updates = +document.body.dataset.updates + 1;
        $('live').textContent = 'live: updated ' + new Date().toLocaleTimeString(); }
      setTimeout(poll, 200);
    } catch (e) { $('live').textContent = 'live: the server does not answer (' + e.message + ')'; setTimeout(poll, 3000); }
  }
  $('filter').onchange = () => { page = 0; table(); };
  $('prev').onclick = () => { page = Math.max(0, page - 1); table(); };
  $('next').onclick = () => { page += 1; table(); };
  $('hy').onchange = history; $('hx').onchange = history;
  load().then(() => setTimeout(poll, 200), e => { $('live').textContent = 'cannot load the trials: ' + e.message; });
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
    for (const char* axis : {"x", "y"}) {
      if (!req.has_param(axis)) continue;
      const std::string m = req.get_param_value(axis);
      std::string list;
      if (!v.state || !IsPlotMetric(*v.state, *v.problem, m, &list)) {
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

  /// Trials from `since` on as columns: ids, generation, status (an index into S of the page's
  /// script: pending, running, complete, failed, stopped, screened), feasible (null unless
  /// complete), finished (UTC seconds, null where not recorded) and one array per metric (null
  /// where a trial lacks it); with the objectives and the ids on the current front. `next`: the
  /// first trial not finished (or the end): where the next request starts, since a trial not
  /// finished yet will change.
  static std::string TrialColumnsJson(const RunView& view, std::int64_t since) {
    std::ostringstream id, gen, status, feasible, finished;
    std::map<std::string, std::ostringstream> metrics;
    std::int64_t n = 0, next = since;
    if (view.state && view.problem) {
      const auto& trials = view.state->trials;
      for (std::int64_t t = since; t < static_cast<std::int64_t>(trials.size()); ++t)
        for (const auto& [k, v] : trials[static_cast<std::size_t>(t)].metrics) metrics[k];
      for (std::int64_t t = since; t < static_cast<std::int64_t>(trials.size()); ++t, ++n) {
        const search::Trial& tr = trials[static_cast<std::size_t>(t)];
        const char* sep = n ? "," : "";
        id << sep << tr.id;
        gen << sep << tr.generation;
        status << sep << static_cast<int>(tr.state);
        feasible << sep
                 << (tr.state != search::TrialState::kComplete ? "null" : view.problem->Violated(tr).empty() ? "1" : "0");
        finished << sep << (tr.finished_unix > 0 ? JsonNumber(tr.finished_unix) : std::string("null"));
        for (auto& [k, os] : metrics) {
          const auto it = tr.metrics.find(k);
          os << sep << (it == tr.metrics.end() ? std::string("null") : JsonNumber(it->second));
        }
        if (next == t && tr.finished()) next = t + 1;  // the first unfinished trial stops it
      }
    }
    std::ostringstream os;
    os << "{\"since\":" << since << ",\"next\":" << next << ",\"id\":[" << id.str() << "],\"generation\":["
       << gen.str() << "],\"status\":[" << status.str() << "],\"feasible\":[" << feasible.str()
       << "],\"finished\":[" << finished.str() << "],\"metrics\":{";
    bool first = true;
    for (auto& [k, s] : metrics) {
      os << (first ? "" : ",") << JsonString(k) << ":[" << s.str() << "]";
      first = false;
    }
    os << "},\"objectives\":[";
    if (view.problem)
      for (std::size_t k = 0; k < view.problem->objectives.size(); ++k)
        os << (k ? "," : "") << "{\"metric\":" << JsonString(view.problem->objectives[k].metric)
           << ",\"goal\":\"" << (view.problem->objectives[k].maximize ? "max" : "min") << "\"}";
    os << "],\"front\":[";
    if (view.state && view.problem) {
      const auto front = search::ParetoFront(*view.state, *view.problem);
      for (std::size_t k = 0; k < front.size(); ++k) os << (k ? "," : "") << front[k];
    }
    os << "]}";
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
      Html(res, 200, Shell(view.title, "/fragment/run/" + std::to_string(i),
                           Controls(view, o.plot) + "<p><a href='/run/" + std::to_string(i) +
                               "/trials'>Every trial: a sortable, filterable table, the history of any metric, the "
                               "objectives in parallel coordinates</a></p>",
                           body, v, view.condition.kind == "running"));
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
    // Every trial: the page, and its data as columns (from trial `since` on, in id order).
    server.Get(R"(/run/(\d+)/trials)", [this](const Request& req, Response& res) {
      const int i = RunIndex(req.matches[1], res);
      if (i < 0) return;
      std::string title;
      {
        std::lock_guard<std::mutex> lock(runs[static_cast<std::size_t>(i)]->mutex);
        title = runs[static_cast<std::size_t>(i)]->live->View().title;
      }
      const std::string n = std::to_string(i);
      Html(res, 200,
           PageHead(title + ": every trial") + "<body data-run='" + n + "' data-version='" + std::to_string(Version()) +
               "' data-updates='0' data-rows='0'><p><a href='/run/" + n + "'>&larr; " + HtmlEscape(title) +
               "</a> &nbsp; <span id='live' class='note'></span></p><h1>" + HtmlEscape(title) +
               ": every trial</h1>"
               "<h2>History</h2><p><select id='hy'></select> against <select id='hx'><option>trial</option>"
               "<option>generation</option><option>time</option></select> <span class='note'>red: on the "
               "front (every objective, not a projection); grey: infeasible</span></p>"
               "<canvas id='hist' width='900' height='280'></canvas>"
               "<h2>The objectives, parallel coordinates</h2><p class='note'>One line a complete trial, better "
               "up on every axis; red: the front over all objectives (with three or more, a trial can be on it "
               "and look dominated on a two-axis plot); grey: infeasible.</p>"
               "<canvas id='par' width='900' height='300'></canvas>"
               "<h2>Table</h2><p>filter: <input id='filter' size='40' placeholder='latency_ms<=2, val_accuracy>=80'> "
               "<span id='bad' class='note'></span> <button id='prev'>&larr;</button> <button id='next'>&rarr;"
               "</button> <span id='count' class='note'></span></p><table id='tab'></table>" +
               kTrialsScript + "</body></html>\n");
    });
    server.Get(R"(/api/run/(\d+)/columns)", [this](const Request& req, Response& res) {
      const int i = RunIndex(req.matches[1], res);
      if (i < 0) return;
      std::int64_t since = 0;
      try {
        if (req.has_param("since")) since = std::max<std::int64_t>(0, std::stoll(req.get_param_value("since")));
      } catch (const std::exception&) {
        return Json(res, 400, "{\"error\":\"since is a whole number\"}");
      }
      std::lock_guard<std::mutex> lock(runs[static_cast<std::size_t>(i)]->mutex);
      const RunView view = runs[static_cast<std::size_t>(i)]->live->View();
      Json(res, 200, TrialColumnsJson(view, since));
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

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
#include <zlib.h>

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

/// `text` as a gzip member at zlib's fastest level (a 100,000-trial run's 11 MB of columns: 4.3 MB).
std::string Gzip(const std::string& text) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, MAX_WBITS + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("zlib: cannot start gzip");
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(&out[0]);
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib: gzip did not finish");
  return out;
}

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
  let frontKey = '', fresh = 0;  // the front's ids; the first row the last columns replaced or added
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
    frontKey = c.front.join(); fresh = c.since;
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
    const cs = conditions(), n = T.id.length;
    // Unfiltered in id order (the page's default): the rows themselves, no list of 100,000 made.
    if (!cs.length && sortKey === 'id')
      return {length: n, slice: (a, b) => { const out = [];
        for (let p = a; p < Math.min(b, n); ++p) out.push(sortDir < 0 ? n - 1 - p : p); return out; }};
    const idx = [];
    for (let i = 0; i < n; ++i) {
      let ok = true;
      for (const [k, op, v] of cs) { const x = value(k, i); if (x === null || x === undefined || !ops[op](x, v)) { ok = false; break; } }
      if (ok) idx.push(i);
    }
    if (sortKey === 'id') return sortDir < 0 ? idx.reverse() : idx;  // the rows' own order
    // The sort key's column itself (no lookup per comparison: 100,000 rows sort in milliseconds).
    const dir = sortDir, col = sortKey in T.m ? T.m[sortKey] : sortKey === 'status' ? T.status.map(s => S[s]) : T[sortKey] || [];
    idx.sort((a, b) => { const x = col[a] ?? null, y = col[b] ?? null;
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
  // A row of a front member (ids are rows, as the columns come; a search otherwise).
  const row = id => T.id[id] === id ? id : T.id.indexOf(id);
  // Each plot keeps a layer of what results arriving do not change: finished trials off the front,
  // in the same axes. An update draws only its new trials onto it, then the front on top; any
  // change of metric, range or front draws the layer again. (100,000 trials: a full draw costs
  // tens of milliseconds, an update's a few.)
  const FINISHED = S.map(x => ['complete', 'failed', 'stopped', 'screened'].includes(x));
  function grown(drawn) {
    if (drawn.length >= T.id.length) return drawn;
    const d = new Uint8Array(T.id.length + 4096); d.set(drawn); return d;
  }
  // Points are written straight into the layer's pixels (one putImageData).
  const RGBA = {'#d62728': 0xff2827d6, '#aaa': 0xffaaaaaa, '#1f77b4': 0xffb4771f};
  const hist = {key: null, img: null, drawn: null, range: null};
  function history() {
    const c = $('hist'), g = c.getContext('2d'), W = c.width, H = c.height, L = 60, B = 30;
    const y = $('hy').value, x = $('hx').value, ys = T.m[y] || [], fail = S.indexOf('failed'), st = T.status;
    const xs = x === 'trial' ? T.id : x === 'generation' ? T.generation : T.finished;
    const shown = i => FINISHED[st[i]] && st[i] !== fail && ys[i] !== null && ys[i] !== undefined && xs[i] !== null && xs[i] !== undefined;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity, n = 0;
    for (let i = 0; i < T.id.length; ++i) if (shown(i)) {
      ++n; const u = xs[i], v = ys[i]; if (u < x0) x0 = u; if (u > x1) x1 = u; if (v < y0) y0 = v; if (v > y1) y1 = v; }
    if (!n) { g.clearRect(0, 0, W, H); g.fillText('no finished trial has ' + y + ' yet', L, H / 2); hist.key = null; return; }
    // The axes keep their range while the data fill at least 80% of it: a run's trials extend
    // the trial (or time) axis by one each result, and each new range draws everything again.
    const r = hist.range, span = (a, b) => b - a || 1;
    if (!(r && r.y === y && r.x === x && x0 >= r.x0 && x1 <= r.x1 && y0 >= r.y0 && y1 <= r.y1 &&
          span(x0, x1) >= 0.8 * span(r.x0, r.x1) && span(y0, y1) >= 0.8 * span(r.y0, r.y1)))
      hist.range = {x, y, x0, x1: x1 + 0.1 * span(x0, x1), y0: y0 - 0.02 * span(y0, y1), y1: y1 + 0.02 * span(y0, y1)};
    ({x0, x1, y0, y1} = hist.range);
    const X = u => L + (u - x0) / (x1 - x0) * (W - L - 10), Y = v => H - B - (v - y0) / (y1 - y0) * (H - B - 10);
    const key = [y, x, x0, x1, y0, y1, frontKey].join('|');
    let from = fresh;
    if (key !== hist.key) {
      g.clearRect(0, 0, W, H);
      g.strokeStyle = '#888'; g.beginPath(); g.moveTo(L, 5); g.lineTo(L, H - B); g.lineTo(W - 5, H - B); g.stroke();
      g.fillStyle = '#333'; g.fillText(fmt(y1), 2, 12); g.fillText(fmt(y0), 2, H - B); g.fillText(y + ' against ' + x, L + 5, 12);
      g.fillText(x === 'time' ? new Date(x0 * 1000).toISOString().slice(11, 19) : fmt(x0), L, H - 10);
      g.fillText(x === 'time' ? new Date(x1 * 1000).toISOString().slice(11, 19) + ' UTC' : fmt(x1), W - 90, H - 10);
      hist.img = g.getImageData(0, 0, W, H); hist.drawn = new Uint8Array(0); hist.key = key; from = 0;
    }
    hist.drawn = grown(hist.drawn);
    const px = new Uint32Array(hist.img.data.buffer), d = hist.drawn;
    for (let i = from; i < T.id.length; ++i) if (!d[i] && shown(i) && !front.has(T.id[i])) {
      d[i] = 1;
      const u = Math.round(X(xs[i])), v = Math.round(Y(ys[i])), k = RGBA[colour(i)];
      for (let dy = -1; dy <= 1; ++dy) for (let dx = -1; dx <= 1; ++dx) px[(v + dy) * W + u + dx] = k;
    }
    g.putImageData(hist.img, 0, 0);
    g.fillStyle = '#d62728';
    for (const id of front) { const i = row(id); if (i >= 0 && shown(i)) g.fillRect(Math.round(X(xs[i])) - 1, Math.round(Y(ys[i])) - 1, 3, 3); }
  }
  const par = {key: null, layer: null, drawn: null, alpha: 1};
  function parallel() {
    const c = $('par'), g = c.getContext('2d'), W = c.width, H = c.height;
    const names = objectives.map(o => o.metric), done = S.indexOf('complete');
    g.clearRect(0, 0, W, H);
    $('parnote').textContent = '';
    if (names.length < 2) return;
    const cols = names.map(n => T.m[n] || []), st = T.status;
    const shown = i => { if (st[i] !== done) return false;
      for (const col of cols) if (col[i] === null || col[i] === undefined) return false; return true; };
    const lo = names.map(() => Infinity), hi = names.map(() => -Infinity);
    let rest = 0;
    for (let i = 0; i < T.id.length; ++i) {
      if (!shown(i)) continue;
      ++rest;
      for (let k = 0; k < cols.length; ++k) { const v = cols[k][i]; if (v < lo[k]) lo[k] = v; if (v > hi[k]) hi[k] = v; }
    }
    rest = Math.max(0, rest - front.size);
    const X = k => 40 + k * (W - 80) / (names.length - 1);
    // Better is up on every axis (max goals as they are, min goals flipped).
    const Y = (v, k) => { const r = hi[k] > lo[k] ? (v - lo[k]) / (hi[k] - lo[k]) : 0.5;
      return 20 + (objectives[k].goal === 'max' ? 1 - r : r) * (H - 50); };
    const line = (h, i) => { h.beginPath(); cols.forEach((col, k) => { const p = [X(k), Y(col[i], k)]; k ? h.lineTo(...p) : h.moveTo(...p); }); h.stroke(); };
    // Beyond 5,000 trials off the front, those whose id is a multiple of k are drawn (said below
    // the plot): a line costs the browser about 5 microseconds, and 100,000 faint lines show no
    // more than 5,000.
    const step = Math.max(1, Math.ceil(rest / 5000));
    const key = [names.join(), lo.join(), hi.join(), step, frontKey].join('|');
    let from = fresh;
    if (key !== par.key) {
      par.layer = par.layer || document.createElement('canvas');
      par.layer.width = W; par.layer.height = H;
      par.drawn = new Uint8Array(0); par.key = key; from = 0;
      par.alpha = Math.max(0.03, Math.min(0.4, 200 / Math.max(1, Math.ceil(rest / step))));
    }
    par.drawn = grown(par.drawn);
    const h = par.layer.getContext('2d'), d = par.drawn;
    h.globalAlpha = par.alpha;
    for (let i = from; i < T.id.length; ++i) if (!d[i] && shown(i) && !front.has(T.id[i]) && T.id[i] % step === 0) {
      d[i] = 1; h.strokeStyle = T.feasible[i] === false ? '#aaa' : '#1f77b4'; line(h, i); }
    g.drawImage(par.layer, 0, 0);
    g.strokeStyle = '#d62728';
    let best = 0;
    for (const id of front) { const i = row(id); if (i >= 0 && shown(i)) { line(g, i); ++best; } }
    if (step > 1) $('parnote').textContent = 'Drawn: the ' + rest + ' complete trials off the front whose id is a ' +
      'multiple of ' + step + ' (about ' + Math.ceil(rest / step) + ' lines), and all ' + best + ' on it.';
    g.fillStyle = '#333';
    names.forEach((n, k) => { g.strokeStyle = '#888'; g.beginPath(); g.moveTo(X(k), 20); g.lineTo(X(k), H - 30); g.stroke();
      g.fillText(n + ' (' + objectives[k].goal + ', better up)', X(k) - 40, H - 12); });
  }
  function draw() {
    options($('hy'), Object.keys(T.m).sort(), objectives.length ? objectives[0].metric : '');
    table(); performance.mark('table'); history(); performance.mark('history'); parallel();
    document.body.dataset.rows = $('tab').rows.length - 1;
  }
  // When what draw() changed is on the screen: after the next frame has been produced.
  const shown = () => new Promise(ok => requestAnimationFrame(() => setTimeout(ok, 0)));
  async function load() {
    const r = await fetch('/api/run/' + run + '/columns?since=' + next, {cache: 'no-store'});
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const c = await r.json();
    performance.mark('parsed');
    if (c.since !== next || c.since > T.id.length) { location.reload(); return; }
    append(c);
    performance.mark('appended');
    draw();
    performance.mark('drawn');
    await shown();
  }
  async function poll() {
    try {
      const r = await fetch('/api/wait?version=' + version + '&timeout=20', {cache: 'no-store'});
      const j = await r.json();
      if (j.version !== version) {
        // For tests and bench/trials_page_browser.py: the last update's marks only (a page open
        // for days must not keep every update's), its time in the page (from the long poll's
        // answer until it is shown) and when it was shown (ms since the epoch).
        version = j.version; performance.clearMarks(); const t = performance.now(); performance.mark('answered');
        await load(); performance.mark('shown');
        const b = document.body.dataset;
        b.updateMs = (performance.now() - t).toFixed(1);
        b.shownAt = (performance.timeOrigin + performance.now()).toFixed(1);
        b.updates = +b.updates + 1;
        $('live').textContent = 'live: updated ' + new Date().toLocaleTimeString(); }
      setTimeout(poll, 200);
    } catch (e) { $('live').textContent = 'live: the server does not answer (' + e.message + ')'; setTimeout(poll, 3000); }
  }
  $('filter').onchange = () => { page = 0; table(); };
  $('prev').onclick = () => { page = Math.max(0, page - 1); table(); };
  $('next').onclick = () => { page += 1; table(); };
  $('hy').onchange = () => { fresh = 0; history(); }; $('hx').onchange = () => { fresh = 0; history(); };
  // First render: from the navigation's start until the first table and plots are shown.
  load().then(() => { document.body.dataset.firstMs = performance.now().toFixed(1); setTimeout(poll, 200); }, e => { $('live').textContent = 'cannot load the trials: ' + e.message; });
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

  // Every answer goes through Send: gzip at zlib's fastest level when the browser accepts it,
  // sent with its length so that cpp-httplib does not compress it again. (Debian's cpp-httplib,
  // built with Brotli, answers a browser's "Accept-Encoding: br" with Brotli's slowest quality:
  // 22 s for the 11 MB of a 100,000-trial run's columns, against 0.07 s for gzip level 1.)
  static void Send(const httplib::Request& req, httplib::Response& res, int status, std::string body,
                   const char* type) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_header("Vary", "Accept-Encoding");
    if (body.size() > 1024 && req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos) {
      body = Gzip(body);
      res.set_header("Content-Encoding", "gzip");
    }
    auto data = std::make_shared<const std::string>(std::move(body));
    res.set_content_provider(data->size(), type, [data](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
      return sink.write(data->data() + offset, length);
    });
  }
  static void Html(const httplib::Request& req, httplib::Response& res, int status, std::string body) {
    Send(req, res, status, std::move(body), "text/html; charset=utf-8");
  }
  static void Json(const httplib::Request& req, httplib::Response& res, int status, std::string body) {
    Send(req, res, status, std::move(body), "application/json");
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

  /// Run index from the path (its first match), or -1 (the response is then set: 404).
  int RunIndex(const httplib::Request& req, httplib::Response& res) const {
    const std::string s = req.matches[1];
    std::size_t i = 0;
    try {
      if (s.size() > 6) throw std::out_of_range(s);
      i = std::stoul(s);
    } catch (const std::exception&) {
      i = runs.size();
    }
    if (i >= runs.size()) {
      Html(req, res, 404, ErrorPage("No such run", "This server shows " + std::to_string(runs.size()) +
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
        Html(req, res, 400, ErrorPage("Bad request", std::string("query parameter ") + axis + "='" + m +
                                                    "': not a metric of this run's trials (allowed: " + list + ")"));
        return false;
      }
      (std::string(axis) == "x" ? plot->x : plot->y) = m;
    }
    for (const char* axis : {"xscale", "yscale"}) {
      if (!req.has_param(axis)) continue;
      const std::string s = req.get_param_value(axis);
      if (s != "log" && s != "linear") {
        Html(req, res, 400, ErrorPage("Bad request", std::string("query parameter ") + axis + "='" + s +
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
      for (std::size_t k = 0; k < view.front.size(); ++k) os << (k ? "," : "") << view.front[k];
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
      if (!whole) return Html(req, res, 200, body);
      Html(req, res, 200, Shell(view.title, "/fragment/run/" + std::to_string(i),
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
      if (!whole) return Html(req, res, 200, body);
      std::string controls;
      for (const auto& view : views)
        if (view.state && view.problem) {
          controls = Controls(view, plot);
          break;
        }
      const bool running = std::any_of(views.begin(), views.end(), [](const RunView& w) { return w.condition.kind == "running"; });
      Html(req, res, 200, Shell("paretonas: " + std::to_string(runs.size()) + " runs", "/fragment/index", controls, body, v, running));
    };
    auto trial_page = [this](int i, const std::string& id_text, const Request& req, Response& res, bool whole) {
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
        return Html(req, res, 404, ErrorPage("No such trial", "Run " + std::to_string(i) + " has no trial " + id_text + "."));
      if (!whole) return Html(req, res, 200, body);
      Html(req, res, 200, Shell(title, "/fragment/run/" + std::to_string(i) + "/trial/" + id_text, "", body, v, running));
    };
    server.Get("/", [index_page](const Request& req, Response& res) { index_page(req, res, true); });
    server.Get("/fragment/index", [index_page](const Request& req, Response& res) { index_page(req, res, false); });
    server.Get(R"(/run/(\d+))", [this, run_page](const Request& req, Response& res) {
      const int i = RunIndex(req, res);
      if (i >= 0) run_page(i, req, res, true);
    });
    server.Get(R"(/fragment/run/(\d+))", [this, run_page](const Request& req, Response& res) {
      const int i = RunIndex(req, res);
      if (i >= 0) run_page(i, req, res, false);
    });
    // Every trial: the page, and its data as columns (from trial `since` on, in id order).
    server.Get(R"(/run/(\d+)/trials)", [this](const Request& req, Response& res) {
      const int i = RunIndex(req, res);
      if (i < 0) return;
      std::string title;
      {
        std::lock_guard<std::mutex> lock(runs[static_cast<std::size_t>(i)]->mutex);
        title = runs[static_cast<std::size_t>(i)]->live->View().title;
      }
      const std::string n = std::to_string(i);
      Html(req, res, 200,
           PageHead(title + ": every trial") + "<body data-run='" + n + "' data-version='" + std::to_string(Version()) +
               "' data-updates='0' data-rows='0'><p><a href='/run/" + n + "'>&larr; " + HtmlEscape(title) +
               "</a> &nbsp; <span id='live' class='note'></span></p><h1>" + HtmlEscape(title) +
               ": every trial</h1>"
               "<h2>History</h2><p><select id='hy'></select> against <select id='hx'><option>trial</option>"
               "<option>generation</option><option>time</option></select> <span class='note'>finished trials; red: on the "
               "front (every objective, not a projection); grey: infeasible</span></p>"
               "<canvas id='hist' width='900' height='280'></canvas>"
               "<h2>The objectives, parallel coordinates</h2><p class='note'>One line a complete trial, better "
               "up on every axis; red: the front over all objectives (with three or more, a trial can be on it "
               "and look dominated on a two-axis plot); grey: infeasible.</p>"
               "<canvas id='par' width='900' height='300'></canvas><p id='parnote' class='note'></p>"
               "<h2>Table</h2><p>filter: <input id='filter' size='40' placeholder='latency_ms<=2, val_accuracy>=80'> "
               "<span id='bad' class='note'></span> <button id='prev'>&larr;</button> <button id='next'>&rarr;"
               "</button> <span id='count' class='note'></span></p><table id='tab'></table>" +
               kTrialsScript + "</body></html>\n");
    });
    server.Get(R"(/api/run/(\d+)/columns)", [this](const Request& req, Response& res) {
      const int i = RunIndex(req, res);
      if (i < 0) return;
      std::int64_t since = 0;
      try {
        if (req.has_param("since")) since = std::max<std::int64_t>(0, std::stoll(req.get_param_value("since")));
      } catch (const std::exception&) {
        return Json(req, res, 400, "{\"error\":\"since is a whole number\"}");
      }
      std::lock_guard<std::mutex> lock(runs[static_cast<std::size_t>(i)]->mutex);
      const RunView view = runs[static_cast<std::size_t>(i)]->live->View();
      Json(req, res, 200, TrialColumnsJson(view, since));
    });
    server.Get(R"(/run/(\d+)/trial/(\d+))", [this, trial_page](const Request& req, Response& res) {
      const int i = RunIndex(req, res);
      if (i >= 0) trial_page(i, req.matches[2], req, res, true);
    });
    server.Get(R"(/fragment/run/(\d+)/trial/(\d+))", [this, trial_page](const Request& req, Response& res) {
      const int i = RunIndex(req, res);
      if (i >= 0) trial_page(i, req.matches[2], req, res, false);
    });
    server.Get("/api/runs", [this](const Request& req, Response& res) {
      std::string body = "{\"version\":" + std::to_string(Version()) + ",\"runs\":[";
      for (std::size_t i = 0; i < runs.size(); ++i) {
        std::lock_guard<std::mutex> lock(runs[i]->mutex);
        body += (i ? "," : "") + RunJson(static_cast<int>(i), runs[i]->live->View(), runs[i]->live->version());
      }
      Json(req, res, 200, body + "]}");
    });
    server.Get(R"(/api/run/(\d+))", [this](const Request& req, Response& res) {
      const int i = RunIndex(req, res);
      if (i < 0) return;
      std::lock_guard<std::mutex> lock(runs[static_cast<std::size_t>(i)]->mutex);
      const LiveRun& live = *runs[static_cast<std::size_t>(i)]->live;
      Json(req, res, 200, RunJson(i, live.View(), live.version()));
    });
    // Trials from id `since` on (all when absent), each as its line of trials.jsonl: a client that
    // keeps the ids it has asks only for the new ones. At most `limit` (default and cap 100000).
    server.Get(R"(/api/run/(\d+)/trials)", [this](const Request& req, Response& res) {
      const int i = RunIndex(req, res);
      if (i < 0) return;
      std::int64_t since = 0, limit = 100000;
      try {
        if (req.has_param("since")) since = std::stoll(req.get_param_value("since"));
        if (req.has_param("limit")) limit = std::min<std::int64_t>(limit, std::stoll(req.get_param_value("limit")));
      } catch (const std::exception&) {
        return Json(req, res, 400, "{\"error\":\"since and limit are whole numbers\"}");
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
      Json(req, res, 200, body + "],\"next\":" + std::to_string(next) + "}");
    });
    server.Get(R"(/api/run/(\d+)/trial/(\d+))", [this](const Request& req, Response& res) {
      const int i = RunIndex(req, res);
      if (i < 0) return;
      std::lock_guard<std::mutex> lock(runs[static_cast<std::size_t>(i)]->mutex);
      const RunView view = runs[static_cast<std::size_t>(i)]->live->View();
      const std::int64_t id = TrialId(req.matches[2]);
      if (!view.state || id < 0 || id >= static_cast<std::int64_t>(view.state->trials.size()))
        return Json(req, res, 404, "{\"error\":\"no such trial\"}");
      Json(req, res, 200, search::TrialJson(view.state->trials[static_cast<std::size_t>(id)], view.problem));
    });
    // Long poll: answers when the version differs from `version`, or after `timeout` seconds.
    server.Get("/api/wait", [this](const Request& req, Response& res) {
      std::uint64_t seen = 0;
      double timeout = limits.max_wait_seconds;
      try {
        if (req.has_param("version")) seen = std::stoull(req.get_param_value("version"));
        if (req.has_param("timeout")) timeout = std::min(timeout, std::stod(req.get_param_value("timeout")));
      } catch (const std::exception&) {
        return Json(req, res, 400, "{\"error\":\"version is a whole number, timeout a number of seconds\"}");
      }
      ++waits;
      std::unique_lock<std::mutex> lock(version_mutex);
      version_changed.wait_for(lock, std::chrono::duration<double>(std::max(0.0, timeout)),
                               [&] { return version != seen || stopping.load(); });
      Json(req, res, 200, "{\"version\":" + std::to_string(version) + "}");
    });
    server.set_error_handler([](const Request& req, Response& res) {
      if (res.has_header("Cache-Control")) return;  // a handler's own page (404 of a run or trial, 400)
      if (res.status == 404)
        Html(req, res, 404, ErrorPage("Not found", "Nothing here: " + req.path + ". This server shows only its runs' "
                                                                              "pages: / and /run/N, /run/N/trial/ID."));
      else
        Html(req, res, res.status, ErrorPage("Error", "HTTP " + std::to_string(res.status)));
    });
    server.set_exception_handler([](const Request& req, Response& res, std::exception_ptr ep) {
      std::string what = "internal error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      Html(req, res, 500, ErrorPage("Error", what));
    });
    // Read-only: nothing but GET (and HEAD) is answered.
    for (const char* p : {R"(.*)"}) {
      server.Post(p, [](const Request& req, Response& res) { Html(req, res, 405, ErrorPage("Method not allowed", "read-only")); });
      server.Put(p, [](const Request& req, Response& res) { Html(req, res, 405, ErrorPage("Method not allowed", "read-only")); });
      server.Delete(p, [](const Request& req, Response& res) { Html(req, res, 405, ErrorPage("Method not allowed", "read-only")); });
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
  // An answer goes out as its headers, then its body: with Nagle's algorithm the body waited for
  // the browser's delayed ACK of the headers, 40 ms on every update of a page.
  im.server.set_tcp_nodelay(true);
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

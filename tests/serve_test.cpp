// `paretonas serve`: every endpoint over HTTP, refusal of paths outside the runs, updates while
// a run is written (damaged and half-written records, a deleted directory), read-only, and a
// real browser (headless Chromium) that sees a trial appended after the page loaded.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include "bench/synthetic_run.h"
#include "experiments/live_run.h"
#include "experiments/run_directory.h"
#include "experiments/serve.h"
#include "search/front.h"
#include "search/run_files.h"
#include "space/input_error.h"
#include "test_paths.h"

namespace paretonas::experiments {
namespace {

namespace fs = std::filesystem;

/// A server on a free port over `dirs`, serving from a thread until destroyed.
struct Served {
  explicit Served(const std::vector<std::string>& dirs, double max_wait = 3) {
    ServeLimits limits;
    limits.refresh_seconds = 0.05;
    limits.max_wait_seconds = max_wait;
    server = std::make_unique<LiveServer>(dirs, limits);
    port = server->Bind("127.0.0.1", 0);
    thread = std::thread([this] { server->Run(); });
    httplib::Client c("127.0.0.1", port);
    for (int i = 0; i < 100 && !c.Get("/api/runs"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ~Served() {
    server->Stop();
    thread.join();
  }
  httplib::Result Get(const std::string& path) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    return c.Get(path.c_str());
  }
  YAML::Node Json(const std::string& path) {
    auto r = Get(path);
    EXPECT_TRUE(r) << path;
    if (!r) return {};
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << path;
    return YAML::Load(r->body);
  }
  std::unique_ptr<LiveServer> server;
  int port = 0;
  std::thread thread;
};

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

/// Waits (up to 5 s) until /api/run/0's `key` equals `want`.
bool WaitFor(Served& s, const std::string& key, long want, int run = 0) {
  for (int i = 0; i < 250; ++i) {
    const YAML::Node j = s.Json("/api/run/" + std::to_string(run));
    if (j[key] && j[key].as<long>() == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string Synthetic(const std::string& tag, std::int64_t trials = 100, std::uint64_t seed = 1) {
  const std::string dir = testing::TempDir(tag) + "/run";
  bench::SyntheticRun spec;
  spec.trials = trials;
  spec.seed = seed;
  bench::WriteSyntheticRun(dir, spec);
  return dir;
}

/// Every file of `dir` with its size and modification time.
std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> Files(const std::string& dir) {
  std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    out[e.path().string()] = {e.is_regular_file() ? e.file_size() : 0, e.last_write_time()};
  return out;
}

TEST(Serve, EveryEndpointAnswersWithItsShape) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libcpp-httplib-dev";
  const std::string dir = Synthetic("serve_endpoints");
  const auto before = Files(dir);
  Served s({dir});
  // The page: the front plot's points (each a link to its trial), the controls, the script.
  auto page = s.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_GT(Count(page->body, "<circle data-trial='"), 40u) << "the complete trials' points";
  EXPECT_NE(page->body.find("<a href='/run/0/trial/"), std::string::npos);
  EXPECT_NE(page->body.find("<select name='x'>"), std::string::npos);
  EXPECT_NE(page->body.find("/api/wait"), std::string::npos);
  EXPECT_NE(page->body.find("Hypervolume"), std::string::npos);
  EXPECT_NE(page->body.find("The generation in progress (1):"), std::string::npos);
  EXPECT_EQ(page->body.find("In flight"), std::string::npos) << "nothing runs: nothing in flight";
  // Nothing runs: the title does not promise live updates (issue #54).
  EXPECT_EQ(page->body.find("live: updates itself while the search runs"), std::string::npos);
  EXPECT_NE(page->body.find("no search is running here now"), std::string::npos);
  EXPECT_EQ(s.Get("/run/0")->status, 200);
  auto frag = s.Get("/fragment/run/0");
  EXPECT_EQ(frag->status, 200);
  EXPECT_EQ(frag->body.find("<script"), std::string::npos);
  // The run as JSON: 50 trials of generation 0 in the checkpoint and 10 of generation 1 in the journal.
  YAML::Node runs = s.Json("/api/runs");
  ASSERT_EQ(runs["runs"].size(), 1u);
  YAML::Node run = s.Json("/api/run/0");
  EXPECT_EQ(run["name"].as<std::string>(), "synthetic_serve");
  EXPECT_EQ(run["state"].as<std::string>(), "unknown");  // no lock holder, no end recorded
  EXPECT_EQ(run["trials"].as<int>(), 100);
  EXPECT_EQ(run["evaluations"].as<int>(), 60);
  EXPECT_EQ(run["generation"].as<int>(), 1);
  EXPECT_EQ(run["in_flight"].size(), 0u) << "nothing runs: nothing in flight";
  EXPECT_GE(run["front"].size(), 1u);
  EXPECT_EQ(run["hypervolume"].size(), 1u);
  EXPECT_EQ(run["objectives"][0]["metric"].as<std::string>(), "val_accuracy");
  YAML::Node trials = s.Json("/api/run/0/trials?since=95");
  EXPECT_EQ(trials["trials"].size(), 5u);
  EXPECT_EQ(trials["next"].as<int>(), 100);
  // Every trial (issue #56): the page links to it; its data come as columns, and `next` stops
  // at the first trial not finished (60: generation 1's results after the journal's 10).
  EXPECT_NE(page->body.find("<a href='/run/0/trials'>"), std::string::npos);
  auto all = s.Get("/run/0/trials");
  ASSERT_EQ(all->status, 200);
  for (const char* part : {"<canvas id='hist'", "<canvas id='par'", "<table id='tab'>", "/api/run/' + run + '/columns"})
    EXPECT_NE(all->body.find(part), std::string::npos) << part;
  YAML::Node cols = s.Json("/api/run/0/columns");
  EXPECT_EQ(cols["since"].as<int>(), 0);
  EXPECT_EQ(cols["id"].size(), 100u);
  EXPECT_EQ(cols["metrics"]["val_accuracy"].size(), 100u);
  EXPECT_EQ(cols["next"].as<int>(), 60);
  EXPECT_EQ(cols["status"][0].as<int>(), 2) << "complete";
  EXPECT_TRUE(cols["feasible"][99].IsNull()) << "a pending trial is neither";
  EXPECT_GE(cols["front"].size(), 1u);
  EXPECT_EQ(cols["objectives"][1]["goal"].as<std::string>(), "min");
  YAML::Node rest = s.Json("/api/run/0/columns?since=60");
  EXPECT_EQ(rest["id"].size(), 40u);
  EXPECT_EQ(rest["id"][0].as<int>(), 60);
  EXPECT_EQ(s.Get("/api/run/0/columns?since=x")->status, 400);
  EXPECT_EQ(trials["trials"][0]["id"].as<int>(), 95);
  EXPECT_EQ(trials["trials"][0]["status"].as<std::string>(), "pending");
  // A trial as its line of trials.jsonl: metrics beside the rest; a curve only with rungs.
  YAML::Node trial = s.Json("/api/run/0/trial/3");
  EXPECT_EQ(trial["id"].as<int>(), 3);
  const std::string status = trial["status"].as<std::string>();
  EXPECT_TRUE(status == "complete" || status == "failed") << status;
  EXPECT_EQ(static_cast<bool>(trial["val_accuracy"]), status == "complete");
  EXPECT_FALSE(trial["arch"].as<std::string>().empty());
  EXPECT_FALSE(trial["curve"]) << "no fidelity: no curve";
  auto tp = s.Get("/run/0/trial/3");
  EXPECT_EQ(tp->status, 200);
  EXPECT_NE(tp->body.find("Trial #3"), std::string::npos);
  EXPECT_NE(tp->body.find("<svg"), std::string::npos) << "the graph";
  EXPECT_EQ(s.Get("/fragment/run/0/trial/3")->status, 200);
  // Axes: chosen metrics and log scales; a bad one is refused with what is allowed.
  auto logp = s.Get("/run/0?x=params&y=val_accuracy&xscale=log");
  EXPECT_EQ(logp->status, 200);
  EXPECT_NE(logp->body.find("parameters, log"), std::string::npos);
  auto bad = s.Get("/run/0?x=nonsense");
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("allowed: val_accuracy, latency_ms"), std::string::npos);
  EXPECT_EQ(s.Get("/run/0?yscale=cubic")->status, 400);
  // Long poll: answers at once when the version differs, after its timeout when not.
  const auto v = s.Json("/api/wait?version=0")["version"].as<std::uint64_t>();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(s.Json("/api/wait?version=" + std::to_string(v) + "&timeout=0.3")["version"].as<std::uint64_t>(), v);
  EXPECT_GE(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 0.25);
  EXPECT_EQ(s.Get("/api/wait?version=x")->status, 400);
  // Not found: another run, another trial.
  EXPECT_EQ(s.Get("/run/1")->status, 404);
  EXPECT_EQ(s.Get("/api/run/7")->status, 404);
  EXPECT_EQ(s.Get("/run/0/trial/100")->status, 404);
  EXPECT_EQ(s.Get("/api/run/0/trial/99999999999999999999")->status, 404);
  EXPECT_EQ(s.Get("/run/99999999999999999999")->status, 404);
  // Read-only: the run directory is as it was.
  EXPECT_EQ(Files(dir), before);
}

// A browser asks for "gzip, deflate, br": the answer is gzip (zlib's fastest level), with its
// length, and inflates to the very bytes an answer without compression carries. (Debian's
// cpp-httplib answers "br" with Brotli's slowest quality: 22 s for a 100,000-trial run's columns.)
TEST(Serve, ABrowserGetsGzipNotBrotli) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libcpp-httplib-dev";
  Served s({Synthetic("serve_gzip", 2000)});
  for (const std::string path : {"/api/run/0/columns", "/run/0", "/run/0/trials"}) {
    const auto plain = s.Get(path);
    ASSERT_TRUE(plain) << path;
    EXPECT_EQ(plain->get_header_value("Content-Encoding"), "") << path;
    httplib::Client c("127.0.0.1", s.port);
    c.set_decompress(false);
    const auto zipped = c.Get(path.c_str(), {{"Accept-Encoding", "gzip, deflate, br"}});
    ASSERT_TRUE(zipped) << path;
    EXPECT_EQ(zipped->get_header_value("Content-Encoding"), "gzip") << path;
    EXPECT_EQ(zipped->get_header_value("Content-Length"), std::to_string(zipped->body.size())) << path;
    EXPECT_LT(zipped->body.size(), plain->body.size() / 2) << path;
    z_stream z{};
    ASSERT_EQ(inflateInit2(&z, MAX_WBITS + 16), Z_OK);
    std::string out(plain->body.size() + 1, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zipped->body.data()));
    z.avail_in = static_cast<uInt>(zipped->body.size());
    z.next_out = reinterpret_cast<Bytef*>(&out[0]);
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END) << path;
    out.resize(z.total_out);
    inflateEnd(&z);
    EXPECT_EQ(out, plain->body) << path;
  }
}

TEST(Serve, RefusesEveryPathOutsideItsPages) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libcpp-httplib-dev";
  const std::string dir = Synthetic("serve_paths");
  Served s({dir});
  for (const std::string p :
       {"/config.yaml", "/checkpoint.bin", "/run/0/config.yaml", "/run/0/../../../../etc/passwd", "/../config.yaml",
        "/%2e%2e/%2e%2e/etc/passwd", "/run/0/%2e%2e/config.yaml", "/run/0/trial/..%2f..%2fconfig.yaml",
        "//etc/passwd", "/run/0/trial/3/../../../../config.yaml", "/fragment/../config.yaml", "/api/run/0/../../journal.bin"}) {
    auto r = s.Get(p);
    ASSERT_TRUE(r) << p;
    EXPECT_EQ(r->status, 404) << p;
    EXPECT_EQ(r->body.find("synthetic_train"), std::string::npos) << p << " leaked config.yaml";
    EXPECT_EQ(r->body.find("root:"), std::string::npos) << p;
  }
  // Read-only, and bounded: no method but GET; a body over the limit is refused.
  httplib::Client c("127.0.0.1", s.port);
  EXPECT_EQ(c.Post("/", "x", "text/plain")->status, 405);
  EXPECT_EQ(c.Delete("/run/0")->status, 405);
  EXPECT_EQ(c.Post("/", std::string(100000, 'x'), "text/plain")->status, 413);
  // Many clients at once (more than the threads): every one is answered.
  std::vector<std::future<int>> answers;
  for (int i = 0; i < 40; ++i)
    answers.push_back(std::async(std::launch::async, [&s] {
      auto r = s.Get("/api/wait?version=0&timeout=1");
      return r ? r->status : -1;
    }));
  for (auto& a : answers) EXPECT_EQ(a.get(), 200);
}

// The live front (the checkpoint's finished trials' front, merged with the pending trials) is
// the front of every trial, after each result, after a damaged record and after a new checkpoint.
TEST(LiveRun, KeepsTheFrontOfEveryTrialAsResultsArrive) {
  const std::string dir = Synthetic("live_front", 300);
  LiveRun live(dir);
  int joined = 0;  // results that entered the front: the merge was exercised
  auto same = [&] {
    live.Refresh();
    const RunView v = live.View();
    ASSERT_TRUE(v.state && v.problem);
    ASSERT_FALSE(v.front.empty());
    EXPECT_EQ(v.front, search::ParetoFront(*v.state, *v.problem));
    for (std::int64_t id : v.front) joined += id >= 250;
  };
  same();
  for (std::int64_t id = 260; id < 300; ++id) {
    bench::AppendSyntheticResult(dir, id, id == 270 ? 2 : 1, id == 280 ? bench::Append::kDamaged : bench::Append::kJournal);
    same();
  }
  EXPECT_GT(joined, 0);
  bench::SyntheticRun next;
  next.trials = 350;
  bench::WriteSyntheticRun(dir, next);
  same();
}

TEST(Serve, FollowsARunAsItIsWrittenAndSurvivesDamage) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libcpp-httplib-dev";
  const std::string dir = Synthetic("serve_follow");
  Served s({dir});
  ASSERT_TRUE(WaitFor(s, "evaluations", 60));
  const auto v0 = s.Json("/api/wait?version=0")["version"].as<std::uint64_t>();
  // A result appended: the long poll answers with a new version and the trial is complete.
  auto waiting = std::async(std::launch::async, [&] { return s.Json("/api/wait?version=" + std::to_string(v0)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  bench::AppendSyntheticResult(dir, 60, 1);
  EXPECT_GT(waiting.get()["version"].as<std::uint64_t>(), v0);
  EXPECT_TRUE(WaitFor(s, "evaluations", 61));
  EXPECT_NE(s.Json("/api/run/0/trial/60")["status"].as<std::string>(), "pending");
  // A damaged record is skipped with a note on the page; the records after it still count.
  bench::AppendSyntheticResult(dir, 61, 1, bench::Append::kDamaged);
  bench::AppendSyntheticResult(dir, 62, 1, bench::Append::kRaw);
  EXPECT_TRUE(WaitFor(s, "evaluations", 62));
  EXPECT_EQ(s.Json("/api/run/0/trial/61")["status"].as<std::string>(), "pending");
  EXPECT_EQ(s.Json("/api/run/0")["notes"].size(), 1u);
  EXPECT_NE(s.Get("/")->body.find("damaged record at offset"), std::string::npos);
  // A resumed search cuts the journal at the damage and appends after it: the journal is read
  // again from its start, and trial 62, whose record went with the cut, waits for its result again.
  bench::AppendSyntheticResult(dir, 63, 1, bench::Append::kJournal);
  EXPECT_TRUE(WaitFor(s, "evaluations", 62));
  EXPECT_EQ(s.Json("/api/run/0/trial/62")["status"].as<std::string>(), "pending");
  EXPECT_NE(s.Json("/api/run/0/trial/63")["status"].as<std::string>(), "pending");
  // A half-written record waits for the rest.
  const std::string journal = RunPaths(dir).journal();
  const std::string other = testing::TempDir("serve_follow_rec");
  bench::AppendSyntheticResult(other, 64, 1, bench::Append::kJournal);  // a journal of one record
  std::ifstream in(other + "/journal.bin", std::ios::binary);
  std::string rec((std::istreambuf_iterator<char>(in)), {});
  rec = rec.substr(12);  // less the header
  {
    std::ofstream out(journal, std::ios::binary | std::ios::app);
    out << rec.substr(0, 10);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(s.Json("/api/run/0")["evaluations"].as<int>(), 62);
  EXPECT_EQ(s.Json("/api/run/0")["notes"].size(), 1u) << "an incomplete record is not damage";
  {
    std::ofstream out(journal, std::ios::binary | std::ios::app);
    out << rec.substr(10);
  }
  EXPECT_TRUE(WaitFor(s, "evaluations", 63));
  // The next generation: the search replaces the checkpoint (and here the journal too).
  bench::SyntheticRun next;
  next.trials = 150;
  bench::WriteSyntheticRun(dir, next);
  EXPECT_TRUE(WaitFor(s, "trials", 150));
  EXPECT_TRUE(WaitFor(s, "evaluations", 110));
  EXPECT_EQ(s.Json("/api/run/0")["generation"].as<int>(), 2);
  EXPECT_EQ(s.Json("/api/run/0")["hypervolume"].size(), 2u);
  // The directory deleted (here: moved away) while served: an error on the page, not a crash;
  // back again, the run again.
  fs::rename(dir, dir + ".away");
  bool gone = false;
  for (int i = 0; i < 250 && !gone; ++i) {
    gone = s.Json("/api/run/0")["error"].as<std::string>().find("gone") != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone);
  auto page = s.Get("/");
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("Cannot read this run now"), std::string::npos);
  fs::rename(dir + ".away", dir);
  bool back = false;
  for (int i = 0; i < 250 && !back; ++i) {
    back = s.Json("/api/run/0")["error"].as<std::string>().empty();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(back);
}

TEST(Serve, SeveralRunsShareOnePlot) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libcpp-httplib-dev";
  const std::string a = Synthetic("serve_two_a", 100, 1), b = Synthetic("serve_two_b", 100, 2);
  Served s({a, b});
  auto page = s.Get("/");
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("data-run='0'"), std::string::npos);
  EXPECT_NE(page->body.find("data-run='1'"), std::string::npos);
  EXPECT_NE(page->body.find("<a href='/run/1'>"), std::string::npos);
  // Their hypervolumes in one box (search_test checks the arithmetic), said beside each own box's.
  EXPECT_NE(page->body.find("hypervolume, common box"), std::string::npos);
  EXPECT_NE(page->body.find("these compare"), std::string::npos);
  EXPECT_EQ(s.Json("/api/runs")["runs"].size(), 2u);
  EXPECT_EQ(s.Get("/run/1")->status, 200);
}

TEST(Serve, ATrialPageDrawsTheCurveTheTrainingCommandWrote) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libcpp-httplib-dev";
  const std::string dir = testing::TempDir("serve_command") + "/run";
  bench::SyntheticRun spec;
  spec.command_evaluator = true;
  bench::WriteSyntheticRun(dir, spec);
  fs::create_directories(dir + "/trials/3");
  {  // an older attempt, then the one that counts (the newest)
    std::ofstream(dir + "/trials/3/result-100-0.json") << R"({"metrics": {"val_accuracy": 1}, "curve": [{"epoch": 1, "val_accuracy": 1}]})";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ofstream(dir + "/trials/3/result-101-0.json")
        << R"({"metrics": {"val_accuracy": 61.25}, "curve": [{"epoch": 1, "val_accuracy": 48.5, "train_loss": 1.5}, {"epoch": 2, "val_accuracy": 61.25, "train_loss": 0.9}]})";
  }
  Served s({dir});
  auto page = s.Get("/run/0/trial/3");
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("the training command wrote"), std::string::npos);
  EXPECT_NE(page->body.find("<h2>Learning curve</h2>"), std::string::npos);
  EXPECT_NE(page->body.find("<td>61.25</td>"), std::string::npos);
  EXPECT_NE(page->body.find("<td>0.9</td>"), std::string::npos) << "every key of the curve, as a column";
  // A trial without a result file, or with one that is not JSON: no curve, no error.
  fs::create_directories(dir + "/trials/4");
  std::ofstream(dir + "/trials/4/result-100-0.json") << "{ not json";
  auto other = s.Get("/run/0/trial/4");
  EXPECT_EQ(other->status, 200);
  EXPECT_EQ(other->body.find("Learning curve"), std::string::npos);
}

TEST(Serve, ASecondServerOnTheSamePortIsRefused) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libcpp-httplib-dev";
  const std::string dir = Synthetic("serve_port");
  Served s({dir});
  LiveServer second({dir});
  EXPECT_THROW(second.Bind("127.0.0.1", s.port), search::RunFileError);
}

TEST(Serve, RefusesWhatIsNotARun) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libcpp-httplib-dev";
  const std::string empty = testing::TempDir("serve_not_a_run");
  EXPECT_THROW(LiveServer({empty + "/missing"}), InputError);
  EXPECT_THROW(LiveServer({empty}), InputError);
}

/// Chromium on PATH (Debian's `chromium`), or "".
std::string Chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    const std::string probe = std::string("command -v ") + name + " >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return name;
  }
  return "";
}

/// Headless `chromium` loading http://127.0.0.1:PORT/PATH with a virtual time budget of 1.5 s
/// (it runs the page's timers, and pauses while a request is open), and the DOM it prints then.
/// `cmd`, when given, receives the command line (for a failure's message).
std::string DumpDom(const std::string& chromium, int port, const std::string& path, const std::string& profile,
                    std::string* cmd_out = nullptr) {
  const std::string cmd = "timeout 90 " + chromium + " --headless " + (::geteuid() == 0 ? "--no-sandbox " : "") +
                          "--disable-gpu --user-data-dir=" + profile +
                          " --virtual-time-budget=1500 --dump-dom http://127.0.0.1:" + std::to_string(port) + path +
                          " 2>/dev/null";
  if (cmd_out) *cmd_out = cmd;
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// The page of every trial draws itself from the columns in a real browser: the table's first
// page of 100 rows, the count, no script error.
TEST(Serve, ARealBrowserDrawsEveryTrialsTable) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libcpp-httplib-dev";
  const std::string chromium = Chromium();
  if (chromium.empty())
    GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh --with-test-extras installs it)";
  const std::string dir = Synthetic("serve_browser_trials");
  Served s({dir}, /*max_wait=*/1);
  std::string cmd;
  const std::string html =
      DumpDom(chromium, s.port, "/run/0/trials", testing::TempDir("serve_browser_trials_profile"), &cmd);
  ASSERT_FALSE(html.empty()) << "chromium printed no DOM: " << cmd;
  EXPECT_NE(html.find("data-rows=\"100\""), std::string::npos) << html.substr(0, 1500);
  EXPECT_NE(html.find("100 of 100 trials match"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"/run/0/trial/99\">"), std::string::npos) << "newest first";
  EXPECT_EQ(html.find("class=\"note\">cannot load the trials"), std::string::npos);
}

TEST(Serve, ARealBrowserSeesATrialAppendedAfterTheFirstRender) {
  if (!ServeAvailable()) GTEST_SKIP() << "built without libcpp-httplib-dev";
  const std::string chromium = Chromium();
  if (chromium.empty())
    GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh --with-test-extras installs it)";
  const std::string dir = Synthetic("serve_browser");
  RunLock lock(dir);  // a search "running" here: the page says so
  Served s({dir}, /*max_wait=*/1);  // each long poll holds the browser's virtual clock for 1 s at most
  const std::string profile = testing::TempDir("serve_browser_profile");
  // The virtual time budget runs the page's timers; it pauses while a request is open, so the
  // page's long poll holds it until the result below is appended.
  std::string cmd;
  auto dom = std::async(std::launch::async, [&] { return DumpDom(chromium, s.port, "/", profile, &cmd); });
  // The page is loaded and waits for news: append a result of the generation in progress.
  bool waiting = false;
  for (int i = 0; i < 3000 && !waiting; ++i) {
    waiting = s.server->waits() >= 1;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(waiting) << "the page never asked for updates";
  std::int64_t id = 60;
  while (!bench::SyntheticResultOk(id, 1)) ++id;  // a complete trial: a point on the plot
  bench::AppendSyntheticResult(dir, id, 1);
  const std::string html = dom.get();
  ASSERT_FALSE(html.empty()) << "chromium printed no DOM: " << cmd;
  // The first render's points, the trial appended afterwards, and the page not reloaded: the
  // script replaced the content in place and counted the update.
  EXPECT_GT(Count(html, "data-trial=\""), 40u);
  EXPECT_NE(html.find("data-trial=\"" + std::to_string(id) + "\""), std::string::npos) << html.substr(0, 2000);
  EXPECT_EQ(html.find("data-updates=\"0\""), std::string::npos);
  EXPECT_NE(html.find("running (pid"), std::string::npos);
}

}  // namespace
}  // namespace paretonas::experiments

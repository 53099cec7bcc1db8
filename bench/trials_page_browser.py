#!/usr/bin/env python3
"""The page of every trial (/run/N/trials) timed in a real browser (issue #56).

    trials_page_browser.py PARETONAS SYNTHETIC_RUN_TOOL WORKDIR [--sizes 10000,100000]
                           [--repeats 3] [--updates 5] [--chromium /usr/bin/chromium]

For each size: a synthetic run of that many trials (`synthetic_run_tool write`, the journal of
bench/serve_bench), `PARETONAS serve` on it, and headless Chromium driven over the DevTools
protocol (--remote-debugging-pipe; standard library only). Per repeat, in a fresh browser:

  first render: the page's own clock (performance.now(), from the navigation's start) when the
                table, the history plot and the parallel coordinates are first shown (the frame
                after they were drawn): the page, its columns fetched and parsed, all drawn;
  update:       a pending trial's result appended to the journal (as a search does), until the
                page shows it: from the append's start (the tool's clock) to the page's
                `shownAt` (same machine, ms since the epoch), and in the page from the long poll's answer
                to shown (the columns since the first unfinished trial, merged, all redrawn).

  run page:     the run's own page (/run/0) in the same browser: its load event, from its
                navigation (the whole page, every trial's row included, parsed and laid out).

Prints one line per size with medians (and the worst update), then where the time went, from the
page's performance marks: for the first render when the columns had arrived (`columns`) and the
drawing after they were parsed (`draw`); for an update the append until the page's long poll
answered (`poll`, the append's own write and fsync, `append`, included), the columns since the first unfinished trial fetched and parsed, merged, the
table, the history plot, the parallel coordinates, and the frame that shows them. The figures go to
bench/RESULTS.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


class Browser:
    """Headless Chromium over --remote-debugging-pipe: JSON messages ended by NUL on fds 3/4."""

    def __init__(self, chromium):
        to_r, self._to_w = os.pipe()
        self._from_r, from_w = os.pipe()
        self._profile = tempfile.TemporaryDirectory(prefix="trials-page-")
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                "--no-first-run", "--disable-extensions", "--user-data-dir=" + self._profile.name,
                "about:blank"]
        self._proc = subprocess.Popen(
            ["sh", "-c", 'exec "$@" 3<&%d 4>&%d' % (to_r, from_w), "sh"] + args,
            pass_fds=(to_r, from_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self._buf = b""
        self._id = 0
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self._session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]

    def call(self, method, session=None, **params):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._to_w, json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self._buf:
                chunk = os.read(self._from_r, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self._buf += chunk
            raw, self._buf = self._buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError("%s: %s" % (method, reply["error"]))
                return reply["result"]

    def navigate(self, url):
        self.call("Page.navigate", self._session, url=url)

    def evaluate(self, expression):
        r = self.call("Runtime.evaluate", self._session, expression=expression, returnByValue=True)
        return r["result"].get("value")

    def wait_for(self, expression, timeout_s=120):
        end = time.time() + timeout_s
        while time.time() < end:
            v = self.evaluate(expression)
            if v not in (None, "", False):
                return v
            time.sleep(0.02)
        raise RuntimeError("timed out waiting for " + expression)

    def close(self):
        try:
            self.call("Browser.close")
        except RuntimeError:
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        os.close(self._to_w)
        os.close(self._from_r)
        self._profile.cleanup()


def marks_of(b):
    """The page's performance marks (ms since its navigation): those of its last update."""
    return dict(json.loads(b.evaluate("JSON.stringify(performance.getEntriesByType('mark')"
                                      ".map(m => [m.name, m.startTime]))")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paretonas")
    ap.add_argument("tool", help="build/bench/synthetic_run_tool")
    ap.add_argument("workdir")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--updates", type=int, default=5)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    a = ap.parse_args()
    if a.repeats * a.updates > 40:
        sys.exit("repeats x updates must be at most 40 (the pending trials of the last generation)")
    port = 19000 + os.getpid() % 1000
    print("%-8s %10s %10s %12s %14s %14s %10s" % ("trials", "first_ms", "first_max", "update_ms", "update_max_ms",
                                               "in_page_ms", "rows"))
    for n in [int(x) for x in a.sizes.split(",")]:
        run = os.path.join(a.workdir, "run-%d" % n)
        pending = int(subprocess.check_output([a.tool, "write", run, str(n)]).decode())
        server = subprocess.Popen([a.paretonas, "serve", run, "--port", str(port)], stdout=subprocess.DEVNULL)
        try:
            first, update, in_page, rows, parts, first_parts, run_page = [], [], [], None, [], [], []
            for r in range(a.repeats):
                # The server is up when the browser asks (its own first render is serve_bench's).
                for _ in range(600):
                    try:
                        urllib.request.urlopen("http://127.0.0.1:%d/api/wait?version=0" % port, timeout=5).read()
                        break
                    except OSError:
                        time.sleep(0.05)
                b = Browser(a.chromium)
                try:
                    b.navigate("http://127.0.0.1:%d/run/0/trials" % port)
                    first.append(float(b.wait_for("document.body && document.body.dataset.firstMs")))
                    rows = b.evaluate("document.getElementById('count').textContent")
                    cols = b.evaluate("JSON.stringify(performance.getEntriesByType('resource')"
                                      ".filter(e => e.name.includes('/columns')).map(e => e.responseEnd))")
                    marks = marks_of(b)
                    first_parts.append({"columns": json.loads(cols)[0], "draw": marks["drawn"] - marks["parsed"]})
                    # The run page (/run/0) in the same browser: its load event, from its navigation.
                    b.navigate("http://127.0.0.1:%d/run/0" % port)
                    run_page.append(float(b.wait_for(
                        "document.readyState === 'complete' && performance.getEntriesByType('navigation')[0].loadEventEnd")))
                    b.navigate("http://127.0.0.1:%d/run/0/trials" % port)
                    b.wait_for("document.body && document.body.dataset.firstMs")
                    time.sleep(0.5)  # the page's long poll is waiting
                    for u in range(a.updates):
                        done = int(b.evaluate("+document.body.dataset.updates"))
                        out = subprocess.run([a.tool, "append", run, str(pending)], check=True,
                                             capture_output=True, text=True)
                        t = float(out.stdout)  # when the append began
                        written = float(out.stderr.split("appended in ")[1].split(" ms")[0])
                        pending += 1
                        b.wait_for("+document.body.dataset.updates > %d" % done, 30)
                        update.append(float(b.evaluate("document.body.dataset.shownAt")) - t)
                        in_page.append(float(b.evaluate("document.body.dataset.updateMs")))
                        m = marks_of(b)
                        parts.append({"append": written, "poll": b.evaluate("performance.timeOrigin") + m["answered"] - t,
                                      "columns": m["parsed"] - m["answered"], "merge": m["appended"] - m["parsed"],
                                      "table": m["table"] - m["appended"], "history": m["history"] - m["table"],
                                      "parallel": m["drawn"] - m["history"], "frame": m["shown"] - m["drawn"]})
                        print("  %d trials, repeat %d, update %d: %.1f ms (in the page %.1f ms)"
                              % (n, r, u, update[-1], in_page[-1]), file=sys.stderr)
                        time.sleep(0.3)
                finally:
                    b.close()
            print("%-8d %10.1f %10.1f %12.1f %14.1f %14.1f   %s" % (
                n, statistics.median(first), max(first), statistics.median(update), max(update),
                statistics.median(in_page), rows))
            print("         the run page (/run/0) loaded: %.1f ms (median)" % statistics.median(run_page))
            print("         first render, medians (ms): " + ", ".join(
                "%s %.1f" % (k, statistics.median(p[k] for p in first_parts)) for k in first_parts[0]))
            print("         update, medians (ms): " + ", ".join(
                "%s %.1f" % (k, statistics.median(p[k] for p in parts)) for k in parts[0]))
            sys.stdout.flush()
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()

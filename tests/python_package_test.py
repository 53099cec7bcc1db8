#!/usr/bin/env python3
"""The Python package (python/paretonas, issue #56) against the binary, on a synthetic table run:
load_run and load_front read what the run wrote, pick chooses what `paretonas pick` chooses,
search() drives the binary and follows it, load_model loads an export with its preprocessing.
Parts that need pandas or torch say why they are skipped where those are missing.
Usage: python_package_test.py PARETONAS_BINARY SOURCE_DIR"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

binary, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "python"))
import paretonas as pn  # noqa: E402

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {name}" + (f": {detail}" if detail else ""))


def have(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


work = tempfile.mkdtemp(prefix="paretonas-python-")
try:
    fixture = (f'source "{src}/tests/table_fixture.sh" && table_experiment "{binary}" "{work}" t 3 8 1 0 16')
    subprocess.run(["bash", "-c", fixture], check=True)
    config, run = os.path.join(work, "t.yaml"), os.path.join(work, "run")

    # search(): drives the binary, hands each line to `progress`, returns the trials.
    lines = []
    trials = pn.search(config, run, binary=binary, progress=lines.append, as_dataframe=False)
    check("search() ran the budget", len(trials) == 16, len(trials))
    check("and followed its progress", any(l.startswith("generation 0 done") for l in lines), lines[:5])
    more = pn.search(None, run, binary=binary, resume=True, max_evals=24, as_dataframe=False)
    check("search(resume=True) extends it", len(more) == 24, len(more))
    try:
        pn.search(config, os.path.join(work, "bad"), binary=binary, sets=["search.population=0"])
        check("a bad config raises", False)
    except subprocess.CalledProcessError as e:
        check("a bad config raises with exit 2 and the message", e.returncode == 2 and "population" in e.output,
              e.output[-300:])

    # load_run: every line of trials.jsonl, a column per metric and per decision.
    with open(os.path.join(run, "trials.jsonl")) as f:
        raw = [json.loads(l) for l in f]
    rows = pn.load_run(run, as_dataframe=False)
    check("one row a trial", [r["id"] for r in rows] == [t["id"] for t in raw])
    check("the choices as columns", all(r["cell.0->1"] == t["choices"]["cell.0->1"] for r, t in zip(rows, raw)))
    check("the metrics as columns", all(r["latency_ms"] == t["latency_ms"] for r, t in zip(rows, raw)))
    if have("pandas"):
        df = pn.load_run(run)
        check("a DataFrame with pandas", type(df).__name__ == "DataFrame" and len(df) == 24, type(df))
        check("times as UTC datetimes", str(df["started"].dtype).startswith("datetime64") and
              (df["finished"] >= df["started"]).all(), df.dtypes)
        check("a column per decision", {"cell.0->1", "cell.2->3"} <= set(df.columns), list(df.columns))
        front = pn.load_front(run)
        check("the front is front.csv", len(front) == sum(1 for _ in open(os.path.join(run, "front.csv"))) - 1)
        check("its ids are trials", set(front["id"]) <= set(df["id"]))
    else:
        print("skipped: the DataFrame checks (this python3 has no pandas: apt install python3-pandas)")

    # pick: the same trial as the binary's, for several thresholds.
    lats = sorted(r["latency_ms"] for r in rows if r["status"] == "complete")
    for q in (0.25, 0.5, 1.0):
        lat = lats[int(q * (len(lats) - 1))]
        cli = subprocess.run([binary, "pick", run, "--where", f"latency_ms<={lat}", "--max", "val_accuracy", "--json"],
                             capture_output=True, text=True)
        mine = pn.pick(run, where=[f"latency_ms<={lat}"], maximize="val_accuracy")
        check(f"pick agrees with the binary at latency_ms<={lat}",
              cli.returncode == 0 and json.loads(cli.stdout)["id"] == mine["id"], (cli.stdout[:200], mine["id"]))
    check("pick takes what load_run returned", pn.pick(rows, minimize="latency_ms")["id"] ==
          json.loads(subprocess.run([binary, "pick", run, "--min", "latency_ms", "--json"], capture_output=True,
                                    text=True).stdout)["id"])
    for where, expect in ((["latncy_ms<=2"], "no trial has the metric 'latncy_ms'"),
                          (["latency_ms<=0.0001"], "0 with latency_ms<=0.0001")):
        try:
            pn.pick(run, where=where, maximize="val_accuracy")
            check(f"pick {where} raises", False)
        except pn.PickError as e:
            check(f"pick {where} says why", expect in str(e), str(e))

    # load_model: an export with its preprocessing.
    if have("torch"):
        import torch
        out = os.path.join(work, "export")
        subprocess.run([binary, "export", run, "--id", str(rows[0]["id"]), "--format", "json,torchscript", "--out", out],
                       check=True, capture_output=True)
        m = pn.load_model(out, rows[0]["id"])
        inp = m.input
        pixels = torch.randint(0, int(inp["pixel_max"]) + 1, (2,) + tuple(inp["shape"][1:])).float()
        by_hand = (pixels / inp["pixel_max"] - torch.tensor(inp["mean"]).view(1, -1, 1, 1)) / \
            torch.tensor(inp["std"]).view(1, -1, 1, 1)
        with torch.no_grad():
            want = m.module(by_hand)
        check("load_model normalises as the export's JSON says", torch.equal(m(pixels), want))
        check("one image without a batch axis", torch.allclose(m(pixels[0]), want[:1], atol=1e-5))
        try:
            pn.load_model(out, 999)
            check("a trial not exported raises", False)
        except FileNotFoundError as e:
            check("a trial not exported raises, naming the command", "paretonas export" in str(e), str(e))
    else:
        print("skipped: load_model (this python3 has no torch: apt install python3-torch)")
finally:
    shutil.rmtree(work, ignore_errors=True)

print(f"python package: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)

"""paretonas from Python: read a run, pick a model, load an exported one, drive a search.

The engine is the `paretonas` binary; this package reads the files it writes (trials.jsonl,
front.csv, the exports) and runs the binary. Standard library only; pandas (optional) for
DataFrames, torch (optional) for load_model.

    import paretonas as pn
    trials = pn.load_run("RUN")                     # DataFrame: one row a trial, a column a metric and a choice
    front = pn.load_front("RUN")                    # the Pareto front (front.csv)
    best = pn.pick("RUN", where=["latency_ms<=2"], maximize="val_accuracy")
    model = pn.load_model("EXPORT_DIR", best["id"])  # after `paretonas export RUN --id ID --format torchscript ...`
    logits = model(pixels)                          # pixels as read, 0..pixel_max: the model normalises them
    trials = pn.search("experiment.yaml", "RUN", seconds=600, progress=print)
"""
import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys

__all__ = ["load_run", "load_front", "pick", "load_model", "search", "find_binary", "PickError"]

_STATES = ("complete", "failed", "stopped", "screened")


def _pandas():
    try:
        import pandas
        return pandas
    except ImportError:
        return None


def _rows(run_dir):
    path = os.path.join(run_dir, "trials.jsonl")
    if not os.path.exists(path):
        if not os.path.isdir(run_dir):
            raise FileNotFoundError(f"{run_dir}: no such run directory")
        raise FileNotFoundError(f"{path}: no trials yet (the search writes it after its first generation)")
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                t = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not a JSON line ({e})") from None
            row = {k: v for k, v in t.items() if k not in ("choices", "curve", "violated")}
            row["violated"] = t.get("violated", [])
            for decision, option in t.get("choices", {}).items():
                row[decision] = option
            if "curve" in t:
                row["curve"] = t["curve"]
            rows.append(row)
    return rows


def load_run(run_dir, as_dataframe=None):
    """The run's finished trials (trials.jsonl), one row each: id, generation, arch, hash, status,
    seed, parents, seconds, started and finished (UTC), feasible, violated, every metric, and one
    column per decision of the space (its name, e.g. "cell.0->1", holding the option chosen).
    A pandas DataFrame when pandas is installed (`as_dataframe=False`: a list of dicts always)."""
    rows = _rows(run_dir)
    pd = _pandas() if as_dataframe is not False else None
    if as_dataframe and pd is None:
        raise ImportError("load_run(as_dataframe=True) needs pandas (Debian: apt install python3-pandas)")
    if pd is None:
        return rows
    df = pd.DataFrame(rows)
    for col in ("started", "finished"):
        if col in df:
            df[col] = pd.to_datetime(df[col], utc=True)
    return df


def load_front(run_dir, as_dataframe=None):
    """The current Pareto front (front.csv): id, arch, hash, generation and the metrics, numbers
    as numbers. A DataFrame with pandas, else a list of dicts."""
    path = os.path.join(run_dir, "front.csv")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no front yet")
    with open(path, newline="") as f:
        rows = []
        for r in csv.DictReader(f):
            out = {}
            for k, v in r.items():
                if k in ("arch", "hash"):
                    out[k] = v
                elif v == "":
                    out[k] = float("nan")
                else:
                    x = float(v)
                    out[k] = int(x) if k in ("id", "generation") else x
            rows.append(out)
    pd = _pandas() if as_dataframe is not False else None
    return pd.DataFrame(rows) if pd is not None else rows


class PickError(LookupError):
    """Nothing matches the conditions (the message names the condition that emptied it), or a
    metric no trial has."""


_CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|==|!=|<|>)\s*([-+0-9.eE]+|inf|-inf)\s*$")
_OPS = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
        ">": lambda a, b: a > b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def _number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def pick(run, where=(), maximize=None, minimize=None, include_infeasible=False):
    """The trial `paretonas pick` chooses: among complete trials (and feasible ones, unless
    `include_infeasible`) meeting every condition of `where` ("latency_ms<=2", ...), the one with
    the largest `maximize` (or smallest `minimize`) metric; ties go to the lowest id. `run` is a
    run directory or what load_run returned. Returns the trial as a dict; raises PickError."""
    if (maximize is None) == (minimize is None):
        raise ValueError("pick: give maximize=METRIC or minimize=METRIC (one of them)")
    if isinstance(where, str):
        where = [where]
    rows = _rows(run) if isinstance(run, (str, os.PathLike)) else (
        run.to_dict("records") if hasattr(run, "to_dict") else list(run))
    known = {"id", "generation", "seconds"} | {k for r in rows for k, v in r.items() if _number(v)}
    conditions = []
    for w in where:
        m = _CONDITION.match(w)
        if not m:
            raise ValueError(f"pick: where '{w}': expected METRIC OP NUMBER, e.g. 'latency_ms<=2' "
                             "(OP: <=, >=, <, >, ==, !=)")
        conditions.append((w, m.group(1), _OPS[m.group(2)], float(m.group(3))))
    goal = maximize if maximize is not None else minimize
    for metric in [c[1] for c in conditions] + [goal]:
        if metric not in known:
            raise PickError(f"pick: no trial has the metric '{metric}'; the metrics: {', '.join(sorted(known))}")
    pool = [r for r in rows if r.get("status") == "complete" and
            (include_infeasible or r.get("feasible", True) is not False)]
    story = f"{len(pool)} complete{'' if include_infeasible else ' feasible'} trial(s)"
    for text, metric, op, value in conditions:
        kept = [r for r in pool if _number(r.get(metric)) and op(r[metric], value)]
        story += f", {len(kept)} with {text}"
        if not kept:
            raise PickError(f"pick: nothing matches: {story}")
        pool = kept
    scored = [r for r in pool if _number(r.get(goal))]
    if not scored:
        raise PickError(f"pick: nothing matches: {story}, none with {goal}")
    sign = 1 if maximize is not None else -1
    best = max(scored, key=lambda r: (sign * r[goal], -r["id"]))
    return dict(best)


class Model:
    """An exported TorchScript model with its input recipe (from the export's JSON): call it
    with pixels as read (N, C, H, W or one C, H, W image; 0..pixel_max), it normalises them as
    the search's training did (unless the normalisation was baked into the file) and returns
    the logits. `.module` is the TorchScript module, `.info` the export's JSON, `.class_names`."""

    def __init__(self, module, info):
        self.module, self.info = module, info
        self.input = info.get("input", {})
        self.class_names = self.input.get("class_names")

    def preprocess(self, pixels):
        import torch
        x = torch.as_tensor(pixels, dtype=torch.float32)
        if x.dim() == 3:
            x = x.unsqueeze(0)
        if self.input.get("normalization_baked"):
            return x
        mean = torch.tensor(self.input.get("mean", [0.0]), dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(self.input.get("std", [1.0]), dtype=torch.float32).view(1, -1, 1, 1)
        return (x / float(self.input.get("pixel_max", 255)) - mean) / std

    def __call__(self, pixels):
        import torch
        with torch.no_grad():
            return self.module(self.preprocess(pixels))


def load_model(export_dir, trial_id):
    """The model `paretonas export RUN --id ID --format json,torchscript --out EXPORT_DIR` wrote
    (arch_ID.torchscript.pt: fp32 or int8, as the JSON's "precision" says), with its preprocessing
    from arch_ID.json. Needs torch."""
    import torch
    info_path = os.path.join(export_dir, f"arch_{trial_id}.json")
    if not os.path.exists(info_path):
        raise FileNotFoundError(f"{info_path}: no export of trial {trial_id} there "
                                f"(paretonas export RUN --id {trial_id} --format json,torchscript --out {export_dir})")
    with open(info_path) as f:
        info = json.load(f)
    path = os.path.join(export_dir, f"arch_{trial_id}.torchscript.pt")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no TorchScript file of trial {trial_id} (export it with --format "
                                "json,torchscript)")
    return Model(torch.jit.load(path, map_location="cpu").eval(), info)


def find_binary(binary=None):
    """The paretonas binary: `binary`, $PARETONAS, `paretonas` on PATH, or this checkout's
    build/experiments/paretonas."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for candidate in (binary, os.environ.get("PARETONAS"), shutil.which("paretonas"),
                      os.path.join(here, "build", "experiments", "paretonas")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError("no paretonas binary: pass binary=, set $PARETONAS, put it on PATH, or build this "
                            "checkout (make)")


def search(config, run_dir, binary=None, resume=False, seconds=None, max_evals=None, generations=None,
           seed=None, sets=(), progress=None, as_dataframe=None):
    """Runs `paretonas search --config CONFIG --run-dir RUN_DIR` (or `resume RUN_DIR` with
    resume=True) with the given budget and `--set` overrides, passing each progress line to
    `progress` (e.g. print) as it comes, and returns load_run(run_dir). Raises
    subprocess.CalledProcessError with the output's tail when the search fails (exit 2: bad input,
    the message says what)."""
    exe = find_binary(binary)
    cmd = [exe, "resume", run_dir] if resume else [exe, "search", "--config", config, "--run-dir", run_dir]
    if seconds is not None:
        cmd += ["--seconds", str(seconds)]
    if max_evals is not None:
        cmd += ["--max-evals", str(max_evals)]
    if generations is not None:
        cmd += ["--generations", str(generations)]
    if not resume:
        if seed is not None:
            cmd += ["--seed", str(seed)]
        for s in sets:
            cmd += ["--set", s]
    tail = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1) as p:
        for line in p.stdout:
            line = line.rstrip("\n")
            tail = (tail + [line])[-40:]
            if progress is not None:
                progress(line)
        rc = p.wait()
    if rc != 0:
        raise subprocess.CalledProcessError(rc, cmd, output="\n".join(tail))
    return load_run(run_dir, as_dataframe=as_dataframe)

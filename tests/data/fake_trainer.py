#!/usr/bin/python3
"""A stand-in for a user's training script (evaluator.kind: command), for the CLI tests: no torch,
deterministic metrics from the request's arch and seed. usage: fake_trainer.py MODE REQUEST.json
MODE: ok | slow (ok after 0.4 s) | fail (exit 3) | hang (sleeps 60 s) | malformed | noresult |
      pick (fail for trial 1, hang for trial 2, malformed for 3, noresult for 4, else ok)"""
import json
import sys
import time

mode, request = sys.argv[1], sys.argv[2]
req = json.load(open(request))
if mode == "pick":
    mode = {1: "fail", 2: "hang", 3: "malformed", 4: "noresult"}.get(req["trial_id"], "ok")
print(f"fake trainer: trial {req['trial_id']} on {req['device']} ({mode})")
assert req["dataset"]["input_shape"] and req["training"]["batch_size"] > 0
if mode == "fail":
    sys.stderr.write("Traceback (most recent call last):\nValueError: the user's loop broke\n")
    sys.exit(3)
if mode == "hang":
    time.sleep(60)
if mode == "slow":
    time.sleep(0.4)
if mode == "noresult":
    sys.exit(0)
with open(req["result"], "w") as f:
    if mode == "malformed":
        f.write("{\"metrics\": {\"val_accuracy\": \"high\"}}")
    else:
        acc = (sum(req["arch"].encode()) * 7 + req["seed"] % 1000) % 1000 / 10.0
        json.dump({"metrics": {"val_accuracy": acc, "epochs_run": 1},
                   "curve": [{"epoch": 1, "val_accuracy": acc}]}, f)

#!/usr/bin/python3
"""Trains one paretonas candidate with your own PyTorch code: the template of `evaluator.kind:
command`. paretonas runs `python3 experiments/byo/train.py REQUEST.json` once per candidate, in a
worker slot, and reads back the JSON this script writes to request["result"].

The request (see docs/own-training-code.md) names:
  model_torchscript  the candidate, untrained, initialised from the trial's seed; it trains like
                     any nn.Module (parameters with gradients, BatchNorm follows train()/eval())
  seed, device       the trial's seed and this slot's device ("cpu" or "cuda:N")
  dataset            name, path, input_shape, classes, pixel_max, mean, std, validation,
                     train_subset, split_seed (the experiment's dataset section, resolved)
  training           epochs, batch_size, lr, momentum, weight_decay, label_smoothing, threads
  result             where to write {"metrics": {...}, "curve": [...]}

Replace the loop below with yours: everything between loading the model and writing the result is
your code. This one reads `.npz` datasets (dataset.name: numpy), splits like the experiment asks
(its own seeded, stratified NumPy split: not the same images as paretonas' built-in trainer picks),
and trains with SGD (Nesterov momentum), a cosine schedule per step and weight decay, as the
built-in trainer does.
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch


def load_npz(path):
    if os.path.isdir(path):
        return {k[:-4]: np.load(os.path.join(path, k)) for k in os.listdir(path) if k.endswith(".npy")}
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def to_nchw(x, channels):
    if x.ndim == 3:
        return x[:, None, :, :]
    return x if x.shape[1] == channels else x.transpose(0, 3, 1, 2)


def split(y, validation, subset, seed):
    """Per class: a seeded shuffle, the first share to validation, then at most `subset` to training."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        nv = int(round(validation * len(idx) / len(y)))
        nt = len(idx) - nv
        if subset > 0:
            nt = min(nt, int(round(subset * len(idx) / len(y))))
        val.extend(idx[:nv])
        train.extend(idx[nv:nv + nt])
    return np.sort(np.array(train)), np.sort(np.array(val))


def main():
    request_path = sys.argv[-1] if len(sys.argv) > 1 else os.environ["PARETONAS_REQUEST"]
    with open(request_path) as f:
        req = json.load(f)
    data, train_cfg = req["dataset"], req["training"]
    if data["name"] != "numpy":
        sys.exit(f"train.py reads dataset.name: numpy (.npz); this experiment uses '{data['name']}'")
    torch.manual_seed(req["seed"] % 2**63)  # one process per candidate: no other thread shares it
    torch.set_num_threads(max(1, train_cfg["threads"]))
    device = torch.device(req["device"])

    arrays = load_npz(data["path"])
    c = data["input_shape"][0]
    x = to_nchw(arrays["x_train"], c)
    y = arrays["y_train"].astype(np.int64).reshape(-1)
    if "x_val" in arrays:
        tr, _ = split(y, 0, data["train_subset"], data["split_seed"])
        xv, yv = to_nchw(arrays["x_val"], c), arrays["y_val"].astype(np.int64).reshape(-1)
    else:
        tr, va = split(y, data["validation"], data["train_subset"], data["split_seed"])
        xv, yv = x[va], y[va]
    x, y = x[tr], y[tr]
    mean = torch.tensor(data["mean"], dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(data["std"], dtype=torch.float32).view(1, -1, 1, 1)
    def prepare(a):  # as paretonas normalises: (pixels / pixel_max - mean) / std, in float32
        t = torch.from_numpy(np.ascontiguousarray(a)).float() / data["pixel_max"]
        return ((t - mean) / std).to(device) if len(data["mean"]) else t.to(device)
    x, xv = prepare(x), prepare(xv)
    y, yv = torch.from_numpy(y).to(device), torch.from_numpy(yv).to(device)

    model = torch.jit.load(req["model_torchscript"], map_location=device)
    params = list(model.parameters())
    opt = torch.optim.SGD(params, lr=train_cfg["lr"], momentum=train_cfg["momentum"],
                          nesterov=train_cfg["momentum"] > 0, weight_decay=train_cfg["weight_decay"])
    batch = train_cfg["batch_size"]
    per_epoch = math.ceil(len(x) / batch)
    total = train_cfg["steps"] if train_cfg["steps"] > 0 else per_epoch * train_cfg["epochs"]
    curve, step, loss = [], 0, torch.tensor(0.0)
    start = time.time()

    def accuracy():
        model.eval()
        with torch.no_grad():
            correct = sum((model(xv[i:i + 1000]).argmax(1) == yv[i:i + 1000]).sum().item()
                          for i in range(0, len(xv), 1000))
        model.train()
        return 100.0 * correct / max(1, len(xv))

    model.train()
    while step < total:
        perm = torch.randperm(len(x), device=device)
        for i in range(0, len(x), batch):
            if step >= total:
                break
            for g in opt.param_groups:
                g["lr"] = 0.5 * train_cfg["lr"] * (1 + math.cos(math.pi * step / total))
            idx = perm[i:i + batch]
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx],
                                                     label_smoothing=train_cfg["label_smoothing"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if not math.isfinite(loss.item()):
                sys.exit(f"diverged: loss {loss.item()} at step {step}")
        curve.append({"epoch": len(curve) + 1, "step": step, "train_loss": loss.item(),
                      "val_accuracy": accuracy()})

    result = {"metrics": {"val_accuracy": curve[-1]["val_accuracy"], "train_loss": loss.item(),
                          "train_seconds": time.time() - start},
              "curve": curve}
    tmp = req["result"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, req["result"])


if __name__ == "__main__":
    main()

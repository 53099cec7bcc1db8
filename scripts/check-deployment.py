#!/usr/bin/python3
"""Feeds raw test images through an export's documented preprocessing and checks that the
deployed model reproduces the test accuracy paretonas reported.

usage: scripts/check-deployment.py ARCH.json DATA [--torchscript ARCH.torchscript.pt] [--onnx ARCH.onnx]
  ARCH.json  `paretonas export ... --format json --train-epochs E` (its "input" block says how to
             feed the model; its final.test_accuracy is the figure to reproduce)
  DATA       the test images as the user has them: a .npz with x_test / y_test (uint8 or float),
             or a folder with t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]
  The TorchScript and ONNX files must come from the same --train-epochs E (retraining is
  deterministic), with or without --bake-normalization (each file says which).
The preprocessing of each model is taken from the model itself: the TorchScript module's
attributes and preprocess() method, the ONNX file's metadata_props; both are checked against the
JSON. ONNX runs in ONNX Runtime (see scripts/check-onnx.py). Exit 1 when an accuracy differs from
the reported one by more than --tolerance points (default 0.02, i.e. 2 of 10,000 images).
"""
import argparse
import gzip
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def load_test(path):
    """Raw test images as N x C x H x W (their own dtype) and labels."""
    if path.endswith(".npz"):
        with np.load(path) as z:
            x, y = z["x_test"], z["y_test"]
    else:
        def idx(base):
            for p in (os.path.join(path, base + ".gz"), os.path.join(path, base)):
                if os.path.exists(p):
                    data = (gzip.open if p.endswith(".gz") else open)(p, "rb").read()
                    dims = data[3]
                    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
                    return np.frombuffer(data[4 + 4 * dims:], np.uint8).reshape(shape)
            sys.exit(f"check-deployment: {path}/{base}[.gz] not found")
        x, y = idx("t10k-images-idx3-ubyte"), idx("t10k-labels-idx1-ubyte")
    if x.ndim == 3:
        x = x[:, None]
    elif x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x), y.astype(np.int64).reshape(-1)


def documented(pixels, spec):
    """The JSON's formula, in float32 in the engine's order: (pixels / pixel_max - mean) / std."""
    x = pixels.astype(np.float32) / np.float32(spec["pixel_max"])
    if spec["mean"]:
        c = len(spec["mean"])
        x = (x - np.array(spec["mean"], np.float32).reshape(1, c, 1, 1)) / np.array(spec["std"], np.float32).reshape(1, c, 1, 1)
    return x.astype(np.float32)


def report(name, predictions, labels, expected, tol):
    correct = int((predictions == labels).sum())
    acc = 100.0 * correct / len(labels)
    ok = abs(acc - expected) <= tol
    print(f"{name}: {correct} of {len(labels)} test images right = {acc:.2f}% (reported {expected:.2f}%)"
          f" {'ok' if ok else 'DIFFERS'}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json")
    ap.add_argument("data")
    ap.add_argument("--torchscript")
    ap.add_argument("--onnx")
    ap.add_argument("--tolerance", type=float, default=0.02)
    a = ap.parse_args()
    export = json.load(open(a.json))
    spec = export["input"]
    if "final" not in export:
        sys.exit(f"check-deployment: {a.json} has no final.test_accuracy (export with --train-epochs E)")
    expected = export["final"]["test_accuracy"]
    pixels, labels = load_test(a.data)
    if list(pixels.shape[1:]) != spec["shape"][1:]:
        sys.exit(f"check-deployment: test images are {list(pixels.shape[1:])}, the model takes {spec['shape'][1:]}")
    print(f"{a.json}: {spec['formula']}")
    ok = True
    if a.torchscript:
        import torch
        m = torch.jit.load(a.torchscript)
        m.eval()
        for key in ("pixel_max",):
            if abs(float(getattr(m, key)) - spec[key]) > 1e-9:
                sys.exit(f"check-deployment: {a.torchscript}: {key} {getattr(m, key)} but the JSON says {spec[key]}")
        if list(m.class_names) != spec["class_names"]:
            sys.exit(f"check-deployment: {a.torchscript}: class_names differ from the JSON")
        baked = bool(m.normalization_baked)
        with torch.no_grad():
            raw = torch.from_numpy(pixels.astype(np.float32))
            if baked:
                x = raw  # the model normalises itself
            else:
                x = m.preprocess(raw)  # the module's own documented path ...
                if not torch.equal(x, torch.from_numpy(documented(pixels, spec))):  # ... = the JSON's
                    sys.exit(f"check-deployment: {a.torchscript}: preprocess() differs from the JSON formula")
            pred = torch.cat([m(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)]).numpy()
        ok &= report(f"{a.torchscript} ({'pixels, normalisation baked in' if baked else 'preprocess(pixels)'})",
                     pred, labels, expected, a.tolerance)
    if a.onnx:
        import onnx
        from importlib import import_module
        check_onnx = import_module("check-onnx")
        model = onnx.load(a.onnx)
        meta = {p.key: p.value for p in model.metadata_props}
        baked = meta.get("paretonas.input.normalization_baked") == "true"
        if json.loads(meta["paretonas.input.mean"]) != spec["mean"] or \
                float(meta["paretonas.input.pixel_max"]) != spec["pixel_max"]:
            sys.exit(f"check-deployment: {a.onnx}: metadata_props differ from the JSON")
        x = pixels.astype(np.float32) if baked else documented(pixels, {
            "pixel_max": float(meta["paretonas.input.pixel_max"]),
            "mean": json.loads(meta["paretonas.input.mean"]), "std": json.loads(meta["paretonas.input.std"])})
        logits, runner = check_onnx.run_model(a.onnx, model, x)
        ok &= report(f"{a.onnx} in {runner} ({'pixels, normalisation baked in' if baked else 'normalised per its metadata_props'})",
                     np.asarray(logits).argmax(1), labels, expected, a.tolerance)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

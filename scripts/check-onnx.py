#!/usr/bin/python3
"""Checks paretonas ONNX exports: onnx.checker (full check with shape inference) and, given the
TorchScript export of the same weights, the outputs on its check_input against the engine's
check_output. Runs the model in ONNX Runtime: Python's onnxruntime when installed, else the npm
package onnxruntime-node that scripts/install-deps.sh --with-test-extras puts into
scripts/onnxruntime-node/ (run with Node.js). Only when neither is there, it falls back to the small
NumPy evaluator below (the ops paretonas emits, following the ONNX operator definitions) and says
so.

An int8 (QDQ) model is also evaluated by that NumPy evaluator in float64, which computes the
QDQ graph's exact integer arithmetic (each value on its quantization grid, products summed
exactly): both the engine's int8 output and ONNX Runtime's must lie within --int8-steps steps of
the output grid of it, and pick the same class for at least 85% of the check images (when there
are 8 or more; an int8 export of a trained network carries 8 real training images). A kernel
that saturates (8-bit weights on an x86 CPU without VNNI) fails here, whichever runtime it is in.
Usage: scripts/check-onnx.py MODEL.onnx [MODEL.torchscript.pt] [--int8-steps N]
--int8-steps: for an int8 model, how many steps of the output's grid the runtimes may differ by
(default 3; the latency kit's untrained int8 models, whose values all sit on a few steps of a tiny
grid, go deeper than that through the rounding of every layer)."""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper


def conv(x, w, attrs):
    s, p, g = attrs["strides"], attrs["pads"], attrs.get("group", 1)
    x = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
    n, c, h, wd = x.shape
    co, ci, kh, kw = w.shape
    oh, ow = (h - kh) // s[0] + 1, (wd - kw) // s[1] + 1
    out = np.zeros((n, co, oh, ow), dtype=np.float64)
    per = co // g
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::s[0], ::s[1]]
    for gi in range(g):
        xs = win[:, gi * ci:(gi + 1) * ci]  # n, ci, oh, ow, kh, kw
        ws = w[gi * per:(gi + 1) * per]     # per, ci, kh, kw
        out[:, gi * per:(gi + 1) * per] = np.einsum("ncijkl,ockl->noij", xs, ws)
    return out


def pool(x, attrs, kind):
    k, s = attrs["kernel_shape"], attrs["strides"]
    p = attrs.get("pads", [0, 0, 0, 0])
    ceil = attrs.get("ceil_mode", 0)
    include = attrs.get("count_include_pad", 0)
    n, c, h, w = x.shape
    def size(i, kk, ss, a, b):
        v = (i + a + b - kk) / ss + 1
        return int(np.ceil(v) if ceil else np.floor(v))
    oh, ow = size(h, k[0], s[0], p[0], p[2]), size(w, k[1], s[1], p[1], p[3])
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
            h1, w1 = min(h0 + k[0], h + p[2]), min(w0 + k[1], w + p[3])
            hs, ws_, he, we = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
            win = x[:, :, hs:he, ws_:we]
            if kind == "max":
                out[:, :, i, j] = win.max(axis=(2, 3))
            else:
                div = (h1 - h0) * (w1 - w0) if include else (he - hs) * (we - ws_)
                out[:, :, i, j] = win.sum(axis=(2, 3)) / div
    return out


def run_numpy(model, x):
    raw = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env = {k: v.astype(np.float64) for k, v in raw.items()}
    dtype = {k: v.dtype for k, v in raw.items()}  # a zero point's type sets QuantizeLinear's range
    env[model.graph.input[0].name] = x.astype(np.float64)
    for node in model.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        i = [env[n] for n in node.input]
        op = node.op_type
        if op == "Conv":
            y = conv(i[0], i[1], a)
            if len(i) > 2:
                y = y + i[2].reshape(1, -1, 1, 1)
        elif op == "BatchNormalization":
            sh = (1, -1, 1, 1)
            y = (i[0] - i[3].reshape(sh)) / np.sqrt(i[4].reshape(sh) + a.get("epsilon", 1e-5)) * i[1].reshape(sh) + i[2].reshape(sh)
        elif op == "Relu":
            y = np.maximum(i[0], 0)
        elif op == "Clip":
            y = np.clip(i[0], i[1], i[2])
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "AveragePool":
            y = pool(i[0], a, "avg")
        elif op == "MaxPool":
            y = pool(i[0], a, "max")
        elif op == "GlobalAveragePool":
            y = i[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            y = i[0].reshape(i[0].shape[0], -1)
        elif op == "Gemm":
            y = i[0] @ (i[1].T if a.get("transB", 0) else i[1]) + i[2]
        elif op == "Identity":
            y = i[0]
        elif op == "QuantizeLinear":  # an int8 (QDQ) export: round half to even as ONNX says
            lo, hi = (-128, 127) if len(node.input) > 2 and dtype.get(node.input[2]) == np.int8 else (0, 255)
            y = np.clip(np.rint(i[0] / i[1]) + (i[2] if len(i) > 2 else 0), lo, hi)
        elif op == "DequantizeLinear":  # per tensor, or per channel along `axis` (weights, biases)
            sh = [1] * i[0].ndim
            if i[1].size > 1:
                sh[a.get("axis", 1) % i[0].ndim] = -1
            zero = i[2] if len(i) > 2 else np.zeros_like(i[1])
            y = (i[0] - zero.reshape(sh)) * i[1].reshape(sh)
        elif op == "Sub":
            y = i[0] - i[1]
        elif op == "Div":
            y = i[0] / i[1]
        elif op == "Mul":
            y = i[0] * i[1]
        else:
            raise SystemExit(f"check-onnx: no NumPy evaluator for {op}")
        env[node.output[0]] = y
    return env[model.graph.output[0].name]


NODE_RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnxruntime-node", "run.js")


def node_onnxruntime_available():
    here = os.path.join(os.path.dirname(NODE_RUNNER), "node_modules", "onnxruntime-node")
    if not os.path.isdir(here) or shutil.which("node") is None:  # no Node.js on PATH: fall back
        return False
    return subprocess.run(["node", "--version"], capture_output=True).returncode == 0


def run_node(model_path, x):
    """Runs the model in ONNX Runtime through Node.js (scripts/onnxruntime-node/run.js)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    with tempfile.TemporaryDirectory() as d:
        xi, yo = os.path.join(d, "x.f32"), os.path.join(d, "y.f32")
        x.tofile(xi)
        r = subprocess.run(["node", NODE_RUNNER, model_path, xi, *map(str, x.shape), yo],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"check-onnx: onnxruntime-node failed: {r.stderr.strip()}")
        y = np.fromfile(yo, dtype=np.float32)
        return y.reshape(x.shape[0], -1), r.stdout.strip().split(":")[0]  # [batch, values]


def run_model(model_path, model, x):
    """Outputs of the model on x and the name of what computed them."""
    try:
        import onnxruntime
        got = onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
        return got, f"onnxruntime {onnxruntime.__version__} (Python)"
    except ImportError:
        pass
    if node_onnxruntime_available():
        got, who = run_node(model_path, x)
        return got, who + " (onnxruntime-node)"
    print("check-onnx: FALLBACK: no ONNX Runtime here (neither Python's onnxruntime nor Node.js with "
          "scripts/onnxruntime-node/node_modules: run scripts/install-deps.sh --with-test-extras); "
          "using the NumPy reference evaluator instead", file=sys.stderr)
    return run_numpy(model, x), "NumPy reference evaluator (fallback)"


def main():
    steps = 3
    if "--int8-steps" in sys.argv:
        i = sys.argv.index("--int8-steps")
        steps = int(sys.argv[i + 1])
        del sys.argv[i:i + 2]
    model = onnx.load(sys.argv[1])
    onnx.checker.check_model(model, full_check=True)
    print(f"{sys.argv[1]}: onnx.checker (full) accepts it; {len(model.graph.node)} nodes, opset {model.opset_import[0].version}")
    if len(sys.argv) < 3:
        return 0
    import torch
    ts = torch.jit.load(sys.argv[2])
    x, expect = ts.check_input.numpy(), ts.check_output.numpy()
    got, runner = run_model(sys.argv[1], model, x)
    got = np.asarray(got)
    if got.size != expect.size:
        print(f"{sys.argv[1]}: {runner} outputs {got.size} values; the engine {expect.size} {list(expect.shape)}")
        return 1
    diff = float(np.abs(got.reshape(expect.shape) - expect).max())
    what = "logits" if expect.ndim == 2 else f"output {list(expect.shape)}"  # a kit's per-op model: a feature map
    print(f"{sys.argv[1]}: {runner} vs the engine's {what}: max |difference| {diff:.3g}")
    tol = 1e-4
    meta = {p.key: p.value for p in model.metadata_props}
    if meta.get("paretonas.precision") != "int8":
        return 0 if diff <= tol else 1
    # int8: another runtime's kernels may round an intermediate value to the next step of its
    # grid; allowed: `steps` steps of the logits' grid, against the engine and against the exact
    # arithmetic of the QDQ graph.
    last = {n.output[0]: n for n in model.graph.node}[[n for n in model.graph.node if n.op_type == "Identity"][-1].input[0]]
    scale = float(numpy_helper.to_array({t.name: t for t in model.graph.initializer}[last.input[1]]))
    tol = steps * scale
    got = got.reshape(expect.shape)
    exact = got if runner.startswith("NumPy") else run_numpy(model, x).reshape(expect.shape)
    ok = diff <= tol
    for name, out in (("the engine's int8 output", expect), (runner, got)):
        off = float(np.abs(out - exact).max())
        agree = float((out.argmax(1) == exact.argmax(1)).mean()) if expect.ndim == 2 else 1.0
        fine = off <= tol and (agree >= 0.85 or expect.ndim != 2 or len(x) < 8)
        ok &= fine
        print(f"{sys.argv[1]}: {name} vs the exact int8 arithmetic (NumPy, float64): max |difference| "
              f"{off:.3g} = {off / scale:.1f} steps; same class for {agree:.0%} of {len(x)} check images"
              f"{'' if fine else '  DIFFERS'}")
    agree = float((got.argmax(1) == expect.argmax(1)).mean()) if expect.ndim == 2 else 1.0
    if expect.ndim == 2 and len(x) >= 8 and agree < 0.85:
        ok = False
    print(f"{sys.argv[1]}: int8: allowed {tol:.3g} ({steps} steps of the logits' grid); {runner} and the "
          f"engine: same class for {agree:.0%} of the check images; "
          f"engine {meta.get('paretonas.int8.engine', '?')}, weights {meta.get('paretonas.int8.weights', '?')}")
    if not ok:
        print(f"{sys.argv[1]}: int8 outputs differ beyond the rounding of one runtime to another: a kernel "
              f"that saturates (8-bit weights on an x86 CPU without VNNI) or a wrong export", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Feeds raw test images through an export's documented preprocessing and checks that the
deployed model reproduces the test accuracy paretonas reported.

usage: scripts/check-deployment.py ARCH.json DATA [--torchscript ARCH.torchscript.pt] [--onnx ARCH.onnx]
  ARCH.json  `paretonas export ... --format json --train-epochs E` (its "input" block says how to
             feed the model; its final.test_accuracy is the figure to reproduce)
  DATA       the test images as the user has them: a .npz with x_test / y_test (uint8 or float;
             optionally class_names), a folder with t10k-images-idx3-ubyte[.gz] and
             t10k-labels-idx1-ubyte[.gz], or an image folder as paretonas reads it (test/CLASS/*.png,
             classes numbered in name order; PNG at the model's size)
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
import platform
import struct
import sys
import zlib

try:
    import numpy as np
except ImportError:
    sys.exit(f"check-deployment: NumPy is missing for this Python ({sys.executable}, "
             f"{platform.python_version()}): run the script with Debian's /usr/bin/python3 "
             f"(apt-get install python3-numpy), or install numpy for this interpreter")


def need(module, what):
    """Imports `module`, or exits saying what is missing for which interpreter."""
    try:
        return __import__(module)
    except ImportError:
        sys.exit(f"check-deployment: {what} needs the Python module '{module}', missing for this Python "
                 f"({sys.executable}, {platform.python_version()}): run the script with Debian's "
                 f"/usr/bin/python3 (python3-torch, python3-onnx) or install it for this interpreter")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def read_png(path):
    """An 8-bit PNG (grey, grey+alpha, RGB, RGBA; not interlaced) as H x W x C uint8."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"check-deployment: {path}: not a PNG file (this script reads PNG folders only; "
                 f"give the test set as a .npz for other formats)")
    pos, idat, head = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = head
    channels = {0: 1, 4: 2, 2: 3, 6: 4}.get(ctype)
    if depth != 8 or channels is None or interlace:
        sys.exit(f"check-deployment: {path}: PNG of bit depth {depth}, colour type {ctype}, interlace "
                 f"{interlace}: this script reads 8-bit grey or RGB(A) PNGs; give a .npz instead")
    raw = zlib.decompress(idat)
    stride = w * channels
    out = np.zeros((h, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for r in range(h):
        f = raw[r * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, r * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, np.int32)
        for i in range(stride):
            a = cur[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 0:
                v = line[i]
            elif f == 1:
                v = line[i] + a
            elif f == 2:
                v = line[i] + b
            elif f == 3:
                v = line[i] + (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                v = line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)
            cur[i] = v & 0xFF
        out[r] = cur
        prev = cur
    img = out.reshape(h, w, channels)
    return img[:, :, :3] if channels == 4 else img[:, :, :1] if channels == 2 else img


def load_folder(path, channels):
    """test/CLASS/*.png of an image folder, classes numbered in name order (as paretonas does)."""
    root = os.path.join(path, "test")
    if not os.path.isdir(root):
        sys.exit(f"check-deployment: {path}: no t10k-*-ubyte files and no test/ folder of class folders")
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    xs, ys = [], []
    for label, name in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(root, name))):
            if f.lower().endswith(".png"):
                img = read_png(os.path.join(root, name, f))
                if channels == 1 and img.shape[2] == 3:  # as paretonas (stb_image) makes it grey
                    v = img.astype(np.int32)
                    img = ((v[:, :, 0:1] * 77 + v[:, :, 1:2] * 150 + v[:, :, 2:3] * 29) >> 8).astype(np.uint8)
                xs.append(img.transpose(2, 0, 1))
                ys.append(label)
    if not xs:
        sys.exit(f"check-deployment: {root}: no PNG images in its class folders")
    shapes = {x.shape for x in xs}
    if len(shapes) > 1:
        sys.exit(f"check-deployment: {root}: images of several sizes {sorted(shapes)[:3]}: paretonas "
                 f"resized them (dataset.size); give the test set resized the same way as a .npz")
    return np.stack(xs), np.array(ys, np.int64), classes


def load_test(path, channels=1):
    """Raw test images as N x C x H x W (their own dtype), labels, and class names when the data
    names its classes (an image folder; a .npz with class_names), else None."""
    names = None
    if path.endswith(".npz"):
        with np.load(path) as z:
            x, y = z["x_test"], z["y_test"]
            if "class_names" in z.files:
                names = [str(n) for n in z["class_names"]]
    elif os.path.isdir(os.path.join(path, "test")) and not any(
            os.path.exists(os.path.join(path, b)) for b in ("t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz")):
        return load_folder(path, channels)
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
    return np.ascontiguousarray(x), y.astype(np.int64).reshape(-1), names


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
    # An int8 export (export --precision int8) reproduces the int8 model's test accuracy.
    precision = export.get("precision", "fp32")
    key = "int8_test_accuracy" if precision == "int8" else "test_accuracy"
    if key not in export["final"]:
        sys.exit(f"check-deployment: {a.json} is a {precision} export without final.{key} (export with --train-epochs E)")
    expected = export["final"][key]
    pixels, labels, data_names = load_test(a.data, spec["shape"][1])
    if data_names is not None and data_names != spec["class_names"]:
        names = spec["class_names"]
        if sorted(data_names) != sorted(names):
            sys.exit(f"check-deployment: {a.data} names its classes {data_names}, the export "
                     f"{names}: not the same classes, so its labels cannot be mapped to the model's")
        # The same classes in another order (an image folder numbers them in name order): each
        # label is mapped by its class name to the export's number.
        to_export = np.array([names.index(n) for n in data_names], np.int64)
        labels = to_export[labels]
        print(f"{a.data}: its classes {data_names} are the export's in another order; labels mapped by name")
    if list(pixels.shape[1:]) != spec["shape"][1:]:
        sys.exit(f"check-deployment: test images are {list(pixels.shape[1:])}, the model takes {spec['shape'][1:]}")
    print(f"{a.json}: {spec['formula']}")
    ok = True
    if a.torchscript:
        torch = need("torch", "--torchscript")
        if precision == "int8":
            # The prepacked int8 weights are packed for the quantized engine current when loading:
            # the one paretonas quantized with, where this PyTorch has it.
            engine = export.get("int8_engine")
            if engine in torch.backends.quantized.supported_engines:
                torch.backends.quantized.engine = engine
        m = torch.jit.load(a.torchscript)
        m.eval()
        if getattr(m, "precision", "fp32") != precision:
            sys.exit(f"check-deployment: {a.torchscript} holds a {getattr(m, 'precision', 'fp32')} model, "
                     f"the JSON a {precision} one: export both with the same --precision")
        for key in ("pixel_max",):
            if abs(float(getattr(m, key)) - spec[key]) > 1e-9:
                sys.exit(f"check-deployment: {a.torchscript}: {key} {getattr(m, key)} but the JSON says {spec[key]}")
        if list(m.class_names) != spec["class_names"]:
            sys.exit(f"check-deployment: {a.torchscript}: class_names differ from the JSON")
        baked = bool(m.normalization_baked)
        with torch.no_grad():
            raw = torch.from_numpy(pixels.astype(np.float32))
            # The README's path for both kinds: m(m.preprocess(pixels)).
            x = m.preprocess(raw)
            if baked and not torch.equal(x, raw):  # the model normalises itself: nothing before it
                sys.exit(f"check-deployment: {a.torchscript}: baked, but preprocess() changes the pixels")
            if not baked and not torch.equal(x, torch.from_numpy(documented(pixels, spec))):  # = the JSON's
                sys.exit(f"check-deployment: {a.torchscript}: preprocess() differs from the JSON formula")
            pred = torch.cat([m(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)]).numpy()
        ok &= report(f"{a.torchscript} ({'pixels, normalisation baked in; preprocess() passes them through' if baked else 'preprocess(pixels)'})",
                     pred, labels, expected, a.tolerance)
    if a.onnx:
        onnx = need("onnx", "--onnx")
        from importlib import import_module
        check_onnx = import_module("check-onnx")
        model = onnx.load(a.onnx)
        meta = {p.key: p.value for p in model.metadata_props}
        if meta.get("paretonas.precision", "fp32") != precision:
            sys.exit(f"check-deployment: {a.onnx} holds a {meta.get('paretonas.precision', 'fp32')} model, "
                     f"the JSON a {precision} one: export both with the same --precision")
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
    if not ok and data_names is None:
        print(f"check-deployment: hint: if the data's labels number the classes in another order than "
              f"the export's class_names {spec['class_names']} (an image folder numbers them in name "
              f"order), every accuracy above is that of a permutation", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Writes an IDX dataset (Fashion-MNIST by default) in the forms `dataset.name: numpy` and
`dataset.name: image_folder` read, to search your own data the way you would search these.

usage: export-idx-dataset.py OUT_DIR [--idx DIR] [--npz] [--folder] [--limit N]
  --idx DIR   folder of train-/t10k-images-idx3-ubyte(.gz) and -labels-idx1-ubyte(.gz)
              (default /usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist)
  --npz       write OUT_DIR/data.npz (x_train, y_train, x_test, y_test; uint8, N x 28 x 28)
  --folder    write OUT_DIR/images/{train,test}/<class>/<index>.png (greyscale PNGs)
  --limit N   only the first N images of each split (quick tries)
Needs NumPy only for --npz (Debian: python3-numpy); the PNGs are written with zlib.
"""
import argparse
import gzip
import os
import struct
import sys
import zlib

CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
           "bag", "ankle-boot"]


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xff
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def find(dir_, base):
    for p in (os.path.join(dir_, base + ".gz"), os.path.join(dir_, base)):
        if os.path.exists(p):
            return p
    sys.exit(f"export-idx-dataset: {dir_}/{base}[.gz] not found")


def png(path, pixels, w, h):
    raw = b"".join(b"\x00" + pixels[y * w:(y + 1) * w] for y in range(h))
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--idx", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--npz", action="store_true")
    ap.add_argument("--folder", action="store_true")
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    if not (a.npz or a.folder):
        sys.exit("export-idx-dataset: give --npz, --folder or both")
    os.makedirs(a.out, exist_ok=True)
    splits = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        (n, h, w), x = read_idx(find(a.idx, f"{prefix}-images-idx3-ubyte"))
        (_,), y = read_idx(find(a.idx, f"{prefix}-labels-idx1-ubyte"))
        if a.limit:
            n = min(n, a.limit)
        splits[split] = (n, h, w, x[:n * h * w], y[:n])
    if a.npz:
        import numpy as np
        arrays = {}
        for split, (n, h, w, x, y) in splits.items():
            arrays["x_" + split] = np.frombuffer(x, np.uint8).reshape(n, h, w)
            arrays["y_" + split] = np.frombuffer(y, np.uint8).astype(np.int64)
        np.savez(os.path.join(a.out, "data.npz"), **arrays)
        print(f"wrote {os.path.join(a.out, 'data.npz')}")
    if a.folder:
        for split, (n, h, w, x, y) in splits.items():
            for c in sorted(set(y)):  # only the classes present: an empty class folder is refused
                os.makedirs(os.path.join(a.out, "images", split, CLASSES[c]), exist_ok=True)
            for i in range(n):
                png(os.path.join(a.out, "images", split, CLASSES[y[i]], f"{i:05d}.png"),
                    x[i * h * w:(i + 1) * h * w], w, h)
        print(f"wrote {os.path.join(a.out, 'images')} ({', '.join(f'{s}: {v[0]}' for s, v in splits.items())})")


if __name__ == "__main__":
    main()

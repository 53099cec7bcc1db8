#!/usr/bin/python3
"""The same NB201 network and training step in PyTorch from Python (Debian's python3-torch),
to compare with build/bench/train_step_bench. Usage: train_step_pytorch.py ARCH [C N BATCH THREADS STEPS]

  train_step_pytorch.py --sequential ARCHS_FILE STEPS [DEVICE=cuda] [PRECISION=fp32]
trains the networks of ARCHS_FILE (NB201 strings, one per line, as cuda_streams_bench writes
them; C=16, N=1, batch 128) one after another, as one PyTorch process trains candidates, and
prints the steps per second: the baseline of bench/cuda_streams_bench. The data (12,000 random
1x28x28 images) sits on the device and batches are drawn by a permutation, as the engine does;
the loss is read every 25 steps, as the engine reads it on CUDA."""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

OPS = {
    "none": None,
    "skip_connect": lambda c: nn.Identity(),
    "nor_conv_1x1": lambda c: nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c)),
    "nor_conv_3x3": lambda c: nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)),
    "avg_pool_3x3": lambda c: nn.AvgPool2d(3, 1, 1, count_include_pad=False),
}


class Cell(nn.Module):
    def __init__(self, arch, c):
        super().__init__()
        self.edges = []  # (src, dst, module index or None for identity)
        self.ops = nn.ModuleList()
        for j, group in enumerate(arch.strip("|").split("|+|"), start=1):
            for item in group.split("|"):
                op, i = item.split("~")
                if op == "none":
                    continue
                self.ops.append(OPS[op](c))
                self.edges.append((int(i), j, len(self.ops) - 1))

    def forward(self, x):
        nodes = [x, None, None, None]
        for j in range(1, 4):
            total = None
            for (i, dst, k) in self.edges:
                if dst == j and nodes[i] is not None:
                    out = self.ops[k](nodes[i])
                    total = out if total is None else total + out
            nodes[j] = total
        return nodes[3] if nodes[3] is not None else torch.zeros_like(x)


class ResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.a = nn.Sequential(nn.ReLU(), nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout))
        self.b = nn.Sequential(nn.ReLU(), nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.down = nn.Sequential(nn.AvgPool2d(2, 2, ceil_mode=True), nn.Conv2d(cin, cout, 1, bias=False))

    def forward(self, x):
        return self.down(x) + self.b(self.a(x))


class Net(nn.Module):
    def __init__(self, arch, c, n):
        super().__init__()
        layers = [nn.Conv2d(1, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)]
        for stage, mult in enumerate((1, 2, 4)):
            if stage:
                layers.append(ResBlock(c * mult // 2, c * mult))
            layers += [Cell(arch, c * mult) for _ in range(n)]
        self.body = nn.Sequential(*layers)
        self.bn = nn.BatchNorm2d(4 * c)
        self.fc = nn.Linear(4 * c, 10)

    def forward(self, x):
        return self.fc(F.relu(self.bn(self.body(x))).mean((2, 3)))


def sequential(archs_file, steps, device, precision):
    archs = [line.strip() for line in open(archs_file) if line.strip()]
    torch.manual_seed(0)
    x = torch.randn(12000, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (12000,), device=device)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    def train(arch, n_steps):
        net = Net(arch, 16, 1).to(device)
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
        net.train()
        perm = torch.randperm(12000, device=device)
        for step in range(n_steps):
            i = perm[(step * 128) % 11904:(step * 128) % 11904 + 128]
            opt.zero_grad()
            with torch.autocast("cuda", dtype=dtype, enabled=dtype is not None):
                loss = F.cross_entropy(net(x[i]), y[i])
            loss.backward()
            opt.step()
            if (step + 1) % 25 == 0 or step + 1 == n_steps:
                loss.item()
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    train(archs[0], 20)  # warm-up: cuDNN/cuBLAS handles, allocator
    sync()
    t0 = time.perf_counter()
    for arch in archs:
        train(arch, steps)
    sync()
    s = time.perf_counter() - t0
    print(f"pytorch {torch.__version__} sequential on {device} ({precision}): {len(archs)} networks x {steps} steps "
          f"in {s:.2f} s, {len(archs) * steps / s:.0f} steps/s")


def main():
    if sys.argv[1] == "--sequential":
        args = sys.argv[2:] + ["cuda", "fp32"][len(sys.argv) - 4:]
        sequential(args[0], int(args[1]), args[2], args[3])
        return
    arch = sys.argv[1]
    c, n, batch, threads, steps = (int(v) for v in (sys.argv[2:] + ["16", "1", "128", "1", "60"][len(sys.argv) - 2:])[:5])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = Net(arch, c, n)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
    x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
    net.train()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        loss.item()
        times.append((time.perf_counter() - t0) * 1000)
    tail = sorted(times[min(10, len(times) // 2):])
    params = sum(p.numel() for p in net.parameters())
    print(f"pytorch {arch} C={c} N={n} batch {batch} threads {threads}: median step {tail[len(tail) // 2]:.2f} ms (params {params})")


if __name__ == "__main__":
    main()

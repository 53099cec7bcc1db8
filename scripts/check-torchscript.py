#!/usr/bin/python3
"""Loads paretonas TorchScript exports in Python PyTorch and checks each against the logits the
engine computed at export (buffers check_input / check_output). Exit 1 if any differs by > 1e-5.
Then checks that the module trains in Python: one SGD step in train() mode changes its weights
(and, where it has BatchNorm, its running statistics), as the command evaluator's scripts need.
Usage: scripts/check-torchscript.py FILE.torchscript.pt [...]"""
import sys

import torch

worst = 0.0
for path in sys.argv[1:]:
    m = torch.jit.load(path)
    engine = getattr(m, "int8_engine", None)  # an int8 export: its weights repack for the engine current at load
    if engine and engine != torch.backends.quantized.engine and engine in torch.backends.quantized.supported_engines:
        torch.backends.quantized.engine = engine
        m = torch.jit.load(path)
    m.eval()
    with torch.no_grad():
        diff = (m(m.check_input) - m.check_output).abs().max().item()
    worst = max(worst, diff)
    print(f"{path}: max |difference| {diff:.3g}")
    params = [p for p in m.parameters()]
    if params:
        before = [p.detach().clone() for p in params]
        buffers_before = {n: b.detach().clone() for n, b in m.named_buffers() if "running_mean" in n}
        m.train()
        opt = torch.optim.SGD(params, lr=0.1)
        loss = torch.nn.functional.cross_entropy(m(m.check_input), torch.tensor([0, 1]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        moved = sum(int(not torch.equal(a, p.detach())) for a, p in zip(before, params))
        stats = sum(int(not torch.equal(v, dict(m.named_buffers())[n])) for n, v in buffers_before.items())
        print(f"{path}: one training step changed {moved} of {len(params)} parameter tensors and "
              f"{stats} of {len(buffers_before)} BatchNorm running means")
        if moved == 0 or (buffers_before and stats == 0):
            worst = float("inf")
sys.exit(0 if worst <= 1e-5 else 1)

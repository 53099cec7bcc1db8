#!/usr/bin/python3
"""Loads paretonas TorchScript exports in Python PyTorch and checks each against the logits the
engine computed at export (buffers check_input / check_output). Exit 1 if any differs by > 1e-5.
Usage: scripts/check-torchscript.py FILE.torchscript.pt [...]"""
import sys

import torch

worst = 0.0
for path in sys.argv[1:]:
    m = torch.jit.load(path)
    m.eval()
    with torch.no_grad():
        diff = (m(m.check_input) - m.check_output).abs().max().item()
    worst = max(worst, diff)
    print(f"{path}: max |difference| {diff:.3g}")
sys.exit(0 if worst <= 1e-5 else 1)

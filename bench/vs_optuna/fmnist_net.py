"""The fmnist_cells network (experiments/spaces/fmnist_cells.yaml) as a PyTorch user writes it for
an Optuna objective, with paretonas' initialisation. `check` proves it is the network paretonas
trains: same parameter count as `paretonas space show` and, with the weights of paretonas' own
TorchScript export copied in by name, the same output (bench/vs_optuna/fmnist.py check).

A candidate is 6 operations, one per edge of the 4-node NB201 cell, in the order of the NB201
string |a~0|+|b~0|c~1|+|d~0|e~1|f~2|. Only live edges (on an input->output path of non-`none`
edges) are built, as paretonas builds them; both cells (14x14 at `width` channels, 7x7 at
2*width) use the same operations."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from nb201_cell import EDGES, live_edges


def conv_bn(cin, cout, k, stride, relu_first):
    conv = nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)
    layers = [nn.ReLU(), conv, nn.BatchNorm2d(cout)] if relu_first else [conv, nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*layers)


class Head(nn.Module):
    def __init__(self, c, classes):
        super().__init__()
        self.bn = nn.BatchNorm2d(c)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(F.relu(self.bn(x)).mean((2, 3)))


class Net(nn.Module):
    """Stem conv_bn_relu (3x3, width/2) at 28x28, then per stage a stride-2 conv_bn_relu reduction
    and one cell; bn_relu_classifier head. Modules are named e<edge id> as in paretonas' graph."""

    def __init__(self, ops, width=16, classes=10, in_ch=1):
        super().__init__()
        self.live = live_edges(ops)
        self.ops = ops
        self.edges = nn.ModuleDict()
        self.edges["e0"] = conv_bn(in_ch, width // 2, 3, 1, False)
        eid, c_in = 1, width // 2
        self.cells = []
        for c in (width, 2 * width):
            self.edges[f"e{eid}"] = conv_bn(c_in, c, 3, 2, False)
            eid += 1
            cell = []
            for k, op in enumerate(ops):
                name = f"e{eid + k}"
                if self.live[k] and op == "nor_conv_1x1":
                    self.edges[name] = conv_bn(c, c, 1, 1, True)
                elif self.live[k] and op == "nor_conv_3x3":
                    self.edges[name] = conv_bn(c, c, 3, 1, True)
                cell.append(name)
            self.cells.append(cell)
            eid += len(ops)
            c_in = c
        self.edges[f"e{eid}"] = Head(c_in, classes)
        self.head = f"e{eid}"

    def cell(self, x, names):
        nodes = [x, None, None, None]
        for k, ((s, d), op) in enumerate(zip(EDGES, self.ops)):
            if not self.live[k]:
                continue
            if op == "skip_connect":
                out = nodes[s]
            elif op == "avg_pool_3x3":
                out = F.avg_pool2d(nodes[s], 3, 1, 1, count_include_pad=False)
            else:
                out = self.edges[names[k]](nodes[s])
            nodes[d] = out if nodes[d] is None else nodes[d] + out
        return nodes[3]

    def forward(self, x):
        x = self.edges["e0"](x)
        x = self.cell(self.edges["e1"](x), self.cells[0])
        x = self.cell(self.edges[f"e{2 + len(self.ops)}"](x), self.cells[1])
        return self.edges[self.head](x)


def initialise(net, generator):
    """paretonas' initialisation (space/graph_net.cpp InitializeParameters): convolutions
    N(0, sqrt(2 / fan_out)), linear weights N(0, 0.01), biases 0, BatchNorm scales 1."""
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif p.dim() == 4:
                p.normal_(0.0, math.sqrt(2.0 / (p.shape[0] * p.shape[2] * p.shape[3])), generator=generator)
            elif p.dim() == 2:
                p.normal_(0.0, 0.01, generator=generator)
            else:
                p.fill_(1.0)


def load_paretonas_torchscript(net, path):
    """Copies the tensors of paretonas' TorchScript export (names e<id>_<i>_<name>) into `net`;
    returns the export's own check input and output (eval mode)."""
    ts = torch.jit.load(path)
    theirs = dict(ts.named_parameters())
    theirs.update(dict(ts.named_buffers()))
    ours = net.state_dict()
    with torch.no_grad():
        for name, t in ours.items():
            src = theirs[name.replace("edges.", "").replace(".", "_")]
            if src.shape != t.shape:
                raise ValueError(f"{name}: shape {tuple(t.shape)} here, {tuple(src.shape)} in {path}")
            t.copy_(src)
    extra = set(theirs) - {n.replace("edges.", "").replace(".", "_") for n in ours} - {
        "input_mean", "input_std", "check_input", "check_output"}
    if extra:
        raise ValueError(f"{path} has tensors this network lacks: {sorted(extra)}")
    return theirs["check_input"], theirs["check_output"]

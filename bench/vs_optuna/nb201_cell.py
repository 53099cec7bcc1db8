"""An NB201 cell as the Optuna objectives of bench/vs_optuna/ choose it, without PyTorch: six
operations, one per edge of the 4-node cell, in the order of the NB201 string
|a~0|+|b~0|c~1|+|d~0|e~1|f~2| (paretonas' architecture key)."""

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]  # NB201 string order


def arch_key(ops):
    o = [f"{op}~{src}" for op, (src, _) in zip(ops, EDGES)]
    return f"|{o[0]}|+|{o[1]}|{o[2]}|+|{o[3]}|{o[4]}|{o[5]}|"


def parse_key(key):
    return [item.split("~")[0] for group in key.strip("|").split("|+|") for item in group.split("|")]


def live_edges(ops):
    """Edges on some input->output path of non-`none` edges."""
    fwd, bwd = {0}, {3}
    for (s, d), op in zip(EDGES, ops):
        if op != "none" and s in fwd:
            fwd.add(d)
    for (s, d), op in reversed(list(zip(EDGES, ops))):
        if op != "none" and d in bwd:
            bwd.add(s)
    return [op != "none" and s in fwd and d in bwd for (s, d), op in zip(EDGES, ops)]


def connected(ops):
    return any(live_edges(ops))

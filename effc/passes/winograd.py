"""Winograd convolution: rewrite eligible Convs into Winograd nodes.

Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016):
F(2x2, 3x3) needs 2.25x and F(4x4, 3x3) 4x fewer multiplies than a direct 3x3
convolution. For int8 effc computes F(2x2, 3x3) exactly in integers
(``effc/quant/winograd.py``), so it changes speed and nothing else; unlike
quantized Winograd with rounding (Fernandez-Marques et al., MLSys 2020) it
needs no Winograd-aware training.

Contract: expects the compiled channels-last IR (int8 nodes lowered by
``lower_int8``, or float nodes with fused activations). A Conv is eligible
with a 3x3 kernel (or a 3-tap 1-D kernel), stride 1, dilation 1 and group 1;
an int8 one also needs the overflow bound of ``int8_bounds`` (else it keeps
the direct convolution). ``mode`` "on" rewrites every eligible Conv, "auto"
those the cost model (``winograd_cost``, calibrated on QEMU instruction
counts) predicts at least ``MARGIN`` cheaper, "off" none. Weights are transformed here, at compile
time. Guarantees: ``ref(pass(g)) == ref(g)`` bit for bit for int8, within
float rounding for float; every Conv with a 3x3 (3-tap) kernel carries
``attrs["winograd"]`` = {"choice", "reason"[, "predicted"]} (the report reads
it), and each Winograd node too.
"""

from __future__ import annotations

from typing import Any

from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.quant import winograd as wq

MODES = ("auto", "on", "off")
DIRECT = "direct"


def tile_name(rank: int, m: int) -> str:
    return f"F({m}x{m},3x3)" if rank == 2 else f"F({m},3)"


def is_3tap(node: Node) -> bool:
    return node.op_type == "Conv" and all(k == 3 for k in node.attrs["kernel_shape"])


def ineligible(graph: Graph, node: Node) -> str | None:
    """Why a Conv with a 3x3 (3-tap) kernel cannot run as Winograd, or None."""
    a = node.attrs
    if any(s != 1 for s in a["strides"]):
        return f"stride {a['strides']} (Winograd needs stride 1)"
    if any(d != 1 for d in a.get("dilations") or [1]):
        return f"dilation {a['dilations']} (Winograd needs dilation 1)"
    if a["group"] != 1:
        return f"group {a['group']} (Winograd needs group 1)"
    x, w = (graph.tensors[n] for n in node.inputs[:2])
    if x.dtype == "int8":
        if w.dtype != "int8":
            return f"int8 input with {w.dtype} weights"
        bounds = wq.int8_bounds(w.data)
        if not bounds.ok:
            return f"overflow bound: {bounds.reason()}"
    elif x.dtype != "float32":
        return f"{x.dtype} input"
    return None


def shape_of(graph: Graph, node: Node) -> dict[str, Any]:
    """The layer shape the cost model reads."""
    x, y = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    rank = len(x.shape) - 2
    out_hw = (y.shape[1], y.shape[2]) if rank == 2 else (1, y.shape[1])
    pads = node.attrs["pads"]
    return {"rank": rank, "batch": x.shape[0], "out_h": out_hw[0], "out_w": out_hw[1],
            "c_in": x.shape[-1], "c_out": y.shape[-1],
            "dtype": "int8" if x.dtype == "int8" else "float32",
            "pads": list(pads) if rank == 2 else [0, pads[0], 0, pads[1]]}


def choose(graph: Graph, node: Node, mode: str) -> dict[str, Any]:
    """The decision for one 3x3 (3-tap) Conv: choice (a tile name or "direct"),
    tile m, reason, and for auto the predicted instructions."""
    why_not = ineligible(graph, node)
    if why_not is not None:
        return {"choice": DIRECT, "reason": f"not eligible: {why_not}"}
    shape = shape_of(graph, node)
    tiles = wq.TILES[shape["dtype"]]
    if mode == "on":
        m = max(tiles)
        return {"choice": tile_name(shape["rank"], m), "tile": m,
                "reason": "--winograd on" + (": exact in int8, bit-identical"
                                             if shape["dtype"] == "int8" else "")}
    from effc.passes.winograd_cost import MARGIN, predict

    candidates = [(tile_name(shape["rank"], m), m, predict(shape, m)) for m in tiles]
    best, m, cost = min(candidates, key=lambda c: c[2])
    direct = predict(shape, 0)
    predicted = {DIRECT: direct} | {name: c for name, _, c in candidates}
    if cost >= (1 - MARGIN) * direct:
        return {"choice": DIRECT, "predicted": predicted,
                "reason": f"cost model: {best} {cost:,} is not {MARGIN:.0%} below direct "
                          f"{direct:,} predicted instructions"}
    return {"choice": best, "tile": m, "predicted": predicted,
            "reason": f"cost model: {best} {cost:,} vs direct {direct:,} predicted "
                      f"instructions ({direct / cost:.2f}x fewer)"}


def _rewrite(graph: Graph, node: Node, m: int) -> Node:
    x, w = node.inputs[0], node.inputs[1]
    wt = graph.tensors[w]
    integer = graph.tensors[x].dtype == "int8"
    u = graph.add_constant(w + "_winograd", wq.transform_weights(wt.data, m, integer),
                           layout=wt.layout)
    bias = node.inputs[2:3]
    return Node("Winograd", node.name, [x, w, u.name, *bias], list(node.outputs),
                dict(node.attrs, tile=m))


def winograd(graph: Graph, mode: str = "on") -> Graph:
    """Rewrite the eligible Convs (see the module docstring)."""
    if mode not in MODES:
        raise EffcError(f"--winograd {mode!r} is not a mode; use auto, on or off")
    if mode == "off":
        return graph
    for i, node in enumerate(graph.nodes):
        if not is_3tap(node):
            continue
        decision = choose(graph, node, mode)
        tile = decision.pop("tile", None)
        node.attrs["winograd"] = decision
        if tile is not None:
            graph.nodes[i] = _rewrite(graph, node, tile)
    return graph


def winograd_report(graph: Graph, mode: str) -> dict[str, Any]:
    """The manifest entry: the mode and, per 3x3 (3-tap) Conv, the choice and why."""
    layers = []
    for node in graph.nodes:
        decision = node.attrs.get("winograd")
        if decision is None:
            continue
        shape = shape_of(graph, node)
        layers.append({"name": node.name, "op": node.op_type,
                       "shape": f"{shape['out_h']}x{shape['out_w']}, {shape['c_in']} -> "
                                f"{shape['c_out']} channels", **decision})
    return {"mode": mode, "layers": layers}

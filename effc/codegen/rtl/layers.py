"""Graph -> accelerator program: which nodes run where, the descriptors, the memory images.

A model runs as host head (quantizing the inputs, reshapes and transposes of them), the
accelerated segment (int8 Conv, Dense, MaxPool, AveragePool, GlobalAveragePool,
GlobalMaxPool, Add, Requantize, Reshape), and host tail (Softmax, DequantizeLinear,
reshapes, transposes): the int8 Softmax is the documented host-side fallback
(docs/rtl-backend.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from effc.codegen.rtl.schedule import (
    OP_ADD,
    OP_AVG,
    OP_CONV,
    OP_DW,
    OP_MAX,
    HwConfig,
    Layer,
    overlap_limit,
    param_words,
    period,
    plan_arena,
    predicted_cycles,
    spatial,
    window_geometry,
)
from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.ops import get_op

ACCEL = {"Conv", "Dense", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
         "Add", "Requantize", "Reshape"}
SPLITS = (0, 1, 2, 3)  # K-split choices (log2 of the lanes a channel) the scheduler weighs
POOLS = {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"}
HEAD = {"QuantizeLinear", "Reshape", "Transpose"}
TAIL = {"Softmax", "DequantizeLinear", "Reshape", "Transpose"}


def accepts(op_type: str, int8: bool) -> bool:
    """Does the RTL target run a node of ``op_type`` computing in int8 (else float)? Only
    int8 ones: a layer of the accelerator, or a host op at the model's edges (partition
    refuses every other node in one line)."""
    return int8 and op_type in ACCEL | HEAD | TAIL


@dataclass
class Program:
    layers: list[Layer]
    offsets: dict[str, int]
    arena: int
    input: str
    output: str
    head: list[str]
    tail: list[str]
    weight_words: list[int] = field(default_factory=list)
    graph_layers: list[dict[str, Any]] = field(default_factory=list)


def partition(graph: Graph) -> tuple[list[Node], list[Node], list[Node]]:
    """(head, accelerated, tail) nodes; refuses what the accelerator cannot run."""
    nodes = graph.nodes
    # head: quantization and layout of the model's inputs, on the host
    i = 0
    ready = set(graph.inputs)
    while i < len(nodes) and nodes[i].op_type in HEAD and all(
            n in ready or graph.tensors[n].is_constant for n in nodes[i].inputs if n):
        ready.update(nodes[i].outputs)
        i += 1
    j = len(nodes)
    while j > i and nodes[j - 1].op_type in TAIL:
        j -= 1
    head, body, tail = nodes[:i], nodes[i:j], nodes[j:]
    if not any(n.op_type != "Reshape" for n in body):
        raise EffcError("the model has no layer the accelerator runs (conv, dense, pooling, "
                        "Add); compile it with --target c")
    for node in body:
        if node.op_type not in ACCEL:
            raise EffcError(f"layer '{node.name}' ({node.op_type}) cannot run on the RTL "
                            "accelerator (it runs int8 Conv, Dense, pools, Add, Requantize; "
                            "Softmax on the host at the end); compile with --target c")
        if node.op_type == "Add" and (any(graph.tensors[n].is_constant for n in node.inputs)
                                      or graph.tensors[node.inputs[0]].shape !=
                                      graph.tensors[node.inputs[1]].shape):
            raise EffcError(f"layer '{node.name}' (Add) adds a constant or broadcasts; the RTL "
                            "accelerator adds two activations of one shape: compile with "
                            "--target c")
        for name in node.inputs[:1] + node.outputs:
            if graph.tensors[name].shape[0] != 1:
                raise EffcError(f"layer '{node.name}' ({node.op_type}) runs a batch of "
                                f"{graph.tensors[name].shape[0]}; the RTL accelerator runs "
                                "batch 1 (give samples one by one): compile with --target c")
            if graph.tensors[name].dtype != "int8":
                raise EffcError(f"layer '{node.name}' ({node.op_type}) computes in "
                                f"{graph.tensors[name].dtype}; the RTL accelerator runs int8 "
                                "models: quantize (--calib FILE or a QDQ model)")
    ins = {n for node in body for n in node.inputs if n and not graph.tensors[n].is_constant}
    made = {n for node in body for n in node.outputs}
    entry = ins - made
    outs = [n for node in body for n in node.outputs
            if n in graph.outputs or any(n in t.inputs for t in tail)]
    if len(entry) != 1 or len(set(outs)) != 1:
        raise EffcError(f"the accelerated layers take {len(entry)} inputs and give "
                        f"{len(set(outs))} outputs; the RTL accelerator runs one-input, "
                        "one-output models: compile with --target c")
    return head, body, tail


def _zp(graph: Graph, name: str) -> int:
    q = graph.tensors[name].quant
    return int(q.zero_point) if q is not None else 0


def _params(node: Node, graph: Graph, cout: int, zp_terms: np.ndarray
            ) -> list[tuple[int, int, int]]:
    """(bias, multiplier, shift) a channel. The lanes multiply the raw int8 input, so the
    input zero point's share, ``zp * sum(weights)``, comes off the bias (``zp_terms``);
    exact modulo 2^32 like the int32 accumulator (padding taps read the zero point)."""
    a = node.attrs
    mult = np.broadcast_to(np.asarray(a["multiplier"], np.int64).reshape(-1), (cout,))
    shift = np.broadcast_to(np.asarray(a["shift"], np.int64).reshape(-1), (cout,))
    bias = graph.const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
    b = np.zeros(cout, np.int64) if bias is None else np.asarray(bias, np.int64).reshape(-1)
    if shift.min(initial=0) < -31 or shift.max(initial=0) > 31:
        raise EffcError(f"layer '{node.name}' ({node.op_type}) needs a requantization shift "
                        f"of {int(shift.min())}..{int(shift.max())}, beyond the accelerator's "
                        "-31..31; check the model's scales or compile with --target c")
    if mult.min(initial=0) < 0 or mult.max(initial=0) >= 1 << 31:
        raise EffcError(f"layer '{node.name}' ({node.op_type}) has a requantization "
                        "multiplier outside 0..2^31-1, which the accelerator's requantizer "
                        "does not take; check the model's scales or compile with --target c")
    b = b - zp_terms
    return [(int(b[c]), int(mult[c]), int(shift[c])) for c in range(cout)]


def _conv_layers(node: Node, graph: Graph, hw: HwConfig
                 ) -> list[Layer]:
    """Conv and Dense: broadcast descriptors (per group and parameter-RAM slice), or
    one per-lane descriptor for a depthwise conv with multiplier 1."""
    P = hw.lanes
    x, y = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    w = graph.const(node.inputs[1]).astype(np.int8)
    if node.op_type == "Dense":
        _h, _wd, cin = spatial(x.shape)
        pixels = x.size // x.shape[-1]
        geo = {"h": 1, "w": pixels, "c": cin, "oh": 1, "ow": pixels, "kh": 1, "kw": 1,
               "sh": 1, "sw": 1, "dh": 1, "dw": 1, "pad_t": 0, "pad_l": 0}
        w = w.reshape(w.shape[0], 1, 1, w.shape[1])
        group = 1
    else:
        geo = window_geometry(node, x.shape, y.shape)
        if w.ndim == 3:
            w = w[:, None]
        group = int(node.attrs.get("group", 1))
    cin_total, cout_total = geo["c"], w.shape[0]
    wsum = w.reshape(cout_total, -1).astype(np.int64).sum(axis=1)
    # |sum of x * w| <= 128 * sum |w| (x, w int8): it must fit the accumulators
    worst = 128 * int(np.abs(w.reshape(cout_total, -1).astype(np.int64)).sum(axis=1).max())
    if worst >= 1 << (hw.acc_bits - 1):
        raise EffcError(f"layer '{node.name}' ({node.op_type}) can sum up to {worst:,} "
                        f"in a channel, beyond the accelerator's {hw.acc_bits}-bit "
                        "accumulators on this board; use a board with a larger FPGA or "
                        "--target c")
    params = _params(node, graph, cout_total, _zp(graph, node.inputs[0]) * wsum)
    common = {k: geo[k] for k in ("h", "w", "oh", "ow", "kh", "kw", "sh", "sw", "dh", "dw",
                                  "pad_t", "pad_l")}
    common |= {"in_zp": _zp(graph, node.inputs[0]), "out_zp": _zp(graph, node.outputs[0]),
               "amin": int(node.attrs.get("activation_min", -128)),
               "amax": int(node.attrs.get("activation_max", 127)), "cs_out": cout_total}
    wd_ = geo["w"]
    steps = {"row_step": geo["dh"] * wd_ * cin_total, "col_step": geo["dw"] * cin_total,
             "prow_step": geo["sh"] * wd_ * cin_total, "pcol_step": geo["sw"] * cin_total}
    origin = (-geo["pad_t"] * wd_ - geo["pad_l"]) * cin_total
    macs_total = get_op(node.op_type, node).macs(node, graph)
    layers = []
    if group == cin_total == cout_total and group > 1:
        k = geo["kh"] * geo["kw"]
        ng = -(-cout_total // P)
        if cout_total > hw.param_depth:
            raise EffcError(f"layer '{node.name}' ({node.op_type}) has {cout_total} channels; "
                            f"the accelerator's parameter RAM holds {hw.param_depth}")
        wt = np.zeros((ng, k, P), np.int8)
        flat = w.reshape(cout_total, k)
        for gi in range(ng):
            sl = flat[gi * P:(gi + 1) * P]
            wt[gi, :, :sl.shape[0]] = sl.T
        f = common | steps | {"cin": 1, "k": k, "ngroups": ng, "goff": P,
                              "last_lanes": cout_total - (ng - 1) * P, "cout": cout_total,
                              "win0_rel": origin, "out_rel": 0, "wstride": k,
                              "period": period(OP_DW, k, P), "c_off": 0}
        lay = Layer(OP_DW, node.name, "depthwise", f, params, wt.reshape(-1, P), macs_total)
        lay.fields["limit"] = overlap_limit(geo, cin_total, 0, cout_total)
        return [_one_shift(lay)]
    cig, cog = cin_total // group, cout_total // group
    slices = [(gi, c0, min(cog, c0 + hw.param_depth) - c0)
              for gi in range(group) for c0 in range(0, cog, hw.param_depth)]
    for gi, c0, n in slices:
        oc = gi * cog + c0
        flat = w[oc:oc + n].reshape(n, geo["kh"] * geo["kw"], cig)
        f = common | steps | {"goff": 0, "cout": n, "win0_rel": origin + gi * cig,
                              "out_rel": oc, "c_off": gi * cig}
        lay = Layer(OP_CONV, node.name, "dense" if node.op_type == "Dense" else "conv", f,
                    params[oc:oc + n], None, macs_total * n // cout_total)
        splits = [ls for ls in SPLITS if cig % (1 << ls) == 0 and 1 << ls <= P] or [0]
        lay = min((_k_split(lay, flat, ls, hw) for ls in splits),
                  key=lambda cand: predicted_cycles(cand, hw))
        if len(slices) == 1:
            lay.fields["limit"] = overlap_limit(geo, cin_total, 0, cout_total)
        layers.append(lay)
    return layers


def _k_split(lay: Layer, flat: np.ndarray, ls: int, hw: HwConfig) -> Layer:
    """``lay`` (a broadcast conv of ``flat``: [channels, window, cin] weights) with
    ``s = 2^ls`` lanes a channel: lane ``j s + r`` of a group takes channel ``j``'s input
    channels ``r, r + s, ...`` (the tap slot reads ``s`` consecutive bytes), so a group
    holds ``P / s`` channels over ``K / s`` tap slots, and the drain adds the channel's
    ``s`` sums. The scheduler keeps the split with the fewest predicted cycles."""
    P, s = hw.lanes, 1 << ls
    n, win, cig = flat.shape
    per = P // s
    ng = -(-n // per)
    k = win * cig // s
    wt = np.zeros((ng, k, P), np.int8)
    for g2 in range(ng):
        sl = flat[g2 * per:(g2 + 1) * per]  # [j, window, cin] -> slot (window, ci'), lane (j, r)
        sl = sl.reshape(sl.shape[0], win, cig // s, s).transpose(1, 2, 0, 3)
        wt[g2, :, :sl.shape[2] * s] = sl.reshape(k, -1)
    f = lay.fields | {"cin": cig // s, "k": k, "ngroups": ng, "last_lanes": n - (ng - 1) * per,
                      "wstride": k, "period": period(OP_CONV, k, P), "ls": ls}
    return _one_shift(Layer(lay.op, lay.node, lay.kind, f, lay.params, wt.reshape(-1, P),
                            lay.macs))


def _one_shift(lay: Layer) -> Layer:
    """A descriptor whose channels share one shift carries it (``ushift``, ``ushv``): its
    parameter words are one a channel."""
    shifts = {shift for _, _, shift in lay.params}
    if len(shifts) == 1:
        lay.fields |= {"ushift": 1, "ushv": shifts.pop() & 255}
    return lay


def _pool_layer(node: Node, graph: Graph, hw: HwConfig) -> Layer:
    P = hw.lanes
    x, y = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    node_attrs = dict(node.attrs)
    if node.op_type in ("GlobalAveragePool", "GlobalMaxPool"):
        h, w, _ = spatial(x.shape)
        node_attrs |= {"kernel_shape": [h, w], "strides": [h, w], "pads": [0, 0, 0, 0],
                       "dilations": [1, 1]}
    probe = Node(node.name, node.op_type, node.inputs, node.outputs, node_attrs)
    geo = window_geometry(probe, x.shape, y.shape)
    op = OP_MAX if node.op_type in ("MaxPool", "GlobalMaxPool") else OP_AVG
    if op == OP_AVG:
        if node_attrs.get("count_include_pad", 0) and max(node_attrs.get("pads", [0])) > 0:
            raise EffcError(f"layer '{node.name}' (AveragePool) counts padding "
                            "(count_include_pad=1), which the accelerator's divider does not; "
                            "compile with --target c")
        reads = _window_counts(geo)
        if reads.min() == 0:
            raise EffcError(f"layer '{node.name}' (AveragePool) has a window over padding "
                            "only; compile with --target c")
    c = geo["c"]
    k = geo["kh"] * geo["kw"]
    if op == OP_AVG and 128 * k > 1 << (hw.acc_bits - 1):
        raise EffcError(f"layer '{node.name}' (AveragePool) sums {k:,} values, beyond the "
                        f"accelerator's {hw.acc_bits}-bit accumulators on this board; use "
                        "--target c")
    ng = -(-c // P)
    f = {kk: geo[kk] for kk in ("h", "w", "oh", "ow", "kh", "kw", "sh", "sw", "dh", "dw",
                                "pad_t", "pad_l")}
    f |= {"row_step": geo["dh"] * geo["w"] * c, "col_step": geo["dw"] * c,
          "prow_step": geo["sh"] * geo["w"] * c, "pcol_step": geo["sw"] * c,
          "cin": 1, "k": k, "ngroups": ng, "goff": P, "last_lanes": c - (ng - 1) * P,
          "win0_rel": (-geo["pad_t"] * geo["w"] - geo["pad_l"]) * c, "out_rel": 0,
          "cs_out": c, "in_zp": 0, "out_zp": 0,
          "amin": int(node.attrs.get("activation_min", -128)),
          "amax": int(node.attrs.get("activation_max", 127)), "wstride": 0,
          "period": period(op, k, P), "c_off": 0}
    # the lanes multiply each byte by 1: one weight word of ones a tap, for every group
    lay = Layer(op, node.name, "maxpool" if op == OP_MAX else "avgpool", f, [],
                np.ones((k, P), np.int8), 0)
    lay.fields["limit"] = overlap_limit(geo, c, 0, c)
    return lay


def _window_counts(geo: dict[str, int]) -> np.ndarray:
    ih = np.arange(geo["oh"])[:, None] * geo["sh"] - geo["pad_t"] + \
        np.arange(geo["kh"])[None, :] * geo["dh"]
    iw = np.arange(geo["ow"])[:, None] * geo["sw"] - geo["pad_l"] + \
        np.arange(geo["kw"])[None, :] * geo["dw"]
    vh = ((ih >= 0) & (ih < geo["h"])).sum(axis=1)
    vw = ((iw >= 0) & (iw < geo["w"])).sum(axis=1)
    return vh[:, None] * vw[None, :]


def _requantize_layer(node: Node, graph: Graph, hw: HwConfig) -> Layer:
    """Requantize as a 1x1 depthwise conv with weight 1 and bias -zp (see ``_params``)."""
    P = hw.lanes
    x = graph.tensors[node.inputs[0]]
    c = x.shape[-1]
    pixels = x.size // c
    ng = -(-c // P)
    params = [(-_zp(graph, node.inputs[0]), int(node.attrs["multiplier"]),
               int(node.attrs["shift"]))] * c
    wt = np.ones((ng, 1, P), np.int8)
    f = {"h": 1, "w": pixels, "oh": 1, "ow": pixels, "kh": 1, "kw": 1, "sh": 1, "sw": 1,
         "dh": 1, "dw": 1, "pad_t": 0, "pad_l": 0, "row_step": 0, "col_step": c,
         "prow_step": 0, "pcol_step": c, "cin": 1, "k": 1, "ngroups": ng, "goff": P,
         "last_lanes": c - (ng - 1) * P, "cout": c, "win0_rel": 0, "out_rel": 0,
         "cs_out": c, "in_zp": _zp(graph, node.inputs[0]),
         "out_zp": _zp(graph, node.outputs[0]), "amin": -128, "amax": 127, "wstride": 1,
         "period": period(OP_DW, 1, P), "c_off": 0, "limit": 0}
    return _one_shift(Layer(OP_DW, node.name, "requantize", f, params, wt.reshape(-1, P), 0))


def _add_layer(node: Node, graph: Graph, hw: HwConfig) -> Layer:
    P = hw.lanes
    a, b = (graph.tensors[n] for n in node.inputs[:2])
    if a.shape != b.shape:
        raise EffcError(f"layer '{node.name}' (Add) broadcasts {list(a.shape)} with "
                        f"{list(b.shape)}; the accelerator adds equal shapes only: compile "
                        "with --target c")
    p = node.attrs["params"]
    n = a.size
    ng = -(-n // P)
    f = {"ngroups": ng, "last_lanes": n - (ng - 1) * P,
         "in_zp": p["input1_zero_point"], "zpb": p["input2_zero_point"],
         "out_zp": p["output_zero_point"], "left": p["left_shift"],
         "m1": p["input1_multiplier"], "s1": -p["input1_shift"],
         "m2": p["input2_multiplier"], "s2": -p["input2_shift"],
         "mo": p["output_multiplier"], "so": -p["output_shift"],
         "amin": int(node.attrs.get("activation_min", -128)),
         "amax": int(node.attrs.get("activation_max", 127)), "limit": 0}
    if not all(0 <= f[k] < 1 << 31 for k in ("m1", "m2", "mo")):
        raise EffcError(f"layer '{node.name}' (Add) has a multiplier outside 0..2^31-1, "
                        "which the accelerator's requantizer does not take; compile with "
                        "--target c")
    for key in ("s1", "s2", "so"):
        if not 0 <= f[key] <= 31:
            raise EffcError(f"layer '{node.name}' (Add) needs a shift of {f[key]}, beyond the "
                            "accelerator's 0..31; compile with --target c")
    return Layer(OP_ADD, node.name, "add", f, [], None, 0)


def plan_model(graph: Graph, hw: HwConfig) -> Program:
    """The accelerator program for ``graph``: layers, arena offsets and the weight image."""
    head, body, tail = partition(graph)
    alias: dict[str, str] = {}
    root = lambda n: alias.get(n, n)  # noqa: E731
    made = {n for node in body for n in node.outputs}
    entry = next(n for node in body for n in node.inputs[:2]
                 if n and not graph.tensors[n].is_constant and n not in made)
    per_node: list[tuple[Node, list[Layer]]] = []
    order = []
    sizes = {entry: graph.tensors[entry].size}
    for node in body:
        if node.op_type == "Reshape":
            alias[node.outputs[0]] = root(node.inputs[0])
            continue
        if node.op_type in ("Conv", "Dense"):
            lays = _conv_layers(node, graph, hw)
        elif node.op_type in POOLS:
            lays = [_pool_layer(node, graph, hw)]
        elif node.op_type == "Requantize":
            lays = [_requantize_layer(node, graph, hw)]
        else:
            lays = [_add_layer(node, graph, hw)]
        out = node.outputs[0]
        sizes[out] = graph.tensors[out].size
        ins = [root(n) for n in node.inputs[:2 if node.op_type == "Add" else 1]]
        limits = {}
        if len(lays) == 1 and "limit" in lays[0].fields:
            limits = {n: lays[0].fields["limit"] for n in ins}
        order.append((out, ins, limits))
        per_node.append((node, lays))
    final = root(next(n for node in body for n in node.outputs
                      if n in graph.outputs or any(n in t.inputs for t in tail)))
    offsets = plan_arena(order, sizes, entry, {final})
    arena = max(offsets[n] + sizes[n] for n in offsets)
    layers: list[Layer] = []
    graph_layers = []
    for index, (node, lays) in enumerate(per_node):
        out = offsets[node.outputs[0]]
        for lay in lays:
            lay.layer_index = index
            f = lay.fields
            if lay.op == OP_ADD:
                f["win0"] = offsets[root(node.inputs[0])]
                f["b_base"] = offsets[root(node.inputs[1])]
                f["out0"] = out
            else:
                f["win0"] = (offsets[root(node.inputs[0])] + f["win0_rel"]) & 0xFFFFFFFF
                f["out0"] = out + f["out_rel"]
            _check_counters(lay, node, hw)
            layers.append(lay)
        graph_layers.append({"index": index, "node": node.name, "op": node.op_type,
                             "descriptors": len(lays), "macs": sum(x.macs for x in lays)})
    prog = Program(layers, {n: offsets[n] for n in offsets}, arena, entry, final,
                   [n.name for n in head], [n.name for n in tail], [], graph_layers)
    prog.weight_words = _weight_image(prog, hw)
    return prog


COUNTED = ("h", "w", "oh", "ow", "cin", "ngroups", "k", "period", "goff", "cout", "cs_out",
           "wstride")


def _check_counters(lay: Layer, node: Node, hw: HwConfig) -> None:
    """Sizes, counts and window coordinates must fit the accelerator's counters."""
    f = lay.fields
    limit = (1 << hw.count_bits) - 1
    values = {k: f[k] for k in COUNTED if k in f}
    if "kh" in f:
        values["window row"] = (f["oh"] - 1) * f["sh"] + (f["kh"] - 1) * f["dh"]
        values["window column"] = (f["ow"] - 1) * f["sw"] + (f["kw"] - 1) * f["dw"]
    big = [(k, v) for k, v in values.items() if v > limit]
    if big:
        raise EffcError(f"layer '{node.name}' ({node.op_type}) needs a {big[0][0]} of "
                        f"{big[0][1]:,}, beyond the accelerator's {hw.count_bits}-bit counters "
                        f"(at most {limit:,}) on this board; use a smaller layer or --target c")


def _weight_image(prog: Program, hw: HwConfig) -> list[int]:
    """Descriptors (and the end marker) from word 0, then each layer's parameters
    (two words a channel: shift, then {multiplier, bias}) and weights (one word a tap)."""
    words: list[int] = []
    cursor = (len(prog.layers) + 1) * hw.desc_words
    data: list[int] = []
    for lay in prog.layers:
        if lay.params:
            lay.fields["pbase"] = cursor + len(data)
            for bias, mult, shift in lay.params:
                if not lay.fields.get("ushift"):
                    data.append(shift & 0xFF)
                data.append((bias & 0xFFFFFFFF) | (mult & 0xFFFFFFFF) << 32)
            assert len(data) - (lay.fields["pbase"] - cursor) == param_words(lay)
        if lay.weights is not None:
            lay.fields["wbase"] = cursor + len(data)
            for row in lay.weights.astype(np.uint8):
                data.append(int.from_bytes(bytes(row), "little"))
        for key in ("pbase", "wbase"):
            if lay.fields.get(key, 0) >= 1 << 16:
                raise EffcError(f"layer '{lay.node}': weights beyond word 65,535 of the "
                                "weight memory; the model is too large for the accelerator")
    for lay in prog.layers:
        words += lay.words(hw)
    words += Layer(0, "end", "end").words(hw)
    assert len(words) == cursor
    return words + data


def predict(prog: Program, hw: HwConfig) -> list[dict[str, Any]]:
    """Per descriptor: its tiling, predicted cycles and PE utilization."""
    rows = []
    for lay in prog.layers:
        f = lay.fields
        cycles = predicted_cycles(lay, hw)
        ls = f.get("ls", 0)
        group = (f"{hw.lanes} lanes" if not ls else
                 f"{hw.lanes >> ls} channels x {1 << ls} lanes (K-split)")
        tiling = (f"{f['ngroups']} chunks of {hw.lanes}" if lay.op == OP_ADD else
                  f"{f['oh']}x{f['ow']} px x {f['ngroups']} groups of {group} x "
                  f"{f['k']} taps (period {f['period']})")
        rows.append({"node": lay.node, "layer": lay.layer_index, "kind": lay.kind,
                     "tiling": tiling, "predicted_cycles": cycles, "macs": lay.macs,
                     "predicted_utilization": round(lay.macs / (cycles * hw.lanes), 4)})
    return rows

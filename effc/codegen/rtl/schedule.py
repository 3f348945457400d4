"""The RTL target's compiler: layers -> accelerator descriptors, memory images, cycle model.

The accelerator (``verilog/effc_accel.v``) has ``P`` MAC lanes. A descriptor runs one
layer (or a slice of one) as loops: output pixel (raster order), channel group of
``P`` lanes, then taps. ``Layer`` holds one descriptor's fields; ``plan_model`` turns a
graph's accelerated segment into layers, places every tensor in the activation arena
(outputs may overlap a dying input where the loop order makes it safe) and packs the
weight memory: descriptors first, then per layer the parameter words and weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from effc.errors import EffcError
from effc.ir import Node

OP_END, OP_CONV, OP_DW, OP_MAX, OP_AVG, OP_ADD = 0, 1, 2, 3, 4, 5
OP_NAMES = {OP_CONV: "conv", OP_DW: "depthwise", OP_MAX: "maxpool", OP_AVG: "avgpool",
            OP_ADD: "add"}
DIV_CYCLES = 26  # the average pool's divider: cycles a lane
ADD_CYCLES = 9  # Add: cycles an element
FIELDS = 16  # 32-bit descriptor fields


@dataclass(frozen=True)
class HwConfig:
    """The accelerator's size for one board."""

    lanes: int  # P
    dsp_lanes: int  # lanes whose multiplier maps to a DSP block
    act_bytes: int  # activation arena (banks x depth)
    weight_words: int  # weight memory words (P bytes each)
    param_depth: int = 256  # parameter RAM entries: output channels a descriptor
    acc_bits: int = 32  # accumulator bits (ACCW)
    count_bits: int = 16  # loop counters and size fields (CW)

    @property
    def lp(self) -> int:
        return self.lanes.bit_length() - 1

    @property
    def desc_words(self) -> int:
        return FIELDS * 32 // (8 * self.lanes)


@dataclass
class Layer:
    """One descriptor and what the report says about it."""

    op: int
    node: str
    kind: str
    fields: dict[str, int] = field(default_factory=dict)
    params: list[tuple[int, int, int]] = field(default_factory=list)  # (bias, mult, shift)
    weights: np.ndarray | None = None  # [words, P] int8
    macs: int = 0
    layer_index: int = 0  # the graph layer (several descriptors may serve one)

    def words(self, hw: HwConfig) -> list[int]:
        """The descriptor as weight-memory words (P bytes each, little-endian lanes)."""
        f = self.fields
        g = lambda k: int(f.get(k, 0))  # noqa: E731
        vals = [0] * FIELDS
        vals[0] = (self.op | g("kw") << 4 | g("sh") << 12 | g("sw") << 16 |
                   g("dh") << 20 | g("dw") << 24 | (g("last_lanes") - 1 & 15) << 28)
        vals[1] = g("h") | g("w") << 16
        vals[2] = g("oh") | g("ow") << 16
        vals[3] = g("win0")
        vals[4] = g("cin") | g("ngroups") << 16
        vals[5] = g("row_step")
        vals[6] = g("col_step")
        vals[7] = g("prow_step")
        vals[8] = g("pcol_step")
        vals[9] = g("out0") | g("cs_out") << 16
        vals[10] = g("wbase") | g("wstride") << 16
        vals[11] = (g("in_zp") & 255) | (g("out_zp") & 255) << 8 | (g("amin") & 255) << 16 | \
            (g("amax") & 255) << 24
        vals[12] = (g("pad_t") & 255) | (g("pad_l") & 255) << 8 | g("k") << 16
        vals[13] = g("period") | g("goff") << 16
        vals[14] = g("pbase") | g("cout") << 16
        vals[15] = g("ls") | g("ushift") << 2 | (g("ushv") & 255) << 8
        if self.op == OP_ADD:
            vals[5] = g("b_base")
            vals[6] = g("s1") | g("s2") << 8 | g("so") << 16 | g("left") << 24
            vals[12] = g("zpb") & 255
            vals[13], vals[14], vals[15] = g("m1"), g("m2"), g("mo")
        bits = 0
        for k, v in enumerate(vals):
            bits |= (v & 0xFFFFFFFF) << (32 * k)
        width = 8 * hw.lanes
        return [(bits >> (width * k)) & ((1 << width) - 1) for k in range(hw.desc_words)]


def period(op: int, k: int, lanes: int) -> int:
    """Cycles a channel group of a pixel takes: its ``k`` tap slots. Its sums go into the
    drain's registers at its last tap (the lanes go on with the next group); a drain
    (``step`` cycles a lane) ends before the next group's last tap."""
    step = DIV_CYCLES if op == OP_AVG else 1
    return max(k, lanes * step + 1)


def param_words(layer: Layer) -> int:
    """Parameter words the controller reads: two a channel (its shift, then {multiplier,
    bias}), one when every channel has the descriptor's shift (``ushift``)."""
    if layer.op not in (OP_CONV, OP_DW):
        return 0
    return layer.fields.get("cout", 0) * (1 if layer.fields.get("ushift") else 2)


def predicted_cycles(layer: Layer, hw: HwConfig) -> int:
    """The cycle model of one descriptor (checked against Verilator in the tests)."""
    f = layer.fields
    fetch = hw.desc_words + 2
    if layer.op == OP_ADD:
        elements = (f["ngroups"] - 1) * hw.lanes + f["last_lanes"]
        return fetch + elements * ADD_CYCLES + 5
    pixels = f["oh"] * f["ow"]
    run = pixels * f["ngroups"] * f["period"]
    tail = (hw.lanes * DIV_CYCLES if layer.op == OP_AVG else hw.lanes) + 9
    return fetch + param_words(layer) + run + tail - (f["period"] - f["k"])


def spatial(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(H, W, C) of an NHWC / NLC / NC tensor."""
    if len(shape) == 4:
        return shape[1], shape[2], shape[3]
    if len(shape) == 3:
        return 1, shape[1], shape[2]
    if len(shape) == 2:
        return 1, 1, shape[1]
    raise EffcError(f"a tensor of shape {list(shape)} has no NHWC layout the accelerator "
                    "reads")


def window_geometry(node: Node, x_shape, y_shape) -> dict[str, int]:
    a = node.attrs
    h, w, c = spatial(x_shape)
    oh, ow, _ = spatial(y_shape)
    ks = list(a["kernel_shape"])
    st = list(a.get("strides", [1] * len(ks)))
    dl = list(a.get("dilations", [1] * len(ks)))
    pads = list(a.get("pads", [0] * 2 * len(ks)))
    if len(ks) == 1:
        ks, st, dl, pads = [1, ks[0]], [1, st[0]], [1, dl[0]], [0, pads[0], 0, pads[1]]
    out_hw = spatial(y_shape)[:2]
    st = [s if o > 1 else 1 for s, o in zip(st, out_hw, strict=True)]
    if ks[1] > 255 or max(st) > 15 or max(dl) > 15 or max(pads) > 255:
        raise EffcError(f"layer '{node.name}' ({node.op_type}): kernel {ks}, strides {st}, "
                        f"dilations {dl} or pads {pads} exceed the accelerator's counters "
                        "(kernel width <= 255, stride and dilation <= 15, pads <= 255); use smaller windows "
                        "or --target c")
    return {"h": h, "w": w, "c": c, "oh": oh, "ow": ow, "kh": ks[0], "kw": ks[1],
            "sh": st[0], "sw": st[1], "dh": dl[0], "dw": dl[1], "pad_t": pads[0],
            "pad_l": pads[1]}


def _min_read(geo: dict[str, int], cs_in: int, c_off: int) -> np.ndarray:
    """Per output pixel (raster): the lowest input byte any of its valid taps reads,
    relative to the input tensor (a large number for windows over padding only)."""
    oh, ow = geo["oh"], geo["ow"]
    big = 1 << 40
    ih0 = np.arange(oh) * geo["sh"] - geo["pad_t"]
    iw0 = np.arange(ow) * geo["sw"] - geo["pad_l"]
    ihs = ih0[:, None] + np.arange(geo["kh"])[None, :] * geo["dh"]
    iws = iw0[:, None] + np.arange(geo["kw"])[None, :] * geo["dw"]
    ih_ok = np.where((ihs >= 0) & (ihs < geo["h"]), ihs, big)
    iw_ok = np.where((iws >= 0) & (iws < geo["w"]), iws, big)
    ih_min, iw_min = ih_ok.min(axis=1), iw_ok.min(axis=1)
    lin = ih_min[:, None] * geo["w"] + iw_min[None, :]
    lin = np.where((ih_min[:, None] >= big) | (iw_min[None, :] >= big), big, lin)
    return (lin * cs_in + c_off).reshape(-1)


def overlap_limit(geo: dict[str, int], cs_in: int, c_off: int, cs_out: int) -> int:
    """The largest ``out_base - in_base`` at which a one-descriptor layer may write its
    output over its own input: every pixel's outputs land below every byte that it
    and the later pixels still read."""
    reads = _min_read(geo, cs_in, c_off)
    suffix_min = np.minimum.accumulate(reads[::-1])[::-1]
    ends = (np.arange(reads.size) + 1) * cs_out
    return int((suffix_min - ends).min())


def plan_arena(order: list[tuple[str, list[str], dict[str, int]]],
               sizes: dict[str, int], first: str, keep: set[str]) -> dict[str, int]:
    """Place tensors: ``order`` is [(output, inputs, {input: overlap limit})] in run
    order; returns {tensor: offset >= 0}. An output goes at its dying input's offset
    plus the overlap limit when nothing else live is there, else just below or above
    the live tensors, whichever spans less."""
    last_use: dict[str, int] = {}
    for i, (_, ins, _) in enumerate(order):
        for name in ins:
            last_use[name] = i
    for name in keep:
        last_use[name] = len(order)
    where: dict[str, int] = {first: 0}

    def free(lo: int, size: int, live: list[str]) -> bool:
        return all(lo + size <= where[n] or where[n] + sizes[n] <= lo for n in live)

    for i, (out, ins, limits) in enumerate(order):
        live = [n for n in where if last_use.get(n, -1) > i]
        occupied = live + [n for n in ins if n in where and n not in live]
        size = sizes[out]
        cands: list[tuple[int, list[str]]] = []
        for name, limit in limits.items():
            if last_use.get(name) == i:
                cands.append((where[name] + limit, [n for n in occupied if n != name]))
        lows = [where[n] for n in occupied]
        highs = [where[n] + sizes[n] for n in occupied]
        cands += [(min(lows) - size, occupied), (max(highs), occupied)] if occupied else \
            [(0, [])]
        best = None
        for cand, blockers in cands:
            if not free(cand, size, blockers):
                continue
            span = max([cand + size, *highs]) - min([cand, *lows])
            if best is None or span < best[0]:
                best = (span, cand)
        assert best is not None
        where[out] = best[1]
    low = min(where.values())
    return {n: o - low for n, o in where.items()}

"""IR nodes -> HLS layers: the HLS target's per-op decisions (like codegen/c/kernels.py).

A ``Layer`` stands for one IR node. It lists its foldings (``Fold``: the
folding parameters with the layer's cycles and resources, docs/hls-backend.md),
states the beat width it reads and writes under a folding, and emits its
processes: calls of the templates in effc/hls/ with every config value and
array computed here. This file holds the base class, the window geometry and
the compute layers (convolution, depthwise, dense, pools); layers_misc.py the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from effc.codegen.hls import estimate as est
from effc.codegen.hls.estimate import Resources, divisors
from effc.ir import Graph, Node
from effc.ops._window import as_2d_params


@dataclass
class Fold:
    """One folding of a layer and what it costs."""

    params: dict[str, int]
    cycles: int
    res: Resources

    def label(self) -> str:
        return ", ".join(f"{k.upper()} {v}" for k, v in self.params.items())


@dataclass
class Process:
    """One call of an effc_hls template in the top function."""

    template: str
    config: dict[str, int]
    inputs: list[str]
    outputs: list[str]
    arrays: list[str] = field(default_factory=list)


class Emission:
    """What a layer emits into: streams, arrays and processes (names from the dataflow)."""

    def stream(self, lanes: int, beats: int, dtype: str = "int8") -> str:
        raise NotImplementedError

    def array(self, what: str, values: np.ndarray, ctype: str,
              partition: tuple[tuple[str, int, int], ...] = ()) -> str:
        """A constant array; ``partition``: (complete | reshape | cyclic, dim, factor)
        ARRAY_PARTITION / ARRAY_RESHAPE pragmas from the folding."""
        raise NotImplementedError

    def process(self, template: str, config: dict[str, int], inputs: list[str],
                outputs: list[str], arrays: list[str] | None = None) -> None:
        raise NotImplementedError


def quant_zp(graph: Graph, name: str) -> int:
    quant = graph.tensors[name].quant
    assert quant is not None
    return int(quant.zero_point)


class Layer:
    """One IR node on the HLS target."""

    kind: ClassVar[str]

    def __init__(self, index: int, node: Node, graph: Graph) -> None:
        self.index = index
        self.node = node
        self.graph = graph
        #: Activation operands in the template's order (a name may repeat).
        self.inputs = [i for i in node.inputs if i and not graph.tensors[i].is_constant]
        self.output = node.outputs[0]

    def shape(self, name: str) -> tuple[int, ...]:
        return self.graph.tensors[name].shape

    def size(self, name: str) -> int:
        return self.graph.tensors[name].size

    def folds(self) -> list[Fold]:
        raise NotImplementedError

    def in_lanes(self, fold: Fold, slot: int) -> int:
        raise NotImplementedError

    def out_lanes(self, fold: Fold) -> int:
        raise NotImplementedError

    def emit(self, fold: Fold, em: Emission, ins: list[str], out: str) -> None:
        raise NotImplementedError

    def rows_needed(self, slot: int, rows: int) -> int:
        """Rows of operand ``slot`` read before output row ``rows - 1`` leaves (FIFO
        sizing, dataflow.py); by default every row (the whole operand)."""
        return tensor_rows(self.shape(self.inputs[slot]))

    def reads_whole_first(self, slot: int) -> bool:
        """Does the layer read operand ``slot`` whole before it reads the others?"""
        return False


def tensor_rows(shape: tuple[int, ...]) -> int:
    """FIFO sizing counts a tensor in rows: N times its first spatial axis (N for [N, F])."""
    return shape[0] * (shape[1] if len(shape) > 2 else 1)


def last_dim(shape: tuple[int, ...]) -> int:
    return shape[-1]


@dataclass
class Window:
    """Window geometry of a 1-D (H = 1) or 2-D conv or pool, channels-last."""

    n: int
    h: int
    w: int
    ch: int
    oh: int
    ow: int
    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    pt: int
    pl: int
    pb: int
    pr: int
    one_d: bool

    @classmethod
    def of(cls, node: Node, graph: Graph) -> Window:
        xs = graph.tensors[node.inputs[0]].shape
        ys = graph.tensors[node.outputs[0]].shape
        a = node.attrs
        kernel = list(a["kernel_shape"])
        k, s, d, p = as_2d_params(kernel, list(a["strides"]),
                                  list(a.get("dilations") or [1] * len(kernel)), list(a["pads"]))
        x4 = xs if len(xs) == 4 else (xs[0], 1, xs[1], xs[2])
        y4 = ys if len(ys) == 4 else (ys[0], 1, ys[1], ys[2])
        return cls(x4[0], x4[1], x4[2], x4[3], y4[1], y4[2], k[0], k[1], s[0], s[1], d[0], d[1],
                   p[0], p[1], p[2], p[3], len(xs) == 3)

    @property
    def span_h(self) -> int:
        return (self.kh - 1) * self.dh + 1

    @property
    def span_w(self) -> int:
        return (self.kw - 1) * self.dw + 1

    @property
    def frame_h(self) -> int:
        return max((self.oh - 1) * self.sh + self.span_h, self.pt + self.h)

    @property
    def frame_w(self) -> int:
        return max((self.ow - 1) * self.sw + self.span_w, self.pl + self.w)

    @property
    def taps(self) -> int:
        return self.kh * self.kw

    @property
    def pixels_out(self) -> int:
        return self.n * self.oh * self.ow

    @property
    def pointwise(self) -> bool:
        """A 1x1 window at stride 1 without padding: the image streams in as it is."""
        return (self.kh == self.kw == self.sh == self.sw == 1 and
                self.pt == self.pl == self.pb == self.pr == 0 and
                (self.oh, self.ow) == (self.h, self.w))

    def window_cycles(self, in_lanes: int, beats_per_window: int) -> int:
        """The window generator: padded positions, input beats, window beats."""
        padded = self.n * (self.frame_h * self.frame_w - self.h * self.w)
        return (padded + self.n * self.h * self.w * self.ch // in_lanes +
                self.pixels_out * beats_per_window)

    def line_buffer(self, banks: int) -> Resources:
        depth = self.span_h * self.frame_w * self.ch
        return est.memory(8, math.ceil(depth / banks), copies=banks) + \
            Resources(lut=est.WINDOW_LUT)

    def config(self, in_lanes: int, out_lanes: int, order: int, pad_value: int,
               overhang_value: int, groups: int = 1, pe: int = 1, taps: int = 1) -> dict[str, int]:
        return {"N": self.n, "H": self.h, "W": self.w, "CH": self.ch, "OH": self.oh,
                "OW": self.ow, "KH": self.kh, "KW": self.kw, "STRIDE_H": self.sh,
                "STRIDE_W": self.sw, "DIL_H": self.dh, "DIL_W": self.dw, "PAD_T": self.pt,
                "PAD_L": self.pl, "PAD_B": self.pb, "PAD_R": self.pr, "SPAN_H": self.span_h,
                "SPAN_W": self.span_w, "FRAME_H": self.frame_h, "FRAME_W": self.frame_w,
                "IN_LANES": in_lanes, "OUT_LANES": out_lanes, "ORDER": order,
                "GROUPS": groups, "CG": self.ch // groups, "PE": pe, "TAPS": taps,
                "PAD_VALUE": pad_value, "OVERHANG_VALUE": overhang_value}

    def rows_needed(self, rows: int) -> int:
        """Input rows (N x outer spatial axis) read before output row ``rows - 1`` leaves."""
        if self.one_d:
            size, out, k, s, pad = self.w, self.ow, self.span_w, self.sw, self.pl
        else:
            size, out, k, s, pad = self.h, self.oh, self.span_h, self.sh, self.pt
        image, r = divmod(rows - 1, out)
        return image * size + min(size, max(0, r * s + k - pad))


ORDER_CONV, ORDER_DEPTHWISE = 0, 1


def requant_units(pe: int, interval: int) -> int:
    """Requantizers behind a unit that writes a beat of ``pe`` every ``interval`` cycles."""
    return est.smallest_divisor_at_least(pe, pe / max(1, interval))


def folded_bias(w_flat: np.ndarray, bias: np.ndarray | None, zero_point: int) -> np.ndarray:
    """bias - zp_in * sum(w) per output channel, modulo 2^32 (int32 wrap-around), so
    the units can multiply raw int8 activations (docs/hls-backend.md)."""
    b = np.zeros(w_flat.shape[0], np.int64) if bias is None else bias.astype(np.int64)
    total = b - int(zero_point) * w_flat.astype(np.int64).sum(axis=1)
    return (((total + 2**31) & 0xFFFFFFFF) - 2**31).astype(np.int32)


def folded_partition(pe: int, simd: int) -> tuple[tuple[str, int, int], ...]:
    """[PE][TILES][SIMD] weights: one memory per PE, SIMD weights side by side in a word."""
    return tuple(p for p, wanted in ((("complete", 1, 0), pe > 1), (("reshape", 3, 0), simd > 1))
                 if wanted)


def per_channel(values: list[int], channels: int) -> np.ndarray:
    """A per-tensor multiplier or shift repeated for every channel."""
    return np.broadcast_to(np.asarray(values, np.int32), (channels,)).copy()


class _Linear(Layer):
    """Shared by the layers that end in requantized int32 accumulators."""

    def requant(self, em: Emission, acc: str, out: str, rows: int, channels: int, pe: int,
                units: int) -> None:
        a = self.node.attrs
        banks = (("cyclic", 1, units),) if units > 1 else ()
        mult = em.array("multiplier", per_channel(a["multiplier"], channels), "int32_t", banks)
        shift = em.array("shift", per_channel(a["shift"], channels), "int32_t", banks)
        em.process("requantize_acc", {
            "ROWS": rows, "CH": channels, "PE": pe, "UNITS": units, "II": pe // units,
            "OUTPUT_ZERO_POINT": quant_zp(self.graph, self.output),
            "ACTIVATION_MIN": a["activation_min"], "ACTIVATION_MAX": a["activation_max"]},
            [acc], [out], [mult, shift])

    def weight_memory(self, pe: int, width: int, tiles: int, biases: int, channels: int,
                      units: int) -> Resources:
        return (est.memory(8 * width, tiles, copies=pe) + est.memory(32, biases, copies=pe) +
                est.memory(38, math.ceil(channels / units), copies=units))


class MatrixLayer(_Linear):
    """Conv (standard or grouped, 1-D or 2-D) and Dense: window generator (unless the
    input streams as it is) -> matrix-vector unit -> requantization."""

    kind = "conv"

    def __init__(self, index: int, node: Node, graph: Graph) -> None:
        super().__init__(index, node, graph)
        w = graph.tensors[node.inputs[1]].data
        assert w is not None
        self.w_flat = w.reshape(w.shape[0], -1)
        self.bias = graph.const(node.inputs[2]) if len(node.inputs) > 2 else None
        self.cout = w.shape[0]
        if node.op_type == "Dense":
            self.kind = "dense"
            self.win = None
            self.groups, self.taps, self.cin_g = 1, 1, w.shape[1]
            self.rows = self.size(self.inputs[0]) // w.shape[1]
        else:
            self.win = Window.of(node, graph)
            self.groups, self.taps, self.cin_g = node.attrs["group"], self.win.taps, w.shape[-1]
            self.rows = self.win.pixels_out
            if self.groups > 1:
                self.kind = "grouped conv"
        self.cout_g = self.cout // self.groups
        self.length = self.taps * self.cin_g  # one group's dot product

    def simd_options(self) -> list[int]:
        """SIMD divides one tap's channels, or (windowed) is whole taps of them: a
        first layer with few channels folds over its taps too."""
        whole_taps = [s for s in divisors(self.length) if s % self.cin_g == 0] \
            if self.windowed else []
        return sorted(set(divisors(self.cin_g)) | set(whole_taps))

    @property
    def windowed(self) -> bool:
        return self.win is not None and not self.win.pointwise

    def folds(self) -> list[Fold]:
        folds = []
        in_options = divisors(self.win.ch) if self.windowed and self.win else [0]
        for pe in divisors(self.cout_g):
            for simd in self.simd_options():
                nf, sf = self.cout_g // pe, self.length // simd
                units = requant_units(pe, sf)
                compute = self.rows * self.groups * nf * sf
                res = (Resources(dsp=est.products(pe * simd),
                                 lut=est.mvau_lut(pe, simd, self.length) + 3 * est.PROCESS_LUT)
                       + est.requantizers(units) + est.memory(8 * simd, sf)
                       + est.fifo(32 * pe, 2) + est.fifo(8 * simd, 2)
                       + self.weight_memory(pe, simd, self.groups * nf * sf, self.groups * nf,
                                            self.cout, units))
                for iw in in_options:
                    cycles, total = compute, res
                    if iw:
                        assert self.win is not None
                        cycles = max(compute, self.win.window_cycles(
                            iw, self.groups * self.length // simd))
                        total = res + self.win.line_buffer(max(iw, simd))
                    params = {"pe": pe, "simd": simd} | ({"in": iw} if iw else {})
                    folds.append(Fold(params, cycles, total))
        return folds

    def in_lanes(self, fold: Fold, slot: int) -> int:
        return fold.params.get("in", fold.params["simd"])

    def out_lanes(self, fold: Fold) -> int:
        return fold.params["pe"]

    def emit(self, fold: Fold, em: Emission, ins: list[str], out: str) -> None:
        pe, simd = fold.params["pe"], fold.params["simd"]
        nf, sf, g = self.cout_g // pe, self.length // simd, self.groups
        source = ins[0]
        zp = quant_zp(self.graph, self.inputs[0])
        if self.windowed:
            assert self.win is not None
            source = em.stream(simd, self.rows * g * sf)
            em.process("sliding_window", self.win.config(
                fold.params["in"], simd, ORDER_CONV, zp, zp, groups=g), [ins[0]], [source])
        # weight (o, e) with o = (g * NF + nf) * PE + p -> [PE][G * NF * SF][SIMD]
        w = self.w_flat.reshape(g, nf, pe, sf, simd).transpose(2, 0, 1, 3, 4)
        bias = folded_bias(self.w_flat, self.bias, zp).reshape(g, nf, pe).transpose(2, 0, 1)
        weights = em.array("weights", np.ascontiguousarray(w.reshape(pe, g * nf * sf, simd)),
                           "int8_t", folded_partition(pe, simd))
        biases = em.array("bias", np.ascontiguousarray(bias.reshape(pe, g * nf)), "int32_t",
                          folded_partition(pe, 1))
        acc = em.stream(pe, self.rows * g * nf, "int32")
        em.process("mvau", {"ROWS": self.rows, "GROUPS": g, "NF": nf, "SF": sf, "PE": pe,
                            "SIMD": simd, "TILES": g * nf * sf}, [source], [acc],
                   [weights, biases])
        self.requant(em, acc, out, self.rows, self.cout, pe, requant_units(pe, sf))

    def rows_needed(self, slot: int, rows: int) -> int:
        if self.win is None:
            return super().rows_needed(slot, rows)
        return self.win.rows_needed(rows)


class DepthwiseLayer(_Linear):
    """Depthwise Conv (group == C_in, depth multiplier M): window generator (unless
    pointwise) in depthwise order -> vector-vector unit -> requantization."""

    kind = "depthwise conv"

    def __init__(self, index: int, node: Node, graph: Graph) -> None:
        super().__init__(index, node, graph)
        w = graph.tensors[node.inputs[1]].data
        assert w is not None
        self.win = Window.of(node, graph)
        self.w_flat = w.reshape(w.shape[0], -1)
        self.bias = graph.const(node.inputs[2]) if len(node.inputs) > 2 else None
        self.ch = self.win.ch
        self.m = w.shape[0] // self.ch

    def _cycles(self, pe: int, taps: int) -> int:
        cf, kf = self.ch // pe, self.win.taps // taps
        blocks = self.win.pixels_out * cf * self.m
        return blocks * kf + (blocks if self.m > 1 else 0)

    def folds(self) -> list[Fold]:
        folds = []
        in_options = [0] if self.win.pointwise else divisors(self.ch)
        for pe in divisors(self.ch):
            for taps in divisors(self.win.taps):
                kf = self.win.taps // taps
                units = requant_units(pe, kf)
                cf = self.ch // pe
                res = (Resources(dsp=est.products(pe * taps),
                                 lut=est.mvau_lut(pe, taps, self.win.taps) + 3 * est.PROCESS_LUT)
                       + est.requantizers(units) + est.memory(8 * pe * taps, kf)
                       + est.fifo(32 * pe, 2) + est.fifo(8 * pe * taps, 2)
                       + self.weight_memory(pe, taps, cf * self.m * kf, cf * self.m,
                                            self.ch * self.m, units))
                for iw in in_options:
                    cycles, total = self._cycles(pe, taps), res
                    if iw:
                        cycles = max(cycles, self.win.window_cycles(iw, cf * kf))
                        total = res + self.win.line_buffer(max(iw, pe))
                    params = {"pe": pe, "simd": taps} | ({"in": iw} if iw else {})
                    folds.append(Fold(params, cycles, total))
        return folds

    def in_lanes(self, fold: Fold, slot: int) -> int:
        return fold.params.get("in", fold.params["pe"])

    def out_lanes(self, fold: Fold) -> int:
        return fold.params["pe"]

    def emit(self, fold: Fold, em: Emission, ins: list[str], out: str) -> None:
        pe, taps = fold.params["pe"], fold.params["simd"]
        cf, kf, m = self.ch // pe, self.win.taps // taps, self.m
        rows = self.win.pixels_out
        zp = quant_zp(self.graph, self.inputs[0])
        source = ins[0]
        if not self.win.pointwise:
            source = em.stream(pe * taps, rows * cf * kf)
            em.process("sliding_window", self.win.config(
                fold.params["in"], pe * taps, ORDER_DEPTHWISE, zp, zp, pe=pe, taps=taps),
                [ins[0]], [source])
        # weight of channel c = cf * PE + p, multiplier m, tap kf * TAPS + t
        w = self.w_flat.reshape(cf, pe, m, kf, taps).transpose(1, 0, 2, 3, 4)
        bias = folded_bias(self.w_flat, self.bias, zp).reshape(cf, pe, m).transpose(1, 0, 2)
        weights = em.array("weights", np.ascontiguousarray(w.reshape(pe, cf * m * kf, taps)),
                           "int8_t", folded_partition(pe, taps))
        biases = em.array("bias", np.ascontiguousarray(bias.reshape(pe, cf * m)), "int32_t",
                          folded_partition(pe, 1))
        acc = em.stream(pe, rows * cf * m, "int32")
        em.process("vvau", {"ROWS": rows, "CF": cf, "M": m, "KF": kf, "PE": pe, "TAPS": taps,
                            "TILES": cf * m * kf}, [source], [acc], [weights, biases])
        self.requant(em, acc, out, rows, self.ch * m, pe, requant_units(pe, kf))

    def rows_needed(self, slot: int, rows: int) -> int:
        return self.win.rows_needed(rows)


def _axis_counts(size: int, out: int, kernel: int, stride: int, dilation: int, begin: int,
                 end: int, include_pad: bool) -> np.ndarray:
    """Per output position on one axis: how many of its taps count in an average."""
    counts = []
    for o in range(out):
        taps = [o * stride + k * dilation for k in range(kernel)]
        low, high = (0, begin + size + end) if include_pad else (begin, begin + size)
        counts.append(sum(low <= t < high for t in taps))
    return np.asarray(counts, np.int16)


class PoolLayer(Layer):
    """MaxPool / AveragePool (1-D or 2-D, every ONNX flag): window generator in
    depthwise order -> pool unit."""

    kind = "pool"

    def __init__(self, index: int, node: Node, graph: Graph) -> None:
        super().__init__(index, node, graph)
        self.win = Window.of(node, graph)
        self.average = node.op_type == "AveragePool"
        self.kind = "avg pool" if self.average else "max pool"

    def folds(self) -> list[Fold]:
        folds = []
        win = self.win
        for pe in divisors(win.ch):
            for taps in divisors(win.taps):
                cf, kf = win.ch // pe, win.taps // taps
                unit = est.fifo(8 * pe * taps, 2) + Resources(
                    lut=est.PROCESS_LUT * 2 + pe * taps * 10 +
                    (pe * est.DIVIDER_LUT if self.average else 0))
                for iw in divisors(win.ch):
                    cycles = max(win.pixels_out * cf * kf, win.window_cycles(iw, cf * kf))
                    folds.append(Fold({"pe": pe, "simd": taps, "in": iw}, cycles,
                                      unit + win.line_buffer(max(iw, pe))))
        return folds

    def in_lanes(self, fold: Fold, slot: int) -> int:
        return fold.params["in"]

    def out_lanes(self, fold: Fold) -> int:
        return fold.params["pe"]

    def emit(self, fold: Fold, em: Emission, ins: list[str], out: str) -> None:
        pe, taps = fold.params["pe"], fold.params["simd"]
        win, a = self.win, self.node.attrs
        zp = quant_zp(self.graph, self.inputs[0])
        include = bool(a.get("count_include_pad", 0))
        if self.average:  # padded taps: 0 (not counted) or the zero point (counted)
            pad_value, overhang = (zp if include else 0), 0
        else:
            pad_value = overhang = -128
        cf, kf = win.ch // pe, win.taps // taps
        windows = em.stream(pe * taps, win.pixels_out * cf * kf)
        em.process("sliding_window", win.config(fold.params["in"], pe * taps, ORDER_DEPTHWISE,
                                                pad_value, overhang, pe=pe, taps=taps),
                   [ins[0]], [windows])
        count_h = _axis_counts(win.h, win.oh, win.kh, win.sh, win.dh, win.pt, win.pb, include)
        count_w = _axis_counts(win.w, win.ow, win.kw, win.sw, win.dw, win.pl, win.pr, include)
        em.process("pool", {
            "N": win.n, "OH": win.oh, "OW": win.ow, "CF": cf, "KF": kf, "PE": pe, "TAPS": taps,
            "MODE": int(self.average), "ZERO_POINT": zp,
            "ACTIVATION_MIN": int(a.get("activation_min", -128)),
            "ACTIVATION_MAX": int(a.get("activation_max", 127))},
            [windows], [out], [em.array("count_h", count_h, "int16_t"),
                               em.array("count_w", count_w, "int16_t")])

    def rows_needed(self, slot: int, rows: int) -> int:
        return self.win.rows_needed(rows)


def whole_window(node: Node, graph: Graph) -> bool:
    """An AveragePool/MaxPool whose one window is the whole unpadded input: a global pool."""
    if node.op_type not in ("AveragePool", "MaxPool"):
        return False
    win = Window.of(node, graph)
    return ((win.kh, win.kw) == (win.h, win.w) and (win.oh, win.ow) == (1, 1) and
            win.dh == win.dw == 1 and not (win.pt or win.pl or win.pb or win.pr))


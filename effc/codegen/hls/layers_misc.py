"""HLS layers without weights: global pools, lookup tables, requantization, the
binary ops, softmax, concatenation and gathers (Transpose, Pad); and
``make_layer``, which picks a node's layer or refuses the node in one line."""

from __future__ import annotations

import math
from functools import reduce

import numpy as np

from effc.codegen import broadcast
from effc.codegen.hls import estimate as est
from effc.codegen.hls.estimate import Resources, divisors
from effc.codegen.hls.layers import (
    DepthwiseLayer,
    Emission,
    Fold,
    Layer,
    MatrixLayer,
    PoolLayer,
    quant_zp,
    tensor_rows,
    whole_window,
)
from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.names import comment_text
from effc.ops.activation import FUNCTIONS as ACTIVATIONS
from effc.quant import fixedpoint as fp
from effc.quant.int8 import SOFTMAX_SCALED_DIFF_INTEGER_BITS


class _Streaming(Layer):
    """A layer that reads its operands row by row as it writes (element-wise)."""

    def rows_needed(self, slot: int, rows: int) -> int:
        return rows


class GlobalPoolLayer(Layer):
    """GlobalAveragePool / GlobalMaxPool, and a pool whose window is the whole input."""

    kind = "global pool"

    def __init__(self, index: int, node: Node, graph: Graph) -> None:
        super().__init__(index, node, graph)
        shape = self.shape(self.inputs[0])
        self.n, self.ch = shape[0], shape[-1]
        self.pixels = int(np.prod(shape[1:-1]))
        self.average = node.op_type in ("GlobalAveragePool", "AveragePool")
        self.kind = "global avg pool" if self.average else "global max pool"

    def folds(self) -> list[Fold]:
        folds = []
        for lanes in divisors(self.ch):
            cycles = self.n * (self.pixels + 1) * self.ch // lanes
            res = est.memory(32, math.ceil(self.ch / lanes), copies=lanes) + Resources(
                lut=2 * est.PROCESS_LUT + lanes * (est.DIVIDER_LUT // 2 if self.average
                                                   else est.LANE_LUT))
            folds.append(Fold({"lanes": lanes}, cycles, res))
        return folds

    def in_lanes(self, fold: Fold, slot: int) -> int:
        return fold.params["lanes"]

    def out_lanes(self, fold: Fold) -> int:
        return fold.params["lanes"]

    def emit(self, fold: Fold, em: Emission, ins: list[str], out: str) -> None:
        a = self.node.attrs
        em.process("global_pool", {
            "N": self.n, "PIXELS": self.pixels, "CH": self.ch, "LANES": fold.params["lanes"],
            "MODE": int(self.average), "ACTIVATION_MIN": int(a.get("activation_min", -128)),
            "ACTIVATION_MAX": int(a.get("activation_max", 127))}, ins, [out])


def _lane_folds(channels: int, count: int, per_lane: Resources, fixed: Resources
                ) -> list[Fold]:
    return [Fold({"lanes": lanes}, count // lanes,
                 fixed + Resources(lanes * per_lane.dsp, lanes * per_lane.bram,
                                   lanes * per_lane.lut + est.PROCESS_LUT))
            for lanes in divisors(channels)]


class LutLayer(_Streaming):
    """Every int8 element-wise activation: a 256-entry table (lower_int8 builds it)."""

    kind = "lut"

    def folds(self) -> list[Fold]:
        table = est.memory(8, 256)
        return _lane_folds(self.shape(self.output)[-1], self.size(self.output),
                           table + Resources(lut=est.LANE_LUT), Resources())

    def in_lanes(self, fold: Fold, slot: int) -> int:
        return fold.params["lanes"]

    def out_lanes(self, fold: Fold) -> int:
        return fold.params["lanes"]

    def emit(self, fold: Fold, em: Emission, ins: list[str], out: str) -> None:
        table = em.array("lut", np.asarray(self.node.attrs["lut"], np.int8), "int8_t")
        em.process("lut", {"COUNT": self.size(self.output), "LANES": fold.params["lanes"]},
                   ins, [out], [table])


class RequantizeLayer(LutLayer):
    kind = "requantize"

    def folds(self) -> list[Fold]:
        return _lane_folds(self.shape(self.output)[-1], self.size(self.output),
                           est.requantizers(1), Resources())

    def emit(self, fold: Fold, em: Emission, ins: list[str], out: str) -> None:
        a = self.node.attrs
        em.process("requantize", {
            "COUNT": self.size(self.output), "LANES": fold.params["lanes"],
            "INPUT_ZERO_POINT": quant_zp(self.graph, self.inputs[0]),
            "OUTPUT_ZERO_POINT": quant_zp(self.graph, self.output),
            "MULTIPLIER": a["multiplier"], "SHIFT": a["shift"]}, ins, [out])


BINARY_KINDS = {"Add": 0, "Sub": 1, "Mul": 2, "PRelu": 3}
#: Requantizers and int8 products per lane of each binary op.
BINARY_COST = {"Add": (3, 0), "Sub": (3, 0), "Mul": (1, 1), "PRelu": (2, 1)}


class BinaryLayer(Layer):
    """Add, Sub, Mul, PRelu of two activations or an activation and a constant, with
    broadcasting (operands smaller than the output are read whole first)."""

    def __init__(self, index: int, node: Node, graph: Graph) -> None:
        super().__init__(index, node, graph)
        self.kind = node.op_type.lower()
        out = self.shape(self.output)
        if len(out) > 4:
            raise EffcError(f"node '{comment_text(node.name)}' ({node.op_type}) broadcasts "
                            f"over {len(out)} dimensions; the HLS target handles 4")
        operands = node.inputs[:2]
        b = broadcast(out, *(self.shape(n) for n in operands))
        self.dims = b["dims"]
        contiguous = broadcast(out, out, out)["in1_strides"]
        self.operands = []  # (tensor, constant?, strides, streams as it is?)
        for name, strides in zip(operands, (b["in1_strides"], b["in2_strides"]), strict=True):
            constant = graph.tensors[name].is_constant
            self.operands.append((name, constant, strides, strides == contiguous))
        self.lanes_options = divisors(out[-1]) if all(
            full for _, constant, _, full in self.operands if not constant) else [1]

    def _buffered(self) -> list[str]:
        return [n for n, constant, _, full in self.operands if not constant and not full]

    def folds(self) -> list[Fold]:
        requants, products = BINARY_COST[self.node.op_type]
        count = self.size(self.output)
        fixed = Resources(lut=est.PROCESS_LUT)
        reads = 0
        for name in self._buffered():
            fixed += est.memory(8, self.size(name))
            reads += self.size(name)
        folds = []
        for lanes in self.lanes_options:
            res = fixed + Resources(dsp=lanes * (requants * est.REQUANT_DSP +
                                                 est.products(products)),
                                    lut=lanes * (requants * est.REQUANT_LUT + est.LANE_LUT))
            for name, constant, _, _ in self.operands:
                if constant:
                    res += est.memory(8, self.size(name), copies=lanes)
            folds.append(Fold({"lanes": lanes}, reads + count // lanes, res))
        return folds

    def in_lanes(self, fold: Fold, slot: int) -> int:
        return 1 if self.inputs[slot] in self._buffered() else fold.params["lanes"]

    def out_lanes(self, fold: Fold) -> int:
        return fold.params["lanes"]

    def reads_whole_first(self, slot: int) -> bool:
        return self.inputs[slot] in self._buffered()

    def rows_needed(self, slot: int, rows: int) -> int:
        if self.reads_whole_first(slot):
            return tensor_rows(self.shape(self.inputs[slot]))
        return rows

    def _params(self) -> dict[str, int]:
        a, g = self.node.attrs, self.graph
        x1, x2 = self.node.inputs[0], self.node.inputs[1]
        fields = {"KIND": BINARY_KINDS[self.node.op_type], "ZP1": 0, "ZP2": 0, "ZP_OUT": 0,
                  "M1": 0, "S1": 0, "M2": 0, "S2": 0, "M_OUT": 0, "S_OUT": 0, "LEFT_SHIFT": 0,
                  "ACTIVATION_MIN": int(a.get("activation_min", -128)),
                  "ACTIVATION_MAX": int(a.get("activation_max", 127))}
        if self.node.op_type == "Mul":
            fields.update(ZP1=quant_zp(g, x1), ZP2=quant_zp(g, x2),
                          ZP_OUT=quant_zp(g, self.output), M_OUT=a["multiplier"],
                          S_OUT=a["shift"])
        elif self.node.op_type == "PRelu":
            p = a["params"]
            fields.update(ZP1=p["input_zero_point"], ZP2=p["alpha_zero_point"],
                          ZP_OUT=p["output_zero_point"], M1=p["multiplier_1"], S1=p["shift_1"],
                          M2=p["multiplier_2"], S2=p["shift_2"])
        else:
            p = a["params"]
            fields.update(ZP1=p["input1_zero_point"], ZP2=p["input2_zero_point"],
                          ZP_OUT=p["output_zero_point"], M1=p["input1_multiplier"],
                          S1=p["input1_shift"], M2=p["input2_multiplier"], S2=p["input2_shift"],
                          M_OUT=p["output_multiplier"], S_OUT=p["output_shift"],
                          LEFT_SHIFT=p["left_shift"])
        return fields

    def emit(self, fold: Fold, em: Emission, ins: list[str], out: str) -> None:
        """``binary`` (operands A and B) or, with a constant, ``binary_const``
        (the activation is A, the constant K, CONST_FIRST when it is operand 1)."""
        config = {"COUNT": self.size(self.output), "LANES": fold.params["lanes"],
                  **{f"D{i}": d for i, d in enumerate(self.dims)}, **self._params()}
        activations = [op for op in self.operands if not op[1]]
        for slot, ((name, _, strides, full), prefix) in enumerate(zip(activations, "AB",
                                                                      strict=False)):
            config.update({f"{prefix}_SRC": int(not full), f"{prefix}_LANES":
                           self.in_lanes(fold, slot), f"{prefix}_SIZE": self.size(name),
                           **{f"{prefix}_S{i}": s for i, s in enumerate(strides)}})
        constants = [(i, op) for i, op in enumerate(self.operands) if op[1]]
        if not constants:
            em.process("binary", config, ins, [out])
            return
        position, (name, _, strides, _) = constants[0]
        data = self.graph.tensors[name].data
        assert data is not None
        config.update({"K_SIZE": data.size, "CONST_FIRST": int(position == 0),
                       **{f"K_S{i}": s for i, s in enumerate(strides)}})
        em.process("binary_const", config, ins, [out],
                   [em.array("constant", data.reshape(-1).astype(np.int8), "int8_t")])


class SoftmaxLayer(Layer):
    """int8 Softmax over the last axis (TFLM, exponentials as a 256-entry table)."""

    kind = "softmax"

    def __init__(self, index: int, node: Node, graph: Graph) -> None:
        super().__init__(index, node, graph)
        shape = self.shape(self.inputs[0])
        if node.attrs["axis"] != len(shape) - 1:
            raise EffcError(f"node '{comment_text(node.name)}': Softmax over axis "
                            f"{node.attrs['axis']} of {list(shape)}; the HLS target "
                            "normalizes the last axis")
        self.depth = shape[-1]
        self.rows = self.size(self.inputs[0]) // self.depth

    def folds(self) -> list[Fold]:
        fixed = (est.memory(32, 256) + est.memory(8, self.depth) + est.requantizers(1)
                 + Resources(lut=3 * est.PROCESS_LUT))
        return [Fold({"lanes": lanes}, self.rows * (2 * self.depth // lanes + self.depth),
                     fixed + est.requantizers(lanes))
                for lanes in divisors(self.depth)]

    def in_lanes(self, fold: Fold, slot: int) -> int:
        return fold.params["lanes"]

    def out_lanes(self, fold: Fold) -> int:
        return fold.params["lanes"]

    def exp_table(self) -> np.ndarray:
        """exp_on_negative_values of each difference -255..0 as TFLM scales it."""
        p = self.node.attrs["params"]
        diff = np.arange(-255, 1, dtype=np.int64)
        scaled = fp.multiply_by_quantized_multiplier_greater_than_one(
            diff, p["input_multiplier"], p["input_left_shift"])
        exps = fp.exp_on_negative_values(scaled, SOFTMAX_SCALED_DIFF_INTEGER_BITS)
        return np.where(diff >= p["diff_min"], exps, 0).astype(np.int32)

    def emit(self, fold: Fold, em: Emission, ins: list[str], out: str) -> None:
        table = em.array("exp_table", self.exp_table(), "int32_t")
        em.process("softmax", {"ROWS": self.rows, "DEPTH": self.depth,
                               "LANES": fold.params["lanes"],
                               "DIFF_MIN": self.node.attrs["params"]["diff_min"]},
                   ins, [out], [table])

    def rows_needed(self, slot: int, rows: int) -> int:
        return rows


class ConcatLayer(Layer):
    """Concat on any axis: a chain of two-input concatenations; constant operands
    stream from a constant source."""

    kind = "concat"

    def __init__(self, index: int, node: Node, graph: Graph) -> None:
        super().__init__(index, node, graph)
        self.axis = node.attrs["axis"]
        out = self.shape(self.output)
        self.outer = int(np.prod(out[:self.axis]))
        self.inner = [int(np.prod(self.shape(n)[self.axis:])) for n in node.inputs]
        self.row_wise = self.axis >= min(2, len(out) - 1)

    def folds(self) -> list[Fold]:
        total = self.outer * sum(self.inner)
        consts = [n for n in self.node.inputs if self.graph.tensors[n].is_constant]
        fixed = Resources(lut=est.PROCESS_LUT * len(self.node.inputs))
        for name in consts:
            fixed += est.memory(8, self.size(name))
        return [Fold({"lanes": lanes}, total // lanes, fixed + Resources(lut=lanes * 8))
                for lanes in divisors(reduce(math.gcd, self.inner))]

    def in_lanes(self, fold: Fold, slot: int) -> int:
        return fold.params["lanes"]

    def out_lanes(self, fold: Fold) -> int:
        return fold.params["lanes"]

    def reads_whole_first(self, slot: int) -> bool:
        return not self.row_wise and slot < len(self.inputs) - 1

    def rows_needed(self, slot: int, rows: int) -> int:
        return rows if self.row_wise else tensor_rows(self.shape(self.inputs[slot]))

    def emit(self, fold: Fold, em: Emission, ins: list[str], out: str) -> None:
        lanes = fold.params["lanes"]
        sources, slot = [], 0
        for name in self.node.inputs:
            data = self.graph.tensors[name].data
            if data is None:
                sources.append(ins[slot])
                slot += 1
                continue
            stream = em.stream(lanes, data.size // lanes)
            em.process("constant", {"COUNT": data.size, "LANES": lanes}, [], [stream],
                       [em.array("constant", data.reshape(-1).astype(np.int8), "int8_t")])
            sources.append(stream)
        acc, acc_inner = sources[0], self.inner[0]
        for i, (source, inner) in enumerate(zip(sources[1:], self.inner[1:], strict=True)):
            last = i == len(sources) - 2
            target = out if last else em.stream(lanes, self.outer * (acc_inner + inner) // lanes)
            em.process("concat", {"OUTER": self.outer, "INNER_A": acc_inner, "INNER_B": inner,
                                  "LANES": lanes}, [acc, source], [target])
            acc, acc_inner = target, acc_inner + inner


RANK = 6


class GatherLayer(Layer):
    """Transpose and Pad (constant, reflect, edge): the input is buffered whole and
    every output value gathered through per-axis offset tables."""

    def __init__(self, index: int, node: Node, graph: Graph) -> None:
        super().__init__(index, node, graph)
        self.kind = node.op_type.lower()
        shape = self.shape(self.inputs[0])
        if len(shape) > RANK:
            raise EffcError(f"node '{comment_text(node.name)}' ({node.op_type}) works on "
                            f"{len(shape)} dimensions; the HLS target handles {RANK}")

    def tables(self) -> list[np.ndarray]:
        """Per output axis (6, outermost first): the input offset of each index, or -1."""
        shape = self.shape(self.inputs[0])
        strides = [int(np.prod(shape[i + 1:])) for i in range(len(shape))]
        a = self.node.attrs
        if self.node.op_type == "Transpose":
            axes = [np.arange(shape[p]) * strides[p] for p in a["perm"]]
        else:
            rank, mode = len(shape), a.get("mode", "constant")
            axes = []
            for i, d in enumerate(shape):
                widths = (a["pads"][i], a["pads"][i + rank])
                index = (np.pad(np.arange(d), widths, constant_values=-1) if mode == "constant"
                         else np.pad(np.arange(d), widths, mode=mode))
                axes.append(np.where(index < 0, -1, index * strides[i]))
        return [np.zeros(1, np.int64)] * (RANK - len(axes)) + axes

    def folds(self) -> list[Fold]:
        size_in, size_out = self.size(self.inputs[0]), self.size(self.output)
        table = sum(len(t) for t in self.tables())
        fixed = est.memory(8, size_in) + est.memory(32, table) + Resources(lut=4 * est.PROCESS_LUT)
        return [Fold({"lanes": lanes}, size_in // lanes + size_out, fixed)
                for lanes in divisors(self.shape(self.inputs[0])[-1])]

    def in_lanes(self, fold: Fold, slot: int) -> int:
        return fold.params["lanes"]

    def out_lanes(self, fold: Fold) -> int:
        return 1

    def emit(self, fold: Fold, em: Emission, ins: list[str], out: str) -> None:
        tables = self.tables()
        bases = np.cumsum([0] + [len(t) for t in tables])
        config = {"IN_SIZE": self.size(self.inputs[0]), "IN_LANES": fold.params["lanes"],
                  "OUT_SIZE": self.size(self.output), "OUT_LANES": 1,
                  "TABLE": int(bases[-1]), "VALUE": int(self.node.attrs.get("value_q", 0)),
                  **{f"D{i}": len(t) for i, t in enumerate(tables)},
                  **{f"BASE{i}": int(b) for i, b in enumerate(bases[:-1])}}
        offsets = em.array("offsets", np.concatenate(tables).astype(np.int32), "int32_t")
        em.process("gather", config, ins, [out], [offsets])


def make_layer(index: int, node: Node, graph: Graph) -> Layer:
    """The HLS layer of an int8 node, or the one-line refusal naming the node."""
    op = node.op_type
    name = comment_text(node.name)
    x = next((graph.tensors[i] for i in node.inputs if i and not graph.tensors[i].is_constant),
             None)
    int8 = x is not None and x.dtype == "int8" and graph.tensors[node.outputs[0]].dtype == "int8"
    if not int8:
        raise EffcError(f"node '{name}' ({op}) computes in float; the HLS target runs int8 "
                        "models only: quantize the model (--calib FILE, or a QDQ model)")
    if not accepts(op, int8) or op in BOUNDARY:
        known = sorted({*LAYER_OPS, *FACTORIES, "int8 activations"})
        raise EffcError(f"node '{name}' ({op}) has no HLS template; the HLS target supports "
                        f"{', '.join(known)}")
    if op == "Conv":
        w = graph.tensors[node.inputs[1]].shape
        if node.attrs["group"] > 1 and w[-1] == 1:
            return DepthwiseLayer(index, node, graph)
        return MatrixLayer(index, node, graph)
    if op == "Dense":
        return MatrixLayer(index, node, graph)
    if op in ("GlobalAveragePool", "GlobalMaxPool") or whole_window(node, graph):
        return GlobalPoolLayer(index, node, graph)
    if op in ("MaxPool", "AveragePool"):
        return PoolLayer(index, node, graph)
    if op in ACTIVATIONS:
        return LutLayer(index, node, graph)
    return FACTORIES[op](index, node, graph)


FACTORIES: dict[str, type[Layer]] = {
    "Requantize": RequantizeLayer, "Add": BinaryLayer, "Sub": BinaryLayer, "Mul": BinaryLayer,
    "PRelu": BinaryLayer, "Softmax": SoftmaxLayer, "Concat": ConcatLayer,
    "Transpose": GatherLayer, "Pad": GatherLayer}
#: make_layer's ops besides FACTORIES and the activations (Reshape: the dataflow's same stream).
LAYER_OPS = ("Conv", "Dense", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
             "Reshape")
#: The float interface's conversions, which the host runs around the core (split_core).
BOUNDARY = ("QuantizeLinear", "DequantizeLinear")
#: Every IR op the HLS target generates code for, with the conversions at its edges.
OPS = frozenset({*LAYER_OPS, *FACTORIES, *ACTIVATIONS, *BOUNDARY})


def accepts(op_type: str, int8: bool) -> bool:
    """Does the HLS target run a node of ``op_type`` computing in int8 (else float)? Only
    int8 ones: a layer of its dataflow or a conversion at the model's edge (make_layer
    refuses every other node in one line)."""
    return int8 and op_type in OPS

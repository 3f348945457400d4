"""A small ONNX graph builder: values with known shapes, named nodes, float weights."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IR_VERSION = 10  # at least (opset 21 needs IR 10; newer opsets the IR version onnx names)


#: Ops whose int8 output takes a fixed (TFLite) or the input's quantization.
NOT_CALIBRATED = {"Softmax", "LogSoftmax", "Sigmoid", "Tanh", "MaxPool", "GlobalMaxPool",
                  "AveragePool", "GlobalAveragePool", "Pad", "ReduceMax", "ReduceMin", "Slice",
                  "Split", "Gather", "Resize", "Tile", "Expand"}
#: Ops that only move values: as calibrated as their input.
KEEPS_VALUES = {"Reshape", "Flatten", "Squeeze", "Transpose", "Identity"}


@dataclass(frozen=True)
class Value:
    """A tensor of the graph being built: its name, its (ONNX, channels-first) shape and
    where effc's layout pass leaves its data: "cl" (channels-last, the ONNX view is a
    pending Transpose) or "cf" (in ONNX order). Where the two coincide (one channel,
    or every spatial size 1, or rank 2) the layout does not matter (``agnostic``)."""

    name: str
    shape: tuple[int, ...]
    layout: str = "cf"
    #: int8: quantized from its own calibrated range (not a fixed or inherited one)
    calibrated: bool = True
    elem_type: int = TensorProto.FLOAT  # INT64 for an index (ArgMax) output

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def channels(self) -> int:
        return self.shape[1]

    @property
    def spatial(self) -> tuple[int, ...]:
        return self.shape[2:]

    @property
    def agnostic(self) -> bool:
        return self.rank < 3 or self.channels == 1 or int(np.prod(self.spatial)) == 1

    @property
    def channels_last(self) -> bool:
        """Data stored channels-last while the ONNX view is channels-first."""
        return self.layout == "cl" and not self.agnostic


@dataclass
class Builder:
    """Collects nodes, initializers, inputs, outputs and the features used."""

    opset: int
    rng: np.random.Generator
    naming: str = "unique"  # "unique" | "empty" | "adversarial" (see generator.NAMINGS)
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    inputs: list[Value] = field(default_factory=list)
    outputs: list[Value] = field(default_factory=list)
    features: set[str] = field(default_factory=set)
    layers: list[str] = field(default_factory=list)  # human-readable description
    #: A Flatten of channels-last data: its Transpose folds into the rows of a Dense
    #: that is its only reader, and stays (no C kernel) for anything else.
    pending_flatten: str | None = None
    values: dict[str, Value] = field(default_factory=dict)
    #: index inputs -> n: their samples are in [-n, n) (an embedding table's rows)
    index_bounds: dict[str, int] = field(default_factory=dict)
    views: dict[str, str] = field(default_factory=dict)  # value -> the value it only moves

    def root(self, name: str) -> str:
        """The value ``name`` is a view of (through Reshape, Flatten, Squeeze, Transpose)."""
        return self.views.get(name, name)
    _count: int = 0

    def fresh(self, base: str) -> str:
        self._count += 1
        return f"{base}{self._count}"

    def input(self, shape: tuple[int, ...], elem_type: int = TensorProto.FLOAT) -> Value:
        value = Value(f"input{len(self.inputs)}", tuple(shape), elem_type=elem_type)
        self.values[value.name] = value
        self.inputs.append(value)
        kind = "" if elem_type == TensorProto.FLOAT else \
            f" {TensorProto.DataType.Name(elem_type).lower()}"
        self.layers.append(f"input{kind} {list(shape)}")
        return value

    def const(self, data: np.ndarray, base: str = "c") -> str:
        name = self.fresh(base)
        self.initializers.append(numpy_helper.from_array(np.asarray(data), name))
        return name

    def weight(self, shape: tuple[int, ...], fan_in: int, gain: float = 1.0) -> str:
        w = self.rng.standard_normal(shape) * gain / np.sqrt(max(1, fan_in))
        return self.const(w.astype(np.float32), "w")

    def node_name(self, op: str) -> str:
        if self.naming == "empty":
            return ""
        if self.naming == "adversarial":
            # Names effc's own passes derive from node names (fold_batchnorm's
            # "<bn>_mul"/"<bn>_add", the frontend's "<node>_transpose") or give
            # their own nodes ("quantize_input", "dequantize_output").
            pool = ("bn_add", "bn_mul", "bn_add_1", "quantize_input", "dequantize_output",
                    "Conv", "Conv_transpose", "Relu")
            used = {n.name for n in self.nodes}
            if op == "BatchNormalization" and "bn" not in used:
                return "bn"
            free = [p for p in pool if p not in used]
            return free[int(self.rng.integers(len(free)))] if free else self.fresh(op)
        return self.fresh(op.lower() + "_")

    def op(self, op_type: str, inputs: list[str], shape: tuple[int, ...], describe: str = "",
           layout: str = "cf", **attrs: object) -> Value:
        calibrated = op_type not in NOT_CALIBRATED
        if op_type in KEEPS_VALUES:
            calibrated = self.values[inputs[0]].calibrated
        out = Value(self.fresh("t"), tuple(int(d) for d in shape), layout, calibrated)
        self.values[out.name] = out
        if op_type in KEEPS_VALUES:
            self.views[out.name] = self.root(inputs[0])
        self.nodes.append(helper.make_node(op_type, inputs, [out.name],
                                           name=self.node_name(op_type), **attrs))
        self.layers.append(f"{op_type}{' ' + describe if describe else ''} -> {list(shape)}")
        return out

    def multi(self, op_type: str, inputs: list[str], shapes: list[tuple[int, ...]],
              describe: str = "", layout: str = "cf", **attrs: object) -> list[Value]:
        """A node with several outputs (Split, LSTM)."""
        calibrated = op_type not in NOT_CALIBRATED
        outs = [Value(self.fresh("t"), tuple(int(d) for d in shape), layout, calibrated)
                for shape in shapes]
        self.values.update((v.name, v) for v in outs)
        self.nodes.append(helper.make_node(op_type, inputs, [v.name for v in outs],
                                           name=self.node_name(op_type), **attrs))
        self.layers.append(f"{op_type}{' ' + describe if describe else ''} -> "
                           f"{[list(v.shape) for v in outs]}")
        return outs

    def output(self, value: Value) -> None:
        self.outputs.append(value)
        self.layers.append(f"output {value.name} {list(value.shape)}")

    def model(self) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, "random",
            [helper.make_tensor_value_info(v.name, v.elem_type, v.shape)
             for v in self.inputs],
            [helper.make_tensor_value_info(v.name, v.elem_type, v.shape)
             for v in self.outputs],
            self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                  producer_name="effc-differential")
        model.ir_version = max(IR_VERSION, helper.find_min_ir_version_for(
            [helper.make_opsetid("", self.opset)]))
        return model


def nhwc_input(b: Builder, h: int, w: int, c: int) -> Value:
    """An NHWC image input of batch 1, seen channels-first through a Transpose."""
    x = b.input((1, h, w, c))
    return b.op("Transpose", [x.name], (1, c, h, w), "", "cl", perm=[0, 3, 1, 2])


def nhwc_output(b: Builder, x: Value) -> None:
    """x (channels-first) as an NHWC output, through a Transpose."""
    perm = [0, 2, 3, 1]
    b.output(b.op("Transpose", [x.name], tuple(x.shape[p] for p in perm), perm=perm))

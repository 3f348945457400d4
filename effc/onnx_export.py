"""Export an IR graph back to ONNX, so every stage opens in Netron and runs in onnxruntime.

Channels-last ops are written as ONNX's channels-first ops between
Transposes. Int8 tensors are written as QDQ: the integer model becomes
DequantizeLinear -> float op -> QuantizeLinear, with exactly its scales and
zero points.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from effc.frontend.context import channels_first_perm, channels_last_perm
from effc.ir import Graph
from effc.ops import get_op

_ELEM = {
    "float32": onnx.TensorProto.FLOAT,
    "int8": onnx.TensorProto.INT8,
    "uint8": onnx.TensorProto.UINT8,
    "int32": onnx.TensorProto.INT32,
    "int64": onnx.TensorProto.INT64,
    "bool": onnx.TensorProto.BOOL,
}
EXPORT_OPSET = 19  # AveragePool dilations need 19
#: Ops newer than EXPORT_OPSET: a graph with one is exported at the opset that defines
#: it (the versions in between only add types to the ops effc exports).
NEWER_OPS = {"Gelu": 20, "Swish": 24}


class OnnxBuilder:
    """Collects ONNX nodes and initializers while ops export themselves."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, onnx.TensorProto] = {}
        self.names: set[str] = set(graph.tensors) | {n.name for n in graph.nodes}
        # An int8 activation X is exported as int8 X plus its dequantized float
        # X_dq, which float ops read; ops write their float result to X_f, which
        # QuantizeLinear turns into X.
        self.float_names: dict[str, str] = {}
        self.raw_names: dict[str, str] = {}
        for tensor in graph.activations():
            if tensor.dtype == "int8":
                self.float_names[tensor.name] = self.fresh(tensor.name + "_dq")
                self.raw_names[tensor.name] = self.fresh(tensor.name + "_f")

    def fresh(self, base: str) -> str:
        name, i = base, 1
        while name in self.names:
            name, i = f"{base}_{i}", i + 1
        self.names.add(name)
        return name

    def emit(self, op_type: str, inputs: list[str], outputs: list[str], **attrs: Any) -> None:
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, inputs, outputs,
                                           name=self.fresh(f"{op_type}_{outputs[0]}"), **attrs))

    def initializer(self, base: str, value: np.ndarray) -> str:
        name = self.fresh(base)
        self.initializers[name] = numpy_helper.from_array(np.ascontiguousarray(value), name)
        return name

    def value(self, name: str) -> np.ndarray:
        """A constant's float value (int8 constants are dequantized)."""
        tensor = self.graph.tensors[name]
        assert tensor.data is not None
        if tensor.quant is not None and tensor.dtype in ("int8", "int16", "int32"):
            q = tensor.quant
            scale = q.scale.astype(np.float64)
            zp = q.zero_point.astype(np.float64)
            if q.axis is not None:
                shape = [1] * tensor.data.ndim
                shape[q.axis] = -1
                scale, zp = scale.reshape(shape), zp.reshape(shape)
            return ((tensor.data.astype(np.float64) - zp) * scale).astype(np.float32)
        return tensor.data

    def weight(self, name: str, transform=None, axis: int | None = None) -> str:
        """A float tensor holding constant ``name`` after ``transform`` of its array.

        Integer constants (int8 weights, int32 biases) are written as their
        integers plus a DequantizeLinear with their scales, so onnxruntime sees
        exactly effc's integers. ``axis`` is the per-channel axis after the
        transform (default: where it was).
        """
        tensor = self.graph.tensors[name]
        assert tensor.data is not None
        transform = transform or (lambda a: a)
        quant = tensor.quant
        if quant is None or tensor.dtype not in ("int8", "int32"):
            return self.initializer(name, np.ascontiguousarray(transform(self.value(name))))
        ints = self.initializer(name + "_int", np.ascontiguousarray(transform(tensor.data)))
        per_axis = quant.axis is not None and quant.scale.size > 1
        scale = quant.scale.reshape(-1) if per_axis else quant.scale.reshape(())
        zero = np.zeros(scale.shape, tensor.data.dtype)
        out = self.fresh(name + "_dq")
        attrs = {"axis": quant.axis if axis is None else axis} if per_axis else {}
        self.emit("DequantizeLinear", [ints, self.initializer(name + "_scale", scale),
                                       self.initializer(name + "_zero", zero)], [out], **attrs)
        return out

    def float_input(self, name: str) -> str:
        """The name under which the float value of ``name`` is available."""
        tensor = self.graph.tensors[name]
        if tensor.is_constant:
            if name not in self.float_names:
                self.float_names[name] = self.weight(name)
            return self.float_names[name]
        return self.float_names.get(name, name)

    def to_channels_first(self, name: str) -> str:
        src = self.float_input(name)
        rank = len(self.graph.tensors[name].shape)
        out = self.fresh(f"{name}_nchw")
        self.emit("Transpose", [src], [out], perm=channels_first_perm(rank))
        return out

    def to_channels_last(self, src: str, dst: str) -> None:
        rank = len(self.graph.tensors[dst].shape)
        self.emit("Transpose", [src], [self.output_name(dst)],
                  perm=channels_last_perm(rank))

    def output_name(self, name: str) -> str:
        """Where a node writes the float value of IR tensor ``name``."""
        return self.raw_names.get(name, name)

    def qdq_params(self, name: str) -> list[str]:
        quant = self.graph.tensors[name].quant
        assert quant is not None
        return [
            self.initializer(f"{name}_scale", quant.scale.astype(np.float32)),
            self.initializer(f"{name}_zero_point", quant.zero_point.astype(np.int8)),
        ]

    def dequantize(self, name: str) -> None:
        self.emit("DequantizeLinear", [name, *self.qdq_params(name)], [self.float_names[name]])

    def quantize(self, name: str) -> None:
        """Write int8 ``name`` from its float result, then its dequantized twin."""
        self.emit("QuantizeLinear", [self.raw_names[name], *self.qdq_params(name)], [name])
        self.dequantize(name)

    def clamp(self, name: str, attrs: dict[str, Any], out: str | None = None) -> str:
        """Apply a node's fused activation clamp (int8 bounds are dequantized)."""
        lo, hi = attrs.get("activation_min"), attrs.get("activation_max")
        if lo is None and hi is None:
            return name
        quant = self.graph.tensors[out].quant if out else None
        if quant is not None:
            scale, zp = float(quant.scale), int(quant.zero_point)
            lo = None if lo is None or lo <= -128 else (lo - zp) * scale
            hi = None if hi is None or hi >= 127 else (hi - zp) * scale
            if lo is None and hi is None:
                return name
        out = self.fresh(f"{name}_clip")
        bounds = [
            self.initializer("clip_min", np.array(-np.inf if lo is None else lo, np.float32)),
            self.initializer("clip_max", np.array(np.inf if hi is None else hi, np.float32)),
        ]
        self.emit("Clip", [name, *bounds], [out])
        return out


def to_onnx(graph: Graph) -> onnx.ModelProto:
    """Build an ONNX model computing ``graph`` (float, or QDQ for int8 graphs)."""
    builder = OnnxBuilder(graph)
    for name in graph.inputs:
        if name in builder.float_names:
            builder.dequantize(name)
    for node in graph.nodes:
        get_op(node.op_type).to_onnx(node, graph, builder)
        for out in node.outputs:
            if out in builder.raw_names:
                builder.quantize(out)
    inputs = [_value_info(graph, n) for n in graph.inputs]
    outputs = [_value_info(graph, n) for n in graph.outputs]
    onnx_graph = helper.make_graph(builder.nodes, graph.name, inputs, outputs,
                                   list(builder.initializers.values()))
    opset = max([EXPORT_OPSET, *(NEWER_OPS.get(n.op_type, 0) for n in builder.nodes)])
    model = helper.make_model(onnx_graph, producer_name="effc",
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = max(9, helper.find_min_ir_version_for([helper.make_opsetid("", opset)]))
    onnx.checker.check_model(model)
    return model


def _value_info(graph: Graph, name: str) -> onnx.ValueInfoProto:
    tensor = graph.tensors[name]
    return helper.make_tensor_value_info(name, _ELEM[tensor.dtype], list(tensor.shape))


def save_onnx(graph: Graph, path: str | Path) -> None:
    onnx.save(to_onnx(graph), str(path))

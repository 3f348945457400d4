"""QuantizeLinear (float -> int8) and DequantizeLinear (int8 -> float).

Per-tensor, with the scale and zero point carried by the int8 tensor's
quantization parameters. In an imported QDQ model they mark where values
are quantized; after integer lowering they remain only at a float interface.
"""

from __future__ import annotations

import numpy as np
import onnx

from effc.ir import Graph, Node, QuantParams
from effc.ops import Op, register


def int8_zero_point(zero_point: np.ndarray) -> np.ndarray:
    """An int8 or uint8 zero point as int32 in effc's int8 domain.

    uint8 quantization maps exactly onto int8 by moving every value and the
    zero point by -128: ``scale * (q - zp) == scale * ((q - 128) - (zp - 128))``.
    """
    zero_point = np.asarray(zero_point)
    if zero_point.dtype == np.uint8:
        return zero_point.astype(np.int32) - 128
    return zero_point.astype(np.int32)


def int8_values(q: np.ndarray) -> np.ndarray:
    """Quantized constant values in effc's int8 domain (uint8 moved by -128)."""
    q = np.asarray(q)
    return (q.astype(np.int16) - 128).astype(np.int8) if q.dtype == np.uint8 else q


def _quantized_type(ctx, onnx_node) -> int:
    """The ONNX element type of the quantized side, which a missing zero point takes
    (QuantizeLinear: ``output_dtype``, else uint8; DequantizeLinear: its input's)."""
    if onnx_node.op_type == "QuantizeLinear":
        return int(ctx.attrs(onnx_node).get("output_dtype", 0)) or onnx.TensorProto.UINT8
    return ctx.onnx_elem_type(onnx_node.input[0])


def _check_attrs(ctx, onnx_node) -> None:
    attrs = ctx.attrs(onnx_node)
    if attrs.get("block_size", 0):
        raise ctx.error("blocked quantization (block_size)", "quantize activations per tensor")
    precision = int(attrs.get("precision", 0))
    if precision not in (0, onnx.TensorProto.FLOAT):
        raise ctx.error(f"precision {onnx.TensorProto.DataType.Name(precision)}",
                        "quantize with float32 division (precision FLOAT)")
    if onnx_node.op_type == "DequantizeLinear" and \
            int(attrs.get("output_dtype", 0)) not in (0, onnx.TensorProto.FLOAT):
        raise ctx.error("a non-float32 output_dtype", "dequantize to float32")


def _qparams(ctx, onnx_node) -> QuantParams:
    _check_attrs(ctx, onnx_node)
    scale = ctx.require_const(onnx_node.input[1], "scale")
    if len(onnx_node.input) > 2 and onnx_node.input[2]:
        zero_point = ctx.require_const(onnx_node.input[2], "zero point")
    else:
        elem = _quantized_type(ctx, onnx_node)
        dtype = {onnx.TensorProto.INT8: np.int8, onnx.TensorProto.UINT8: np.uint8}.get(elem)
        if dtype is None:
            raise ctx.error(f"quantization to {onnx.TensorProto.DataType.Name(elem)}",
                            "use int8 or uint8 quantization")
        zero_point = np.zeros((), dtype)
    if np.size(scale) != 1:
        raise ctx.error("per-axis quantization of an activation",
                        "quantize activations per tensor")
    if zero_point.dtype not in (np.int8, np.uint8):
        raise ctx.error(f"zero point of type {zero_point.dtype}",
                        "use int8 or uint8 quantization")
    return QuantParams(np.float32(scale).reshape(()),
                       int8_zero_point(zero_point).reshape(())).check(
        f"node '{onnx_node.name}' ({onnx_node.op_type})")


@register
class QuantizeLinear(Op):
    op_type = "QuantizeLinear"
    onnx_types = {"QuantizeLinear": 28}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        quant = _qparams(ctx, onnx_node)
        out = onnx_node.output[0]
        ctx.add_node("QuantizeLinear", [onnx_node.input[0]], [out], {},
                     name=onnx_node.name or None)
        ctx.graph.tensors[out].quant = quant

    def infer(self, node: Node, graph: Graph):
        return [(graph.tensors[node.inputs[0]].shape, "int8")]

    def run_float(self, node, graph, xs):
        from effc.quant.int8 import quantize

        q = graph.tensors[node.outputs[0]].quant
        return [quantize(xs[0], float(q.scale), int(q.zero_point))]

    run_int = run_float

    def to_onnx(self, node, graph, builder) -> None:
        builder.emit("Identity", [builder.float_input(node.inputs[0])],
                     [builder.output_name(node.outputs[0])])


@register
class DequantizeLinear(Op):
    op_type = "DequantizeLinear"
    onnx_types = {"DequantizeLinear": 28}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        quant = _qparams(ctx, onnx_node)
        x = onnx_node.input[0]
        if ctx.graph.tensors[x].dtype == "uint8":
            raise ctx.error(f"the model input '{x}' is uint8", "give the model a float input "
                            "(QuantizeLinear inside) or an int8 one; effc's integer interface "
                            "is int8")
        given = ctx.graph.tensors[x].quant
        if given is None:
            ctx.graph.tensors[x].quant = quant
        elif not (np.allclose(given.scale, quant.scale) and
                  np.array_equal(given.zero_point, quant.zero_point)):
            raise ctx.error("DequantizeLinear parameters differ from the QuantizeLinear "
                            "that produced its input", "fix the model's QDQ pairs")
        ctx.add_node("DequantizeLinear", [x], [onnx_node.output[0]], {},
                     name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        return [(graph.tensors[node.inputs[0]].shape, "float32")]

    def run_float(self, node, graph, xs):
        from effc.quant.int8 import dequantize

        q = graph.tensors[node.inputs[0]].quant
        return [dequantize(xs[0], float(q.scale), int(q.zero_point))]

    run_int = run_float

    def to_onnx(self, node, graph, builder) -> None:
        builder.emit("Identity", [builder.float_input(node.inputs[0])],
                     [builder.output_name(node.outputs[0])])

"""ONNX's integer operator formats, imported as DequantizeLinear -> float op -> QuantizeLinear.

QLinearConv / QLinearMatMul (onnxruntime's QOperator format) carry their
scales and zero points as inputs; ConvInteger / MatMulInteger (dynamic
quantization) produce the exact int32 accumulator. effc imports each as the
QDQ pattern with exactly the given parameters, so the QDQ path (annotation
and integer lowering, or float execution with --quantize none) handles them.
These classes only import: the IR holds Conv, Dense, Q and DQ nodes.
"""

from __future__ import annotations

import numpy as np
import onnx

from effc.ir import QuantParams
from effc.ops import Op, register
from effc.ops.conv import Conv
from effc.ops.dense import Dense
from effc.ops.quantize_linear import int8_values, int8_zero_point


def _params(ctx, scale_name: str, zp_name: str | None, what: str) -> QuantParams:
    scale = ctx.require_const(scale_name, f"{what} scale").astype(np.float32)
    zero_point = np.zeros(scale.shape, np.int8)
    if zp_name:
        zero_point = ctx.require_const(zp_name, f"{what} zero point")
    axis = 0 if scale.size > 1 else None
    zero_point = int8_zero_point(zero_point)
    return QuantParams(scale.reshape(-1) if axis is not None else scale.reshape(()),
                       zero_point.reshape(scale.reshape(-1).shape if axis is not None else ()),
                       axis).check(f"node '{ctx.node_name}' ({what})")


def _dequantized_input(ctx, name: str, quant: QuantParams) -> str:
    tensor = ctx.graph.tensors[name]
    if tensor.dtype != "int8":
        raise ctx.error(f"input '{name}' of type {tensor.dtype}", "feed int8 values")
    if quant.axis is not None:
        raise ctx.error("per-axis activation quantization", "quantize activations per tensor")
    if tensor.quant is None:
        tensor.quant = quant
    out = ctx.fresh(name + "_dequantized")
    ctx.add_node("DequantizeLinear", [name], [out], {})
    return out


def _dequantized_weight(ctx, name: str, quant: QuantParams, axis: int) -> str:
    w = int8_values(ctx.require_const(name, "weight"))
    scale, zp = quant.scale.astype(np.float32), quant.zero_point.astype(np.float32)
    if quant.axis is not None:
        shape = [1] * w.ndim
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    value = ((w.astype(np.float32) - zp) * scale).astype(np.float32)
    hint = QuantParams(quant.scale, quant.zero_point, axis if quant.axis is not None else None)
    return ctx.constant(name + "_dequantized", value, quant=hint)


def _quantized_output(ctx, y_float: str, y: str, quant: QuantParams) -> None:
    ctx.add_node("QuantizeLinear", [y_float], [y], {})
    ctx.graph.tensors[y].quant = quant


def _float_node(onnx_node, op_type: str, inputs: list[str], output: str) -> onnx.NodeProto:
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in onnx_node.attribute}
    return onnx.helper.make_node(op_type, inputs, [output], name=onnx_node.name, **attrs)


@register
class QLinearConv(Op):
    """y = Q(Conv(DQ(x), DQ(w), b)): onnxruntime's QOperator convolution."""

    op_type = "QLinearConv"
    onnx_types = {"QLinearConv": 10}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        i = list(onnx_node.input) + [""] * (9 - len(onnx_node.input))
        x_q = _params(ctx, i[1], i[2], "input")
        w_q = _params(ctx, i[4], i[5], "weight")
        y_q = _params(ctx, i[6], i[7], "output")
        inputs = [_dequantized_input(ctx, i[0], x_q), _dequantized_weight(ctx, i[3], w_q, 0)]
        if i[8]:
            bias = ctx.require_const(i[8], "bias").astype(np.float64)
            scale = float(x_q.scale) * w_q.scale.astype(np.float64)
            inputs.append(ctx.constant(i[8] + "_dequantized", (bias * scale).astype(np.float32),
                                       quant=QuantParams(np.broadcast_to(
                                           scale, bias.shape).astype(np.float32),
                                           np.zeros(bias.shape, np.int32), 0)))
        y_float = ctx.fresh(onnx_node.output[0] + "_float")
        Conv.from_onnx(ctx, _float_node(onnx_node, "Conv", inputs, y_float))
        _quantized_output(ctx, y_float, onnx_node.output[0], y_q)


@register
class QLinearMatMul(Op):
    """y = Q(DQ(a) @ DQ(b)) with a constant b: a Dense layer."""

    op_type = "QLinearMatMul"
    onnx_types = {"QLinearMatMul": 21}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        i = list(onnx_node.input)
        a_q, b_q, y_q = (_params(ctx, i[1], i[2], "input"), _params(ctx, i[4], i[5], "weight"),
                         _params(ctx, i[6], i[7], "output"))
        inputs = [_dequantized_input(ctx, i[0], a_q), _dequantized_weight(ctx, i[3], b_q, 1)]
        y_float = ctx.fresh(onnx_node.output[0] + "_float")
        Dense.from_onnx(ctx, _float_node(onnx_node, "MatMul", inputs, y_float))
        _quantized_output(ctx, y_float, onnx_node.output[0], y_q)


def _integer_input(ctx, name: str, zp_name: str) -> str:
    """An int8 input with scale 1 and its zero point: DQ gives exactly x - zp."""
    zp = ctx.require_const(zp_name, "zero point") if zp_name else np.zeros((), np.int8)
    if np.size(zp) != 1:
        raise ctx.error("per-axis input zero point", "use a per-tensor input zero point")
    return _dequantized_input(ctx, name, QuantParams(np.float32(1.0),
                                                     np.int32(zp).reshape(())))


def _integer_weight(ctx, name: str, zp_name: str, axis: int) -> str:
    w = ctx.require_const(name, "weight")
    zp = ctx.require_const(zp_name, "weight zero point") if zp_name else np.zeros((), w.dtype)
    scale = np.ones(np.shape(zp), np.float32)
    quant = QuantParams(scale.reshape(-1) if np.size(zp) > 1 else scale.reshape(()),
                        np.asarray(zp, np.int32).reshape(-1) if np.size(zp) > 1 else
                        np.asarray(zp, np.int32).reshape(()), 0 if np.size(zp) > 1 else None)
    return _dequantized_weight(ctx, name, quant, axis)


@register
class ConvInteger(Op):
    """The int32 result of (x - x_zp) * (w - w_zp), as float values.

    The reference computes it exactly (float64); float32 C kernels round sums
    beyond 2^24.
    """

    op_type = "ConvInteger"
    onnx_types = {"ConvInteger": 10}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        i = list(onnx_node.input) + [""] * (4 - len(onnx_node.input))
        inputs = [_integer_input(ctx, i[0], i[2]), _integer_weight(ctx, i[1], i[3], 0)]
        Conv.from_onnx(ctx, _float_node(onnx_node, "Conv", inputs, onnx_node.output[0]))


@register
class MatMulInteger(Op):
    """The int32 product of (a - a_zp) and constant (b - b_zp), as float values."""

    op_type = "MatMulInteger"
    onnx_types = {"MatMulInteger": 10}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        i = list(onnx_node.input) + [""] * (4 - len(onnx_node.input))
        inputs = [_integer_input(ctx, i[0], i[2]), _integer_weight(ctx, i[1], i[3], 1)]
        Dense.from_onnx(ctx, _float_node(onnx_node, "MatMul", inputs, onnx_node.output[0]))


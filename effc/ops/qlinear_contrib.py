"""onnxruntime's contrib QOperator ops (domain com.microsoft), imported as QDQ patterns.

``quantize_static(quant_format=QOperator)`` writes QLinearAdd, QLinearMul,
QLinearSigmoid, QLinearLeakyRelu, QLinearConcat, QLinearAveragePool,
QLinearGlobalAveragePool, QLinearSoftmax and QGemm for the ops around its
convolutions. Each is ``y = Q(op(DQ(x_1), ..., DQ(x_n)))`` with the scales and
zero points given as inputs (uint8 ones moved to int8 exactly); effc imports
it as exactly that pattern, so the QDQ path handles it. These classes only
import: the IR holds the float op between Q and DQ nodes.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import onnx

from effc.ir import QuantParams
from effc.ops import Op, onnx_importer, register
from effc.ops.qlinear import _dequantized_input, _params, _quantized_output
from effc.ops.quantize_linear import int8_values

DOMAIN = "com.microsoft"


def _operand(ctx, name: str, quant: QuantParams) -> str:
    """An operand as float: a DequantizeLinear of an activation, or the
    dequantized constant (keeping its quantization as a hint)."""
    q = ctx.const(name)
    if q is None:
        return _dequantized_input(ctx, name, quant)
    value = (int8_values(q).astype(np.float32) - quant.zero_point.astype(np.float32)) * \
        quant.scale.astype(np.float32)
    return ctx.constant(name + "_dequantized", value.astype(np.float32), quant=quant)


def _float_op(ctx, onnx_node, op_type: str, inputs: list[str], output: str,
              drop: tuple[str, ...] = ()) -> None:
    """Import ``op_type`` on float ``inputs`` with the node's other attributes."""
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in onnx_node.attribute
             if a.name not in drop}
    node = onnx.helper.make_node(op_type, inputs, [output], name=onnx_node.name, **attrs)
    importer = onnx_importer(op_type)
    assert importer is not None
    importer.from_onnx(ctx, node)


def _refuse_channels_last(ctx, onnx_node) -> None:
    attrs = ctx.attrs(onnx_node)
    if attrs.get("channels_last", 0):
        raise ctx.error("channels_last=1", "export the model in NCHW layout")


class _Elementwise(Op):
    """Operand triples (x, x_scale, x_zero_point) then (y_scale, y_zero_point)."""

    float_op: ClassVar[str]
    operands: ClassVar[int] = 1
    dropped: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        i = list(onnx_node.input) + [""] * (3 * cls.operands + 2 - len(onnx_node.input))
        if "channels_last" in cls.dropped:
            _refuse_channels_last(ctx, onnx_node)
        inputs = [_operand(ctx, i[3 * k], _params(ctx, i[3 * k + 1], i[3 * k + 2], "input"))
                  for k in range(cls.operands)]
        y_q = _params(ctx, i[3 * cls.operands], i[3 * cls.operands + 1], "output")
        y_float = ctx.fresh(onnx_node.output[0] + "_float")
        _float_op(ctx, onnx_node, cls.float_op, inputs, y_float, cls.dropped)
        _quantized_output(ctx, y_float, onnx_node.output[0], y_q)


@register
class QLinearAdd(_Elementwise):
    op_type = "QLinearAdd"
    onnx_types = {f"{DOMAIN}.QLinearAdd": 1}
    float_op, operands = "Add", 2


@register
class QLinearMul(_Elementwise):
    op_type = "QLinearMul"
    onnx_types = {f"{DOMAIN}.QLinearMul": 1}
    float_op, operands = "Mul", 2


@register
class QLinearSigmoid(_Elementwise):
    op_type = "QLinearSigmoid"
    onnx_types = {f"{DOMAIN}.QLinearSigmoid": 1}
    float_op = "Sigmoid"


@register
class QLinearLeakyRelu(_Elementwise):
    op_type = "QLinearLeakyRelu"
    onnx_types = {f"{DOMAIN}.QLinearLeakyRelu": 1}
    float_op = "LeakyRelu"


@register
class QLinearGlobalAveragePool(_Elementwise):
    op_type = "QLinearGlobalAveragePool"
    onnx_types = {f"{DOMAIN}.QLinearGlobalAveragePool": 1}
    float_op, dropped = "GlobalAveragePool", ("channels_last",)


@register
class QLinearAveragePool(_Elementwise):
    op_type = "QLinearAveragePool"
    onnx_types = {f"{DOMAIN}.QLinearAveragePool": 1}
    float_op, dropped = "AveragePool", ("channels_last",)


@register
class QLinearSoftmax(_Elementwise):
    op_type = "QLinearSoftmax"
    onnx_types = {f"{DOMAIN}.QLinearSoftmax": 1}
    float_op, dropped = "Softmax", ("opset",)


@register
class QLinearConcat(Op):
    """Inputs (y_scale, y_zero_point, x_1, x_1_scale, x_1_zero_point, ...); attribute axis."""

    op_type = "QLinearConcat"
    onnx_types = {f"{DOMAIN}.QLinearConcat": 1}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        i = list(onnx_node.input)
        if len(i) < 5 or (len(i) - 2) % 3:
            raise ctx.error(f"{len(i)} inputs", "give (y_scale, y_zero_point) and one "
                            "(x, x_scale, x_zero_point) triple per input")
        y_q = _params(ctx, i[0], i[1], "output")
        inputs = [_operand(ctx, i[k], _params(ctx, i[k + 1], i[k + 2], "input"))
                  for k in range(2, len(i), 3)]
        y_float = ctx.fresh(onnx_node.output[0] + "_float")
        _float_op(ctx, onnx_node, "Concat", inputs, y_float)
        _quantized_output(ctx, y_float, onnx_node.output[0], y_q)


@register
class QGemm(Op):
    """(A, a_scale, a_zp, B, b_scale, b_zp, C, y_scale, y_zp): a Gemm on dequantized A, B
    with the int32 bias C at scale alpha * a_scale * b_scale; without y_scale the
    output stays float."""

    op_type = "QGemm"
    onnx_types = {f"{DOMAIN}.QGemm": 1}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        i = list(onnx_node.input) + [""] * (9 - len(onnx_node.input))
        attrs = ctx.attrs(onnx_node)
        alpha = float(attrs.get("alpha", 1.0))
        a_q = _params(ctx, i[1], i[2], "input")
        b_q = _params(ctx, i[4], i[5], "weight")
        if ctx.const(i[3]) is None:
            raise ctx.error("a non-constant B", "effc compiles models with fixed weights")
        b_axis = 0 if attrs.get("transB", 0) else 1
        if b_q.axis is not None:
            b_q = QuantParams(b_q.scale, b_q.zero_point, b_axis)
        inputs = [_operand(ctx, i[0], a_q), _weight(ctx, i[3], b_q)]
        if i[6]:
            c = ctx.require_const(i[6], "bias").astype(np.float64)
            scale = alpha * float(a_q.scale) * b_q.scale.astype(np.float64)
            scale = np.broadcast_to(scale, c.shape).astype(np.float32)
            inputs.append(ctx.constant(i[6] + "_dequantized", (c * scale).astype(np.float32),
                                       quant=QuantParams(scale, np.zeros(c.shape, np.int32),
                                                         0 if c.ndim else None)))
        if not i[7]:
            _float_op(ctx, onnx_node, "Gemm", inputs, onnx_node.output[0])
            return
        y_q = _params(ctx, i[7], i[8], "output")
        y_float = ctx.fresh(onnx_node.output[0] + "_float")
        _float_op(ctx, onnx_node, "Gemm", inputs, y_float)
        _quantized_output(ctx, y_float, onnx_node.output[0], y_q)


def _weight(ctx, name: str, quant: QuantParams) -> str:
    q = int8_values(ctx.require_const(name, "weight")).astype(np.float32)
    scale, zp = quant.scale.astype(np.float32), quant.zero_point.astype(np.float32)
    if quant.axis is not None:
        shape = [1] * q.ndim
        shape[quant.axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return ctx.constant(name + "_dequantized", ((q - zp) * scale).astype(np.float32),
                        quant=quant)

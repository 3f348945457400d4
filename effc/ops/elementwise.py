"""Add, Sub, Mul, Div and PRelu with numpy (ONNX multidirectional) broadcasting.

Int8 Add/Sub follow TFLite's integer add: both inputs are rescaled with a
left shift of 20 and per-input multipliers, summed, and requantized (attrs
computed by the quantizer). Mul follows TFLite's integer mul.
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, broadcast_shapes, register
from effc.ops.conv import clamp

_FLOAT = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
          "PRelu": lambda x, slope: np.where(x >= 0, x, slope * x)}


class _Binary(Op):
    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        a, b = onnx_node.input[0], onnx_node.input[1]
        attrs = ctx.attrs(onnx_node)
        if attrs.get("broadcast") and "axis" in attrs:
            raise ctx.error("legacy axis-broadcast (opset < 7)", "re-export with opset >= 7")
        ctx.add_node(cls.op_type, [a, b], [onnx_node.output[0]], {}, name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        a, b = (graph.tensors[i] for i in node.inputs)
        dtype = a.dtype if not a.is_constant else b.dtype
        return [(broadcast_shapes(node, a.shape, b.shape), dtype)]

    def run_float(self, node, graph, xs):
        y = _FLOAT[node.op_type](xs[0].astype(np.float64), xs[1].astype(np.float64))
        return [clamp(y, node.attrs).astype(np.float32)]

    def to_onnx(self, node, graph, builder) -> None:
        out = builder.fresh(node.outputs[0] + "_raw")
        builder.emit(node.op_type, [builder.float_input(i) for i in node.inputs], [out])
        out = builder.clamp(out, node.attrs, node.outputs[0])
        builder.emit("Identity", [out], [builder.output_name(node.outputs[0])])


def _clamps(node: Node) -> dict[str, int]:
    return {"activation_min": int(node.attrs.get("activation_min", -128)),
            "activation_max": int(node.attrs.get("activation_max", 127))}


@register
class Add(_Binary):
    op_type = "Add"
    onnx_types = {"Add": 14}

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import AddParams, add_int8

        return [add_int8(xs[0], xs[1], AddParams(**node.attrs["params"]), **_clamps(node))]


@register
class Sub(_Binary):
    op_type = "Sub"
    onnx_types = {"Sub": 14}

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import AddParams, sub_int8

        return [sub_int8(xs[0], xs[1], AddParams(**node.attrs["params"]), **_clamps(node))]


@register
class Mul(_Binary):
    op_type = "Mul"
    onnx_types = {"Mul": 14}

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import mul_int8

        zero_points = [int(graph.tensors[n].quant.zero_point) for n in node.inputs]
        return [mul_int8(xs[0], xs[1], input1_zero_point=zero_points[0],
                         input2_zero_point=zero_points[1],
                         output_zero_point=int(graph.tensors[node.outputs[0]].quant.zero_point),
                         multiplier=node.attrs["multiplier"], shift=node.attrs["shift"],
                         **_clamps(node))]


@register
class Div(_Binary):
    """Float division (no int8 form: quantized models divide by constants as Mul)."""

    op_type = "Div"
    onnx_types = {"Div": 14}


@register
class PRelu(_Binary):
    """x for x >= 0, slope * x otherwise; slope broadcasts (per channel). Float only."""

    op_type = "PRelu"
    onnx_types = {"PRelu": 16}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        x, slope_name = onnx_node.input[0], onnx_node.input[1]
        slope = ctx.require_const(slope_name, "slope")
        shape = ctx.shape(x)
        if ctx.opset < 7 and slope.ndim == 1 and len(shape) > 2 and slope.size == shape[1]:
            # Opset 6 broadcast a 1-D slope along the channel axis.
            slope_name = ctx.constant(slope_name + "_per_channel",
                                      slope.reshape(-1, *[1] * (len(shape) - 2)))
        ctx.add_node("PRelu", [x, slope_name], [onnx_node.output[0]], {},
                     name=onnx_node.name or None)

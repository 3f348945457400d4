"""Add, Sub and Mul with numpy (ONNX multidirectional) broadcasting.

Int8 Add/Sub follow TFLite's integer add: both inputs are rescaled with a
left shift of 20 and per-input multipliers, summed, and requantized (attrs
computed by the quantizer). Mul follows TFLite's integer mul.
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, broadcast_shapes, register
from effc.ops.conv import clamp

_FLOAT = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}


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


@register
class Add(_Binary):
    op_type = "Add"
    onnx_types = ("Add",)

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import add_int8

        return [add_int8(xs[0], xs[1], **_int_params(node, graph))]


@register
class Sub(_Binary):
    op_type = "Sub"
    onnx_types = ("Sub",)

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import sub_int8

        return [sub_int8(xs[0], xs[1], **_int_params(node, graph))]


@register
class Mul(_Binary):
    op_type = "Mul"
    onnx_types = ("Mul",)

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import mul_int8

        return [mul_int8(xs[0], xs[1], **_int_params(node, graph))]


def _int_params(node: Node, graph: Graph) -> dict:
    """The quantizer's precomputed attrs plus the tensors' zero points."""
    params = {k: v for k, v in node.attrs.items() if k not in ("lut",)}
    params["input1_zero_point"] = int(graph.tensors[node.inputs[0]].quant.zero_point)
    params["input2_zero_point"] = int(graph.tensors[node.inputs[1]].quant.zero_point)
    params["output_zero_point"] = int(graph.tensors[node.outputs[0]].quant.zero_point)
    return params

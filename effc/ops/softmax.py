"""Softmax over one axis.

ONNX opset < 13 defines Softmax on the input flattened to 2-D at ``axis``;
the importer accepts that only where it equals a softmax over the last axis.
Int8 follows TFLite's integer softmax (output scale 1/256, zero point -128).
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register


@register
class Softmax(Op):
    op_type = "Softmax"
    onnx_types = {"Softmax": 13}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        x = onnx_node.input[0]
        shape = ctx.shape(x)
        axis = int(ctx.attrs(onnx_node).get("axis", -1 if ctx.opset >= 13 else 1)) % len(shape)
        if ctx.opset < 13:
            # Old Softmax normalizes over all axes from ``axis`` on; that is a
            # one-axis softmax when at most one of them is longer than 1.
            longer = [i for i, d in enumerate(shape[axis:]) if d != 1]
            if len(longer) > 1:
                raise ctx.error(f"opset-{ctx.opset} Softmax over several axes {shape[axis:]}",
                                "re-export with opset >= 13")
            axis = axis + longer[0] if longer else len(shape) - 1
        ctx.add_node(cls.op_type, [x], [onnx_node.output[0]], {"axis": axis},
                     name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        return [(x.shape, x.dtype)]

    def run_float(self, node, graph, xs):
        x = xs[0].astype(np.float64)
        axis = node.attrs["axis"]
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return [(e / e.sum(axis=axis, keepdims=True)).astype(np.float32)]

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import SoftmaxParams, softmax_int8

        a = node.attrs
        x = np.moveaxis(xs[0], a["axis"], -1)
        y = softmax_int8(x, SoftmaxParams(**a["params"]))
        return [np.moveaxis(y, -1, a["axis"])]

    def to_onnx(self, node, graph, builder) -> None:
        builder.emit("Softmax", [builder.float_input(node.inputs[0])],
                     [builder.output_name(node.outputs[0])], axis=node.attrs["axis"])


@register
class LogSoftmax(Softmax):
    """log(softmax(x)) over one axis; float only (the C backend has no kernel)."""

    op_type = "LogSoftmax"
    onnx_types = {"LogSoftmax": 13}

    def run_float(self, node, graph, xs):
        x = xs[0].astype(np.float64)
        axis = node.attrs["axis"]
        shifted = x - x.max(axis=axis, keepdims=True)
        return [(shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))).astype(
            np.float32)]

    def run_int(self, node, graph, xs):
        return Op.run_int(self, node, graph, xs)

    def to_onnx(self, node, graph, builder) -> None:
        builder.emit("LogSoftmax", [builder.float_input(node.inputs[0])],
                     [builder.output_name(node.outputs[0])], axis=node.attrs["axis"])

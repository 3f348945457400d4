"""Concat along ``axis``. int8 inputs share the output's scale and zero point
(the integer lowering requantizes the others first)."""

from __future__ import annotations

import numpy as np

from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.ops import Op, register


@register
class Concat(Op):
    op_type = "Concat"
    onnx_types = {"Concat": 13}
    moves_values = True

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        rank = len(ctx.shape(onnx_node.input[0]))
        axis = int(ctx.attrs(onnx_node)["axis"]) % rank
        ctx.add_node("Concat", list(onnx_node.input), [onnx_node.output[0]], {"axis": axis},
                     name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        shapes = [graph.tensors[i].shape for i in node.inputs]
        axis = node.attrs["axis"]
        first = shapes[0]
        for s in shapes[1:]:
            if len(s) != len(first) or any(
                a != b for i, (a, b) in enumerate(zip(s, first, strict=True)) if i != axis
            ):
                raise EffcError(
                    f"Concat '{node.name}': input shapes {shapes} differ off axis {axis}; "
                    "fix the model's shapes"
                )
        out = list(first)
        out[axis] = sum(s[axis] for s in shapes)
        return [(tuple(out), graph.tensors[node.inputs[0]].dtype)]

    def params(self, node: Node, graph: Graph) -> int:
        return 0

    def run_float(self, node, graph, xs):
        return [np.concatenate(xs, axis=node.attrs["axis"])]

    run_int = run_float

    def to_onnx(self, node, graph, builder) -> None:
        builder.emit("Concat", [builder.float_input(i) for i in node.inputs],
                     [builder.output_name(node.outputs[0])], axis=node.attrs["axis"])

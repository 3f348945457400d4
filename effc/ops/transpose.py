"""Transpose with a permutation ``perm`` (ONNX semantics)."""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register


@register
class Transpose(Op):
    op_type = "Transpose"
    onnx_types = {"Transpose": 25}
    moves_values = True

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        rank = len(ctx.shape(onnx_node.input[0]))
        perm = [int(p) for p in ctx.attrs(onnx_node).get("perm", range(rank - 1, -1, -1))]
        if sorted(perm) != list(range(rank)):
            raise ctx.error(f"perm {perm} is not a permutation of {rank} axes",
                            "fix the model")
        ctx.add_node("Transpose", [onnx_node.input[0]], [onnx_node.output[0]], {"perm": perm},
                     name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        return [(tuple(x.shape[p] for p in node.attrs["perm"]), x.dtype)]

    def run_float(self, node, graph, xs):
        return [np.ascontiguousarray(np.transpose(xs[0], node.attrs["perm"]))]

    run_int = run_float

    def to_onnx(self, node, graph, builder) -> None:
        builder.emit("Transpose", [builder.float_input(node.inputs[0])],
                     [builder.output_name(node.outputs[0])], perm=node.attrs["perm"])

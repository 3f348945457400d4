"""Requantize: int8 -> int8 with another scale and zero point (TFLM Requantize).

Inserted by the integer lowering where an op needs its input at the output's
scale (pools, concatenation) but the tensors were quantized differently.
"""

from __future__ import annotations

from effc.ir import Graph, Node
from effc.ops import Op, register


@register
class Requantize(Op):
    op_type = "Requantize"

    def infer(self, node: Node, graph: Graph):
        return [(graph.tensors[node.inputs[0]].shape, "int8")]

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import requantize_int8

        return [requantize_int8(
            xs[0], input_zero_point=int(graph.tensors[node.inputs[0]].quant.zero_point),
            output_zero_point=int(graph.tensors[node.outputs[0]].quant.zero_point),
            multiplier=node.attrs["multiplier"], shift=node.attrs["shift"])]

    run_float = run_int

    def to_onnx(self, node, graph, builder) -> None:
        builder.emit("Identity", [builder.float_input(node.inputs[0])],
                     [builder.output_name(node.outputs[0])])

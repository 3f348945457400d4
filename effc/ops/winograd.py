"""Winograd: a 3x3 (or 3-tap 1-D) stride-1 Conv computed through Winograd
transforms (Lavin & Gray, CVPR 2016); made by ``effc/passes/winograd.py``.

IR form: x [N, *S, C_in], w [C_out, *K, C_in] (the Conv's OHWI weights, kept
for export and reports), u [C_out, *A, C_in] (the transformed weights: int16
``(2G) g (2G)ᵀ`` for int8, float32 ``G g Gᵀ`` for float), optional bias
[C_out]. Attributes: the Conv's (kernel_shape, strides, dilations, pads,
group, clamps, and for int8 multiplier/shift) plus ``tile``, the outputs per
tile side m of F(m x m, 3 x 3) (2, or 4 for float). The math lives in
``effc/quant/winograd.py``; the int8 result is bit-identical with the Conv,
the float one equal up to rounding. Exports to ONNX as the original Conv.
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import register
from effc.ops.conv import Conv, clamp, export_conv


def bias_input(node: Node) -> str | None:
    return node.inputs[3] if len(node.inputs) > 3 and node.inputs[3] else None


@register
class Winograd(Conv):
    op_type = "Winograd"
    onnx_types = {}
    #: w is kept for the ONNX export only: the backends read u.
    export_only_inputs = (1,)

    def params(self, node: Node, graph: Graph) -> int:
        """The model's parameters (the Conv's weights and bias), not the transform."""
        return sum(graph.tensors[n].size for n in (node.inputs[1], bias_input(node)) if n)

    def run_float(self, node, graph, xs):
        from effc.quant.winograd import conv_winograd_float

        a = node.attrs
        y = conv_winograd_float(xs[0], xs[2], xs[3] if len(xs) > 3 else None, m=a["tile"],
                                pads=a["pads"])
        return [clamp(y, a).astype(np.float32)]

    def run_int(self, node, graph, xs):
        from effc.quant.winograd import conv_winograd_int8

        a = node.attrs
        x = graph.tensors[node.inputs[0]]
        y = graph.tensors[node.outputs[0]]
        return [conv_winograd_int8(
            xs[0], xs[2], xs[3] if len(xs) > 3 else None, pads=a["pads"],
            input_zero_point=int(x.quant.zero_point), output_zero_point=int(y.quant.zero_point),
            multiplier=np.asarray(a["multiplier"]), shift=np.asarray(a["shift"]),
            activation_min=a["activation_min"], activation_max=a["activation_max"])]

    def to_onnx(self, node, graph, builder) -> None:
        export_conv(node, builder, bias_input(node))

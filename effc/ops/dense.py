"""Dense (fully connected): y = x @ w.T + bias over the last axis.

IR form: x [..., in], w [out, in] (the TFLite / CMSIS-NN order), optional
bias [out], optional fused clamps activation_min/activation_max. ONNX MatMul
with a constant 2-D right operand and Gemm with a constant B import as Dense
(every other form becomes an IR MatMul: ops/_gemm_import.py); the frontend
folds a following bias Add into it.
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register
from effc.ops.conv import clamp


@register
class Dense(Op):
    op_type = "Dense"
    onnx_types = {"MatMul": 13, "Gemm": 13}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        from effc.ops._gemm_import import import_gemm, import_matmul

        (import_gemm if onnx_node.op_type == "Gemm" else import_matmul)(ctx, onnx_node)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        w = graph.tensors[node.inputs[1]]
        return [((*x.shape[:-1], w.shape[0]), x.dtype)]

    def macs(self, node: Node, graph: Graph) -> int:
        x = graph.tensors[node.inputs[0]]
        w = graph.tensors[node.inputs[1]]
        return (x.size // x.shape[-1]) * w.shape[0] * w.shape[1]

    def run_float(self, node, graph, xs):
        y = xs[0].astype(np.float64) @ xs[1].astype(np.float64).T
        if len(xs) > 2:
            y = y + xs[2]
        return [clamp(y, node.attrs).astype(np.float32)]

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import dense_int8

        a = node.attrs
        x = graph.tensors[node.inputs[0]]
        y = graph.tensors[node.outputs[0]]
        return [dense_int8(
            xs[0], xs[1], xs[2] if len(xs) > 2 else None,
            input_zero_point=int(x.quant.zero_point), output_zero_point=int(y.quant.zero_point),
            multiplier=np.asarray(a["multiplier"]), shift=np.asarray(a["shift"]),
            activation_min=a["activation_min"], activation_max=a["activation_max"])]

    def to_onnx(self, node, graph, builder) -> None:
        w_t = builder.weight(node.inputs[1], lambda w: w.T, axis=1)
        out = builder.fresh(node.outputs[0] + "_mm")
        builder.emit("MatMul", [builder.float_input(node.inputs[0]), w_t], [out])
        if len(node.inputs) > 2:
            biased = builder.fresh(node.outputs[0] + "_bias")
            builder.emit("Add", [out, builder.float_input(node.inputs[2])], [biased])
            out = biased
        out = builder.clamp(out, node.attrs, node.outputs[0])
        builder.emit("Identity", [out], [builder.output_name(node.outputs[0])])

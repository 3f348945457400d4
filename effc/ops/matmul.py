"""MatMul of two values (batched, numpy broadcasting over the leading axes).

IR form: a [..., M, K], b [..., K, N] -> [..., M, N], both of rank >= 2 (the
importer reshapes ONNX's 1-D operands). A constant 2-D right operand imports as
``Dense`` instead (ops/dense.py); this op is for products of two activations
(attention-like blocks, Gemm with a computed B) and batched constant weights.
Int8 follows TFLite Micro's BATCH_MATMUL: both operands per-tensor int8 with their
zero points, one requantization of the int32 sum (effc/quant/matmul.py).
"""

from __future__ import annotations

import numpy as np

from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.ops import Op, register


def matmul_shape(node: Node, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if len(a) < 2 or len(b) < 2 or a[-1] != b[-2]:
        raise EffcError(f"node '{node.name}' (MatMul): operands {list(a)} and {list(b)} do not "
                        "multiply; fix the model's shapes")
    try:
        batch = np.broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        raise EffcError(f"node '{node.name}' (MatMul): batch axes {list(a[:-2])} and "
                        f"{list(b[:-2])} do not broadcast; fix the model's shapes") from None
    return (*(int(d) for d in batch), a[-2], b[-1])


@register
class MatMul(Op):
    op_type = "MatMul"

    def infer(self, node: Node, graph: Graph):
        a, b = (graph.tensors[i] for i in node.inputs)
        dtype = a.dtype if not a.is_constant else b.dtype
        return [(matmul_shape(node, a.shape, b.shape), dtype)]

    def macs(self, node: Node, graph: Graph) -> int:
        y = graph.tensors[node.outputs[0]]
        return y.size * graph.tensors[node.inputs[0]].shape[-1]

    def run_float(self, node, graph, xs):
        y = np.matmul(xs[0].astype(np.float64), xs[1].astype(np.float64))
        return [y.astype(np.float32)]

    def run_int(self, node, graph, xs):
        from effc.quant.matmul import batch_matmul_int8

        a, b = (graph.tensors[i] for i in node.inputs)
        y = graph.tensors[node.outputs[0]]
        return [batch_matmul_int8(xs[0], xs[1], int(a.quant.zero_point),
                                  int(b.quant.zero_point), int(y.quant.zero_point),
                                  node.attrs["multiplier"], node.attrs["shift"])]

    def to_onnx(self, node, graph, builder) -> None:
        builder.emit("MatMul", [builder.float_input(i) for i in node.inputs],
                     [builder.output_name(node.outputs[0])])

"""ArgMax and ArgMin: the index (int64) of the largest / smallest value on one axis.

IR form: x, attributes ``axis`` (non-negative), ``keepdims``, ``select_last_index``
(ties: the last index instead of the first). Int8 compares the raw values, which
order like the reals they stand for (TFLite Micro's ARG_MAX / ARG_MIN: ties give the
first index). The output is an index, never quantized.
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register
from effc.ops.reduce import reduced_shape


class _Arg(Op):
    moves_values = True  # compares values, exact on int8

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        attrs = ctx.attrs(onnx_node)
        x = onnx_node.input[0]
        rank = len(ctx.shape(x))
        axis = int(attrs.get("axis", 0))
        axis = axis + rank if axis < 0 else axis
        ctx.add_node(cls.op_type, [x], [onnx_node.output[0]],
                     {"axis": axis, "keepdims": int(attrs.get("keepdims", 1)),
                      "select_last_index": int(attrs.get("select_last_index", 0))},
                     name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        a = node.attrs
        return [(reduced_shape(x.shape, [a["axis"]], a["keepdims"]), "int64")]

    def run_float(self, node, graph, xs):
        a = node.attrs
        x = xs[0]
        pick = np.argmax if self.op_type == "ArgMax" else np.argmin
        if a["select_last_index"]:
            flipped = np.flip(x, axis=a["axis"])
            index = x.shape[a["axis"]] - 1 - pick(flipped, axis=a["axis"])
        else:
            index = pick(x, axis=a["axis"])
        return [index.astype(np.int64).reshape(graph.tensors[node.outputs[0]].shape)]

    run_int = run_float

    def through_transpose(self, node, perm, graph):
        axis = perm[node.attrs["axis"]]
        if node.attrs["keepdims"]:
            return {**node.attrs, "axis": axis}, [list(perm)]
        kept = [i for i in range(len(perm)) if i != axis]
        return {**node.attrs, "axis": axis}, [[kept.index(perm[j]) for j in range(len(perm))
                                               if j != node.attrs["axis"]]]

    def to_onnx(self, node, graph, builder) -> None:
        builder.emit(self.op_type, [builder.float_input(node.inputs[0])],
                     [builder.output_name(node.outputs[0])], **node.attrs)


@register
class ArgMax(_Arg):
    op_type = "ArgMax"
    onnx_types = {"ArgMax": 13}


@register
class ArgMin(_Arg):
    op_type = "ArgMin"
    onnx_types = {"ArgMin": 13}

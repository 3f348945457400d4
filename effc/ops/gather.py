"""Gather: entries of ``data`` along one axis, picked by integer ``indices``.

IR form: data, indices (int64), attribute ``axis`` (non-negative). Two forms: an
activation gathered with constant indices (channel or time selection, the last
step of a sequence), and a constant table gathered by indices the model computes
or receives (embeddings). Negative indices count from the end. Int8: the output
keeps the data's quantization; a constant table is quantized at the output's
(TFLite's GATHER copies int8 values).
"""

from __future__ import annotations

import numpy as np

from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.ops import Op, register


def gather_shape(data: tuple[int, ...], indices: tuple[int, ...], axis: int) -> tuple[int, ...]:
    return (*data[:axis], *indices, *data[axis + 1:])


@register
class Gather(Op):
    op_type = "Gather"
    onnx_types = {"Gather": 13}
    moves_values = True

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        data, indices = onnx_node.input[0], onnx_node.input[1]
        rank = len(ctx.shape(data))
        axis = int(ctx.attrs(onnx_node).get("axis", 0))
        axis = axis + rank if axis < 0 else axis
        dim = ctx.shape(data)[axis]
        value = ctx.const(indices)
        if value is not None:
            value = value.astype(np.int64)
            if value.size and (value.min() < -dim or value.max() >= dim):
                raise ctx.error(f"indices outside [{-dim}, {dim})", "fix the model's indices")
            indices = ctx.constant(f"{indices}_i64", np.where(value < 0, value + dim, value))
        elif ctx.graph.tensors[indices].dtype not in ("int64", "int32"):
            raise ctx.error("indices that are not integers", "gather with int32/int64 indices")
        ctx.add_node("Gather", [data, indices], [onnx_node.output[0]], {"axis": axis},
                     name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        data, indices = (graph.tensors[n] for n in node.inputs)
        return [(gather_shape(data.shape, indices.shape, node.attrs["axis"]), data.dtype)]

    def params(self, node: Node, graph: Graph) -> int:
        data = graph.tensors[node.inputs[0]]
        return data.size if data.is_constant else 0

    def run_float(self, node, graph, xs):
        data, indices = xs[0], np.asarray(xs[1], np.int64)
        dim = data.shape[node.attrs["axis"]]
        if indices.size and (indices.min() < -dim or indices.max() >= dim):
            raise EffcError(f"node '{node.name}' (Gather): an index outside [{-dim}, {dim}) "
                            "in the input; give indices within the table")
        return [np.ascontiguousarray(np.take(data, np.where(indices < 0, indices + dim, indices),
                                             axis=node.attrs["axis"]))]

    run_int = run_float

    def through_transpose(self, node, perm, graph):
        axis, q = node.attrs["axis"], len(graph.tensors[node.inputs[1]].shape)
        p = perm[axis]

        def position(i: int) -> int:  # where x's axis i lands in the output
            return i if i < p else i - 1 + q

        out_perm = ([position(perm[j]) for j in range(axis)] + [p + k for k in range(q)]
                    + [position(perm[j]) for j in range(axis + 1, len(perm))])
        return {"axis": p}, [out_perm]

    def to_onnx(self, node, graph, builder) -> None:
        indices = graph.tensors[node.inputs[1]]
        index = (builder.initializer("indices", indices.data) if indices.is_constant
                 else builder.output_name(node.inputs[1]))
        builder.emit("Gather", [builder.float_input(node.inputs[0]), index],
                     [builder.output_name(node.outputs[0])], axis=node.attrs["axis"])

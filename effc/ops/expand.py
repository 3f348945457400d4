"""Expand (numpy broadcasting to a constant shape) and Tile (constant repeats).

IR form: Expand(x) with attribute ``shape`` (the output shape), Tile(x) with
``repeats`` (one per axis). Both only copy values: int8 keeps the input's
quantization (TFLite's BROADCAST_TO and TILE).
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register


@register
class Expand(Op):
    op_type = "Expand"
    onnx_types = {"Expand": 13}
    moves_values = True

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        x = onnx_node.input[0]
        target = ctx.require_const(onnx_node.input[1], "shape").reshape(-1).tolist()
        try:
            shape = tuple(int(d) for d in np.broadcast_shapes(ctx.shape(x), tuple(target)))
        except ValueError:
            raise ctx.error(f"shape {target} does not broadcast with {list(ctx.shape(x))}",
                            "fix the model's shapes") from None
        if 0 in shape:
            raise ctx.error(f"an empty shape {list(shape)}",
                            "effc compiles tensors with no size-0 dimension")
        ctx.add_node("Expand", [x], [onnx_node.output[0]], {"shape": list(shape)},
                     name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        return [(tuple(node.attrs["shape"]), x.dtype)]

    def params(self, node: Node, graph: Graph) -> int:
        return 0

    def run_float(self, node, graph, xs):
        return [np.ascontiguousarray(np.broadcast_to(xs[0], node.attrs["shape"]))]

    run_int = run_float

    def through_transpose(self, node, perm, graph):
        shape = node.attrs["shape"]
        if len(shape) != len(perm):
            return None
        inverse = [int(i) for i in np.argsort(perm)]
        return {"shape": [shape[inverse[i]] for i in range(len(perm))]}, [list(perm)]

    def to_onnx(self, node, graph, builder) -> None:
        shape = builder.initializer("shape", np.array(node.attrs["shape"], np.int64))
        builder.emit("Expand", [builder.float_input(node.inputs[0]), shape],
                     [builder.output_name(node.outputs[0])])


@register
class Tile(Op):
    op_type = "Tile"
    onnx_types = {"Tile": 13}
    moves_values = True

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        x = onnx_node.input[0]
        repeats = ctx.require_const(onnx_node.input[1], "repeats").reshape(-1).tolist()
        if len(repeats) != len(ctx.shape(x)) or min(repeats, default=1) < 1:
            raise ctx.error(f"repeats {repeats} for a tensor of rank {len(ctx.shape(x))}",
                            "give one positive repeat per axis")
        ctx.add_node("Tile", [x], [onnx_node.output[0]], {"repeats": [int(r) for r in repeats]},
                     name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        return [(tuple(d * r for d, r in zip(x.shape, node.attrs["repeats"], strict=True)),
                 x.dtype)]

    def params(self, node: Node, graph: Graph) -> int:
        return 0

    def run_float(self, node, graph, xs):
        return [np.tile(xs[0], node.attrs["repeats"])]

    run_int = run_float

    def through_transpose(self, node, perm, graph):
        inverse = [int(i) for i in np.argsort(perm)]
        repeats = node.attrs["repeats"]
        return {"repeats": [repeats[inverse[i]] for i in range(len(perm))]}, [list(perm)]

    def to_onnx(self, node, graph, builder) -> None:
        repeats = builder.initializer("repeats", np.array(node.attrs["repeats"], np.int64))
        builder.emit("Tile", [builder.float_input(node.inputs[0]), repeats],
                     [builder.output_name(node.outputs[0])])

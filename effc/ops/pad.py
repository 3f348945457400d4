"""Pad: constant, reflect or edge. ``pads`` is [begins..., ends...] over all axes."""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register


def _pad(x: np.ndarray, attrs: dict, value: float | int) -> np.ndarray:
    p, n = attrs["pads"], x.ndim
    widths = [(p[i], p[i + n]) for i in range(n)]
    mode = attrs.get("mode", "constant")
    if mode == "constant":
        return np.pad(x, widths, constant_values=value)
    return np.pad(x, widths, mode=mode)


@register
class Pad(Op):
    op_type = "Pad"
    onnx_types = {"Pad": 25}
    moves_values = True

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        attrs = ctx.attrs(onnx_node)
        mode = attrs.get("mode", "constant")
        if mode not in ("constant", "reflect", "edge"):
            raise ctx.error(f"mode '{mode}'", "effc supports constant, reflect and edge padding")
        x = onnx_node.input[0]
        rank = len(ctx.shape(x))
        if "pads" in attrs:
            pads = [int(p) for p in attrs["pads"]]
            value = float(attrs.get("value", 0.0))
        else:
            pads = ctx.require_const(onnx_node.input[1], "pads").astype(np.int64).tolist()
            value = 0.0
            if len(onnx_node.input) > 2 and onnx_node.input[2]:
                value = float(ctx.require_const(onnx_node.input[2], "constant_value"))
            if len(onnx_node.input) > 3 and onnx_node.input[3]:
                axes = [a % rank for a in ctx.require_const(onnx_node.input[3], "axes").tolist()]
                full = [0] * (2 * rank)
                for i, a in enumerate(axes):
                    full[a], full[a + rank] = pads[i], pads[i + len(axes)]
                pads = full
        if any(p < 0 for p in pads):
            raise ctx.error(f"negative pads {pads}", "use Slice to crop instead")
        ctx.add_node("Pad", [x], [onnx_node.output[0]],
                     {"pads": pads, "value": value, "mode": mode},
                     name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        p = node.attrs["pads"]
        n = len(x.shape)
        return [(tuple(d + p[i] + p[i + n] for i, d in enumerate(x.shape)), x.dtype)]

    def run_float(self, node, graph, xs):
        return [_pad(xs[0], node.attrs, node.attrs["value"])]

    def run_int(self, node, graph, xs):
        return [_pad(xs[0], node.attrs, node.attrs.get("value_q", 0))]

    def to_onnx(self, node, graph, builder) -> None:
        pads = builder.initializer("pads", np.array(node.attrs["pads"], np.int64))
        value = builder.initializer("pad_value", np.array(node.attrs["value"], np.float32))
        builder.emit("Pad", [builder.float_input(node.inputs[0]), pads, value],
                     [builder.output_name(node.outputs[0])], mode=node.attrs.get("mode", "constant"))

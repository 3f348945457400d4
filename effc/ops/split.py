"""Split: one tensor into consecutive parts along one axis.

IR form: x, attributes ``axis`` (non-negative) and ``split`` (the part sizes), one
output per part. ONNX's ``split`` (attribute before opset 13, input since), equal
parts, and opset 18's ``num_outputs`` (the last part smaller) are resolved at
import. Int8: every part keeps the input's quantization (TFLite's SPLIT copies).
"""

from __future__ import annotations

import math

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register


@register
class Split(Op):
    op_type = "Split"
    onnx_types = {"Split": 18}
    moves_values = True

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        attrs = ctx.attrs(onnx_node)
        x = onnx_node.input[0]
        shape = ctx.shape(x)
        axis = int(attrs.get("axis", 0))
        axis = axis + len(shape) if axis < 0 else axis
        outputs = list(onnx_node.output)
        sizes = attrs.get("split")
        if sizes is None and len(onnx_node.input) > 1 and onnx_node.input[1]:
            sizes = ctx.require_const(onnx_node.input[1], "split").reshape(-1).tolist()
        dim = shape[axis]
        if sizes is None:
            parts = int(attrs.get("num_outputs", len(outputs)))
            size = math.ceil(dim / parts) if "num_outputs" in attrs else dim // parts
            sizes = [min(size, dim - i * size) for i in range(parts)]
        sizes = [int(s) for s in sizes]
        if sum(sizes) != dim or len(sizes) != len(outputs) or min(sizes) <= 0:
            raise ctx.error(f"parts {sizes} of an axis of {dim} into {len(outputs)} outputs",
                            "fix the model's Split sizes")
        if any(not o for o in outputs):
            raise ctx.error("an unnamed output", "name every Split output")
        ctx.add_node("Split", [x], outputs, {"axis": axis, "split": sizes},
                     name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        axis = node.attrs["axis"]
        return [(tuple(s if i == axis else d for i, d in enumerate(x.shape)), x.dtype)
                for s in node.attrs["split"]]

    def params(self, node: Node, graph: Graph) -> int:
        return 0

    def run_float(self, node, graph, xs):
        bounds = np.cumsum(node.attrs["split"])[:-1]
        return [np.ascontiguousarray(p) for p in np.split(xs[0], bounds, axis=node.attrs["axis"])]

    run_int = run_float

    def through_transpose(self, node, perm, graph):
        return ({**node.attrs, "axis": perm[node.attrs["axis"]]},
                [list(perm) for _ in node.outputs])

    def to_onnx(self, node, graph, builder) -> None:
        split = builder.initializer("split", np.array(node.attrs["split"], np.int64))
        builder.emit("Split", [builder.float_input(node.inputs[0]), split],
                     [builder.output_name(o) for o in node.outputs], axis=node.attrs["axis"])

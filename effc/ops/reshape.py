"""Reshape: a change of shape that keeps the element order.

ONNX Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout (inference) and a
Cast (or CastLike) of a float value to float all import as Reshape with the static
target ``shape``; the frontend removes the ones that change nothing.
"""

from __future__ import annotations

import numpy as np
import onnx

from effc.ir import Graph, Node
from effc.ops import Op, register


def _target_shape(ctx, onnx_node) -> list[int]:
    x_shape = list(ctx.shape(onnx_node.input[0]))
    attrs = ctx.attrs(onnx_node)
    op = onnx_node.op_type
    if op in ("Cast", "CastLike"):
        to = int(attrs.get("to", 0)) if op == "Cast" else ctx.onnx_elem_type(onnx_node.input[1])
        if to != onnx.TensorProto.FLOAT or ctx.graph.tensors[onnx_node.input[0]].dtype != "float32":
            raise ctx.error(f"a cast to {onnx.TensorProto.DataType.Name(to)}",
                            "effc casts only where the value is already float (after "
                            "ConvInteger/MatMulInteger)")
        return x_shape
    if op in ("Identity", "Dropout"):
        if op == "Dropout":
            _check_inference_dropout(ctx, onnx_node, attrs)
        return x_shape
    if op == "Flatten":
        axis = int(attrs.get("axis", 1))
        axis = axis + len(x_shape) if axis < 0 else axis
        return [int(np.prod(x_shape[:axis])), int(np.prod(x_shape[axis:]))]
    if op in ("Squeeze", "Unsqueeze"):
        axes = attrs.get("axes")
        if axes is None and len(onnx_node.input) > 1 and onnx_node.input[1]:
            axes = ctx.require_const(onnx_node.input[1], "axes").tolist()
        if op == "Squeeze":
            if axes is None:
                return [d for d in x_shape if d != 1]
            axes = {a % len(x_shape) for a in axes}
            if any(x_shape[a] != 1 for a in axes):
                raise ctx.error(f"squeezing a dimension that is not 1 in {x_shape}",
                                "fix the model's shapes")
            return [d for i, d in enumerate(x_shape) if i not in axes]
        rank = len(x_shape) + len(axes)
        axes = sorted(a % rank for a in axes)
        out = list(x_shape)
        for a in axes:
            out.insert(a, 1)
        return out
    shape = ctx.require_const(onnx_node.input[1], "shape").astype(np.int64).tolist()
    allow_zero = int(attrs.get("allowzero", 0))
    shape = [x_shape[i] if d == 0 and not allow_zero else d for i, d in enumerate(shape)]
    if shape.count(-1) > 1:
        raise ctx.error(f"target shape {shape} has two -1", "fix the model's shapes")
    total = int(np.prod(x_shape))
    if -1 in shape:
        known = int(np.prod([d for d in shape if d != -1]))
        if known <= 0 or total % known:
            raise ctx.error(f"cannot reshape {x_shape} to {shape}", "fix the model's shapes")
        shape[shape.index(-1)] = total // known
    if int(np.prod(shape)) != total:
        raise ctx.error(f"cannot reshape {x_shape} to {shape}", "fix the model's shapes")
    return shape


def _check_inference_dropout(ctx, onnx_node, attrs: dict) -> None:
    """Dropout is the identity in inference; training mode (random) is refused."""
    if len(onnx_node.output) > 1 and onnx_node.output[1] in ctx.used:
        raise ctx.error("the Dropout mask is used", "export the model in eval mode")
    training = ctx.version < 7 and not attrs.get("is_test", 0)
    if len(onnx_node.input) > 2 and onnx_node.input[2]:
        mode = ctx.const(onnx_node.input[2])
        training = mode is None or bool(np.asarray(mode).reshape(-1)[0])
    if training:
        raise ctx.error("Dropout in training mode (random)", "export the model in eval mode")


@register
class Reshape(Op):
    op_type = "Reshape"
    onnx_types = {"Reshape": 25, "Flatten": 25, "Squeeze": 25, "Unsqueeze": 25, "Identity": 25,
                  "Dropout": 22, "Cast": 28, "CastLike": 25}
    moves_values = True

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        shape = _target_shape(ctx, onnx_node)
        ctx.add_node("Reshape", [onnx_node.input[0]], [onnx_node.output[0]], {"shape": shape},
                     name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        return [(tuple(node.attrs["shape"]), x.dtype)]

    def params(self, node: Node, graph: Graph) -> int:
        return 0

    def run_float(self, node, graph, xs):
        return [xs[0].reshape(node.attrs["shape"])]

    run_int = run_float

    def to_onnx(self, node, graph, builder) -> None:
        shape = builder.initializer("shape", np.array(node.attrs["shape"], np.int64))
        builder.emit("Reshape", [builder.float_input(node.inputs[0]), shape],
                     [builder.output_name(node.outputs[0])])

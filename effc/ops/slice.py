"""Slice: a strided window of a tensor (every axis: start, end, step).

IR form: x, attributes ``starts``, ``ends``, ``steps`` with one entry per axis,
resolved at import from ONNX's constant starts/ends/axes/steps (negative indices
counted from the end, out-of-range values clamped as ONNX defines; a negative step
walks backwards and its end may be -1, "before the first element"). Int8 keeps the
input's quantization (TFLite's STRIDED_SLICE copies values).
"""

from __future__ import annotations

import math

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register


def _resolve(start: int, end: int, step: int, dim: int) -> tuple[int, int]:
    """ONNX's clamping of one axis' start and end (end -1 with a negative step means
    "through the first element")."""
    start = start + dim if start < 0 else start
    end = end + dim if end < 0 else end
    if step > 0:
        return min(max(start, 0), dim), min(max(end, 0), dim)
    return min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)


def slice_length(start: int, end: int, step: int) -> int:
    return max(0, math.ceil((end - start) / step))


def python_slices(attrs: dict) -> tuple[slice, ...]:
    return tuple(slice(s, None if e < 0 else e, st)
                 for s, e, st in zip(attrs["starts"], attrs["ends"], attrs["steps"], strict=True))


@register
class Slice(Op):
    op_type = "Slice"
    onnx_types = {"Slice": 13}
    moves_values = True

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        x = onnx_node.input[0]
        shape = ctx.shape(x)
        attrs = ctx.attrs(onnx_node)
        if ctx.version < 10:
            starts, ends = list(attrs["starts"]), list(attrs["ends"])
            axes = list(attrs.get("axes", range(len(starts))))
            steps = [1] * len(starts)
        else:
            def operand(index: int, what: str) -> list[int] | None:
                if len(onnx_node.input) > index and onnx_node.input[index]:
                    return ctx.require_const(onnx_node.input[index], what).reshape(-1).tolist()
                return None

            starts, ends = operand(1, "starts"), operand(2, "ends")
            axes = operand(3, "axes") or list(range(len(starts)))
            steps = operand(4, "steps") or [1] * len(starts)
        full = {"starts": [0] * len(shape), "ends": list(shape), "steps": [1] * len(shape)}
        for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
            axis = int(axis) + len(shape) if int(axis) < 0 else int(axis)
            if int(step) == 0:
                raise ctx.error("a step of 0", "fix the model's Slice steps")
            begin, stop = _resolve(int(start), int(end), int(step), shape[axis])
            full["starts"][axis], full["ends"][axis], full["steps"][axis] = begin, stop, int(step)
        lengths = [slice_length(*v) for v in zip(*full.values(), strict=True)]
        if 0 in lengths:
            raise ctx.error(f"an empty slice of {list(shape)}",
                            "effc compiles tensors with no size-0 dimension")
        ctx.add_node("Slice", [x], [onnx_node.output[0]], full, name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        a = node.attrs
        shape = tuple(slice_length(s, e, st)
                      for s, e, st in zip(a["starts"], a["ends"], a["steps"], strict=True))
        return [(shape, x.dtype)]

    def params(self, node: Node, graph: Graph) -> int:
        return 0

    def run_float(self, node, graph, xs):
        return [np.ascontiguousarray(xs[0][python_slices(node.attrs)])]

    run_int = run_float

    def through_transpose(self, node, perm, graph):
        inverse = [int(i) for i in np.argsort(perm)]
        attrs = {k: [v[inverse[i]] for i in range(len(perm))] for k, v in node.attrs.items()}
        return attrs, [list(perm)]

    def to_onnx(self, node, graph, builder) -> None:
        a = node.attrs
        ends = [e if e >= 0 else -(2**62) for e in a["ends"]]  # -1 with a negative step
        inputs = [builder.float_input(node.inputs[0]),
                  builder.initializer("starts", np.array(a["starts"], np.int64)),
                  builder.initializer("ends", np.array(ends, np.int64)),
                  builder.initializer("axes", np.arange(len(ends), dtype=np.int64)),
                  builder.initializer("steps", np.array(a["steps"], np.int64))]
        builder.emit("Slice", inputs, [builder.output_name(node.outputs[0])])

"""Reductions over a set of axes: ReduceMean, ReduceSum, ReduceMax, ReduceMin,
ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp.

IR form: x, attributes ``axes`` (sorted, non-negative, in the IR's channels-last
order) and ``keepdims``. ONNX's axes attribute (input since opset 18), negative
axes and an empty axes list (all axes, or the identity with
``noop_with_empty_axes``) are resolved at import. Int8 (TFLite Micro's MEAN,
SUM, REDUCE_MAX; effc/quant/reduce.py): ReduceMean and ReduceSum requantize,
ReduceMax/ReduceMin keep the input's quantization; the others are float only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register


def _log(x: np.ndarray) -> np.ndarray:
    """log as ONNX defines it: NaN below 0 and -inf at 0, without numpy's warnings."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log(x)


FLOAT: dict[str, Callable[[np.ndarray, tuple[int, ...]], np.ndarray]] = {
    "ReduceMean": lambda x, a: x.mean(axis=a, keepdims=True),
    "ReduceSum": lambda x, a: x.sum(axis=a, keepdims=True),
    "ReduceMax": lambda x, a: x.max(axis=a, keepdims=True),
    "ReduceMin": lambda x, a: x.min(axis=a, keepdims=True),
    "ReduceProd": lambda x, a: x.prod(axis=a, keepdims=True),
    "ReduceL1": lambda x, a: np.abs(x).sum(axis=a, keepdims=True),
    "ReduceL2": lambda x, a: np.sqrt((x * x).sum(axis=a, keepdims=True)),
    "ReduceSumSquare": lambda x, a: (x * x).sum(axis=a, keepdims=True),
    "ReduceLogSum": lambda x, a: _log(x.sum(axis=a, keepdims=True)),
    "ReduceLogSumExp": lambda x, a: np.log(np.exp(x).sum(axis=a, keepdims=True)),
}
#: The newest ONNX version of each (18 moved axes to an input; 20 added bool types, 28
#: dropped integer types from ReduceLogSum and ReduceLogSumExp).
VERSIONS = {"ReduceMean": 18, "ReduceSum": 13, "ReduceMax": 20, "ReduceMin": 20,
            "ReduceProd": 18, "ReduceL1": 18, "ReduceL2": 18, "ReduceSumSquare": 18,
            "ReduceLogSum": 28, "ReduceLogSumExp": 28}
#: Reductions with an int8 form (the others are float only).
INT8 = ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin")


def reduced_shape(shape: tuple[int, ...], axes: list[int], keepdims: bool) -> tuple[int, ...]:
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


class _Reduce(Op):
    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        attrs = ctx.attrs(onnx_node)
        x, y = onnx_node.input[0], onnx_node.output[0]
        rank = len(ctx.shape(x))
        axes = attrs.get("axes")
        if axes is None and len(onnx_node.input) > 1 and onnx_node.input[1]:
            axes = ctx.require_const(onnx_node.input[1], "axes").reshape(-1).tolist()
        keepdims = int(attrs.get("keepdims", 1))
        if not axes:
            if attrs.get("noop_with_empty_axes", 0):
                ctx.reshape(x, ctx.shape(x), dst=y)
                return
            axes = list(range(rank))
        axes = sorted({int(a) + rank if int(a) < 0 else int(a) for a in axes})
        if any(not 0 <= a < rank for a in axes):
            raise ctx.error(f"axes {attrs.get('axes', axes)} outside rank {rank}",
                            "fix the model's axes")
        ctx.add_node(cls.op_type, [x], [y], {"axes": axes, "keepdims": keepdims},
                     name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        return [(reduced_shape(x.shape, node.attrs["axes"], node.attrs["keepdims"]), x.dtype)]

    def run_float(self, node, graph, xs):
        y = FLOAT[node.op_type](xs[0].astype(np.float64), tuple(node.attrs["axes"]))
        return [y.reshape(graph.tensors[node.outputs[0]].shape).astype(np.float32)]

    def run_int(self, node, graph, xs):
        from effc.quant import reduce as qr

        axes = tuple(node.attrs["axes"])
        shape = graph.tensors[node.outputs[0]].shape
        if node.op_type == "ReduceMax":
            return [xs[0].max(axis=axes).reshape(shape)]
        if node.op_type == "ReduceMin":
            return [xs[0].min(axis=axes).reshape(shape)]
        if node.op_type not in ("ReduceMean", "ReduceSum"):
            return Op.run_int(self, node, graph, xs)
        x, out = (graph.tensors[n].quant for n in (node.inputs[0], node.outputs[0]))
        y = qr.mean_or_sum_int8(xs[0], axes, input_zero_point=int(x.zero_point),
                                output_zero_point=int(out.zero_point),
                                multiplier=node.attrs["multiplier"], shift=node.attrs["shift"],
                                compute_sum=node.op_type == "ReduceSum")
        return [y.reshape(shape)]

    def through_transpose(self, node, perm, graph):
        reduced = node.attrs["axes"]
        axes = sorted(perm[a] for a in reduced)
        if node.attrs["keepdims"]:
            return {**node.attrs, "axes": axes}, [list(perm)]
        kept = [i for i in range(len(perm)) if i not in axes]
        return {**node.attrs, "axes": axes}, [[kept.index(perm[j]) for j in range(len(perm))
                                               if j not in reduced]]

    def to_onnx(self, node, graph, builder) -> None:
        axes = builder.initializer("axes", np.array(node.attrs["axes"], np.int64))
        builder.emit(node.op_type, [builder.float_input(node.inputs[0]), axes],
                     [builder.output_name(node.outputs[0])], keepdims=node.attrs["keepdims"])


for _op, _version in VERSIONS.items():
    register(type(_op, (_Reduce,), {"op_type": _op, "onnx_types": {_op: _version}}))

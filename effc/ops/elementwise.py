"""Add, Sub, Mul, Div, Min, Max, Pow and PRelu with numpy (ONNX multidirectional)
broadcasting; ONNX's n-ary Min, Max, Sum and Mean import as chains of them.

Int8 Add/Sub follow TFLite's integer add: both inputs are rescaled with a
left shift of 20 and per-input multipliers, summed, and requantized (attrs
computed by the quantizer). Mul follows TFLite's integer mul.
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, broadcast_shapes, register
from effc.ops.conv import clamp

_FLOAT = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
          "Min": np.minimum, "Max": np.maximum, "Pow": np.power,
          "PRelu": lambda x, slope: np.where(x >= 0, x, slope * x)}


class _Binary(Op):
    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        a, b = onnx_node.input[0], onnx_node.input[1]
        attrs = ctx.attrs(onnx_node)
        if attrs.get("broadcast") and "axis" in attrs:
            raise ctx.error("legacy axis-broadcast (opset < 7)", "re-export with opset >= 7")
        ctx.add_node(cls.op_type, [a, b], [onnx_node.output[0]], {}, name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        a, b = (graph.tensors[i] for i in node.inputs)
        dtype = a.dtype if not a.is_constant else b.dtype
        return [(broadcast_shapes(node, a.shape, b.shape), dtype)]

    def run_float(self, node, graph, xs):
        y = _FLOAT[node.op_type](xs[0].astype(np.float64), xs[1].astype(np.float64))
        return [clamp(y, node.attrs).astype(np.float32)]

    def to_onnx(self, node, graph, builder) -> None:
        out = builder.fresh(node.outputs[0] + "_raw")
        builder.emit(node.op_type, [builder.float_input(i) for i in node.inputs], [out])
        out = builder.clamp(out, node.attrs, node.outputs[0])
        builder.emit("Identity", [out], [builder.output_name(node.outputs[0])])


def _clamps(node: Node) -> dict[str, int]:
    return {"activation_min": int(node.attrs.get("activation_min", -128)),
            "activation_max": int(node.attrs.get("activation_max", 127))}


@register
class Add(_Binary):
    op_type = "Add"
    onnx_types = {"Add": 14, "Sum": 13, "Mean": 13}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        if onnx_node.op_type in ("Sum", "Mean"):
            import_sum_mean(ctx, onnx_node)
        else:
            super().from_onnx(ctx, onnx_node)

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import AddParams, add_int8

        return [add_int8(xs[0], xs[1], AddParams(**node.attrs["params"]), **_clamps(node))]


@register
class Sub(_Binary):
    op_type = "Sub"
    onnx_types = {"Sub": 14}

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import AddParams, sub_int8

        return [sub_int8(xs[0], xs[1], AddParams(**node.attrs["params"]), **_clamps(node))]


@register
class Mul(_Binary):
    op_type = "Mul"
    onnx_types = {"Mul": 14}

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import mul_int8

        zero_points = [int(graph.tensors[n].quant.zero_point) for n in node.inputs]
        return [mul_int8(xs[0], xs[1], input1_zero_point=zero_points[0],
                         input2_zero_point=zero_points[1],
                         output_zero_point=int(graph.tensors[node.outputs[0]].quant.zero_point),
                         multiplier=node.attrs["multiplier"], shift=node.attrs["shift"],
                         **_clamps(node))]


@register
class Div(_Binary):
    """Division. The int8 lowering turns a division by a constant into a Mul by its
    reciprocal (TFLite has no int8 DIV); by an activation it has no int8 form."""

    op_type = "Div"
    onnx_types = {"Div": 14}


@register
class Pow(_Binary):
    """Float power; int8 only with a constant exponent (a lookup table over the base)."""

    op_type = "Pow"
    onnx_types = {"Pow": 15}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        x, exponent = onnx_node.input[0], onnx_node.input[1]
        value = ctx.const(exponent)
        if value is not None and value.dtype != np.float32:  # an integer exponent type
            exponent = ctx.constant(f"{exponent}_f32", value.astype(np.float32))
        ctx.add_node("Pow", [x, exponent], [onnx_node.output[0]], name=onnx_node.name or None)

    def run_int(self, node, graph, xs):
        lut = np.asarray(node.attrs["lut"], dtype=np.int8)
        return [lut[xs[0].astype(np.int32) + 128]]


class _MinMax(_Binary):
    """n-ary in ONNX: a chain of binary nodes. Int8 compares raw values at one scale
    (TFLite's MAXIMUM / MINIMUM; the lowering requantizes the inputs to the output's)."""

    moves_values = True  # selects one of its inputs: exact on integers

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        import_chain(ctx, onnx_node, cls.op_type)

    def run_int(self, node, graph, xs):
        pick = np.maximum if node.op_type == "Max" else np.minimum
        return [pick(xs[0], xs[1]).astype(np.int8)]


@register
class Min(_MinMax):
    op_type = "Min"
    onnx_types = {"Min": 13}


@register
class Max(_MinMax):
    op_type = "Max"
    onnx_types = {"Max": 13}


def import_chain(ctx, onnx_node, op_type: str) -> str:
    """``inputs[0] op inputs[1] op ...`` as binary IR nodes; returns the last value."""
    inputs = [i for i in onnx_node.input if i]
    y = onnx_node.output[0]
    if len(inputs) == 1:
        return ctx.reshape(inputs[0], ctx.shape(inputs[0]), dst=y)
    acc = inputs[0]
    for i, other in enumerate(inputs[1:], start=2):
        out = y if i == len(inputs) else ctx.fresh(f"{y}_{op_type.lower()}{i}")
        ctx.add_node(op_type, [acc, other], [out],
                     name=ctx.graph.unique_name(onnx_node.name or op_type))
        acc = out
    return acc


def import_sum_mean(ctx, onnx_node) -> None:
    """ONNX Sum and Mean: chains of Add (and a Mul by 1/n for Mean)."""
    inputs = [i for i in onnx_node.input if i]
    y = onnx_node.output[0]
    if onnx_node.op_type == "Sum" or len(inputs) == 1:
        import_chain(ctx, onnx_node, "Add")
        return
    total = ctx.fresh(f"{y}_sum")
    sub = type(onnx_node)()
    sub.CopyFrom(onnx_node)
    sub.output[0] = total
    import_chain(ctx, sub, "Add")
    ctx.add_node("Mul", [total, ctx.constant(f"{y}_inverse", np.float32(1.0 / len(inputs)))],
                 [y], name=ctx.graph.unique_name(onnx_node.name or "Mean"))


@register
class PRelu(_Binary):
    """x for x >= 0, slope * x otherwise; slope broadcasts (per channel). Int8 follows
    TFLite's integer PRELU (the slope an int8 constant with its own scale)."""

    op_type = "PRelu"
    onnx_types = {"PRelu": 16}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        x, slope_name = onnx_node.input[0], onnx_node.input[1]
        slope = ctx.require_const(slope_name, "slope")
        shape = ctx.shape(x)
        if ctx.opset < 7 and slope.ndim == 1 and len(shape) > 2 and slope.size == shape[1]:
            # Opset 6 broadcast a 1-D slope along the channel axis.
            slope_name = ctx.constant(slope_name + "_per_channel",
                                      slope.reshape(-1, *[1] * (len(shape) - 2)))
        ctx.add_node("PRelu", [x, slope_name], [onnx_node.output[0]], {},
                     name=onnx_node.name or None)

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import PreluParams, prelu_int8

        return [prelu_int8(xs[0], xs[1], PreluParams(**node.attrs["params"]))]

"""Blocks that shape the graph: branches, concat, pad, softmax, dense, the heads."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from tests.differential.blocks import (
    CHANNELS,
    FEATURES_OUT,
    Draw,
    activation,
    chance,
    conv_same,
    elementwise_layout,
    global_pool,
    pick,
)
from tests.differential.onnx_builder import Builder, Value
from tests.differential.support import enabled


def residual(draw: Draw, b: Builder, x: Value) -> Value:
    """x (+|-|*) f(x) with f a shape-keeping conv (or two: a ResNet block, whose Add
    the C target runs band by band with the second conv) or an activation."""
    op = pick(draw, ("Add", "Sub", "Mul"))
    if draw(st.booleans()):
        y = conv_same(draw, b, x) if x.rank > 2 else dense(draw, b, x, x.shape[1])
        if op == "Add" and x.rank > 2 and enabled("residual_two_convs") and \
                draw(st.booleans()):
            b.features.add("residual_two_convs")
            y = conv_same(draw, b, y)
    else:
        y = activation(draw, b, x)
    operands = [x, y] if draw(st.booleans()) else [y, x]
    b.features.add(f"residual_{op.lower()}")
    return b.op(op, [v.name for v in operands], x.shape, "residual",
                elementwise_layout(b, operands))


def gate(draw: Draw, b: Builder, x: Value) -> Value:
    """Squeeze-excite: x * sigmoid(pool(x)), a broadcast between two activations."""
    g = global_pool(draw, b, x)
    if draw(st.booleans()):
        g = conv_same(draw, b, g)
    op = pick(draw, ("Sigmoid", "HardSigmoid"))
    b.features.add(op.lower())
    g = b.op(op, [g.name], g.shape, layout=g.layout)
    operands = [x, g] if draw(st.booleans()) else [g, x]
    b.features.add("broadcast_activations")
    return b.op("Mul", [v.name for v in operands], x.shape, "gate",
                elementwise_layout(b, operands))


def concat(draw: Draw, b: Builder, x: Value) -> Value:
    """Concat on any axis, of x with itself or with a branch (conv / dense)."""
    axes = {"batch": [0], "channels" if x.rank > 2 else "features": [1],
            "spatial": list(range(2, x.rank))}
    kind = pick(draw, [k for k, v in axes.items() if v])
    axis = pick(draw, axes[kind])
    b.features.add(f"concat_{kind}")
    if x.calibrated and chance(draw, 4):  # one range: int8 needs no requantization
        operands = [x, x]
        b.features.add("concat_same_input")
    else:
        widen = kind in ("channels", "features")
        if x.rank > 2:
            y = conv_same(draw, b, x, pick(draw, CHANNELS) if widen else None)
        else:
            y = dense(draw, b, x, pick(draw, FEATURES_OUT) if widen else x.shape[1])
        operands = [x, y] if draw(st.booleans()) else [y, x]
        b.features.add("concat_requantize")
    shape = list(x.shape)
    shape[axis] = sum(v.shape[axis] for v in operands)
    if draw(st.booleans()):
        axis -= x.rank  # the negative form
    return b.op("Concat", [v.name for v in operands], tuple(shape), f"axis={axis}",
                elementwise_layout(b, operands), axis=axis)


def pad(draw: Draw, b: Builder, x: Value) -> Value:
    """Pad (constant, reflect, edge) on the spatial axes, constant also on channels."""
    mode = pick(draw, ("constant", "reflect", "edge"))
    begins, ends = [0] * x.rank, [0] * x.rank
    axes = list(range(2, x.rank)) + ([1] if mode == "constant" else [])
    for axis in axes:
        top = 2 if mode != "reflect" else min(2, x.shape[axis] - 1)
        begins[axis], ends[axis] = draw(st.integers(0, top)), draw(st.integers(0, top))
    inputs = [x.name, b.const(np.array(begins + ends, np.int64), "pads")]
    if mode == "constant" and draw(st.booleans()):
        inputs.append(b.const(np.array(b.rng.uniform(-1, 1), np.float32), "value"))
    b.features.add(f"pad_{mode}")
    shape = tuple(d + p + q for d, p, q in zip(x.shape, begins, ends, strict=True))
    layout = x.layout if x.channels_last else "cf"
    return b.op("Pad", inputs, shape, f"{mode} {begins + ends}", layout, mode=mode)


def softmax(draw: Draw, b: Builder, x: Value) -> Value:
    """Softmax (or LogSoftmax) over one non-batch axis."""
    op = "LogSoftmax" if enabled("logsoftmax") and chance(draw, 3) else "Softmax"
    axis = pick(draw, range(1, x.rank))
    b.features.add(op.lower())
    inner = axis == 1 if x.channels_last else axis == x.rank - 1
    if not inner:
        b.features.add("softmax_not_innermost")
    if draw(st.booleans()):
        axis -= x.rank
    return b.op(op, [x.name], x.shape, f"axis={axis}", x.layout, axis=axis)


def dense(draw: Draw, b: Builder, x: Value, out: int | None = None) -> Value:
    """Gemm (transB, alpha, beta, bias shapes) or MatMul (+ a bias Add), on [N, F]."""
    k = out or pick(draw, FEATURES_OUT)
    f = x.shape[-1]
    w = b.rng.standard_normal((f, k)) / np.sqrt(f) * pick(draw, (0.5, 1.0, 2.0))
    bias = (b.rng.standard_normal(k) * 0.3).astype(np.float32)
    if x.rank == 2 and draw(st.booleans()):
        b.features.add("gemm")
        attrs: dict[str, object] = {}
        a = x.name
        if chance(draw, 4):  # A given transposed: [F, N]
            a = b.op("Transpose", [x.name], (f, x.shape[0]), "for transA", perm=[1, 0]).name
            attrs["transA"] = 1
            b.features.add("gemm_transA")
        if draw(st.booleans()):
            attrs["transB"] = 1
            w = w.T
            b.features.add("gemm_transB")
        if chance(draw, 3):
            attrs.update(alpha=0.5, beta=2.0)
            b.features.add("gemm_alpha_beta")
        inputs = [a, b.const(w.astype(np.float32), "w")]
        shape = pick(draw, [None, (k,), (1, k), (x.shape[0], k), (x.shape[0], 1)])
        if shape is None:
            b.features.add("dense_no_bias")
        else:
            if len(shape) == 2 and shape != (1, k):
                b.features.add("gemm_bias_2d")  # a bias per row, or one column
                bias = b.rng.standard_normal(shape) * 0.3
            inputs.append(b.const(np.asarray(bias, np.float32).reshape(shape), "bias"))
        return b.op("Gemm", inputs, (x.shape[0], k), " ".join(f"{a}={v}" for a, v in
                                                              attrs.items()), **attrs)
    b.features.add("matmul")
    y = b.op("MatMul", [x.name, b.const(w.astype(np.float32), "w")], (*x.shape[:-1], k))
    if draw(st.booleans()):
        b.features.add("matmul_bias_add")
        return b.op("Add", [y.name, b.const(bias, "bias")], y.shape, "bias")
    b.features.add("dense_no_bias")
    return y


def to_vector(draw: Draw, b: Builder, x: Value) -> Value:
    """Conv stage -> [N, F]: Flatten/Reshape straight into a dense layer (a
    channels-last Transpose folds into its rows), or a global pool and Squeeze."""
    kind = pick(draw, ("flatten", "reshape_flat", "squeeze"))
    b.features.add(kind)
    if kind == "squeeze":
        g = global_pool(draw, b, x)
        axes = b.const(np.arange(2, x.rank, dtype=np.int64), "axes")
        return b.op("Squeeze", [g.name, axes], x.shape[:2])
    flat = (x.shape[0], int(np.prod(x.shape[1:])))
    if kind == "flatten":
        y = b.op("Flatten", [x.name], flat, axis=1)
    else:
        target = pick(draw, ([0, -1], [x.shape[0], -1]))
        y = b.op("Reshape", [x.name, b.const(np.array(target, np.int64), "shape")], flat)
    return dense(draw, b, y)


def any_shape(draw: Draw, size: int) -> tuple[int, ...]:
    """A random shape (rank 1 to 4) with ``size`` elements."""
    shape, rest = [], size
    for _ in range(draw(st.integers(0, 3))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0]
        d = pick(draw, divisors)
        shape.append(d)
        rest //= d
    shape.append(rest)
    return tuple(shape)


def reshape_out(draw: Draw, b: Builder, x: Value) -> Value:
    shape = any_shape(draw, int(np.prod(x.shape)))
    b.features.add("output_any_shape")
    target = b.const(np.array(shape, np.int64), "shape")
    return b.op("Reshape", [x.name, target], shape)


def to_channels_last(b: Builder, x: Value) -> Value:
    """An explicit Transpose to N (H) W C: cancels a pending channels-last Transpose."""
    perm = [0, *range(2, x.rank), 1]
    if x.layout == "cf" and not x.agnostic:
        b.features.add("transpose_output")
    b.features.add("output_nhwc")
    return b.op("Transpose", [x.name], tuple(x.shape[p] for p in perm), f"perm={perm}",
                perm=perm)


def conv_head(draw: Draw, b: Builder, x: Value) -> Value:
    """The end of a conv stage: to a vector, or an output of any layout or shape."""
    kind = pick(draw, ("vector", "vector", "nchw", "nhwc", "pointwise", "reshape", "flatten",
                       *(k for k in ("reduce", "recurrent") if enabled(f"{k}_head"))))
    if kind == "vector":
        return to_vector(draw, b, x)
    if kind in ("reduce", "recurrent"):
        from tests.differential import blocks_ops

        if kind == "reduce":
            return dense(draw, b, blocks_ops.reduce_head(draw, b, x))
        return dense(draw, b, blocks_ops.recurrent_head(draw, b, x))
    if kind == "nchw":
        if x.channels_last:
            b.features.add("transpose_output")
        return x
    if kind == "flatten":
        b.features.add("flatten")
        y = b.op("Flatten", [x.name], (x.shape[0], int(np.prod(x.shape[1:]))), axis=1)
        if x.channels_last:
            b.pending_flatten = y.name
        return y
    y = to_channels_last(b, x)
    if kind == "pointwise":
        b.features.add("pointwise_matmul")
        return dense(draw, b, y)
    return reshape_out(draw, b, y) if kind == "reshape" else y

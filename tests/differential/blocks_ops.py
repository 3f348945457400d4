"""Builders for the ops of issue 17 (reductions, selection, resize, transposed
convolution, batched matmul, expand/tile, min/max, pow, more functions, recurrent
layers). Same contract as blocks.py: (draw, builder, value) -> value, features
recorded in ``builder.features``.

Draws stay where onnxruntime and effc agree by construction: nearest resizes use
scales whose source coordinates are exact in float32 (2, 3, 1/2), so no index
depends on rounding.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from tests.differential.blocks import (
    CHANNELS,
    Draw,
    activation,
    chance,
    conv_same,
    elementwise_layout,
    pick,
    read_channels_last,
)
from tests.differential.onnx_builder import Builder, Value

REDUCE_OPS = ("ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum")


def _axes(b: Builder, op: str, axes: list[int]) -> tuple[list[str], dict[str, object]]:
    """ReduceSum takes its axes as an input from opset 13, the others from 18."""
    if b.opset >= (13 if op == "ReduceSum" else 18):
        return [b.const(np.array(axes, np.int64), "axes")], {}
    return [], {"axes": axes}


def reduce(draw: Draw, b: Builder, x: Value) -> Value:
    """ReduceMean / Max / Min / Sum over spatial axes or channels, keepdims=1."""
    op = pick(draw, REDUCE_OPS)
    spatial = list(range(2, x.rank))
    axes = pick(draw, [spatial, spatial[:1], [1], [1, spatial[-1]]])
    extra, attrs = _axes(b, op, [a - x.rank if chance(draw, 3) else a for a in axes])
    b.features.add(op.lower().replace("reduce", "reduce_"))
    shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    return b.op(op, [x.name, *extra], shape, f"axes={axes}", x.layout, keepdims=1, **attrs)


def reduce_head(draw: Draw, b: Builder, x: Value) -> Value:
    """Global average pooling as exported by PyTorch: ReduceMean over H, W, keepdims=0."""
    extra, attrs = _axes(b, "ReduceMean", list(range(2, x.rank)))
    b.features.update({"reduce_mean", "reduce_head"})
    return b.op("ReduceMean", [x.name, *extra], x.shape[:2], "global average", "cf",
                keepdims=0, **attrs)


def slice_(draw: Draw, b: Builder, x: Value) -> Value:
    """Slice spatial axes (and sometimes channels) with steps, negative ones too."""
    axes = [a for a in range(1, x.rank) if a > 1 or chance(draw, 3)] or [x.rank - 1]
    starts, ends, steps, shape = [], [], [], list(x.shape)
    for axis in axes:
        d = x.shape[axis]
        step = pick(draw, (1, 2, -1, -2, 3))
        start = draw(st.integers(0, d - 1))
        if step > 0:
            end = draw(st.integers(start + 1, d))
            count = len(range(start, end, step))
        else:
            end = draw(st.integers(-1, start - 1))
            count = len(range(start, end, step))
            end = end if end >= 0 else -(d + 1)  # before index 0
            b.features.add("slice_negative_step")
        starts.append(start - d if chance(draw, 4) else start)
        ends.append(end)
        steps.append(step)
        shape[axis] = count
    b.features.add("slice")
    inputs = [x.name] + [b.const(np.array(v, np.int64), n) for v, n in (
        (starts, "starts"), (ends, "ends"), (axes, "axes"), (steps, "steps"))]
    return b.op("Slice", inputs, tuple(shape), f"{starts}:{ends}:{steps} axes {axes}",
                x.layout)


def split(draw: Draw, b: Builder, x: Value) -> Value:
    """Split into two parts, recombined: swapped by a Concat, or added / multiplied."""
    axes = [a for a in range(1, x.rank) if x.shape[a] >= 2]
    assume(axes)
    axis = pick(draw, axes)
    d = x.shape[axis]
    first = draw(st.integers(1, d - 1))
    shapes = [tuple(first if i == axis else s for i, s in enumerate(x.shape)),
              tuple(d - first if i == axis else s for i, s in enumerate(x.shape))]
    b.features.add("split")
    p, q = b.multi("Split", [x.name, b.const(np.array([first, d - first], np.int64), "split")],
                   shapes, f"axis={axis} [{first}, {d - first}]", x.layout, axis=axis)
    if first == d - first and draw(st.booleans()):
        op = pick(draw, ("Add", "Mul"))
        return b.op(op, [p.name, q.name], p.shape, "of the parts", elementwise_layout(b, [p, q]))
    return b.op("Concat", [q.name, p.name], x.shape, f"swapped parts axis={axis}",
                elementwise_layout(b, [q, p]), axis=axis)


def gather(draw: Draw, b: Builder, x: Value) -> Value:
    """Gather constant indices (repeats, negative ones) along channels or a spatial axis."""
    axis = pick(draw, range(1, x.rank))
    d = x.shape[axis]
    indices = [draw(st.integers(-d, d - 1)) for _ in range(draw(st.integers(1, 5)))]
    b.features.add("gather")
    shape = tuple(len(indices) if i == axis else s for i, s in enumerate(x.shape))
    return b.op("Gather", [x.name, b.const(np.array(indices, np.int64), "indices")], shape,
                f"axis={axis} {indices}", x.layout, axis=axis)


def resize(draw: Draw, b: Builder, x: Value) -> Value:
    """Resize of the spatial axes: nearest, linear (TFLite's integer form, or float
    only), cubic; by scales or sizes."""
    # onnxruntime runs cubic on the last two axes of 4-D data only
    mode = pick(draw, ("nearest", "linear", "linear", "cubic") if x.rank == 4 else
                ("nearest", "linear"))
    factors = [pick(draw, (2.0, 1.0, 3.0, 0.5)) for _ in x.spatial]
    sizes = [int(np.floor(d * f)) for d, f in zip(x.spatial, factors, strict=True)]
    assume(all(s >= 1 for s in sizes))
    attrs: dict[str, object] = {"mode": mode}
    coords = {"nearest": ("asymmetric", "half_pixel"),
              "linear": ("half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"),
              "cubic": ("half_pixel", "asymmetric")}[mode]
    attrs["coordinate_transformation_mode"] = pick(draw, coords)
    if mode == "nearest":
        attrs["nearest_mode"] = pick(draw, ("round_prefer_floor", "floor", "ceil",
                                            "round_prefer_ceil"))
    by_sizes = draw(st.booleans()) and all(f >= 1 for f in factors)
    if by_sizes:
        inputs = [x.name, "", "", b.const(np.array([*x.shape[:2], *sizes], np.int64), "sizes")]
    else:
        inputs = [x.name, "", b.const(np.array([1.0, 1.0, *factors], np.float32), "scales")]
    b.features.add(f"resize_{mode}")
    exact = all(s == d * f for s, d, f in zip(sizes, x.spatial, factors, strict=True))
    # align_corners by scales: ONNX (its reference and backend tests, and effc) divides by
    # the unrounded length * scale, onnxruntime by the output's length; they agree only
    # when the product is whole
    assume(exact or by_sizes or attrs["coordinate_transformation_mode"] != "align_corners")
    if mode == "linear" and (not exact or (attrs["coordinate_transformation_mode"] ==
                                           "pytorch_half_pixel" and 1 in sizes)):
        b.features.add("resize_linear_no_int8")  # TFLite derives its scales from the sizes
    return b.op("Resize", inputs, (*x.shape[:2], *sizes), " ".join(
        f"{k}={v}" for k, v in attrs.items()) + f" x{factors}", x.layout, **attrs)


def conv_transpose(draw: Draw, b: Builder, x: Value) -> Value:
    """ConvTranspose 1-D/2-D: strides, dilations, pads, output_padding, groups, auto_pad."""
    read_channels_last(b, x)
    c_in = x.channels
    divisors = [g for g in range(2, c_in + 1) if c_in % g == 0]
    group = pick(draw, [1, 1, *divisors[-1:], *divisors[:1]]) if divisors else 1
    c_out = group * pick(draw, (1, 2)) if group > 1 else pick(draw, CHANNELS)
    auto_pad = pick(draw, (None, None, None, "SAME_UPPER", "SAME_LOWER"))
    kernel, strides, dils, begins, ends, out_pad, out = [], [], [], [], [], [], []
    for size in x.spatial:
        k, s = draw(st.integers(1, 4)), pick(draw, (1, 2, 2, 3))
        d = pick(draw, (1, 1, 2)) if auto_pad is None else 1
        full = (size - 1) * s + (k - 1) * d + 1
        op = draw(st.integers(0, s - 1)) if auto_pad is None else 0  # onnxruntime: < stride
        if auto_pad is None:
            pb, pe = draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))
            assume(full + op - pb - pe >= 1)
            out.append(full + op - pb - pe)
        else:
            pb = pe = 0
            assume(full >= size * s)  # onnx infers no shape for the negative padding
            out.append(size * s)
        kernel.append(k)
        strides.append(s)
        dils.append(d)
        begins.append(pb)
        ends.append(pe)
        out_pad.append(op)
    attrs: dict[str, object] = {"kernel_shape": kernel, "strides": strides}
    if auto_pad is None:
        attrs["pads"] = begins + ends
        if any(out_pad):
            attrs["output_padding"] = out_pad
            b.features.add("conv_transpose_output_padding")
        if any(d > 1 for d in dils):
            attrs["dilations"] = dils
    else:
        attrs["auto_pad"] = auto_pad
        b.features.add("conv_transpose_auto_pad")
    if group > 1:
        attrs["group"] = group
        b.features.add("conv_transpose_grouped")
    b.features.add("conv_transpose")
    fan_in = c_in // group * int(np.prod(kernel))
    inputs = [x.name, b.weight((c_in, c_out // group, *kernel), fan_in)]
    if draw(st.booleans()):
        inputs.append(b.const((b.rng.standard_normal(c_out) * 0.3).astype(np.float32), "bias"))
    return b.op("ConvTranspose", inputs, (x.shape[0], c_out, *out),
                " ".join(f"{k}={v}" for k, v in attrs.items()), "cl", **attrs)


def _in_onnx_order(b: Builder, x: Value) -> None:
    """An op on the last ONNX axes reads ``x``: channels-last data gets its Transpose."""
    if x.channels_last:
        b.features.add("transpose_mid")


def matmul(draw: Draw, b: Builder, x: Value) -> Value:
    """MatMul with batched operands: x by its own transpose (two values) or by a
    constant stack of matrices (broadcast over the batch)."""
    _in_onnx_order(b, x)
    w = x.shape[-1]
    if draw(st.booleans()):
        assume("bias_saturates_int32" not in b.features)  # squares of 1e2 values: ill-posed
        perm = [*range(x.rank - 2), x.rank - 1, x.rank - 2]
        t = b.op("Transpose", [x.name], tuple(x.shape[p] for p in perm), f"perm={perm}",
                 perm=perm)
        b.features.add("matmul_two_values")
        return b.op("MatMul", [x.name, t.name], (*x.shape[:-1], x.shape[-2]), "x @ x^T")
    k = pick(draw, (1, 3, 4, 8))
    stack = (x.shape[1], w, k) if x.rank == 4 and draw(st.booleans()) else (w, k)
    weights = b.rng.standard_normal(stack) / np.sqrt(w)
    b.features.add("matmul_batched")
    if len(stack) == 3:
        b.features.add("matmul_weight_stack")  # one matrix per channel: a batched product
    return b.op("MatMul", [x.name, b.const(weights.astype(np.float32), "w")],
                (*x.shape[:-1], k), f"by {list(stack)}")


def expand_tile(draw: Draw, b: Builder, x: Value) -> Value:
    """Tile the spatial axes, or Expand a pooled value back over them (x - mean(x))."""
    if draw(st.booleans()):
        repeats = [1, pick(draw, (1, 2)), *[pick(draw, (1, 2, 3)) for _ in x.spatial]]
        b.features.add("tile")
        return b.op("Tile", [x.name, b.const(np.array(repeats, np.int64), "repeats")],
                    tuple(d * r for d, r in zip(x.shape, repeats, strict=True)),
                    f"repeats={repeats}", x.layout)
    extra, attrs = _axes(b, "ReduceMax", list(range(2, x.rank)))
    pooled = b.op("ReduceMax", [x.name, *extra], (*x.shape[:2], *[1] * len(x.spatial)),
                  "spatial", x.layout, keepdims=1, **attrs)
    e = b.op("Expand", [pooled.name, b.const(np.array(x.shape, np.int64), "shape")], x.shape,
             "back", pooled.layout)
    b.features.update({"reduce_max", "expand"})
    return b.op("Sub", [x.name, e.name], x.shape, "x - max", elementwise_layout(b, [x, e]))


def min_max(draw: Draw, b: Builder, x: Value) -> Value:
    """Min / Max of x with a branch or a constant (sometimes three operands)."""
    op = pick(draw, ("Max", "Min"))
    if draw(st.booleans()):
        other = conv_same(draw, b, x) if x.rank > 2 else activation(draw, b, x)
        operands, names = [x, other], [x.name, other.name]
    else:
        operands, names = [x], [x.name]
    if len(names) == 1 or chance(draw, 3):
        shape = (1,) * (x.rank - 1) + (x.shape[-1],) if draw(st.booleans()) else (1,)
        names.append(b.const((b.rng.standard_normal(shape) * 0.3).astype(np.float32), "k"))
    if len(names) == 3:
        b.features.add("min_max_nary")
    b.features.add("min_max")
    layout = elementwise_layout(b, operands) if len(operands) > 1 else x.layout
    return b.op(op, names, x.shape, f"{len(names)} operands", layout)


def pow_(draw: Draw, b: Builder, x: Value) -> Value:
    """x ** p with a constant integer p (2 or 3): int8 makes it a table."""
    # a saturated bias makes values near 1e2: their cube in a Softmax is ill-conditioned
    assume("bias_saturates_int32" not in b.features)
    p = pick(draw, (2.0, 3.0))
    b.features.add("pow")
    return b.op("Pow", [x.name, b.const(np.array(p, np.float32), "p")], x.shape, f"p={p}",
                x.layout)


def sqrt_reciprocal(draw: Draw, b: Builder, x: Value) -> Value:
    """1 / sqrt(|x| + c): Abs, Add, Sqrt and Reciprocal."""
    c = pick(draw, (0.5, 1.0))
    a = b.op("Abs", [x.name], x.shape, "", x.layout)
    s = b.op("Add", [a.name, b.const(np.array(c, np.float32), "c")], x.shape, f"+{c}", x.layout)
    r = b.op("Sqrt", [s.name], x.shape, "", x.layout)
    b.features.update({"abs", "add_const", "sqrt_reciprocal"})
    return b.op("Reciprocal", [r.name], x.shape, "", x.layout)


FUNCTIONS = {"Erf": 13, "Gelu": 20, "Mish": 18, "Celu": 12, "ThresholdedRelu": 10, "Swish": 24}


def function(draw: Draw, b: Builder, x: Value) -> Value:
    """Erf, Gelu (exact or tanh), Mish, Celu, ThresholdedRelu, Swish."""
    ops = [f for f, since in FUNCTIONS.items() if b.opset >= since]
    # Swish, of the newest opset only, by a draw of its own (hypothesis correlates the
    # opset's draw with a pick from a list that grows with it, and never reached it)
    op = "Swish" if b.opset >= FUNCTIONS["Swish"] and chance(draw, 4) else \
        pick(draw, [f for f in ops if f != "Swish"])
    attrs: dict[str, object] = {}
    if op == "Gelu" and draw(st.booleans()):
        attrs["approximate"] = "tanh"
    elif op in ("Celu", "ThresholdedRelu", "Swish") and draw(st.booleans()):
        attrs["alpha"] = 0.5
    b.features.add(op.lower())
    return b.op(op, [x.name], x.shape, " ".join(f"{k}={v}" for k, v in attrs.items()),
                x.layout, **attrs)


def _sequence(b: Builder, x: Value) -> Value:
    """N C W (a spatial image flattened first) -> time-major T N C."""
    if x.rank > 3:
        _in_onnx_order(b, x)
        flat = (x.shape[0], x.shape[1], int(np.prod(x.spatial)))
        x = b.op("Reshape", [x.name, b.const(np.array(flat, np.int64), "shape")], flat)
    return b.op("Transpose", [x.name], (x.shape[2], x.shape[0], x.shape[1]), "to T N C",
                perm=[2, 0, 1])


def _recurrent(draw: Draw, b: Builder, x: Value) -> tuple[Value, Value, int, int]:
    """An LSTM, GRU or RNN over the sequence ``x`` [T, N, C]: (Y, Y_h, directions, H)."""
    op = pick(draw, ("LSTM", "GRU", "LSTM", "GRU", "RNN"))
    direction = pick(draw, ("forward", "reverse", "bidirectional"))
    dirs, h = 2 if direction == "bidirectional" else 1, pick(draw, (2, 4, 6))
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    t, n, c = x.shape
    scale = pick(draw, (0.3, 0.6))
    inputs = [x.name, b.const((b.rng.standard_normal((dirs, gates * h, c)) * scale)
                              .astype(np.float32), "W"),
              b.const((b.rng.standard_normal((dirs, gates * h, h)) * scale)
                      .astype(np.float32), "R"),
              b.const((b.rng.standard_normal((dirs, 2 * gates * h)) * 0.2)
                      .astype(np.float32), "B")]
    if chance(draw, 3):
        initial = (b.rng.standard_normal((dirs, n, h)) * 0.5).astype(np.float32)
        inputs += ["", b.const(initial, "h0")]
        b.features.add("recurrent_initial_state")
    attrs: dict[str, object] = {"hidden_size": h, "direction": direction}
    if op == "GRU" and draw(st.booleans()):
        attrs["linear_before_reset"] = 1
        b.features.add("gru_linear_before_reset")
    if op == "RNN" and draw(st.booleans()):
        attrs["activations"] = ["Relu"] * dirs
    b.features.add(op.lower())
    if direction != "forward":
        b.features.add(f"recurrent_{direction}")
    y, y_h = b.multi(op, inputs, [(t, dirs, n, h), (dirs, n, h)],
                     " ".join(f"{k}={v}" for k, v in attrs.items()), **attrs)
    return y, y_h, dirs, h


def recurrent(draw: Draw, b: Builder, x: Value) -> Value:
    """A recurrent layer over the signal (or flattened image) as a conv-stage block:
    its sequence output back to N (D H) T."""
    seq = _recurrent(draw, b, _sequence(b, x))
    y, _, dirs, h = seq
    t, n = y.shape[0], y.shape[2]
    perm = b.op("Transpose", [y.name], (n, dirs, h, t), "to N D H T", perm=[2, 1, 3, 0])
    shape = (n, dirs * h, t)
    return b.op("Reshape", [perm.name, b.const(np.array(shape, np.int64), "shape")], shape)


def recurrent_head(draw: Draw, b: Builder, x: Value) -> Value:
    """Keyword spotting: the last hidden state Y_h [D, N, H] as the feature vector."""
    _, y_h, dirs, h = _recurrent(draw, b, _sequence(b, x))
    n = y_h.shape[1]
    per_row = b.op("Transpose", [y_h.name], (n, dirs, h), "to N D H", perm=[1, 0, 2])
    b.features.add("recurrent_head")
    return b.op("Reshape", [per_row.name, b.const(np.array([n, dirs * h], np.int64), "shape")],
                (n, dirs * h))


def argmax_output(draw: Draw, b: Builder, x: Value) -> Value:
    """An index output: ArgMax (or ArgMin) over channels / features, int64."""
    op = pick(draw, ("ArgMax", "ArgMin"))
    keep = draw(st.booleans())
    shape = tuple(1 if i == 1 else d for i, d in enumerate(x.shape) if keep or i != 1)
    attrs: dict[str, object] = {"axis": 1, "keepdims": int(keep)}
    if draw(st.booleans()):
        attrs["select_last_index"] = 1
    b.features.add("argmax")
    from dataclasses import replace

    from onnx import TensorProto

    value = b.op(op, [x.name], shape, " ".join(f"{k}={v}" for k, v in attrs.items()),
                 x.layout if keep else "cf", **attrs)
    return replace(value, elem_type=TensorProto.INT64)


def embedding_output(draw: Draw, b: Builder) -> Value:
    """A second input of token ids (int64, negative ones too) reads a constant embedding
    table (Gather), sometimes followed by a dense layer: a second output."""
    from onnx import TensorProto

    rows, dim, length = (draw(st.integers(1, 12)), draw(st.integers(1, 8)),
                         draw(st.integers(1, 6)))
    ids = b.input((b.inputs[0].shape[0], length), TensorProto.INT64)
    b.index_bounds[ids.name] = rows
    table = b.const((b.rng.standard_normal((rows, dim))).astype(np.float32), "table")
    b.features.add("embedding")
    x = b.op("Gather", [table, ids.name], (*ids.shape, dim), f"embedding table [{rows}, {dim}]",
             axis=0)
    if chance(draw, 2):
        units = draw(st.integers(1, 6))
        x = b.op("MatMul", [x.name, b.weight((dim, units), dim)], (*ids.shape, units),
                 "of the embeddings")
    return x

"""One builder per feature: each draws its parameters and appends ONNX nodes.

A block takes (draw, builder, value) and returns the new value; it records
the features it used in ``builder.features`` (every name is a row of
``support.SUPPORT``). Structure comes from hypothesis draws (so it shrinks);
weights come from the builder's seeded numpy generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from tests.differential.onnx_builder import Builder, Value
from tests.differential.support import enabled

Draw = Callable[[st.SearchStrategy], object]
Block = Callable[[Draw, Builder, Value], Value]

CHANNELS = (1, 2, 3, 4, 5, 7, 8, 17)
FEATURES_OUT = (1, 2, 3, 5, 7, 10, 17)
AUTO_PADS = ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER")


def pick(draw: Draw, options):
    """One of ``options``; shrinks towards the first."""
    return draw(st.sampled_from(list(options)))


def chance(draw: Draw, one_in: int) -> bool:
    """True about once in ``one_in`` draws; shrinks towards False."""
    return draw(st.integers(1, one_in)) == one_in


def read_channels_last(b: Builder, x: Value) -> None:
    """A channels-last IR op (Conv, pools, BatchNormalization) reads ``x``: data left in
    ONNX order needs a real Transpose there."""
    if x.layout == "cf" and not x.agnostic:
        b.features.add("transpose_input" if x.name.startswith("input") else "transpose_mid")


def elementwise_layout(b: Builder, operands: list[Value]) -> str:
    """Where an elementwise op over activation ``operands`` leaves its result (constant
    operands follow any layout). The layout pass sinks a Transpose through the op only
    when every activation operand is channels-last; otherwise they are materialized."""
    last = [v for v in operands if v.channels_last]
    if last and len(last) < len(operands):
        b.features.add("transpose_mid")
        return "cf"
    return "cl" if last else "cf"


def _auto_pad(draw: Draw, b: Builder) -> str | None:
    """None (pads given, attribute absent) or an auto_pad value whose feature is enabled."""
    choices = [None, None, None] + [a for a in AUTO_PADS if enabled(f"auto_pad_{a.lower()}")]
    mode = pick(draw, choices)
    if mode is not None:
        b.features.add(f"auto_pad_{mode.lower()}")
    return mode


def _same_pads(size: int, k: int, s: int, d: int, mode: str) -> tuple[int, int]:
    out = math.ceil(size / s)
    total = (out - 1) * s + (k - 1) * d + 1 - size
    assume(total >= 0)  # onnxruntime refuses the negative padding the spec clamps to 0
    small, large = total // 2, total - total // 2
    return (small, large) if mode == "SAME_UPPER" else (large, small)


def _window(draw: Draw, b: Builder, x: Value, max_k: int, pool: bool, dilate: bool
            ) -> tuple[list[int], list[int], list[int], list[int], str | None, list[int]]:
    """Kernel, strides, dilations, pads, auto_pad and output spatial shape."""
    auto_pad = _auto_pad(draw, b)
    kernel, strides, dils, begins, ends, out = [], [], [], [], [], []
    for size in x.spatial:
        s = pick(draw, (1, 1, 2, 3))
        # onnxruntime runs no dilated SAME_* windows
        d = pick(draw, (1, 1, 1, 2, 3)) if dilate and auto_pad in (None, "NOTSET", "VALID") else 1
        if auto_pad in (None, "NOTSET"):
            pb, pe = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        else:
            pb = pe = 0
        fit = size + pb + pe if auto_pad not in ("SAME_UPPER", "SAME_LOWER") else 99
        k = draw(st.integers(1, max(1, min(max_k, (fit - 1) // d + 1))))
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            pb, pe = _same_pads(size, k, s, d, auto_pad)
            assume(not pool or max(pb, pe) < k)  # onnxruntime: pool pads below the kernel
        elif pool:
            pb, pe = min(pb, k - 1), min(pe, k - 1)
        if (k - 1) * d + 1 > size + pb + pe:
            k, pb, pe = (1, 0, 0) if pool else (1, pb, pe)
        if pool and dilate and auto_pad in (None, "NOTSET") and not kernel and \
                chance(draw, 6):
            k, d, pb, pe = 2, size + 1, 1, 1  # a window whose two taps land in the padding
        kernel.append(k)
        strides.append(s)
        dils.append(d)
        begins.append(pb)
        ends.append(pe)
        out.append((size + pb + pe - (k - 1) * d - 1) // s + 1)
    return kernel, strides, dils, begins + ends, auto_pad, out


def _padding_only_window(size: int, k: int, s: int, d: int, pad_begin: int, out: int) -> bool:
    """Does some output position see padding only (possible with dilation)?"""
    return any(all(not 0 <= o * s + j * d - pad_begin < size for j in range(k))
               for o in range(out))


def _window_attrs(kernel, strides, dils, pads, auto_pad) -> dict[str, object]:
    attrs: dict[str, object] = {"kernel_shape": kernel, "strides": strides}
    if any(d != 1 for d in dils):
        attrs["dilations"] = dils
    if auto_pad is None:
        attrs["pads"] = pads
    else:
        attrs["auto_pad"] = auto_pad
        if auto_pad == "NOTSET":
            attrs["pads"] = pads
    return attrs


def conv(draw: Draw, b: Builder, x: Value) -> Value:
    """Conv 1-D/2-D: random kernel, stride, dilation, asymmetric pads or auto_pad, groups."""
    read_channels_last(b, x)
    c_in = x.channels
    divisors = [g for g in range(2, c_in) if c_in % g == 0]
    kind = pick(draw, ["full", "full", "depthwise"] + (["grouped"] if divisors else []))
    if c_in == 1 and kind == "depthwise":
        kind = "full"
    kernel, strides, dils, pads, auto_pad, out = _window(draw, b, x, 5, False, True)
    if kind == "depthwise":
        group, c_out = c_in, c_in * pick(draw, (1, 1, 2, 3))
        b.features.add("conv_depthwise")
        if c_out > c_in:
            b.features.add("conv_depthwise_multiplier")
    elif kind == "grouped":
        group = pick(draw, divisors)
        c_out = group * pick(draw, (1, 2))
        b.features.add("conv_grouped")
    else:
        group, c_out = 1, pick(draw, CHANNELS)
    b.features.add(f"conv{x.rank - 2}d")
    if any(s > 1 for s in strides):
        b.features.add("conv_stride")
    if any(d > 1 for d, k in zip(dils, kernel, strict=True) if k > 1):
        b.features.add("conv_dilation")
    n = len(kernel)
    if auto_pad is None and pads[:n] != pads[n:]:
        b.features.add("conv_pad_asymmetric")
    fan_in = c_in // group * int(np.prod(kernel))
    gain, bias_scale = pick(draw, (0.5, 1, 2)), 0.3
    if enabled("bias_saturates_int32") and chance(draw, 12):
        gain, bias_scale = 1e-4, 100.0  # bias / (input scale * weight scale) > 2^31
        b.features.add("bias_saturates_int32")
    inputs = [x.name, b.weight((c_out, c_in // group, *kernel), fan_in, gain)]
    if draw(st.booleans()) or "bias_saturates_int32" in b.features:
        bias = b.rng.standard_normal(c_out) * bias_scale
        inputs.append(b.const(bias.astype(np.float32), "bias"))
    else:
        b.features.add("conv_no_bias")
    attrs = _window_attrs(kernel, strides, dils, pads, auto_pad)
    if group > 1:
        attrs["group"] = group
    return b.op("Conv", inputs, (x.shape[0], c_out, *out), _describe(attrs), "cl", **attrs)


def conv_same(draw: Draw, b: Builder, x: Value, c_out: int | None = None) -> Value:
    """A stride-1 Conv that keeps the spatial shape (odd kernel, centred pads)."""
    kernel = [pick(draw, [k for k in (1, 3, 5) if k <= 2 * size - 1] or [1])
              for size in x.spatial]
    pads = [(k - 1) // 2 for k in kernel] * 2
    c_out = c_out or x.channels
    read_channels_last(b, x)
    b.features.add(f"conv{x.rank - 2}d")
    fan_in = x.channels * int(np.prod(kernel))
    w = b.weight((c_out, x.channels, *kernel), fan_in)
    bias = b.const((b.rng.standard_normal(c_out) * 0.3).astype(np.float32), "bias")
    return b.op("Conv", [x.name, w, bias], (x.shape[0], c_out, *x.spatial),
                f"k{kernel} same", "cl", kernel_shape=kernel, pads=pads)


def pool(draw: Draw, b: Builder, x: Value) -> Value:
    """MaxPool / AveragePool with every flag: pads, strides, ceil_mode, dilations,
    count_include_pad, auto_pad."""
    read_channels_last(b, x)
    op = pick(draw, ("MaxPool", "AveragePool"))
    kind = "maxpool" if op == "MaxPool" else "avgpool"
    dilate = op == "MaxPool" or b.opset >= 19  # AveragePool has dilations since opset 19
    dilate = dilate and enabled(f"{kind}_dilation") and chance(draw, 3)
    kernel, strides, dils, pads, auto_pad, out = _window(draw, b, x, 4, True, dilate)
    attrs = _window_attrs(kernel, strides, dils, pads, auto_pad)
    b.features.add(kind)
    if any(s > 1 for s in strides):
        b.features.add("pool_stride")
    padded = any(pads)
    if padded:
        b.features.add("pool_pad")
    if "dilations" in attrs:
        b.features.add(f"{kind}_dilation")
    if enabled(f"{kind}_ceil_mode") and chance(draw, 3) and auto_pad in (None, "NOTSET"):
        attrs["ceil_mode"] = 1
        b.features.add(f"{kind}_ceil_mode")
        out = []
        for size, k, s, d, pb, pe in zip(x.spatial, kernel, strides, dils, pads[:len(kernel)],
                                         pads[len(kernel):], strict=True):
            o = math.ceil((size + pb + pe - (k - 1) * d - 1) / s) + 1
            # onnx's shape inference (1.23) lacks the rule onnxruntime applies here (no
            # window starts in the right padding): stay where both agree.
            assume((o - 1) * s < size + pb)
            out.append(o)
    n = len(kernel)
    if any(_padding_only_window(*geometry) for geometry in zip(
            x.spatial, kernel, strides, dils, pads[:n], out, strict=True)):
        assume(enabled("pool_window_in_padding"))
        b.features.add("pool_window_in_padding")
    if op == "AveragePool" and draw(st.booleans()):
        if not padded or enabled("avgpool_count_include_pad_padded"):
            attrs["count_include_pad"] = 1
            b.features.add("avgpool_count_include_pad")
            if padded:
                b.features.add("avgpool_count_include_pad_padded")
    return b.op(op, [x.name], (x.shape[0], x.channels, *out), _describe(attrs), "cl", **attrs)


def global_pool(draw: Draw, b: Builder, x: Value) -> Value:
    read_channels_last(b, x)
    op = pick(draw, [op for op, f in (("GlobalAveragePool", "global_avgpool"),
                                      ("GlobalMaxPool", "global_maxpool")) if enabled(f)])
    b.features.add("global_avgpool" if op == "GlobalAveragePool" else "global_maxpool")
    return b.op(op, [x.name], (*x.shape[:2], *[1] * len(x.spatial)), layout="cl")


ACTIVATIONS = ("Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "Selu", "HardSigmoid",
               "HardSwish", "Elu", "Softplus", "Softsign", "Neg", "Abs", "Exp", "PRelu")


def activation(draw: Draw, b: Builder, x: Value) -> Value:
    """Every activation, with its attributes."""
    ops = [a for a in ACTIVATIONS if enabled(a.lower()) and (a != "HardSwish" or b.opset >= 14)
           and (a != "Exp" or "exp" not in b.features)]  # exp(exp(x)) overflows float32
    op = pick(draw, ops)
    b.features.add(op.lower())
    inputs, attrs = [x.name], {}
    if op == "Clip":
        lo, hi = pick(draw, ((0.0, 6.0), (-1.0, 1.0), (None, 1.5), (-0.5, None), (0.0, None)))
        inputs += [b.const(np.float32(lo), "min") if lo is not None else "",
                   b.const(np.float32(hi), "max") if hi is not None else ""]
        while inputs[-1] == "":
            inputs.pop()
    elif op == "LeakyRelu":
        attrs["alpha"] = pick(draw, (0.01, 0.1, 0.3))
    elif op == "Elu":
        attrs["alpha"] = pick(draw, (1.0, 0.5))
    elif op == "Selu" and draw(st.booleans()):
        attrs.update(alpha=1.5, gamma=1.1)
    elif op == "HardSigmoid" and draw(st.booleans()):
        attrs.update(alpha=0.3, beta=0.4)
    elif op == "PRelu":
        per_channel = x.rank > 1 and draw(st.booleans())
        shape = (x.channels, *[1] * (x.rank - 2)) if per_channel else (1,)
        inputs.append(b.const((b.rng.uniform(0.05, 0.5, shape)).astype(np.float32), "slope"))
    return b.op(op, inputs, x.shape, _describe(attrs), x.layout, **attrs)


def batchnorm(draw: Draw, b: Builder, x: Value) -> Value:
    c = x.channels
    params = [b.rng.uniform(0.5, 1.5, c), b.rng.standard_normal(c) * 0.2,
              b.rng.standard_normal(c) * 0.2, b.rng.uniform(0.5, 2.0, c)]
    names = [b.const(p.astype(np.float32), "bn") for p in params]
    b.features.add("batchnorm")
    if x.rank > 2:
        read_channels_last(b, x)
    return b.op("BatchNormalization", [x.name, *names], x.shape, "", "cl" if x.rank > 2 else
                "cf", epsilon=pick(draw, (1e-5, 1e-3)))


def _broadcast_shape(draw: Draw, x: Value, expand: bool) -> tuple[int, ...]:
    """A constant shape that broadcasts with ``x`` (trailing-aligned)."""
    k = draw(st.integers(0, x.rank))
    shape = []
    for axis in range(x.rank - k, x.rank):
        dim = x.shape[axis]
        if dim == 1 and expand and axis > 0 and chance(draw, 2):
            shape.append(pick(draw, (2, 3)))
        else:
            shape.append(pick(draw, (1, dim)))
    return tuple(shape)


def binary_const(draw: Draw, b: Builder, x: Value) -> Value:
    """Add/Sub/Mul/Div with a constant of any broadcastable shape, on either side."""
    op = pick(draw, [o for o in ("Add", "Sub", "Mul", "Div") if enabled(f"{o.lower()}_const")])
    shape = _broadcast_shape(draw, x, enabled("broadcast_expand"))
    if op == "Div":
        data = b.rng.uniform(0.5, 2.0, shape) * b.rng.choice([-1, 1], shape)
    elif op == "Mul":
        data = b.rng.uniform(0.5, 1.5, shape) * b.rng.choice([-1, 1], shape)
    else:
        data = b.rng.standard_normal(shape) * 0.5
    const = b.const(np.asarray(data, np.float32), "k")
    out = tuple(int(d) for d in np.broadcast_shapes(x.shape, shape))
    b.features.add(f"{op.lower()}_const")
    if shape != x.shape:
        b.features.add("broadcast")
    if out != x.shape:
        b.features.add("broadcast_expand")
    inputs = [x.name, const]
    if op != "Div" and chance(draw, 3):  # const / x would divide by activations near 0
        inputs.reverse()
        b.features.add("const_first")
    layout = x.layout if x.channels_last else "cf"
    return b.op(op, inputs, out, f"const {list(shape)}{' first' if inputs[0] == const else ''}",
                layout)


def _describe(attrs: dict[str, object]) -> str:
    return " ".join(f"{k}={v}" for k, v in attrs.items())

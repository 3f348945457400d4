"""int8 reference kernels and prepare-time parameters, bit-exact with TFLite Micro.

Layout is channels-last (``N, W, C`` / ``N, H, W, C``); conv weights are
``[C_out, *kernel, C_in / group]``, dense weights ``[out, in]``; zero points
are passed as they are and subtracted by the kernels (see docs/conventions.md).

Each ``*_params`` / ``*_multiplier(s)`` helper mirrors the ``Prepare`` of the
TFLM kernel it names, including where TFLM computes in float32 before widening
to double. Scales are taken as float32 tensor scales (``np.float32(scale)``),
as they are stored in a .tflite file. The kernels mirror TFLM's reference
``Eval`` (tensorflow/lite/kernels/internal/reference/...), with int32
accumulators wrapping as in C.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from effc.quant import fixedpoint as fp

I8 = NDArray[np.int8]
I64 = NDArray[np.int64]


def _f32(x: float) -> np.float32:
    return np.float32(x)


def _d(x: float) -> float:
    """double(float32(x)): a float32 tensor scale widened to double."""
    return float(np.float32(x))


def saturate_int8(x: ArrayLike, act_min: int = -128, act_max: int = 127) -> I8:
    """Values clamped to [act_min, act_max] as int8 (the kernels' last step)."""
    return np.clip(np.asarray(x, dtype=np.int64), act_min, act_max).astype(np.int8)


# ---- Prepare-time parameters -------------------------------------------------


def activation_range(activation: str | None, output_scale: float, output_zero_point: int
                     ) -> tuple[int, int]:
    """Mirrors CalculateActivationRangeQuantized for int8 ('relu', 'relu6', 'relu_n1_to_1')."""
    def q(value: float) -> int:
        return int(output_zero_point) + int(fp.tflite_round(_f32(value) / _f32(output_scale)))

    if activation in (None, "none", "linear"):
        return -128, 127
    if activation == "relu":
        return max(-128, q(0.0)), 127
    if activation == "relu6":
        return max(-128, q(0.0)), min(127, q(6.0))
    if activation == "relu_n1_to_1":
        return max(-128, q(-1.0)), min(127, q(1.0))
    raise ValueError(f"unknown fused activation {activation!r}")


def conv_multipliers(input_scale: float, filter_scales: ArrayLike, output_scale: float
                     ) -> tuple[I64, I64]:
    """Per-channel (multiplier, shift) as in PopulateConvolutionQuantizationParams.

    ``double(input_scale) * double(filter_scale[c]) / double(output_scale)``; used
    by TFLM Conv2D, DepthwiseConv2D and per-channel FullyConnected.
    """
    fs = np.asarray(filter_scales, dtype=np.float32).reshape(-1)
    reals = [_d(input_scale) * float(s) / _d(output_scale) for s in fs]
    return fp.quantize_multiplier_array(reals)


def dense_multipliers(input_scale: float, filter_scales: ArrayLike, output_scale: float
                      ) -> tuple[I64, I64]:
    """(multiplier, shift) as TFLM FullyConnected computes them (CalculateOpDataFullyConnected).

    Per-tensor weights (one scale) take GetQuantizedConvolutionMultipler: the
    product ``input_scale * filter_scale`` is rounded to float32 *before* the
    widening to double, then divided by ``double(output_scale)``. Per-channel
    weights take the all-double formula of :func:`conv_multipliers`.
    Returns arrays of length 1 (per-tensor) or ``out_features``.
    """
    fs = np.asarray(filter_scales, dtype=np.float32).reshape(-1)
    if fs.size > 1:
        return conv_multipliers(input_scale, fs, output_scale)
    product = float(np.float32(_f32(input_scale) * fs[0]))
    return fp.quantize_multiplier_array([product / _d(output_scale)])


@dataclass(frozen=True)
class AddParams:
    """Quantized ADD/SUB parameters (TFLM OpDataAdd / OpDataSub)."""

    input1_zero_point: int
    input2_zero_point: int
    output_zero_point: int
    left_shift: int
    input1_multiplier: int
    input1_shift: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int


def add_params(input1_scale: float, input1_zero_point: int, input2_scale: float,
               input2_zero_point: int, output_scale: float, output_zero_point: int
               ) -> AddParams:
    """Mirrors TFLM CalculateOpDataAdd for int8 (left_shift 20, double arithmetic)."""
    left_shift = 20
    twice_max = 2.0 * _d(max(_f32(input1_scale), _f32(input2_scale)))
    m1 = fp.quantize_multiplier_smaller_than_one_exp(_d(input1_scale) / twice_max)
    m2 = fp.quantize_multiplier_smaller_than_one_exp(_d(input2_scale) / twice_max)
    mo = fp.quantize_multiplier_smaller_than_one_exp(
        twice_max / ((1 << left_shift) * _d(output_scale)))
    return AddParams(int(input1_zero_point), int(input2_zero_point), int(output_zero_point),
                     left_shift, *m1, *m2, *mo)


def sub_params(input1_scale: float, input1_zero_point: int, input2_scale: float,
               input2_zero_point: int, output_scale: float, output_zero_point: int
               ) -> AddParams:
    """Mirrors TFLM CalculateOpDataSub for int8: like ADD but the ratios are float32."""
    left_shift = 20
    twice_max = _f32(2.0) * max(_f32(input1_scale), _f32(input2_scale))
    m1 = fp.quantize_multiplier_smaller_than_one_exp(float(_f32(input1_scale) / twice_max))
    m2 = fp.quantize_multiplier_smaller_than_one_exp(float(_f32(input2_scale) / twice_max))
    denom = _f32(1 << left_shift) * _f32(output_scale)
    mo = fp.quantize_multiplier_smaller_than_one_exp(float(twice_max / denom))
    return AddParams(int(input1_zero_point), int(input2_zero_point), int(output_zero_point),
                     left_shift, *m1, *m2, *mo)


def mul_multiplier(input1_scale: float, input2_scale: float, output_scale: float
                   ) -> tuple[int, int]:
    """Mirrors TFLM CalculateOpDataMul: double(s1) * double(s2) / double(s_out)."""
    return fp.quantize_multiplier(_d(input1_scale) * _d(input2_scale) / _d(output_scale))


def requantize_multiplier(input_scale: float, output_scale: float) -> tuple[int, int]:
    """Mirrors TFLM PrepareQuantizeReference / MEAN: double(s_in) / double(s_out)."""
    return fp.quantize_multiplier(_d(input_scale) / _d(output_scale))


@dataclass(frozen=True)
class PreluParams:
    """int8 PRelu parameters (TFLM PreluParams, offsets as zero points)."""

    input_zero_point: int
    alpha_zero_point: int
    output_zero_point: int
    multiplier_1: int
    shift_1: int
    multiplier_2: int
    shift_2: int


def prelu_params(input_scale: float, input_zero_point: int, alpha_scale: float,
                 alpha_zero_point: int, output_scale: float, output_zero_point: int
                 ) -> PreluParams:
    """Mirrors TFLM CalculatePreluParams: s_in / s_out and s_in * s_alpha / s_out, double."""
    m1 = fp.quantize_multiplier(_d(input_scale) / _d(output_scale))
    m2 = fp.quantize_multiplier(_d(input_scale) * _d(alpha_scale) / _d(output_scale))
    return PreluParams(int(input_zero_point), int(alpha_zero_point), int(output_zero_point),
                       *m1, *m2)


@dataclass(frozen=True)
class SoftmaxParams:
    """int8 Softmax parameters (TFLM SoftmaxParams)."""

    input_multiplier: int
    input_left_shift: int
    diff_min: int


SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5


def softmax_params(input_scale: float, beta: float = 1.0) -> SoftmaxParams:
    """Mirrors TFLM CalculateSoftmaxParams for int8 (PreprocessSoftmaxScaling, diff_min)."""
    mult, left = fp.preprocess_softmax_scaling(
        _d(beta), _d(input_scale), SOFTMAX_SCALED_DIFF_INTEGER_BITS)
    radius = fp.calculate_input_radius(SOFTMAX_SCALED_DIFF_INTEGER_BITS, left)
    return SoftmaxParams(mult, left, -radius)


@dataclass(frozen=True)
class SigmoidTanhParams:
    """int8 Logistic/Tanh parameters (TFLM OpDataLogistic / Tanh OpData)."""

    input_zero_point: int
    input_multiplier: int
    input_left_shift: int
    input_range_radius: int


def sigmoid_tanh_params(input_scale: float, input_zero_point: int) -> SigmoidTanhParams:
    """Mirrors TFLM int8 Logistic/Tanh prepare (kInputIntegerBits = 4, raw frexp)."""
    real = _d(input_scale) * float(1 << 27)
    q, left_shift = math.frexp(real)
    mult = int(fp.tflite_round(q * float(1 << 31)))
    if mult == 1 << 31:  # static_cast<int32_t>(2^31) wraps on every TFLM target
        mult = fp.INT32_MIN
    radius = fp.calculate_input_radius(4, left_shift, 31)
    return SigmoidTanhParams(int(input_zero_point), mult, left_shift, radius)


@dataclass(frozen=True)
class LeakyReluParams:
    """int8 LeakyRelu parameters (TFLM LeakyReluOpData)."""

    input_zero_point: int
    output_zero_point: int
    multiplier_identity: int
    shift_identity: int
    multiplier_alpha: int
    shift_alpha: int


def leaky_relu_params(input_scale: float, input_zero_point: int, alpha: float,
                      output_scale: float, output_zero_point: int) -> LeakyReluParams:
    """Mirrors TFLM CalculateOpDataLeakyRelu (ratios in float32, then QuantizeMultiplier)."""
    alpha_real = float(_f32(input_scale) * _f32(alpha) / _f32(output_scale))
    ident_real = float(_f32(input_scale) / _f32(output_scale))
    return LeakyReluParams(int(input_zero_point), int(output_zero_point),
                           *fp.quantize_multiplier(ident_real),
                           *fp.quantize_multiplier(alpha_real))


@dataclass(frozen=True)
class HardSwishParams:
    """int8 HardSwish parameters (TFLM HardSwishParams, int16 multipliers)."""

    input_zero_point: int
    output_zero_point: int
    output_multiplier_int16: int
    output_multiplier_exponent: int
    reluish_multiplier_int16: int
    reluish_multiplier_exponent: int


def hard_swish_params(input_scale: float, input_zero_point: int, output_scale: float,
                      output_zero_point: int) -> HardSwishParams:
    """Mirrors TFLM HardSwishPrepare for int8."""
    hires = _f32(1.0 / 128.0) * _f32(input_scale)
    om, oe = fp.quantize_multiplier(float(hires / _f32(output_scale)))
    rm, re_ = fp.quantize_multiplier(float(hires / _f32(3.0 / 32768.0)))
    if oe > 0:
        raise ValueError("HardSwish needs output_multiplier_exponent <= 0")
    return HardSwishParams(int(input_zero_point), int(output_zero_point),
                           fp.downscale_int32_to_int16_multiplier(om), oe,
                           fp.downscale_int32_to_int16_multiplier(rm), re_)


# ---- Convolution / dense -----------------------------------------------------


def normalize_pads(pads: Sequence[int] | Sequence[Sequence[int]] | None, nd: int
                   ) -> list[tuple[int, int]]:
    """Accepts ONNX order [b0, b1, ..., e0, e1, ...] or pairs [(b0, e0), (b1, e1)]."""
    if pads is None:
        return [(0, 0)] * nd
    items = list(pads)
    if items and isinstance(items[0], (tuple, list, np.ndarray)):
        return [(int(b), int(e)) for b, e in items]
    if len(items) != 2 * nd:
        raise ValueError(f"pads must have {2 * nd} entries, got {len(items)}")
    return [(int(items[i]), int(items[i + nd])) for i in range(nd)]


def _exact_int_matmul(a: NDArray[np.int64], b: NDArray[np.int64]) -> I64:
    """Integer matmul through float64 BLAS; exact while every |partial sum| < 2**53.

    Products of (int8 - zero_point) by int8 are below 2**15, so the sums are exact
    for any reduction length below 2**38.
    """
    if a.shape[-1] >= (1 << 38):
        raise ValueError("reduction too long for exact float64 accumulation")
    return np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(np.int64)


def _requantize_acc(acc: I64, bias: ArrayLike | None, multiplier: ArrayLike,
                    shift: ArrayLike, output_zero_point: int, act_min: int, act_max: int
                    ) -> I8:
    acc = fp.wrap_int32(acc)
    if bias is not None:
        acc = fp.wrap_int32(acc + np.asarray(bias, dtype=np.int64))
    out = fp.multiply_by_quantized_multiplier(acc, multiplier, shift) + int(output_zero_point)
    return saturate_int8(out, act_min, act_max)


def conv_int8(x: ArrayLike, w: ArrayLike, bias: ArrayLike | None, *,
              strides: Sequence[int], dilations: Sequence[int] | None = None,
              pads: Sequence[int] | Sequence[Sequence[int]] | None = None, group: int = 1,
              input_zero_point: int, output_zero_point: int, multiplier: ArrayLike,
              shift: ArrayLike, activation_min: int = -128, activation_max: int = 127) -> I8:
    """int8 Conv1D/Conv2D/DepthwiseConv, as TFLM ConvPerChannel / DepthwiseConvPerChannel.

    ``x``: ``[N, *spatial, C_in]``; ``w``: ``[C_out, *kernel, C_in / group]``;
    ``bias``: int32 ``[C_out]`` or None; ``multiplier``/``shift``: ``[C_out]`` (or
    scalars). ``pads``: begin and end per spatial dim, ONNX order
    ``[b_0, .., b_{n-1}, e_0, .., e_{n-1}]`` or pairs ``[(b_0, e_0), ...]``.
    Padded positions contribute nothing, like TFLM's bounds checks. Depthwise is
    ``group == C_in``: output channel ``o`` reads input channel
    ``o // (C_out / C_in)`` (TFLM's depth_multiplier ordering).
    """
    xa = np.asarray(x, dtype=np.int64)
    wa = np.asarray(w, dtype=np.int64)
    nd = xa.ndim - 2
    if nd not in (1, 2) or wa.ndim != nd + 2:
        raise ValueError(f"conv_int8 supports 1-D/2-D NHWC, got x{xa.shape} w{wa.shape}")
    strides = [int(s) for s in strides]
    dil = [1] * nd if dilations is None else [int(d) for d in dilations]
    pad = normalize_pads(pads, nd)
    n, c_in = xa.shape[0], xa.shape[-1]
    c_out, ksize = wa.shape[0], wa.shape[1:-1]
    if c_in % group or c_out % group or wa.shape[-1] != c_in // group:
        raise ValueError(f"bad group={group} for x{xa.shape} w{wa.shape}")
    xz = xa - int(input_zero_point)
    xz = np.pad(xz, [(0, 0)] + [(b, e) for b, e in pad] + [(0, 0)])
    out_sz = [(xz.shape[1 + i] - dil[i] * (ksize[i] - 1) - 1) // strides[i] + 1
              for i in range(nd)]
    if min(out_sz) <= 0:
        raise ValueError("convolution output would be empty")
    # Gather windows: cols[n, *out, *k, C_in]
    cols = xz
    for i in range(nd):
        idx = (np.arange(out_sz[i])[:, None] * strides[i]
               + np.arange(ksize[i])[None, :] * dil[i])
        cols = np.take(cols, idx, axis=1 + 2 * i)
    if nd == 2:  # [n, oh, kh, ow, kw, c] -> [n, oh, ow, kh, kw, c]
        cols = cols.transpose(0, 1, 3, 2, 4, 5)
    cin_g, cout_g = c_in // group, c_out // group
    kprod = int(np.prod(ksize))
    cols = cols.reshape(n, *out_sz, kprod, group, cin_g)
    wg = wa.reshape(group, cout_g, kprod, cin_g)
    if group == 1:
        acc = _exact_int_matmul(cols.reshape(-1, kprod * cin_g),
                                wg.reshape(cout_g, kprod * cin_g).T)
    else:
        a = cols.reshape(-1, kprod, group, cin_g).transpose(2, 0, 1, 3)
        a = a.reshape(group, -1, kprod * cin_g)
        b = wg.reshape(group, cout_g, kprod * cin_g).transpose(0, 2, 1)
        acc = _exact_int_matmul(a, b).transpose(1, 0, 2).reshape(-1, c_out)
    acc = acc.reshape(n, *out_sz, c_out)
    return _requantize_acc(acc, bias, multiplier, shift, output_zero_point,
                           activation_min, activation_max)


def dense_int8(x: ArrayLike, w: ArrayLike, bias: ArrayLike | None, *,
               input_zero_point: int, output_zero_point: int, multiplier: ArrayLike,
               shift: ArrayLike, activation_min: int = -128, activation_max: int = 127) -> I8:
    """int8 FullyConnected as TFLM reference_integer_ops::FullyConnected(PerChannel).

    ``x``: ``[..., in]``, ``w``: ``[out, in]``, ``bias``: int32 ``[out]`` or None;
    ``multiplier``/``shift``: scalar / length-1 (per-tensor) or ``[out]``.
    """
    xa = np.asarray(x, dtype=np.int64) - int(input_zero_point)
    wa = np.asarray(w, dtype=np.int64)
    acc = _exact_int_matmul(xa.reshape(-1, xa.shape[-1]), wa.T)
    acc = acc.reshape(*xa.shape[:-1], wa.shape[0])
    return _requantize_acc(acc, bias, multiplier, shift, output_zero_point,
                           activation_min, activation_max)


# ---- Element-wise binary ops (numpy broadcasting == TFLM's BroadcastXXX6DSlow) ---


def _scaled_addend(q: ArrayLike, zero_point: int, left_shift: int, mult: int, shift: int
                   ) -> I64:
    shifted = fp.wrap_int32((np.asarray(q, dtype=np.int64) - zero_point) << left_shift)
    return fp.multiply_by_quantized_multiplier_smaller_than_one_exp(shifted, mult, shift)


def _add_sub(a: ArrayLike, b: ArrayLike, p: AddParams, sign: int, act_min: int,
             act_max: int) -> I8:
    s1 = _scaled_addend(a, p.input1_zero_point, p.left_shift, p.input1_multiplier,
                        p.input1_shift)
    s2 = _scaled_addend(b, p.input2_zero_point, p.left_shift, p.input2_multiplier,
                        p.input2_shift)
    raw = fp.multiply_by_quantized_multiplier_smaller_than_one_exp(
        fp.wrap_int32(s1 + sign * s2), p.output_multiplier, p.output_shift)
    return saturate_int8(raw + p.output_zero_point, act_min, act_max)


def add_int8(a: ArrayLike, b: ArrayLike, params: AddParams, *, activation_min: int = -128,
             activation_max: int = 127) -> I8:
    """int8 ADD with broadcasting, as TFLM reference_integer_ops::AddFunc."""
    return _add_sub(a, b, params, 1, activation_min, activation_max)


def sub_int8(a: ArrayLike, b: ArrayLike, params: AddParams, *, activation_min: int = -128,
             activation_max: int = 127) -> I8:
    """int8 SUB with broadcasting, as TFLM reference_ops SubFunc (use :func:`sub_params`)."""
    return _add_sub(a, b, params, -1, activation_min, activation_max)


def mul_int8(a: ArrayLike, b: ArrayLike, *, input1_zero_point: int, input2_zero_point: int,
             output_zero_point: int, multiplier: int, shift: int, activation_min: int = -128,
             activation_max: int = 127) -> I8:
    """int8 MUL with broadcasting, as TFLM reference_integer_ops::MulElementwise."""
    prod = ((np.asarray(a, dtype=np.int64) - input1_zero_point)
            * (np.asarray(b, dtype=np.int64) - input2_zero_point))
    out = fp.multiply_by_quantized_multiplier(prod, multiplier, shift) + output_zero_point
    return saturate_int8(out, activation_min, activation_max)


def prelu_int8(x: ArrayLike, alpha: ArrayLike, params: PreluParams) -> I8:
    """int8 PRelu with broadcasting, as TFLM reference_ops::BroadcastPrelu4DSlow."""
    p = params
    v = np.asarray(x, dtype=np.int64) - p.input_zero_point
    a = np.asarray(alpha, dtype=np.int64) - p.alpha_zero_point
    pos = fp.multiply_by_quantized_multiplier(v, p.multiplier_1, p.shift_1)
    neg = fp.multiply_by_quantized_multiplier(v * a, p.multiplier_2, p.shift_2)
    return saturate_int8(np.where(v >= 0, pos, neg) + p.output_zero_point)


# ---- Softmax and activation functions -------------------------------------------


def softmax_int8(x: ArrayLike, params: SoftmaxParams) -> I8:
    """int8 Softmax over the last axis (output scale 1/256, zero point -128).

    Mirrors TFLM reference_ops::Softmax<int8_t, int8_t>: Q5.26 scaled diffs,
    gemmlowp exp_on_negative_values, Q12.19 sum, GetReciprocal, and
    diffs below ``diff_min`` flushed to -128.
    """
    xa = np.asarray(x, dtype=np.int64)
    diff = xa - xa.max(axis=-1, keepdims=True)
    live = diff >= params.diff_min
    rescaled = fp.multiply_by_quantized_multiplier_greater_than_one(
        diff, params.input_multiplier, params.input_left_shift)
    exps = fp.exp_on_negative_values(rescaled, SOFTMAX_SCALED_DIFF_INTEGER_BITS)
    exps = np.where(live, exps, 0)
    accum_bits = 12
    sum_of_exps = fp.wrap_int32(
        fp.saturating_rounding_multiply_by_pot(exps, -accum_bits).sum(axis=-1, keepdims=True))
    scale, bits_over_unit = fp.get_reciprocal(sum_of_exps, accum_bits)
    exponent = bits_over_unit + 31 - 8
    unsat = fp.rounding_divide_by_pot(fp.saturating_rounding_doubling_high_mul(scale, exps),
                                      exponent)
    out = np.clip(unsat - 128, -128, 127)
    return np.where(live, out, -128).astype(np.int8)


def _sigmoid_tanh(x: ArrayLike, p: SigmoidTanhParams, tanh: bool) -> I8:
    inp = np.asarray(x, dtype=np.int64) - p.input_zero_point
    q4 = fp.multiply_by_quantized_multiplier(inp, p.input_multiplier, p.input_left_shift)
    if tanh:  # Q0.31 -> Q0.7, zero point 0
        mid = np.clip(fp.rounding_divide_by_pot(fp.fixedpoint_tanh(q4, 4), 24), -128, 127)
    else:  # Q0.31 -> Q0.8, zero point -128
        mid = np.clip(fp.rounding_divide_by_pot(fp.fixedpoint_logistic(q4, 4), 23) - 128,
                      -128, 127)
    r = p.input_range_radius
    return np.where(inp <= -r, -128, np.where(inp >= r, 127, mid)).astype(np.int8)


def logistic_int8(x: ArrayLike, params: SigmoidTanhParams) -> I8:
    """int8 Logistic as TFLM reference_integer_ops::Logistic (output 1/256, zp -128)."""
    return _sigmoid_tanh(x, params, tanh=False)


def tanh_int8(x: ArrayLike, params: SigmoidTanhParams) -> I8:
    """int8 Tanh as TFLM reference_integer_ops::Tanh (output 1/128, zp 0)."""
    return _sigmoid_tanh(x, params, tanh=True)


def leaky_relu_int8(x: ArrayLike, params: LeakyReluParams) -> I8:
    """int8 LeakyRelu as TFLM reference_ops::QuantizeLeakyRelu (two multipliers)."""
    p = params
    inp = np.asarray(x, dtype=np.int64) - p.input_zero_point
    pos = fp.multiply_by_quantized_multiplier(inp, p.multiplier_identity, p.shift_identity)
    neg = fp.multiply_by_quantized_multiplier(inp, p.multiplier_alpha, p.shift_alpha)
    return saturate_int8(np.where(inp >= 0, pos, neg) + p.output_zero_point)


def hard_swish_int8(x: ArrayLike, params: HardSwishParams) -> I8:
    """int8 HardSwish as TFLM reference_ops::HardSwish<int8_t> (int16 fixed point)."""
    p = params
    wrap16 = fp._wrap_int16
    inp = wrap16(np.asarray(x, dtype=np.int64) - p.input_zero_point)
    hires = wrap16(inp * 128)
    preshift_out = fp.saturating_rounding_doubling_high_mul_int16(
        hires, p.output_multiplier_int16)
    reluish = hires
    if p.reluish_multiplier_exponent > 0:
        reluish = fp.saturating_left_shift_int16(reluish, p.reluish_multiplier_exponent - 1)
    reluish = fp.saturating_rounding_doubling_high_mul_int16(
        reluish, p.reluish_multiplier_int16)
    if p.reluish_multiplier_exponent > 0:
        reluish = fp.saturating_left_shift_int16(reluish, 1)
    if p.reluish_multiplier_exponent < 0:
        reluish = fp.rounding_divide_by_pot(reluish, -p.reluish_multiplier_exponent)
    reluish = wrap16((reluish + (1 << 15)) >> 1)
    pre = fp.saturating_doubling_high_mul_int16(reluish, preshift_out)
    out = wrap16(fp.rounding_divide_by_pot(pre, -p.output_multiplier_exponent)
                 + p.output_zero_point)
    return saturate_int8(out)


def _selu(v: NDArray[np.floating]) -> NDArray[np.floating]:
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return scale * np.where(v > 0, v, alpha * (np.exp(v) - 1))


LUT_FUNCTIONS: dict[str, Callable[[NDArray[np.floating]], NDArray[np.floating]]] = {
    "elu": lambda v: np.where(v < 0, np.exp(v) - 1, v),
    "selu": _selu,
    "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    "tanh": np.tanh,
    "hard_swish": lambda v: v * np.clip(v + 3, 0, 6) / 6,
}


def build_lut_int8(fn: Callable[[NDArray[np.floating]], NDArray[np.floating]] | str,
                   in_scale: float, in_zp: int, out_scale: float, out_zp: int, *,
                   precision: str = "float32") -> I8:
    """256-entry int8 lookup table; ``lut[q + 128] = f(q)``.

    ``precision="float32"`` mirrors TFLM's ELU ``PopulateLookupTable`` (and
    TFLite's ``LUTPopulate<int8_t>``): dequantize ``in_scale * (q - in_zp)`` in
    float32, apply ``fn`` in float32, multiply by ``1 / out_scale`` (float32),
    TfLiteRound (half away from zero), add ``out_zp``, clamp. ``"float64"``
    does the same in double precision. Of the int8 activations, TFLM builds a
    LUT only for ELU; its int8 Logistic/Tanh/LeakyRelu/HardSwish are integer
    kernels (see :func:`logistic_int8` etc.) and SELU has no TFLite builtin, so
    a LUT for those is effc's own choice and not TFLM-comparable. Outside a function's
    domain (Sqrt or Log of a negative value: NaN) the entry is the quantized 0 (effc's
    choice); infinities clamp to -128 / 127.
    """
    func = LUT_FUNCTIONS[fn] if isinstance(fn, str) else fn
    dt = {"float32": np.float32, "float64": np.float64}[precision]
    q = np.arange(-128, 128, dtype=np.int64)
    deq = dt(in_scale) * (q - int(in_zp)).astype(dt)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        y = np.asarray(func(deq), dtype=dt)
        y = np.where(np.isnan(y), dt(0), y)
        inv = dt(1) / dt(out_scale)
        rescaled = fp.tflite_round((y * inv).astype(dt))
    quant = np.clip(rescaled + dt(out_zp), -128, 127)
    return quant.astype(np.int64).astype(np.int8)


def apply_lut(x: ArrayLike, lut: ArrayLike) -> I8:
    """Look up int8 values in a table built by :func:`build_lut_int8`."""
    return np.asarray(lut, dtype=np.int8)[np.asarray(x, dtype=np.int64) + 128]


# ---- Quantize / dequantize / requantize --------------------------------------


def quantize(x: ArrayLike, scale: float, zero_point: int) -> I8:
    """float -> int8 as TFLM AffineQuantize: TfLiteRound(float(x) / float(scale)) + zp."""
    xf = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        r = fp.tflite_round(xf / _f32(scale))
        r = np.clip(np.nan_to_num(r, nan=0.0), -2.0**31, 2.0**31 - 1)
    return saturate_int8(r.astype(np.int64) + int(zero_point))


def dequantize(q: ArrayLike, scale: float, zero_point: int) -> NDArray[np.float32]:
    """int8 -> float32 as TFLM Dequantize: float(double(scale) * (q - zp))."""
    diff = np.asarray(q, dtype=np.int64) - int(zero_point)
    return (_d(scale) * diff.astype(np.float64)).astype(np.float32)


def requantize_int8(x: ArrayLike, *, input_zero_point: int, output_zero_point: int,
                    multiplier: int, shift: int) -> I8:
    """int8 -> int8 as TFLM reference_ops::Requantize (see :func:`requantize_multiplier`)."""
    inp = np.asarray(x, dtype=np.int64) - int(input_zero_point)
    out = fp.multiply_by_quantized_multiplier(inp, multiplier, shift) + int(output_zero_point)
    return saturate_int8(out)

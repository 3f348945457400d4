"""int8 reductions, bit-exact with TFLite Micro (kernels/reduce_common.cc and
reference_ops::Mean / QuantizedMeanOrSum in kernels/internal/reference/reduce.h).

* MEAN and SUM: ``MultiplyByQuantizedMultiplier(sum - zp_in * count)``
  with ``QuantizeMultiplier(double(s_in) / double(s_out))``; for MEAN the
  multiplier first absorbs ``1 / count``: with ``shift = min(floor(log2(count)), 32,
  31 + shift)``, ``multiplier = (multiplier << shift) / count`` (int64, truncating)
  and ``shift -= shift``. Current TFLM (the tflite-micro wheel the tests run) takes
  this path for every int8 MEAN; older releases divided the raw sum with C
  truncation when input and output shared scale and zero point.
* REDUCE_MAX (and effc's REDUCE_MIN, the same rule): the max (min) of the raw
  values; input and output share scale and zero point.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from effc.quant import fixedpoint as fp
from effc.quant.int8 import requantize_multiplier

I8 = NDArray[np.int8]


def reduce_multiplier(input_scale: float, output_scale: float) -> tuple[int, int]:
    """TFLM PrepareMeanOrSum: QuantizeMultiplier(double(s_in) / double(s_out))."""
    return requantize_multiplier(input_scale, output_scale)


def mean_multiplier(multiplier: int, shift: int, count: int) -> tuple[int, int]:
    """The MEAN multiplier with ``1 / count`` folded in (QuantizedMeanOrSum)."""
    extra = min(int(count).bit_length() - 1, 32, 31 + int(shift))
    return int((int(multiplier) << extra) // int(count)), int(shift) - extra


def _sum(x: ArrayLike, axes: tuple[int, ...]) -> tuple[NDArray[np.int64], int]:
    xa = np.asarray(x, np.int64)
    count = int(np.prod([xa.shape[a] for a in axes]))
    return fp.wrap_int32(xa.sum(axis=axes, keepdims=True)), count


def mean_or_sum_int8(x: ArrayLike, axes: tuple[int, ...], *, input_zero_point: int,
                     output_zero_point: int, multiplier: int, shift: int,
                     compute_sum: bool) -> I8:
    """reference_ops::QuantizedMeanOrSum<int8_t, int32_t> (keepdims shape)."""
    total, count = _sum(x, axes)
    if not compute_sum:
        multiplier, shift = mean_multiplier(multiplier, shift, count)
    shifted = fp.wrap_int32(total - int(input_zero_point) * count)
    out = fp.multiply_by_quantized_multiplier(shifted, multiplier, shift) + int(output_zero_point)
    return np.clip(out, -128, 127).astype(np.int8)

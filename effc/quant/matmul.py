"""int8 BATCH_MATMUL, bit-exact with TFLite Micro (kernels/batch_matmul.cc).

Both operands and the output are per-tensor int8. TFLM subtracts both zero points,
sums the products in int32 and requantizes once with
``QuantizeMultiplier(GetQuantizedConvolutionMultipler(...))``: the product
``lhs_scale * rhs_scale`` rounded to float32, widened to double and divided by
``double(output_scale)``; there is no fused activation (clamp to int8).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from effc.quant import fixedpoint as fp
from effc.quant.int8 import dense_multipliers


def batch_matmul_multiplier(lhs_scale: float, rhs_scale: float, output_scale: float
                            ) -> tuple[int, int]:
    """(multiplier, shift) of TFLM's BatchMatMulPrepare."""
    mult, shift = dense_multipliers(lhs_scale, [rhs_scale], output_scale)
    return int(mult[0]), int(shift[0])


def batch_matmul_int8(a: ArrayLike, b: ArrayLike, a_zero_point: int, b_zero_point: int,
                      output_zero_point: int, multiplier: int, shift: int
                      ) -> NDArray[np.int8]:
    """int8 ``a @ b`` (numpy broadcasting over the batch axes), as TFLM's reference
    ``BatchMatMul<int8_t, int32_t>``: int32 sums of ``(a - za) * (b - zb)``."""
    aa = np.asarray(a, np.int64) - int(a_zero_point)
    bb = np.asarray(b, np.int64) - int(b_zero_point)
    # Each product is below 2^16: float64 sums are exact for any practical depth.
    acc = fp.wrap_int32(np.matmul(aa.astype(np.float64), bb.astype(np.float64)).astype(np.int64))
    out = fp.multiply_by_quantized_multiplier(acc, multiplier, shift) + int(output_zero_point)
    return np.clip(out, -128, 127).astype(np.int8)

"""int8 transposed convolution, bit-exact with TFLite Micro's TRANSPOSE_CONV
(reference_integer_ops::TransposeConv, per-channel).

Every input value ``x - zp_in`` times each filter tap is added (int32) to the
output position ``in * stride - pad_begin + tap * dilation`` when that position
lies inside the output; then each output adds its bias and is requantized per
channel (``MultiplyByQuantizedMultiplier``), moved by the output zero point and
clamped. TFLite has neither dilation nor groups: effc extends the same
arithmetic to them (exact integer sums, so the extension is effc's own choice).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from effc.quant.int8 import _requantize_acc


def transpose_conv_sums(x: np.ndarray, w: np.ndarray, strides: Sequence[int],
                        dilations: Sequence[int], pads_begin: Sequence[int],
                        out_spatial: Sequence[int], group: int) -> np.ndarray:
    """The scatter sums (any numeric type, exact for integers held in float64).

    ``x``: [N, *S, C_in]; ``w``: [C_out, *K, C_in / group]; returns [N, *out, C_out].
    """
    nd = x.ndim - 2
    n, c_in = x.shape[0], x.shape[-1]
    c_out, kernel = w.shape[0], w.shape[1:-1]
    cin_g, cout_g = c_in // group, c_out // group
    # The whole scatter lands in a buffer wide enough for every tap; crop at the end.
    full = [(x.shape[1 + i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1
            for i in range(nd)]
    buffer = np.zeros((n, *full, c_out), dtype=np.float64)
    xg = x.reshape(*x.shape[:-1], group, cin_g).astype(np.float64)
    wg = w.reshape(group, cout_g, *kernel, cin_g).astype(np.float64)
    for tap in np.ndindex(*kernel):
        # [N, *S, group, cin_g] x [group, cout_g, cin_g] -> [N, *S, group * cout_g]
        part = np.einsum("...gc,goc->...go", xg, wg[(slice(None), slice(None), *tap)])
        part = part.reshape(*x.shape[:-1], c_out)
        index = tuple(slice(tap[i] * dilations[i],
                            tap[i] * dilations[i] + (x.shape[1 + i] - 1) * strides[i] + 1,
                            strides[i]) for i in range(nd))
        buffer[(slice(None), *index)] += part
    out = np.zeros((n, *out_spatial, c_out), dtype=np.float64)
    src, dst = [], []
    for i in range(nd):
        lo = max(0, -pads_begin[i])
        begin = max(0, pads_begin[i])
        length = min(full[i] - begin, out_spatial[i] - lo)
        src.append(slice(begin, begin + max(length, 0)))
        dst.append(slice(lo, lo + max(length, 0)))
    out[(slice(None), *dst)] = buffer[(slice(None), *src)]
    return out


def transpose_conv_int8(x: ArrayLike, w: ArrayLike, bias: ArrayLike | None, *,
                        strides: Sequence[int], dilations: Sequence[int],
                        pads_begin: Sequence[int], out_spatial: Sequence[int], group: int,
                        input_zero_point: int, output_zero_point: int, multiplier: ArrayLike,
                        shift: ArrayLike, activation_min: int = -128,
                        activation_max: int = 127) -> NDArray[np.int8]:
    """int8 ConvTranspose (1-D/2-D, channels-last) as TFLM's TRANSPOSE_CONV."""
    xz = np.asarray(x, np.int64) - int(input_zero_point)
    sums = transpose_conv_sums(xz, np.asarray(w, np.int64), strides, dilations, pads_begin,
                               out_spatial, group)
    return _requantize_acc(np.rint(sums).astype(np.int64), bias, multiplier, shift,
                           output_zero_point, activation_min, activation_max)

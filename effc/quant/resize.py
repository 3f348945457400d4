"""int8 bilinear Resize, bit-exact with TFLite's ``ResizeBilinearInteger``
(kernels/internal/reference/resize_bilinear.h, as TFLite Micro's RESIZE_BILINEAR runs it).

Input and output share scale and zero point; the raw int8 values are blended
with 10-bit fixed-point coordinates: ``scale_10 = round(1024 * in / out)`` (or
``(in - 1) / (out - 1)`` with align_corners), the source coordinate of output
``y`` is ``y * scale_10`` (+ ``scale_10 / 2 - 512`` with half-pixel centres), the
two taps are ``max(c / 1024, 0)`` and ``min((c + 1023) / 1024, in - 1)`` (C
division), and the four products (20 fractional bits) are summed in int64 and
rounded half away from zero (TFLM is built without ``TFLITE_SINGLE_ROUNDING``).

ONNX's ``half_pixel`` (and ``pytorch_half_pixel`` with outputs longer than 1),
``align_corners`` and ``asymmetric`` map onto TFLite's two flags; the scale
comes from the sizes, so a model whose ``scales`` differ from ``out / in`` is
refused for int8 (``int8_bilinear_problem``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from effc.quant.interpolate import resize_view, resized_axes

I32 = NDArray[np.int32]

#: ONNX coordinate transformations and TFLite's (align_corners, half_pixel_centers).
TFLITE_FLAGS = {"half_pixel": (False, True), "pytorch_half_pixel": (False, True),
                "align_corners": (True, False), "asymmetric": (False, False)}


def _trunc_div(a: np.ndarray, b: int) -> np.ndarray:
    q = np.abs(a) // b
    return np.where(a < 0, -q, q)


def bilinear_axis(in_size: int, out_size: int, mode: str) -> tuple[I32, I32, I32]:
    """(first tap, second tap, 10-bit source coordinate) of every output index."""
    align, half = TFLITE_FLAGS[mode]
    if align and out_size > 1:
        scale_10 = (1024 * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale_10 = (1024 * in_size + out_size // 2) // out_size
    y = np.arange(out_size, dtype=np.int64)
    coord = y * scale_10 + (scale_10 // 2 - 512 if half else 0)
    lo = np.maximum(_trunc_div(coord, 1024), 0)
    hi = np.minimum(_trunc_div(coord + 1023, 1024), in_size - 1)
    return lo.astype(np.int32), hi.astype(np.int32), coord.astype(np.int32)


def int8_bilinear_problem(in_shape: tuple[int, ...], attrs: dict) -> str | None:
    """Why a linear Resize has no TFLite integer form, or None."""
    sizes = attrs["sizes"]
    resized = resized_axes(in_shape, attrs)
    if resize_view(in_shape, attrs) is None:
        return "it resizes more than two axes, or two that are not neighbours"
    mode = attrs["coordinate_transformation_mode"]
    if mode not in TFLITE_FLAGS or attrs.get("exclude_outside"):
        return f"coordinate transformation {mode} has no TFLite integer form"
    if mode == "pytorch_half_pixel" and any(sizes[i] == 1 for i in resized):
        return "pytorch_half_pixel with an output of length 1"
    if attrs.get("antialias") and any(sizes[i] < in_shape[i] for i in resized):
        return "antialiased downsampling"
    if any(abs(attrs["scales"][i] - sizes[i] / in_shape[i]) > 1e-6 * attrs["scales"][i]
           for i in resized):
        return "its scales differ from output / input (TFLite derives them from the sizes)"
    return None


def resize_bilinear_int8(x: np.ndarray, attrs: dict) -> NDArray[np.int8]:
    """TFLite's ResizeBilinearInteger on int8 data, its resized axes (one, or two
    neighbours: H, W of N H W C, or of N C H W as (N C) H W 1) as TFLite's H and W."""
    view = resize_view(x.shape, attrs)
    assert view is not None, "int8_bilinear_problem refuses this resize"
    xa = np.asarray(x, np.int64).reshape(view[0])
    sizes = view[1]
    mode = attrs["coordinate_transformation_mode"]
    y0, y1, cy = bilinear_axis(xa.shape[1], sizes[1], mode)
    x0, x1, cx = bilinear_axis(xa.shape[2], sizes[2], mode)
    fy = (cy.astype(np.int64) - 1024 * y0)[None, :, None, None]
    fx = (cx.astype(np.int64) - 1024 * x0)[None, None, :, None]

    def tap(rows: I32, cols: I32) -> np.ndarray:
        return xa[:, rows][:, :, cols]

    total = (tap(y0, x0) * (1024 - fy) * (1024 - fx) + tap(y1, x0) * fy * (1024 - fx)
             + tap(y0, x1) * (1024 - fy) * fx + tap(y1, x1) * fy * fx)
    rounded = _trunc_div(total + np.where(total > 0, 1 << 19, -(1 << 19)), 1 << 20)
    out = rounded.astype(np.int8)  # static_cast<int8_t>: the blend stays in range
    return out.reshape(attrs["sizes"])

"""Resize's float math, one axis at a time (ONNX Resize semantics).

For each output index the coordinate transformation gives a source coordinate
``x``; the mode picks taps around it and their weights:

* nearest: one tap, ``x`` rounded per ``nearest_mode``;
* linear: two taps, ``floor(x)`` and the next, weighted ``1 - t`` and ``t``;
* cubic: four taps with Keys' kernel (coefficient ``a``); ``exclude_outside``
  drops taps outside the input and renormalizes.
* ``antialias`` (linear or cubic, downsampling): the kernel is stretched by
  ``1 / scale`` and normalized, as in ONNX's reference.

Taps outside the input read the edge (clamped indices); with
``tf_crop_and_resize`` an output whose coordinate leaves the input is
``extrapolation_value``. The taps of an ``n``-tap window are the ``n`` indices
nearest to ``x``, ties towards the smaller index (ONNX's rule).
"""

from __future__ import annotations

import math

import numpy as np


def source_coordinates(mode: str, out: int, size: int, scale: float,
                       roi: tuple[float, float] | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Source coordinate of each output index, and which ones extrapolate."""
    y = np.arange(out, dtype=np.float64)
    length = scale * size
    if mode == "align_corners":
        return (np.zeros(out) if length == 1 else y * (size - 1) / (length - 1)), None
    if mode == "asymmetric":
        return y / scale, None
    if mode == "tf_half_pixel_for_nn":
        return (y + 0.5) / scale, None
    if mode == "pytorch_half_pixel":
        return (np.full(out, -0.5) if length == 1 else (y + 0.5) / scale - 0.5), None
    if mode == "half_pixel":
        return (y + 0.5) / scale - 0.5, None
    if mode == "half_pixel_symmetric":
        offset = size / 2 * (1 - out / length)
        return offset + (y + 0.5) / scale - 0.5, None
    assert mode == "tf_crop_and_resize" and roi is not None
    start, end = roi
    if length == 1:
        x = np.full(out, (end - start) * (size - 1) / 2)
    else:
        x = y * (end - start) * (size - 1) / (length - 1)
    x = x + start * (size - 1)
    return x, (x < 0) | (x > size - 1)


def _nearest(x: np.ndarray, rule: str, downsampling: bool) -> np.ndarray:
    floor = np.floor(x)
    t = x - floor
    if rule == "round_prefer_floor":
        pick = np.where(t <= 0.5, floor, floor + 1)
    elif rule == "round_prefer_ceil":
        pick = np.where(t < 0.5, floor, floor + 1)
    elif rule == "floor":
        pick = floor
    elif rule == "ceil":
        pick = np.ceil(x)
    else:  # "simple": onnxruntime's rule for Resize-10 and Upsample
        pick = np.ceil(x) if downsampling else np.trunc(x)
    return pick.astype(np.int64)


def _linear_kernel(d: np.ndarray) -> np.ndarray:
    return np.clip(1.0 - np.abs(d), 0.0, None)


def _cubic_kernel(d: np.ndarray, a: float) -> np.ndarray:
    d = np.abs(d)
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(d <= 1, near, np.where(d < 2, far, 0.0))


def taps(x: np.ndarray, attrs: dict, scale: float, size: int
         ) -> tuple[np.ndarray, np.ndarray]:
    """(indices [out, n], weights [out, n]) of the linear or cubic window around ``x``."""
    cubic = attrs["mode"] == "cubic"
    stretch = min(scale, 1.0) if attrs.get("antialias") else 1.0
    radius = 2 if cubic else 1
    first = math.floor(-radius / stretch) + 1  # ONNX's window: n = 2 - 2 * first taps
    n = 2 - 2 * first
    floor = np.floor(x)
    exact = x == floor
    start = floor.astype(np.int64) + first - exact.astype(np.int64)
    index = start[:, None] + np.arange(n)[None, :]
    distance = (index - x[:, None]) * stretch
    kernel = _cubic_kernel(distance, attrs["cubic_coeff_a"]) if cubic else _linear_kernel(distance)
    if stretch < 1.0:
        kernel = kernel / kernel.sum(axis=1, keepdims=True)
    if attrs.get("exclude_outside"):
        kernel = np.where((index < 0) | (index >= size), 0.0, kernel)
        total = kernel.sum(axis=1, keepdims=True)
        kernel = kernel / np.where(total == 0, 1.0, total)
    return np.clip(index, 0, size - 1), kernel


def axis_plan(size: int, out: int, axis: int, ndim: int, attrs: dict
              ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """How one axis resizes: (source indices [out, n], their weights [out, n] or None
    for nearest, which outputs extrapolate [out] or None). The C backend prints the
    same tables, so the reference and the kernels share every rounding decision."""
    scale = attrs["scales"][axis]
    roi = None
    if "roi" in attrs:
        roi = (attrs["roi"][axis], attrs["roi"][axis + ndim])
    coords, outside = source_coordinates(attrs["coordinate_transformation_mode"], out, size,
                                         scale, roi)
    if attrs["mode"] == "nearest":
        index = np.clip(_nearest(coords, attrs["nearest_mode"], scale < 1.0), 0, size - 1)
        return index[:, None], None, outside
    index, weight = taps(coords, attrs, scale, size)
    return index, weight, outside


def resize_axis(x: np.ndarray, axis: int, out: int, attrs: dict) -> np.ndarray:
    index, weight, outside = axis_plan(x.shape[axis], out, axis, x.ndim, attrs)
    if weight is None:
        y = np.take(x, index[:, 0], axis=axis)
    else:
        gathered = np.take(x, index, axis=axis)  # axis -> (out, n)
        shape = (1,) * axis + weight.shape + (1,) * (x.ndim - axis - 1)
        y = (gathered * weight.reshape(shape)).sum(axis=axis + 1)
    if outside is not None and outside.any():
        mask = outside.reshape((1,) * axis + (out,) + (1,) * (x.ndim - axis - 1))
        y = np.where(mask, attrs["extrapolation_value"], y)
    return y


def resized_axes(shape: tuple[int, ...], attrs: dict) -> list[int]:
    """The axes a Resize changes (or crops)."""
    ndim = len(shape)
    return [axis for axis, out in enumerate(attrs["sizes"])
            if out != shape[axis] or attrs["scales"][axis] != 1.0 or (
                "roi" in attrs and (attrs["roi"][axis], attrs["roi"][axis + ndim]) != (0.0, 1.0))]


def resize_view(shape: tuple[int, ...], attrs: dict
                ) -> tuple[list[int], list[int], list[int | None]] | None:
    """A resize of at most two neighbouring axes as one of [outer, rows, cols, inner]:
    (input dims, output dims, the axis of rows and of cols, None for a row of 1);
    None when the resized axes are not neighbours (the kernels' shape)."""
    axes = resized_axes(shape, attrs)
    if len(axes) > 2 or (len(axes) == 2 and axes[1] != axes[0] + 1):
        return None
    plan: list[int | None] = [None, None]
    plan[2 - len(axes):] = axes
    first = axes[0] if axes else len(shape)
    last = axes[-1] if axes else len(shape) - 1
    outer, inner = int(np.prod(shape[:first])), int(np.prod(shape[last + 1:]))

    def dims(sizes: list[int]) -> list[int]:
        return [outer, *(1 if a is None else sizes[a] for a in plan), inner]

    return dims(list(shape)), dims(list(attrs["sizes"])), plan


def resize_float(x: np.ndarray, attrs: dict) -> np.ndarray:
    """Resize ``x`` (float64) to ``attrs["sizes"]``, axis by axis."""
    for axis in resized_axes(x.shape, attrs):
        x = resize_axis(x, axis, attrs["sizes"][axis], attrs)
    return x

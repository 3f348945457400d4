"""int8 pooling reference kernels (average, max, global average), bit-exact with
TFLite Micro's reference pooling (its rounding of the average: half away from
zero). Same layout and conventions as effc/quant/int8.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from effc.quant.int8 import I8, I64, normalize_pads, saturate_int8


def _pool_windows(x: NDArray[np.int64], kernel: Sequence[int], strides: Sequence[int],
                  dilations: Sequence[int], pads: list[tuple[int, int]],
                  out_spatial: Sequence[int] | None, fill: int
                  ) -> tuple[I64, NDArray[np.bool_], NDArray[np.bool_]]:
    """(windows[N, *out, k_prod, C], in-bounds mask, counted mask[*out, k_prod]).

    Taps in ``pads`` are ``fill`` and counted; taps beyond them (the ceil_mode
    overhang, when ``out_spatial`` asks for more windows than fit) are
    ``fill`` and not counted.
    """
    nd = x.ndim - 2
    spans = [(kernel[i] - 1) * dilations[i] + 1 for i in range(nd)]
    if out_spatial is None:
        out_sz = [(x.shape[1 + i] + sum(pads[i]) - spans[i]) // strides[i] + 1
                  for i in range(nd)]
    else:
        out_sz = [int(v) for v in out_spatial]
    if min(out_sz) <= 0:
        raise ValueError("pooling output would be empty")
    extra = [max(0, (out_sz[i] - 1) * strides[i] + spans[i] - x.shape[1 + i] - sum(pads[i]))
             for i in range(nd)]
    widths = [(b, e + extra[i]) for i, (b, e) in enumerate(pads)]
    xp = np.pad(x, [(0, 0), *widths, (0, 0)], constant_values=fill)
    valid = np.pad(np.ones(x.shape[1:-1], dtype=bool), widths, constant_values=False)
    counted = np.pad(np.ones(x.shape[1:-1], dtype=bool), pads, constant_values=True)
    counted = np.pad(counted, [(0, e) for e in extra], constant_values=False)
    win, vm, cm = xp, valid, counted
    for i in range(nd):
        idx = (np.arange(out_sz[i])[:, None] * strides[i]
               + np.arange(kernel[i])[None, :] * dilations[i])
        win = np.take(win, idx, axis=1 + 2 * i)
        vm = np.take(vm, idx, axis=2 * i)
        cm = np.take(cm, idx, axis=2 * i)
    if nd == 2:
        win = win.transpose(0, 1, 3, 2, 4, 5)
        vm = vm.transpose(0, 2, 1, 3)
        cm = cm.transpose(0, 2, 1, 3)
    kprod = int(np.prod(kernel))
    return (win.reshape(x.shape[0], *out_sz, kprod, x.shape[-1]), vm.reshape(*out_sz, kprod),
            cm.reshape(*out_sz, kprod))


def avg_pool_int8(x: ArrayLike, kernel: Sequence[int], strides: Sequence[int],
                  pads: Sequence[int] | Sequence[Sequence[int]] | None = None, *,
                  dilations: Sequence[int] | None = None,
                  out_spatial: Sequence[int] | None = None,
                  count_include_pad: bool = False, zero_point: int = 0,
                  activation_min: int = -128, activation_max: int = 127) -> I8:
    """int8 AveragePool (1-D/2-D) as TFLM reference_integer_ops::AveragePool.

    Input and output share scale and zero point. The sum of the raw int8 values
    is divided with TFLite's rounding ``(s + c/2) / c`` for ``s > 0`` and
    ``(s - c/2) / c`` otherwise, C truncating division (ties away from zero).
    ``count_include_pad=False`` is TFLite's semantics (divide by the number of
    in-bounds taps). ``count_include_pad=True`` (ONNX option, not a TFLite mode)
    counts padded taps as the real value 0, i.e. ``zero_point``, and divides by
    the taps inside the padded input. ONNX's ``dilations`` and ``ceil_mode``
    (an ``out_spatial`` larger than the floor rule gives) extend the same
    rules; taps of the ceil_mode overhang never count. A window with nothing
    to count (a dilated one over padding only) gives the zero point (real 0,
    as onnxruntime).
    """
    xa = np.asarray(x, dtype=np.int64)
    nd = xa.ndim - 2
    pad = normalize_pads(pads, nd)
    dil = [1] * nd if dilations is None else [int(d) for d in dilations]
    win, valid, counted = _pool_windows(xa, list(kernel), list(strides), dil, pad, out_spatial,
                                        int(zero_point))
    mask = counted if count_include_pad else valid
    acc = (win * mask[..., None]).sum(axis=-2)
    count = mask.sum(axis=-1).astype(np.int64)[..., None]
    safe = np.maximum(count, 1)
    half = safe // 2
    num = np.where(acc > 0, acc + half, acc - half)
    q = np.abs(num) // safe
    out = np.where(num < 0, -q, q)
    # A window with nothing to average (dilated, over padding only) is real 0.
    out = np.where(count == 0, int(zero_point), out)
    return saturate_int8(out, activation_min, activation_max)


def max_pool_int8(x: ArrayLike, kernel: Sequence[int], strides: Sequence[int],
                  pads: Sequence[int] | Sequence[Sequence[int]] | None = None, *,
                  dilations: Sequence[int] | None = None,
                  out_spatial: Sequence[int] | None = None,
                  activation_min: int = -128, activation_max: int = 127) -> I8:
    """int8 MaxPool (1-D/2-D) as TFLM reference_integer_ops::MaxPool (pads never win);
    ONNX ``dilations`` and ``ceil_mode`` (through ``out_spatial``) as in :func:`avg_pool_int8`."""
    xa = np.asarray(x, dtype=np.int64)
    nd = xa.ndim - 2
    pad = normalize_pads(pads, nd)
    dil = [1] * nd if dilations is None else [int(d) for d in dilations]
    # A window over padding only gives -128, the lowest value (as float's lowest).
    win, _, _ = _pool_windows(xa, list(kernel), list(strides), dil, pad, out_spatial, -128)
    return saturate_int8(win.max(axis=-2), activation_min, activation_max)


def global_avg_pool_int8(x: ArrayLike, *, activation_min: int = -128,
                         activation_max: int = 127) -> I8:
    """Global average pool over all spatial dims, keeping them as size 1.

    Computed exactly as TFLite AVERAGE_POOL_2D with a filter covering the whole
    input and VALID padding (what the TFLite converter emits for Keras
    GlobalAveragePooling / AvgPool in the MLPerf Tiny models). Input and output
    share scale and zero point; MEAN with rescaling is not modelled here.
    """
    xa = np.asarray(x)
    spatial = list(xa.shape[1:-1])
    return avg_pool_int8(xa, spatial, spatial, None, activation_min=activation_min,
                         activation_max=activation_max)


# ---- Softmax and activations -------------------------------------------------

"""Sliding-window geometry shared by Conv and the pooling ops (channels-last)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from effc.errors import EffcError


def resolve_pads(
    auto_pad: str,
    pads: list[int],
    in_spatial: tuple[int, ...],
    kernel: list[int],
    strides: list[int],
    dilations: list[int],
) -> list[int]:
    """ONNX ``pads`` ([begins..., ends...]) after applying ``auto_pad``."""
    n = len(in_spatial)
    if auto_pad in ("", "NOTSET"):
        return list(pads) if pads else [0] * (2 * n)
    if auto_pad == "VALID":
        return [0] * (2 * n)
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise EffcError(f"auto_pad '{auto_pad}' is not an ONNX padding mode; use NOTSET, VALID, "
                        "SAME_UPPER or SAME_LOWER")
    begins, ends = [], []
    for size, k, s, d in zip(in_spatial, kernel, strides, dilations, strict=True):
        out = math.ceil(size / s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
        small, large = total // 2, total - total // 2
        if auto_pad == "SAME_UPPER":
            begins.append(small)
            ends.append(large)
        else:
            begins.append(large)
            ends.append(small)
    return begins + ends


def output_spatial(
    in_spatial: tuple[int, ...],
    kernel: list[int],
    strides: list[int],
    dilations: list[int],
    pads: list[int],
    ceil_mode: bool = False,
    what: str = "",
) -> tuple[int, ...]:
    n = len(in_spatial)
    out = []
    for i in range(n):
        span = (kernel[i] - 1) * dilations[i] + 1
        padded = in_spatial[i] + pads[i] + pads[i + n]
        if padded < span:
            raise EffcError(
                f"{what}: kernel {kernel} does not fit the padded input {in_spatial}; "
                "fix the model's shapes"
            )
        rounding = math.ceil if ceil_mode else math.floor
        size = rounding((padded - span) / strides[i]) + 1
        if ceil_mode and (size - 1) * strides[i] >= in_spatial[i] + pads[i]:
            size -= 1  # the last window must start inside the input or left pad
        out.append(int(size))
    return tuple(out)


def window_attrs(attrs: dict[str, Any], rank_spatial: int) -> dict[str, list[int]]:
    ones = [1] * rank_spatial
    return {
        "strides": list(attrs.get("strides") or ones),
        "dilations": list(attrs.get("dilations") or ones),
        "pads": list(attrs.get("pads") or [0] * (2 * rank_spatial)),
    }


def as_2d(x: np.ndarray) -> np.ndarray:
    """View an N W C tensor as N 1 W C so 1-D and 2-D share one code path."""
    return x[:, None] if x.ndim == 3 else x


def pad_spatial(x: np.ndarray, pads: list[int], value: float | int = 0) -> np.ndarray:
    """Pad the spatial axes of an N S... C tensor (pads = [begins..., ends...])."""
    n = x.ndim - 2
    widths = [(0, 0)] + [(pads[i], pads[i + n]) for i in range(n)] + [(0, 0)]
    return np.pad(x, widths, constant_values=value)


def windows(
    x: np.ndarray,
    kernel: list[int],
    strides: list[int],
    dilations: list[int],
    out_spatial: tuple[int, ...],
) -> np.ndarray:
    """All windows of a padded N H W C tensor: shape N OH OW KH KW C (a view)."""
    kh, kw = kernel
    dh, dw = dilations
    sh, sw = strides
    oh, ow = out_spatial
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    view = np.lib.stride_tricks.sliding_window_view(x, (span_h, span_w), axis=(1, 2))
    # view: N, H', W', C, span_h, span_w
    view = view[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, :, ::dh, ::dw]
    return np.moveaxis(view, 3, -1)


def as_2d_params(kernel: list[int], strides: list[int], dilations: list[int],
                 pads: list[int]) -> tuple[list[int], list[int], list[int], list[int]]:
    """1-D window parameters lifted to 2-D with a unit H axis."""
    if len(kernel) == 2:
        return kernel, strides, dilations, pads
    return [1, *kernel], [1, *strides], [1, *dilations], [0, pads[0], 0, pads[1]]

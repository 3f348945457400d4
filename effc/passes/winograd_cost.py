"""Predicted instructions of one 3x3 (3-tap) stride-1 convolution layer, direct or
Winograd: the cost model behind ``--winograd auto``.

Calibrated on exact QEMU instruction counts (mps2-an386, Cortex-M4, the
kernels of effc/runtime_c): ``winograd_costs.json`` holds one measurement per
(layer shape, kernel), made by ``python -m bench.bench_winograd --calibrate``
(one-convolution models compiled by effc and run under QEMU with per-layer
markers). For each dtype, rank (1-D, 2-D) and kernel (direct, F(2), F(4))
a least-squares fit over the kernel's loop counts gives the instructions of
any shape:

* int8 direct: pixels P = N*OH*OW, K = 9*C_in (3*C_in in 1-D), P4 = P
  rounded up to 4 (the matrix kernel's columns), K8 = K rounded up to 8 (the
  wide layout's groups); features 1, P, P*K (im2col), P_border*K (the windows
  over padding gathered tap by tap), P4*K8 (widening the columns), P4*C_out
  (requantization), C_out (the records), P4*2*floor(C_out/2)*K8 (the
  two-channel loop) and P*(C_out mod 2)*K (an odd last channel, in C);
* float direct: the taps that read the input (padded ones are skipped), V;
  features 1, P, P*C_out, V*C_out, V*C_out*C_in;
* Winograd F(m): tiles T and T4 = T rounded up to the groups of 4 the kernels
  run, C4 = C_in rounded up to 4, A transform positions; features 1, T4
  (the tiles' setup), T4*C4 (input transform), T4*[C_in mod 4 != 0] (its tail channels), T*C_out
  (output transform), T4*C_out*A (the product loop's setup per position),
  T4*C_out*C4*A (the products).

``tests/test_winograd_cost.py`` checks the fit against every measurement.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

COSTS = Path(__file__).with_name("winograd_costs.json")
#: auto takes Winograd only when it is predicted this much below direct: with
#: leave-one-out predictions over the calibration shapes (each shape predicted
#: by a fit without it) no choice is then slower than direct (tests/test_winograd_cost.py;
#: on the current calibration the margins from 13% to 15% are safe: faster direct
#: kernels on the smallest maps made 0-12% pick one slower Winograd shape; 14% is
#: in the middle of that range).
MARGIN = 0.14


def kernel_name(tile: int) -> str:
    return "direct" if tile == 0 else f"F{tile}"


def _taps_inside(out: int, pad: int, size: int) -> int:
    """(output, tap) pairs of one axis of a 3-tap stride-1 window that read the input."""
    return sum(1 for o in range(out) for k in range(3) if 0 <= o - pad + k < size)


def _interior(out: int, pad: int, size: int) -> int:
    """Outputs of one axis whose 3-tap window lies inside the input."""
    return sum(1 for o in range(out) if o - pad >= 0 and o - pad + 2 < size)


def features(shape: dict[str, Any], tile: int) -> np.ndarray:
    """The loop counts of one layer (see the module docstring)."""
    n, oh, ow = shape.get("batch", 1), shape["out_h"], shape["out_w"]
    c_in, c_out, rank = shape["c_in"], shape["c_out"], shape["rank"]
    if tile == 0:
        pixels = n * oh * ow
        taps = (9 if rank == 2 else 3) * c_in
        top, left, bottom, right = shape.get("pads", [1, 1, 1, 1])
        in_h, in_w = oh + top + bottom - (2 if rank == 2 else 0), ow + left + right - 2
        if shape["dtype"] == "int8":  # im2col, then 4 pixels x 2 channels at a time
            p4 = 4 * math.ceil(pixels / 4)
            k8 = 8 * math.ceil(taps / 8)
            interior = n * (_interior(oh, top, in_h) if rank == 2 else 1) * \
                _interior(ow, left, in_w)
            return np.array([1, pixels, pixels * taps, (pixels - interior) * taps,
                             p4 * k8, p4 * c_out, c_out, p4 * 2 * (c_out // 2) * k8,
                             pixels * (c_out % 2) * taps], np.float64)
        inside = (_taps_inside(oh, top, in_h) if rank == 2 else 1) * \
            _taps_inside(ow, left, in_w) * n
        return np.array([1, pixels, pixels * c_out, inside * c_out, inside * c_out * c_in],
                        np.float64)
    tiles = n * (math.ceil(oh / tile) if rank == 2 else 1) * math.ceil(ow / tile)
    t4 = 4 * math.ceil(tiles / 4)
    c4 = 4 * math.ceil(c_in / 4)
    positions = (tile + 2) ** rank
    return np.array([1, t4, t4 * c4, t4 * (c_in % 4 != 0), tiles * c_out,
                     t4 * c_out * positions, t4 * c_out * c4 * positions], np.float64)


def measurements() -> list[dict[str, Any]]:
    return json.loads(COSTS.read_text())["measurements"]


Models = dict[tuple[str, int, str], np.ndarray]


def fit(rows: list[dict[str, Any]]) -> Models:
    """Least-squares coefficients per (dtype, rank, kernel), fitted on the relative
    error (every layer size weighs the same)."""
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["dtype"], row["rank"], row["kernel"]), []).append(row)
    fitted = {}
    for key, group in groups.items():
        tile = 0 if key[2] == "direct" else int(key[2][1:])
        a = np.array([features(r, tile) for r in group])
        y = np.array([r["instructions"] for r in group], np.float64)
        fitted[key] = np.linalg.lstsq(a / y[:, None], np.ones_like(y), rcond=None)[0]
    return fitted


@functools.cache
def models() -> Models:
    return fit(measurements())


def predict(shape: dict[str, Any], tile: int, fitted: Models | None = None) -> int:
    """Predicted instructions of the layer ``shape`` (winograd.shape_of) with the
    direct kernel (tile 0) or Winograd F(tile)."""
    coef = (fitted or models())[(shape["dtype"], shape["rank"], kernel_name(tile))]
    return max(1, round(float(features(shape, tile) @ coef)))

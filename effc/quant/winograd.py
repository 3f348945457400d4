"""Winograd minimal filtering (Lavin & Gray, CVPR 2016) for 3x3 and 3-tap convolutions.

F(m, 3) computes ``m`` outputs of a 3-tap correlation from ``a = m + 2``
inputs with ``a`` multiplies: ``y = Aᵀ [(G g) ⊙ (Bᵀ d)]``; nested over two
axes, F(m x m, 3 x 3) is ``Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A``. A 1-D
convolution uses F(m, 3) along W (the H axis is the identity F(1, 1)).

**Exact int8 F(2x2, 3x3).** For F(2, 3) (points 0, 1, -1, inf) ``Bᵀ`` and
``Aᵀ`` hold only 0 and ±1 and ``2G`` is integral, so with the zero-point
corrected input ``d = x - zp`` (an integer in [-255, 255]):

* ``V = Bᵀ d B``: each entry is a signed sum of at most 4 values of ``d``,
  ``|V| <= 4 * 255 = 1020`` (2 * 255 = 510 in 1-D): **int16**;
* ``U' = (2G) g (2G)ᵀ = 4 G g Gᵀ``: each entry a signed sum of ``g`` with
  weights whose absolute values sum to at most 9 (rows of 2G have absolute
  sums 2, 3, 3, 2), ``|U'| <= 9 * 128 = 1152`` (3 * 128 in 1-D): **int16**;
* ``M = Σ_c U'[c] ⊙ V[c]`` in **int32**, ``Y' = Aᵀ M A = 4 * acc`` exactly,
  where ``acc = Σ (x - zp) * w`` is the direct convolution's accumulator
  (scale 2 in 1-D). ``acc = Y' >> 2`` (exact: Y' is a multiple of 4), then
  the bias, requantization and clamp of the direct convolution: the result
  is bit-identical to it for every input.

Overflow. Sums wrap modulo 2^32 (SMLAD and the C kernels' adds do), and
every step after the int16 transforms is a ring operation (sums of products
with integer coefficients), so ``Y'`` comes out exact whenever its true value
fits int32: ``scale * 255 * max_o Σ|w[o]| <= 2^31 - 1``
(:func:`int8_bounds`, checked per layer from the actual weights). For any
int8 weights (|w| <= 128) that holds for ``C_in <= 1827`` (2-D:
``4 * 255 * 9 * 128 * C_in``) and ``C_in <= 10965`` (1-D:
``2 * 255 * 3 * 128 * C_in``); for those ``C_in`` no partial sum of ``M``
overflows either (``|M| <= 1020 * 1152 * C_in``). A layer whose bound fails
keeps the direct convolution. The two SMLAD lanes hold ``V`` and ``U'``
values, which fit int16 for every int8 input and weight.

**Float.** F(2x2, 3x3) and F(4x4, 3x3) (points 0, ±1, ±2, inf; 2.25x and 4x
fewer multiplies); ``U = G g Gᵀ`` is computed in float64 and stored as float32.

Layouts (channels-last, docs/conventions.md): ``x`` is ``[N, H, W, C_in]``
(or ``[N, W, C_in]``), weights OHWI ``[C_out, 3, 3, C_in]`` (or
``[C_out, 3, C_in]``), transformed weights ``[C_out, a, a, C_in]`` (or
``[C_out, a, C_in]``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray

from effc.quant import fixedpoint as fp

INT32_MAX = 2**31 - 1
INT16_MAX = 2**15 - 1


def _frac_matrix(rows: list[list[Fraction | int]]) -> np.ndarray:
    return np.array([[float(Fraction(v)) for v in row] for row in rows], dtype=np.float64)


F = Fraction
#: Bᵀ, G and Aᵀ of F(m, 3), by m (Lavin & Gray, section 4).
MATRICES: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {
    2: (np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float64),
        _frac_matrix([[1, 0, 0], [F(1, 2), F(1, 2), F(1, 2)], [F(1, 2), F(-1, 2), F(1, 2)],
                      [0, 0, 1]]),
        np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float64)),
    4: (np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                  [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], np.float64),
        _frac_matrix([[F(1, 4), 0, 0], [F(-1, 6), F(-1, 6), F(-1, 6)],
                      [F(-1, 6), F(1, 6), F(-1, 6)], [F(1, 24), F(1, 12), F(1, 6)],
                      [F(1, 24), F(-1, 12), F(1, 6)], [0, 0, 1]]),
        np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
                  [0, 1, -1, 8, -8, 1]], np.float64)),
}
#: F(m, 3) tiles each dtype may use: int8 only the exact F(2, 3).
TILES = {"int8": (2,), "float32": (2, 4)}


@dataclass(frozen=True)
class Axis:
    """The transform of one spatial axis: F(m, 3), or the identity (m = 1) for
    the H axis of a 1-D convolution. ``g`` is ``scale * G`` (integral for the
    int8 F(2, 3), where scale is 2)."""

    m: int
    bt: np.ndarray  # [a, a]
    g: np.ndarray  # [a, r]
    at: np.ndarray  # [m, a]
    scale: int

    @property
    def a(self) -> int:
        return self.bt.shape[0]


IDENTITY = Axis(1, np.eye(1), np.eye(1), np.eye(1), 1)


def axis(m: int, integer: bool = False) -> Axis:
    bt, g, at = MATRICES[m]
    scale = 2 if integer else 1
    if integer and m != 2:
        raise ValueError("exact integer Winograd exists for F(2, 3) only")
    return Axis(m, bt, g * scale, at, scale)


def axes(rank: int, m: int, integer: bool = False) -> tuple[Axis, Axis]:
    """(H axis, W axis) of a convolution with ``rank`` spatial dims."""
    return (axis(m, integer) if rank == 2 else IDENTITY), axis(m, integer)


def transform_weights(w: ArrayLike, m: int, integer: bool) -> np.ndarray:
    """OHWI weights [C_out, *k, C_in] -> U [C_out, *a, C_in]: int16 ``(2G) g (2G)ᵀ``
    for the int8 F(2, 3), float32 ``G g Gᵀ`` (computed in float64) otherwise."""
    wa = np.asarray(w)
    rank = wa.ndim - 2
    ah, aw = axes(rank, m, integer)
    w2 = wa.reshape(wa.shape[0], *((1,) if rank == 1 else ()), *wa.shape[1:]).astype(np.float64)
    u = np.einsum("ik,okld,jl->oijd", ah.g, w2, aw.g)
    u = u.reshape(wa.shape[0], *([aw.a] if rank == 1 else [ah.a, aw.a]), wa.shape[-1])
    if not integer:
        return u.astype(np.float32)
    exact = np.rint(u)
    assert np.array_equal(exact, u) and np.abs(exact).max(initial=0) <= INT16_MAX
    return exact.astype(np.int16)


@dataclass(frozen=True)
class Int8Bounds:
    """The int8 F(2, 3) ranges of one layer (see the module docstring)."""

    v_max: int  # largest |V| any input can give
    u_max: int  # largest |U'| of these weights
    y_max: int  # largest |Y'| = scale * |acc| any input can give
    c_in_limit: int  # the largest C_in that is safe for any int8 weights

    @property
    def ok(self) -> bool:
        return self.v_max <= INT16_MAX and self.u_max <= INT16_MAX and self.y_max <= INT32_MAX

    def reason(self) -> str:
        """Plain words (the report prints it): no markup characters."""
        times = self.v_max // 255
        if self.ok:
            return (f"the transformed sums fit int32 ({times} times the accumulator, at most "
                    f"{self.y_max:,}), the transforms int16 (weights up to {self.u_max}, "
                    f"inputs up to {self.v_max})")
        return (f"the transformed sum ({times} times the accumulator) could reach "
                f"{self.y_max:,}, past int32 (any int8 weights are safe up to "
                f"{self.c_in_limit} input channels)")


def int8_bounds(w: ArrayLike) -> Int8Bounds:
    """Ranges of the exact int8 F(2, 3) for OHWI int8 weights ``w`` (2-D or 1-D)."""
    wa = np.asarray(w, dtype=np.int64)
    rank = wa.ndim - 2
    scale = 4 if rank == 2 else 2
    taps = 9 if rank == 2 else 3
    u = transform_weights(wa, 2, integer=True).astype(np.int64)
    per_channel = np.abs(wa).reshape(wa.shape[0], -1).sum(axis=1)
    return Int8Bounds(v_max=scale * 255, u_max=int(np.abs(u).max(initial=0)),
                      y_max=scale * 255 * int(per_channel.max(initial=0)),
                      c_in_limit=INT32_MAX // (scale * 255 * taps * 128))


def _tiles(d: np.ndarray, ah: Axis, aw: Axis, out_hw: tuple[int, int]) -> np.ndarray:
    """The input tiles [N, TH, TW, a_h, a_w, C] of a padded N H W C tensor, zero
    beyond its end so that the tiles cover every output."""
    th, tw = math.ceil(out_hw[0] / ah.m), math.ceil(out_hw[1] / aw.m)
    need_h, need_w = (th - 1) * ah.m + ah.a, (tw - 1) * aw.m + aw.a
    d = np.pad(d, [(0, 0), (0, max(0, need_h - d.shape[1])), (0, max(0, need_w - d.shape[2])),
                   (0, 0)])
    view = np.lib.stride_tricks.sliding_window_view(d, (ah.a, aw.a), axis=(1, 2))
    return np.moveaxis(view[:, ::ah.m, ::aw.m][:, :th, :tw], 3, -1)


def _untile(y: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """[N, TH, TW, m_h, m_w, O] -> [N, OH, OW, O]."""
    n, th, tw, mh, mw, o = y.shape
    y = y.transpose(0, 1, 3, 2, 4, 5).reshape(n, th * mh, tw * mw, o)
    return y[:, :out_hw[0], :out_hw[1]]


def _padded_2d(x: np.ndarray, pads: list[int]) -> tuple[np.ndarray, tuple[int, int]]:
    """x as N H W C padded with zeros, and the output size of a 3-tap kernel."""
    if x.ndim == 3:
        x, pads = x[:, None], [0, pads[0], 0, pads[1]]
        kh = 1
    else:
        kh = 3
    x = np.pad(x, [(0, 0), (pads[0], pads[2]), (pads[1], pads[3]), (0, 0)])
    return x, (x.shape[1] - kh + 1, x.shape[2] - 2)


def conv_winograd_int8(x: ArrayLike, u: ArrayLike, bias: ArrayLike | None, *,
                       pads: list[int], input_zero_point: int, output_zero_point: int,
                       multiplier: ArrayLike, shift: ArrayLike, activation_min: int = -128,
                       activation_max: int = 127) -> NDArray[np.int8]:
    """The int8 3x3 (or 3-tap) stride-1 convolution computed through F(2x2, 3x3)
    (F(2, 3)) with the transformed weights ``u`` from :func:`transform_weights`:
    int32 arithmetic modulo 2^32 as the C kernels do it, then the direct
    convolution's bias, requantization and clamp. ``pads`` in ONNX order."""
    from effc.quant.int8 import _requantize_acc

    xa = np.asarray(x, dtype=np.int64)
    ua = np.asarray(u, dtype=np.int64)
    rank = xa.ndim - 2
    ah, aw = axes(rank, 2, integer=True)
    d, out_hw = _padded_2d(xa - int(input_zero_point), list(pads))
    tiles = _tiles(d, ah, aw, out_hw)  # N TH TW a a C
    v = np.einsum("ia,ntsabc,jb->ntsijc", ah.bt.astype(np.int64), tiles,
                  aw.bt.astype(np.int64))
    u4 = ua.reshape(ua.shape[0], ah.a, aw.a, ua.shape[-1])
    m = fp.wrap_int32(np.einsum("ntsijc,oijc->ntsijo", v, u4))
    y = fp.wrap_int32(np.einsum("ki,ntsijo,lj->ntsklo", ah.at.astype(np.int64), m,
                                aw.at.astype(np.int64)))
    acc = _untile(y, out_hw) >> (ah.scale * aw.scale).bit_length() - 1
    if rank == 1:
        acc = acc[:, 0]
    return _requantize_acc(acc, bias, multiplier, shift, output_zero_point,
                           activation_min, activation_max)


def conv_winograd_float(x: ArrayLike, u: ArrayLike, bias: ArrayLike | None, *, m: int,
                        pads: list[int]) -> NDArray[np.float64]:
    """The float 3x3 (or 3-tap) stride-1 convolution through F(m x m, 3 x 3)
    (F(m, 3)) with float transformed weights ``u``, in float64 (no clamp)."""
    xa = np.asarray(x, dtype=np.float64)
    ua = np.asarray(u, dtype=np.float64)
    rank = xa.ndim - 2
    ah, aw = axes(rank, m)
    d, out_hw = _padded_2d(xa, list(pads))
    tiles = _tiles(d, ah, aw, out_hw)
    v = np.einsum("ia,ntsabc,jb->ntsijc", ah.bt, tiles, aw.bt, optimize=True)
    u4 = ua.reshape(ua.shape[0], ah.a, aw.a, ua.shape[-1])
    mm = np.einsum("ntsijc,oijc->ntsijo", v, u4, optimize=True)
    y = _untile(np.einsum("ki,ntsijo,lj->ntsklo", ah.at, mm, aw.at, optimize=True), out_hw)
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64)
    return y[:, 0] if rank == 1 else y


def multiplies(rank: int, m: int, out_hw: tuple[int, int], c_in: int, c_out: int) -> int:
    """Multiplies of the transformed-domain products (the tiles cover the output)."""
    ah, aw = axes(rank, m)
    tiles = math.ceil(out_hw[0] / ah.m) * math.ceil(out_hw[1] / aw.m)
    return tiles * ah.a * aw.a * c_in * c_out

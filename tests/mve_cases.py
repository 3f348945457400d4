"""Kernel cases aimed at the Helium (MVE) bodies: the matrix body (effc_mm_mve.c
and its assembly loop, effc_mm_mve_asm.c) and the depthwise body
(effc_dw_mve.c: 3x3, depth multiplier 1).

k around its 16-value chunks (below one chunk, one chunk, a tail of 1..15,
several chunks), depthwise channel counts that are not multiples of 4
(the last plane group), stride 1 and 2, dilation, bands with shared rows,
in place, left shifts that wrap int32, right shifts down to -31 next to
shift 0, multipliers 0, 2^30 and 2^31 - 1, zero points and clamps at the int8
limits, fewer than four columns, in place. They join test_runtime_c.CASES
(so also their prepared-record and wide-layout variants): the oracle is
effc.quant.int8 on the host, and the same table runs under ASan/UBSan and on
every QEMU board, mps3-an547 (Cortex-M55) among them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from tests.conftest_c import Case, conv_case, dense_case, edge_multipliers, pool_case


def _requant(case: Case, shifts: list[int], seed: int) -> Case:
    """Per-channel shifts cycling through ``shifts``, multipliers at the edges
    and biases big enough to wrap the left-shifted sums."""
    a = dict(case.arrays)
    c = a["shift"].size
    rng = np.random.default_rng(seed)
    m = edge_multipliers(rng, c)
    s = np.array(shifts, np.int32)[np.arange(c) % len(shifts)]
    a["multiplier"] = m
    a["shift"] = s
    if a.get("bias") is not None:
        top = np.clip(-s.astype(np.int64) + 8, 4, 30)
        a["bias"] = (rng.uniform(-1, 1, size=c) * (1 << top)).astype(np.int32)
    return replace(case, arrays=a)


def _in_place(case: Case) -> Case:
    """The same conv call with the output written over a copy of the input."""
    n = int(np.prod(case.arrays["input"].shape))
    assert n == int(np.prod(case.out_shape)), "in place needs equal shapes"
    return replace(case, call=f"(__builtin_memcpy(y, @input, {n}), "
                              f"{case.call.replace('@input', 'y')})")


def _pw(name: str, seed: int, cin: int, cout: int, **kw: Any) -> Case:
    """A pointwise conv over 3 x 5 pixels (the last call of the body has three columns)."""
    return conv_case(name, seed, h=3, w=5, cin=cin, cout=cout, k=(1, 1), **kw)


def _dw(name: str, seed: int, h: int, w: int, c: int, **kw: Any) -> Case:
    """A depthwise 3x3 conv (depth multiplier 1)."""
    return conv_case(name, seed, h=h, w=w, cin=c, cout=0, depthwise=1, **kw)


def _per_tensor(case: Case) -> Case:
    """Channel 0's multiplier and shift for every channel."""
    a = dict(case.arrays)
    a["multiplier"] = np.full_like(a["multiplier"], a["multiplier"][0])
    a["shift"] = np.full_like(a["shift"], a["shift"][0])
    return replace(case, arrays=a)


def dw_cases() -> list[Case]:
    """The Helium depthwise body: odd channel counts (one to three channels in the
    last group of four), every row-group tail, stride 1 and 2, dilation, bands,
    in place, shifts at the limits, zero points at the int8 limits."""
    deep = [-1, -31, -17, 0, -9, -2, -30, -5]
    left = [1, 4, 10, 0, -31, -2, 7]
    pad = (1, 1, 1, 1)
    return [
        _requant(_dw("mve_dw_c7_kws_rows", 111, 25, 5, 7, pads=pad, izp=-128, ozp=-128),
                 deep, 11),
        _in_place(_requant(_dw("mve_dw_c13_in_place", 112, 9, 6, 13, pads=pad, izp=127,
                               ozp=127), deep, 12)),
        _requant(_dw("mve_dw_c5_left_shifts", 113, 6, 7, 5, pads=pad, izp=3, ozp=-9), left, 13),
        _requant(_dw("mve_dw_c6_stride2", 114, 11, 9, 6, stride=(2, 2), pads=(1, 1, 1, 1),
                     izp=-128, ozp=5, act=(-100, 100)), deep, 14),
        _requant(_dw("mve_dw_c3_stride2_asym", 115, 8, 10, 3, stride=(2, 2), pads=(0, 0, 1, 1),
                     izp=127, ozp=-128), left, 15),
        _requant(_dw("mve_dw_c9_dilation2", 116, 10, 9, 9, dil=(2, 2), pads=(2, 2, 2, 2),
                     izp=-7, ozp=3), deep, 16),
        _requant(_dw("mve_dw_c4_stride_1x2", 117, 7, 9, 4, stride=(1, 2), pads=(1, 0, 1, 1),
                     izp=0, ozp=-1), deep, 17),
        _in_place(_requant(_dw("mve_dw_c11_bands_in_place", 118, 70, 9, 11, pads=pad, izp=-1,
                               ozp=0), deep, 18)),
        _requant(_dw("mve_dw_c2_bands_stride2", 119, 90, 13, 2, stride=(2, 2), pads=pad,
                     izp=60, ozp=-60), left, 19),
        _in_place(_requant(_dw("mve_dw_c6_walk_two_bands_in_place", 123, 40, 3, 6, pads=pad,
                               izp=-128, ozp=-128), deep, 22)),
        _per_tensor(_dw("mve_dw_c10_per_tensor_valid", 120, 6, 4, 10, izp=-128, ozp=127)),
        _per_tensor(_requant(_dw("mve_dw_c1_one_column", 121, 9, 1, 1, pads=pad, izp=1,
                                 ozp=1), deep, 20)),
        _requant(_dw("mve_dw_c8_relu_clamp", 122, 5, 5, 8, pads=pad, izp=-128, ozp=-128,
                     act=(-128, 0)), deep, 21),
        *dw_tail_cases(),
    ]


def dw_tail_cases() -> list[Case]:
    """Row-group tails: output heights 1-9 but 4 and 8 (1-3 rows past the last
    group of four; one row alone takes lanes over columns in the assembly walk),
    odd channel counts (1-3 lanes of the last group), left and right shifts mixed
    within a group, the walk's layout and the strided/dilated one, in place."""
    deep = [-1, -31, -17, 0, -9, -2, -30, -5]
    left = [1, 4, 10, 0, -31, -2, 7]
    mixed = [3, -1, 0, -31, 30, -12, -2]
    pad = (1, 1, 1, 1)
    chans = [1, 3, 5, 7, 9, 2, 6, 11, 13]
    zps = [(-128, -128), (127, 127), (3, -9), (-1, 0), (60, -60)]
    cases = [
        _requant(_dw(f"mve_dw_tail_h{h}_c{chans[h - 1]}", 130 + h, h, 3 + h % 3,
                     chans[h - 1], pads=pad, izp=zps[h % 5][0], ozp=zps[h % 5][1]),
                 [deep, left, mixed][h % 3], 30 + h)
        for h in range(1, 10) if h % 4  # (4 and 8: no tail)
    ]
    # one last row alone (4n + 1 rows) in the assembly walk (13 rows or more: the
    # walk's 32-byte plane columns fit the scratch): lanes over four columns, the
    # last four overlapping when cols % 4 != 0; even and odd widths (cols 4-9)
    last = [
        _requant(_dw(f"mve_dw_last_row_h{h}_w{w}_c{c}", 160 + w, h, w, c, pads=pad,
                     izp=zps[w % 5][0], ozp=zps[w % 5][1]), [deep, mixed][w % 2], 50 + w)
        for h, w, c in [(21, 4, 3), (13, 6, 5), (13, 7, 2), (17, 8, 6), (17, 9, 4), (25, 5, 1)]
    ]
    return [
        *cases,
        *last,
        _in_place(_requant(_dw("mve_dw_tail_h5_c7_in_place", 140, 5, 4, 7, pads=pad,
                               izp=-128, ozp=-128), mixed, 40)),
        _requant(_dw("mve_dw_tail_stride2_h5_c5", 141, 9, 6, 5, stride=(2, 2), pads=pad,
                     izp=7, ozp=-3, act=(-90, 80)), mixed, 41),
        _requant(_dw("mve_dw_tail_dilation2_h6_c3", 142, 6, 5, 3, dil=(2, 2),
                     pads=(2, 2, 2, 2), izp=-5, ozp=2), deep, 42),
    ]


def _filled(case: Case, value: int) -> Case:
    """The case with every input value ``value``."""
    x = case.arrays["input"]
    return replace(case, arrays={**case.arrays, "input": np.full(x.shape, value, np.int8)})


def pool_cases() -> list[Case]:
    """The Helium average-pool sums (effc_pool_s8.c: 16 channels a step in int16
    lanes, flushed every 256 taps): channel counts around 8 and 16 (the
    predicated loads), windows of more than 256 taps at both int8 limits (the
    int16 lanes at -32768), strided windows, padding counted (the kernel
    firmware of mps3-an547 is close to its 512 KiB flash: cases stay small)."""
    return [
        pool_case("mve_global_avg_pool_c7", 151, "global_avg_pool", h=6, w=5, c=7, k=(1, 1),
                  stride=(1, 1)),
        pool_case("mve_global_avg_pool_c9_relu", 152, "global_avg_pool", h=5, w=4, c=9,
                  k=(1, 1), stride=(1, 1), act=(-20, 100)),
        _filled(pool_case("mve_global_avg_pool_c17_min_260_taps", 154, "global_avg_pool",
                          h=13, w=20, c=17, k=(1, 1), stride=(1, 1)), -128),
        pool_case("mve_avg_pool_c24_3x3_include_pad", 155, "avg_pool", h=7, w=6, c=24,
                  k=(3, 3), stride=(2, 2), pads=(1, 1, 1, 1), include_pad=1, zp=-5),
        pool_case("mve_avg_pool_c13_dilated", 156, "avg_pool", h=9, w=8, c=13, k=(3, 2),
                  stride=(1, 2), dil=(2, 3), pads=(1, 0, 1, 2)),
    ]


def int8_cases() -> list[Case]:
    deep = [-1, -31, -17, 0, -9, -2, -30, -5]
    left = [1, 4, 10, 0, -31, -2, 7]
    return [
        _requant(_pw("mve_pw_k21_tail5", 101, 21, 7, izp=-128, ozp=-128), deep, 1),
        _in_place(_requant(_pw("mve_pw_k21_in_place", 102, 21, 21, izp=3, ozp=-9), deep, 2)),
        _requant(_pw("mve_pw_k48_three_chunks", 103, 48, 9, izp=127, ozp=127,
                     act=(-100, 100)), deep, 3),
        _requant(_pw("mve_pw_k16_left_shifts_wrap", 104, 16, 7, izp=5, ozp=-3), left, 4),
        _requant(_pw("mve_pw_k33_left_shifts_relu", 105, 33, 5, izp=-1, ozp=-128,
                     act=(-128, 30)), left, 5),
        _requant(_pw("mve_pw_k15_below_a_chunk", 106, 15, 6, izp=-128, ozp=0), deep, 6),
        _requant(conv_case("mve_conv3x3_k45", 107, h=5, w=6, cin=5, cout=3,
                           pads=(1, 1, 1, 1), izp=-7, ozp=9), deep, 7),
        _requant(dense_case("mve_dense_k100_batch3", 108, batches=3, fin=100, fout=5,
                            izp=-128, ozp=0), left, 8),
        _requant(dense_case("mve_dense_row_k33", 109, batches=1, fin=33, fout=6, izp=3,
                            ozp=-1), deep, 9),
        *dw_cases(),
        *pool_cases(),
    ]

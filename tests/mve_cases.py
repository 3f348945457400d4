"""Kernel cases aimed at the Helium (MVE) matrix body (effc_mm_mve.c and its
assembly loop, effc_mm_mve_asm.c).

k around its 16-value chunks (below one chunk, one chunk, a tail of 1..15,
several chunks), left shifts that wrap int32, right shifts down to -31 next to
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

from tests.conftest_c import Case, conv_case, dense_case, edge_multipliers


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
    ]

"""Edits of a kernel case (tests/conftest_c.py) shared by the case tables: the
output written over the input, per-tensor quantization, per-channel
multipliers and shifts at the edges of the requantization's range."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tests.conftest_c import Case, edge_multipliers


def in_place(case: Case) -> Case:
    """The same conv call with the output written over a copy of the input."""
    n = int(np.prod(case.arrays["input"].shape))
    assert n == int(np.prod(case.out_shape)), "in place needs equal shapes"
    call = case.call.replace("@input", "y")
    return replace(case, name=case.name, call=f"(__builtin_memcpy(y, @input, {n}), {call})")


def per_tensor(case: Case) -> Case:
    """The case with channel 0's multiplier and shift for every channel."""
    a = dict(case.arrays)
    a["multiplier"] = np.full_like(a["multiplier"], a["multiplier"][0])
    a["shift"] = np.full_like(a["shift"], a["shift"][0])
    return replace(case, arrays=a)


def requant_edges(case: Case, big_bias: bool = False, deep: bool = False) -> Case:
    """Per-channel multipliers and right shifts at the edges of the range:
    shifts -1 (the single-rounding special case), -2, -17 and -23 (the last
    one the DSP fast requantization takes), or with ``deep`` also -31 (which
    sends the layer to the general requantization); multiplier 0, 2^30 (exact
    ties), 2^31 - 1 and random ones."""
    a = dict(case.arrays)
    c = a["shift"].size
    rng = np.random.default_rng(c)
    m = edge_multipliers(rng, c)
    shifts = np.array([-1, -2, -1, -17, -31 if deep else -23, -1, -3, -9], np.int32)
    a["multiplier"] = m
    a["shift"] = shifts[np.arange(c) % shifts.size]
    if big_bias and a.get("bias") is not None:  # outputs spread over the int8 range
        top = np.minimum(-a["shift"].astype(np.int64) + 8, 30)
        a["bias"] = (rng.uniform(-1, 1, size=c) * (1 << top)).astype(np.int32)
        key = "weights" if "weights" in a else "filter"  # small shifts: bias only
        w = a[key].copy()
        small = -a["shift"] < 8
        w[small] = rng.integers(-1, 2, size=w[small].shape)
        a[key] = w
    return replace(case, arrays=a)


def floored(case: Case) -> Case:
    """The case with its activation range starting at or above its output zero point
    (a ReLU layer's): activation_min raised to the zero point where it was below."""
    lo, hi = case.meta["act"]
    lo = max(lo, case.meta["ozp"])
    act = (lo, max(hi, lo))
    structs = [(stype, var, fields | {"activation_min": act[0], "activation_max": act[1]}
                if "activation_min" in fields else fields)
               for stype, var, fields in case.structs]
    return replace(case, name=f"{case.name}+floored", structs=structs,
                   meta=case.meta | {"act": act})


#: d = K - s per channel for one_shift: both bounds of EFFC_DW_RQ_SHIFT's range (1 and
#: EFFC_DW_D_MAX = 6) and the others, then one below and one above it (0 and 7: those
#: channels take the C loop)
ONE_SHIFT_D = (1, 6, 3, 1, 6, 2, 5, 4)
ONE_SHIFT_OUTSIDE = (0, 7)


def one_shift(case: Case, k: int, outside: bool = False) -> Case:
    """Per-channel right shifts s = k - d for a firmware built with EFFC_DW_RQ_SHIFT=k, d
    cycling over ONE_SHIFT_D (with ``outside`` also over ONE_SHIFT_OUTSIDE), multipliers
    at the edges of their range (edge_multipliers: 0, 2^30, 2^31 - 1, random) and biases
    up to 2^(s + 8) (at most 2^23: the fast records' bound), so that the outputs spread
    over the int8 range."""
    a = dict(case.arrays)
    c = a["shift"].size
    rng = np.random.default_rng(c + 100 * k)
    d = np.array(ONE_SHIFT_D + (ONE_SHIFT_OUTSIDE if outside else ()), np.int32)
    if outside:  # the channels outside first: a case of few channels still has them
        d = np.roll(d, len(ONE_SHIFT_OUTSIDE))
    s = np.maximum(k - d[np.arange(c) % d.size], 0)
    a["multiplier"] = edge_multipliers(rng, c)
    a["shift"] = (-s).astype(np.int32)
    if a.get("bias") is not None:
        top = np.minimum(s + 8, 23)
        a["bias"] = (rng.uniform(-1, 1, size=c) * (1 << top)).astype(np.int32)
    if "rq" in a:  # a prepared case (tests/prepared_cases.py): its records made anew
        from tests.prepared_cases import channel_records

        a["rq"] = channel_records(a["filter"], a.get("bias"), a["multiplier"], a["shift"],
                                  case.meta["izp"], case.meta["ozp"])
    return replace(case, name=f"{case.name}+shift{k}{'-outside' if outside else ''}",
                   arrays=a)

"""The 8-byte requantization records (effc_channel_rq, effc_nn.h) pinned at
their encoding's edges. The kernels reading them run the same layers in
test_runtime_c (tests/record_cases.py: host, sanitizers, every QEMU board)."""

from __future__ import annotations

import numpy as np
import pytest

from tests import record_cases
from tests.prepared_cases import channel_records

GENERAL = 0x80  # EFFC_RQ_GENERAL


def decode(records: np.ndarray, c: int) -> tuple[str, int, int, int]:
    """(kind, bias, multiplier, TFLite shift) of channel c, by the documented
    encoding (kind: fast, zero or general)."""
    word, mult = (int(v) for v in records[c])
    if word & GENERAL:
        assert word & 0x7F == 0, "a general word holds the offset and the flag only"
        bias, shift = (int(v) for v in records[c + (word >> 8)])
        return "general", bias, mult, shift
    s1 = word & 0xFF
    assert 0 <= s1 <= 30
    if mult == 0:
        assert word == 0, "the multiplier-0 record is all zero"
        return "zero", 0, 0, -1
    return "fast", word >> 8, mult, -1 - s1


def _layer(case) -> tuple[np.ndarray, np.ndarray, int, int]:
    a, m = case.arrays, case.meta
    key = "weights" if "weights" in a else "filter"
    return a[key], a["bias"], m["izp"], m["ozp"]


@pytest.mark.parametrize("case", record_cases.int8_cases(), ids=lambda c: c.name)
def test_records_round_trip_the_layer(case) -> None:
    w, b, izp, ozp = _layer(case)
    m, s = case.arrays["multiplier"], case.arrays["shift"]
    rec = channel_records(w, b, m, s, izp, ozp)
    n = s.size
    kinds = [decode(rec, c) for c in range(n)]
    assert rec.shape == (n + sum(k[0] == "general" for k in kinds), 2)
    for c, (kind, bias, mult, shift) in enumerate(kinds):
        if kind == "zero":  # every output is provably the zero point
            continue
        assert (bias, mult, shift) == (int(b[c]), int(m[c]), int(s[c])), f"channel {c}"
    assert {k[0] for k in kinds} == {"fast", "zero", "general"}


def test_recipes_take_the_intended_forms() -> None:
    """The pointwise case's channels: which encoding each recipe lands in."""
    case = record_cases.int8_cases()[0]
    w, b, izp, ozp = _layer(case)
    rec = channel_records(w, b, case.arrays["multiplier"], case.arrays["shift"], izp, ozp)
    got = [(decode(rec, c)[0], int(rec[c][0]) & 0xFF) for c in range(len(record_cases.RECIPES))]
    assert got == [("fast", 0), ("fast", 0), ("zero", 0), ("zero", 0), ("fast", 22),
                   ("fast", 22), ("general", GENERAL), ("general", GENERAL),
                   ("general", GENERAL), ("general", GENERAL), ("general", GENERAL),
                   ("general", GENERAL)]
    assert int(rec[4][0]) >> 8 == record_cases.BIAS_CAP - 1
    assert int(rec[5][0]) >> 8 == -record_cases.BIAS_CAP
    dw = record_cases.int8_cases()[2]  # output zero point 0
    w, b, izp, ozp = _layer(dw)
    rec = channel_records(w, b, dw.arrays["multiplier"], dw.arrays["shift"], izp, ozp)
    assert (decode(rec, 11)[0], int(rec[11][0]) & 0xFF) == ("fast", 23)


def test_largest_shift_and_zero_point_limits() -> None:
    """s - 1 = 29 (an accumulator bound just below 2^30: k = 32768 at |w| = 127
    and |x - zp| = 255), s = 31 made the multiplier-0 record, and the round
    (2 zp + 1) 2^(s-1) pushing output zero points -128 and 127 out of the fast
    form only where it would leave int32."""
    k = 32768
    w = np.full((2, k), 127, np.int8)
    m = np.array([(1 << 31) - 1, (1 << 31) - 1], np.int32)
    s = np.array([-30, -31], np.int32)
    rec = channel_records(w, np.array([-5, 0], np.int32), m, s, -128, 0)
    assert decode(rec, 0) == ("fast", -5, (1 << 31) - 1, -30)
    assert int(rec[0][0]) & 0xFF == 29
    assert decode(rec, 1)[0] == "zero"
    for ozp, kind in ((-128, "general"), (127, "general"), (-1, "fast"), (0, "fast")):
        rec = channel_records(w[:1], None, m[:1], s[:1], -128, ozp)
        assert decode(rec, 0)[0] == kind, ozp
    small = np.ones((1, 4), np.int8)
    for ozp in (-128, 127):  # s - 1 = 0: any zero point
        rec = channel_records(small, None, m[:1], np.array([-1], np.int32), 0, ozp)
        assert decode(rec, 0) == ("fast", 0, (1 << 31) - 1, -1)

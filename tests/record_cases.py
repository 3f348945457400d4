"""Kernel cases at the edges of the 8-byte requantization record encoding
(effc_channel_rq, effc_nn.h).

Per channel the layers cycle through RECIPES: the fast form with s - 1 = 0
and at the largest the layer's accumulator allows, biases at the encoding's
limits (+-2^23: just inside the fast form, just outside it, so general),
multiplier 0 and a shift so deep that every output is the zero point (both
become the multiplier-0 record), and general records (no right shift, a left
shift, a bias past int32's fast bound). Output zero points -128, 0 and 127,
conv 1x1 (the quad assembly), depthwise 3x3 (the column walk), dense with one
and with four rows, and a grouped conv (its groups' records start mid-array,
so the general records' extensions are found relative to the record). They
join test_runtime_c.CASES: the oracle is effc.quant.int8, on the host, under
the sanitizers and on every QEMU board, and test_channel_records.py pins the
encoding itself.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tests.conftest_c import Case, conv_case, dense_case

BIAS_CAP = 1 << 23  # the fast form's |bias| limit (the record holds bias * 256)

#: (multiplier, shift, bias or None for the case's own, weights in {-1, 0, 1});
#: the kind each gives (with the case's layer) is pinned by test_channel_records.
RECIPES = [
    ((1 << 31) - 1, -1, 5, True),           # fast, s - 1 = 0, a multiplier near 1
    (1 << 30, -1, -7, True),                # fast, s - 1 = 0, exact ties
    (0, -9, None, False),                   # multiplier 0
    (1 << 30, -31, None, False),            # provably zp: the multiplier-0 record
    ((1 << 31) - 1, -23, BIAS_CAP - 1, False),  # fast, the largest bias
    ((1 << 31) - 1, -23, -BIAS_CAP, False),     # fast, the lowest bias
    ((1 << 31) - 1, -23, BIAS_CAP, False),      # general: bias * 256 leaves int32
    ((1 << 31) - 1, -23, -BIAS_CAP - 1, False),  # general
    (1 << 30, 0, 3, True),                  # general: no right shift
    (1 << 30, 2, -2, True),                 # general: a left shift
    (1 << 30, -5, (1 << 31) - 1, False),    # general: |bias| past 2^31 with the sums
    # s - 1 = 23, the largest these sums allow: fast at output zero point 0,
    # general at -128 and 127 (the round (2 zp + 1) 2^23 plus the sums leave int32)
    ((1 << 31) - 1, -24, BIAS_CAP - 1, False),
]


def with_recipes(case: Case, offset: int = 0) -> Case:
    """Channel c takes RECIPES[(c + offset) % len(RECIPES)]."""
    a = dict(case.arrays)
    key = "weights" if "weights" in a else "filter"
    n = a["shift"].size
    rng = np.random.default_rng(n + offset)
    m, s = a["multiplier"].copy(), a["shift"].copy()
    b = a["bias"].copy()
    w = a[key].copy()
    for c in range(n):
        mult, shift, bias, small = RECIPES[(c + offset) % len(RECIPES)]
        m[c], s[c] = mult, shift
        if bias is not None:
            b[c] = bias
        if small:  # outputs spread over the int8 range at multipliers near 2^-2
            w[c] = rng.integers(-1, 2, size=w[c].shape)
    a.update(multiplier=m, shift=s, bias=b, **{key: w})
    return replace(case, arrays=a)


def int8_cases() -> list[Case]:
    n = len(RECIPES)
    return [
        with_recipes(conv_case("records_pw_zp_min", 120, h=3, w=5, cin=16, cout=n, k=(1, 1),
                               izp=-128, ozp=-128)),
        with_recipes(conv_case("records_pw_zp_max", 121, h=4, w=3, cin=8, cout=2 * n,
                               k=(1, 1), izp=127, ozp=127), 5),
        with_recipes(conv_case("records_dw3x3_zp0", 122, h=9, w=5, cin=n, cout=0,
                               depthwise=1, pads=(1, 1, 1, 1), izp=-128, ozp=0)),
        with_recipes(conv_case("records_dw3x3_shifted", 123, h=7, w=4, cin=16, cout=0,
                               depthwise=1, pads=(1, 1, 1, 1), izp=3, ozp=-128), 7),
        with_recipes(dense_case("records_dense_rows4", 124, batches=4, fin=64, fout=n,
                                izp=-128, ozp=127)),
        with_recipes(dense_case("records_dense_row1", 125, batches=1, fin=32, fout=n + 1,
                                izp=0, ozp=-128), 3),
        with_recipes(conv_case("records_grouped", 126, h=3, w=3, cin=8, cout=2 * n,
                               k=(1, 1), groups=2, izp=-128, ozp=-128), 2),
    ]

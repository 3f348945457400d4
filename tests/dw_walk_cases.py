"""Kernel cases aimed at the DSP depthwise body's stride-1 column walk and
plane fill (effc_dw_walk_s1*, effc_dw_dsp_asm.c; effc_dw_fill2_rows, effc_dw_fill_asm.c).

Walk: a column of q steps of three outputs runs in passes of EFFC_DW_TRIPLES
steps (8 at -O2, 2 at -Os), the first pass entered part way, then a tail of 0,
1 or 2 outputs (at -O2 a tail of one over a padding row skips the row). The
output heights here give q = 0 (a column that is all tail), every q mod 8, up
to three passes (ten at -Os), and every tail with each, over planes of 8
columns (the narrow walk, 16-byte rows) and wider ones.

Fill: rows of at most 8 pixels run straight-line code entered at the row's
first pixel (-O2), longer ones the general loop: input widths 1-9 (8 and 9 at
either side of that), the left padding 0 (rows start at an odd int16 column)
or 1.

Zero points at the int8 limits, per-tensor and per-channel quantization,
shifts at the limits, in place. They join test_runtime_c.CASES: the oracle is
effc.quant.int8, on the host, under the sanitizers and on every QEMU board.
"""

from __future__ import annotations

from tests.case_edits import in_place, per_tensor
from tests.conftest_c import Case, conv_case
from tests.mve_cases import _requant

#: output rows of the walk cases, (q, tail): (0, 2), (1, 0), (2, 2), (3, 1), (4, 1),
#: (4, 2), (5, 0), (5, 2), (6, 1), (7, 0), (9, 2), (11, 0), (16, 2), (20, 1): every
#: q mod 8 and mod 2, one to three passes of eight steps, every tail
ROWS = (2, 3, 8, 10, 13, 14, 15, 17, 19, 21, 29, 33, 50, 61)
#: more over narrow planes (their stores step the output pointer per two outputs, so a
#: column entered at an odd row, q odd, starts a row up): q odd with a tail of 1, and
#: (0, 1); ROWS gives them q odd with tails 0 and 2 and q even with every tail
NARROW_ROWS = (1, 4, 10, 22)
ZPS = ((-128, 127), (127, -128), (0, -1), (-1, 0), (5, -7))
#: (name, h, w, cin, bottom padding): a column's tail of one over an input row (no bottom
#: padding: the walk runs the row) and, in two equal bands (narrow: 2 x 28 rows, wide:
#: 2 x 19), over an input row in the first band and a padding one in the second (-O2
#: enters that tail at its row step, job->last_pad; the band's counts are cached per job)
PAD_CASES = (("narrow_nopad_bottom", 11, 5, 4, 0), ("walk_nopad_bottom", 14, 9, 3, 0),
             ("narrow_two_bands_tail1", 56, 4, 4, 1), ("walk_two_bands_tail1", 38, 9, 4, 1))

#: (name, output rows, w, top padding): layers of one band with channels in pairs (-O2's
#: lean loop, effc_dw_one_band) whose first plane row is padding, so a column starts a
#: row down (effc_dw_walk_s1's padded top and its copy of a column's end): tails 0 and 1
#: with q = 0, 1, 2, 4 and 9 (two passes), narrow and wide planes; a tail of 2 (no padded
#: top) and no top padding
TOP_CASES = (("narrow_top_rows1", 1, 4, 1), ("narrow_top_rows3", 3, 5, 1),
             ("narrow_top_rows7", 7, 6, 1), ("narrow_top_rows28", 28, 3, 1),
             ("wide_top_rows4", 4, 9, 1), ("wide_top_rows12", 12, 11, 1),
             ("narrow_top_rows5_tail2", 5, 5, 1), ("narrow_nopad_top_rows10", 10, 5, 0))


def dw_walk_cases() -> list[Case]:
    cases = []
    for i, rows in enumerate(ROWS):
        izp, ozp = ZPS[i % len(ZPS)]
        w = (1, 7, 3, 9, 6, 12)[i % 6]  # columns: narrow planes (w + 2 <= 8) or not
        cin = (2, 3, 4, 5)[i % 4]  # an odd last channel alone in half of them
        case = conv_case(f"dw3x3_s1_walk_rows{rows}", 240 + i, h=rows, w=w, cin=cin, cout=0,
                         depthwise=1, pads=(1, 1, 1, 1), izp=izp, ozp=ozp)
        if i % 3 == 0:
            case = per_tensor(case)
        elif i % 3 == 1:
            case = _requant(case, [-1, -23, -2, -9], 260 + i)
        if i % 4 == 3:
            case = in_place(case)
        cases.append(case)
    for i, rows in enumerate(NARROW_ROWS):
        izp, ozp = ZPS[(i + 2) % len(ZPS)]
        case = conv_case(f"dw3x3_s1_narrow_rows{rows}", 320 + i, h=rows, w=(5, 6, 2, 4)[i],
                         cin=(2, 4, 3, 2)[i], cout=0, depthwise=1, pads=(1, 1, 1, 1),
                         izp=izp, ozp=ozp)
        cases.append(_requant(case, [-1, -23, -3, -12], 330 + i) if i % 2 else case)
    for i, (name, h, w, cin, bottom) in enumerate(PAD_CASES):
        izp, ozp = ZPS[(i + 1) % len(ZPS)]
        case = conv_case(f"dw3x3_s1_{name}", 350 + i, h=h, w=w, cin=cin, cout=0, depthwise=1,
                         pads=(1, 1, bottom, 1), izp=izp, ozp=ozp)
        cases.append(_requant(case, [-1, -23, -4, -9], 360 + i) if i % 2 else per_tensor(case))
    for i, (name, rows, w, top) in enumerate(TOP_CASES):
        izp, ozp = ZPS[(i + 3) % len(ZPS)]
        case = conv_case(f"dw3x3_s1_{name}", 370 + i, h=rows + 1 - top, w=w, cin=(4, 2, 6)[i % 3],
                         cout=0, depthwise=1, pads=(top, 1, 1, 1), izp=izp, ozp=ozp)
        case = _requant(case, [-1, -23, -4, -9], 380 + i) if i % 2 else per_tensor(case)
        cases.append(in_place(case) if i % 4 == 2 else case)
    # 256 output columns: more than the walk's column count holds (a byte), the C loop
    cases.append(conv_case("dw3x3_s1_walk_w256", 340, h=2, w=256, cin=2, cout=0, depthwise=1,
                           pads=(1, 1, 1, 1), izp=3, ozp=-2))
    return cases


def dw_fill_cases() -> list[Case]:
    cases = []
    for i, w in enumerate(range(1, 10)):
        izp, ozp = ZPS[i % len(ZPS)]
        pads = (1, (i + 1) % 2, 1, 1)  # left padding 1 (odd widths) or 0 (even ones)
        case = conv_case(f"dw3x3_s1_fill_w{w}", 280 + i, h=4 + i % 3, w=w, cin=(4, 3)[i % 2],
                         cout=0, depthwise=1, pads=pads, izp=izp, ozp=ozp)
        cases.append(per_tensor(case) if i % 2 else _requant(case, [-1, -23, -5], 300 + i))
    return cases

"""Kernel cases of the matrix kernel's pointwise fast paths (effc_mm_dsp.c):
contiguous pixels four at a time (effc_mm_run_quads, reached by the +wide2
variants: k a multiple of 8, an even channel count, no general channel), the
0..3 pixels left to effc_mm_run (one or two: channel pairs two at a time,
effc_mm_4x1_pairs), k 8 (two groups), 24, 72 (past one 16-group
loop test with EFFC_MM_2X4_UNROLL=16) and 136 (two loop-backs); in place, a
strided 1x1 (not contiguous: effc_mm_run), per tensor, clamped, shifts at the
limits and zero points -128 / 127. They join test_runtime_c.CASES (host,
sanitizers, every QEMU board and build of test_qemu_kernels.py)."""

from __future__ import annotations

from tests.case_edits import in_place, per_tensor, requant_edges
from tests.conftest_c import Case, conv_case


def int8_cases() -> list[Case]:
    return [
        requant_edges(conv_case("conv1x1_quads_k8_three_left", 120, h=3, w=5, cin=8, cout=6,
                                k=(1, 1), izp=127, ozp=-128), big_bias=True),
        requant_edges(conv_case("conv1x1_quads_k72_none_left", 121, h=2, w=4, cin=72,
                                cout=10, k=(1, 1), izp=-128, ozp=127), big_bias=True),
        per_tensor(conv_case("conv1x1_quads_k72_clamp_per_tensor", 122, h=3, w=3, cin=72,
                             cout=4, k=(1, 1), izp=-5, ozp=3, act=(-100, 90))),
        requant_edges(conv_case("conv1x1_quads_k24_one_left", 123, h=1, w=13, cin=24, cout=2,
                                k=(1, 1), izp=-128, ozp=-128), big_bias=True),
        conv_case("conv1x1_quads_k136_two_left", 124, h=2, w=5, cin=136, cout=8, k=(1, 1),
                  izp=0, ozp=-128),
        in_place(requant_edges(conv_case("conv1x1_quads_in_place_k24", 125, h=3, w=5, cin=24,
                                         cout=24, k=(1, 1), izp=-128, ozp=-128),
                               big_bias=True)),
        conv_case("conv1x1_quads_strided_k16", 126, h=5, w=6, cin=16, cout=6, k=(1, 1),
                  stride=(2, 2), izp=-128, ozp=-1),
        # one or two pixels left: channel pairs two at a time (effc_mm_4x1_pairs), then a
        # last pair (6 channels) or none (12), clamped and at the requantization edges
        conv_case("conv1x1_pairs2_two_left_cout6_clamp", 127, h=1, w=6, cin=40, cout=6,
                  k=(1, 1), izp=-128, ozp=-3, act=(-60, 100)),
        requant_edges(conv_case("conv1x1_pairs2_one_left_cout12", 128, h=5, w=1, cin=16,
                                cout=12, k=(1, 1), izp=127, ozp=127), big_bias=True),
    ]

"""Kernel cases of the matrix kernel's pointwise fast paths (effc_mm_dsp.c):
contiguous pixels four at a time (effc_mm_run_quads, reached by the +wide2
variants: k a multiple of 8, an even channel count, no general channel), the
0..3 pixels left to effc_mm_run (one or two: channel pairs two at a time,
effc_mm_4x1_pairs), k 8 (two groups), 24, 72 (past one 16-group
loop test with EFFC_MM_2X4_UNROLL=16) and 136 (two loop-backs); in place, a
strided 1x1 (not contiguous: effc_mm_run), per tensor, clamped, shifts at the
limits and zero points -128 / 127; k 64 (16 groups: the one-pass loop's straight
form; 64 channels in place and strided for its immediate stores), 68 (17) and
56 (14); 4-byte-row convs (kernel width * C_in 4) read from column images; im2col
patch slots of whole groups (K rounded up to a multiple of 8 for wide filters).
They join test_runtime_c.CASES (host, sanitizers, every QEMU board and build of
test_qemu_kernels.py)."""

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
        # 4-byte kernel rows read in place from column images (effc_conv_rows4_columns):
        # several spans per column (16 rows of 10x4 s2), both edges shifted, a batch of 2,
        # an odd channel count (no quads: effc_mm_run), 1-3 rows left, stride past the span
        # (kernel height 1 at stride 2: the per-pixel gather)
        requant_edges(conv_case("conv10x4_s2_columns_batch2", 129, n=2, h=49, w=10, cin=1,
                                cout=6, k=(10, 4), stride=(2, 2), pads=(4, 1, 5, 1),
                                izp=-128, ozp=5), big_bias=True),
        per_tensor(conv_case("conv5x2_two_channels_columns_clamp", 130, h=30, w=5, cin=2,
                             cout=7, k=(5, 2), pads=(2, 1, 2, 1), izp=127,
                             ozp=-9, act=(-90, 80))),
        conv_case("conv4x4_s3_columns_rows_left", 131, h=40, w=7, cin=1, cout=4, k=(4, 4),
                  stride=(3, 1), pads=(1, 2, 2, 1), izp=3, ozp=-128),
        conv_case("conv1x4_s2_past_span", 132, h=9, w=6, cin=1, cout=4, k=(1, 4),
                  stride=(2, 1), pads=(0, 1, 0, 2), izp=-5),
        # patch slots of whole groups (K rounded up to a multiple of 8 for wide filters;
        # small biases: every channel in the fast form, so the quads run): an odd kernel
        # height on column images (36 -> 40, quads reading one word past each patch),
        # 3x3 on 3 channels (27 -> 32; four pixels inside the image at once, blocks
        # across rows and images), on 2 channels with an odd channel count
        # (effc_mm_run), on 1 channel (3-byte rows copied bytewise)
        requant_edges(conv_case("conv9x4_s2_columns_odd_height_quads", 133, h=41, w=8,
                                cin=1, cout=6, k=(9, 4), stride=(2, 2), pads=(4, 1, 4, 2),
                                izp=-128, ozp=7)),
        requant_edges(conv_case("conv3x3_s2_cin3_slots", 134, h=14, w=19, cin=3, cout=8,
                                stride=(2, 2), pads=(1, 1, 1, 1), izp=-128, ozp=-3)),
        conv_case("conv3x3_s2_cin3_batch2_blocks_across_images", 135, n=2, h=5, w=9, cin=3,
                  cout=4, stride=(2, 2), pads=(1, 1, 1, 1), izp=127, ozp=2),
        per_tensor(conv_case("conv3x3_cin2_odd_cout_slots_clamp", 136, h=6, w=9, cin=2,
                             cout=5, pads=(1, 1, 1, 1), izp=127, ozp=-128, act=(-100, 90))),
        conv_case("conv3x3_cin1_byte_rows", 137, h=7, w=11, cin=1, cout=4, stride=(1, 2),
                  izp=-7, ozp=-128),
        # the one-pass loop's two forms (effc_mm_quads_asm.c): 16 groups (k 64, KWS's
        # pointwise) straight, quads and the three pixels left (effc_mm_run: its columns
        # copied to the loop's slots), clamped per tensor, an odd channel count; 17 groups
        # (k 68: no quads, every body slot) and 14 (k 56) entered computed
        requant_edges(conv_case("conv1x1_quads_k64_full_three_left", 138, h=3, w=5, cin=64,
                                cout=10, k=(1, 1), izp=-128, ozp=127), big_bias=True),
        per_tensor(conv_case("conv1x1_quads_k64_full_clamp_per_tensor", 139, h=2, w=4,
                             cin=64, cout=6, k=(1, 1), izp=127, ozp=-128, act=(-100, 90))),
        requant_edges(conv_case("conv1x1_strided_k64_odd_cout", 140, h=4, w=7, cin=64,
                                cout=7, k=(1, 1), stride=(2, 2), izp=-5, ozp=3),
                      big_bias=True),
        requant_edges(conv_case("conv1x1_k68_seventeen_groups", 141, h=2, w=3, cin=68,
                                cout=6, k=(1, 1), izp=127, ozp=-128), big_bias=True),
        conv_case("conv1x1_quads_k56_two_left", 142, h=2, w=5, cin=56, cout=4, k=(1, 1),
                  izp=-128, ozp=0),
        # 64 channels (columns 64 bytes apart, the full form's immediate stores with
        # EFFC_MM_2X4_FULL_STEP=64, test_qemu_kernels.py): in place, four quads and two
        # pixels left; strided (no quads: effc_mm_run's four columns), clamped
        in_place(requant_edges(conv_case("conv1x1_k64_cout64_in_place_quads", 143, h=3, w=6,
                                         cin=64, cout=64, k=(1, 1), izp=-128, ozp=-128))),
        conv_case("conv1x1_strided_k64_cout64_clamp", 144, h=5, w=8, cin=64, cout=64,
                  k=(1, 1), stride=(2, 2), izp=5, ozp=-7, act=(-90, 100)),
    ]

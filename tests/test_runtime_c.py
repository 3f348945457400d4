"""runtime_c int8 kernels on the host (portable bodies) against effc.quant.int8.

Each named case is one kernel call with random data (tests/conftest_c.py);
the oracle is effc/quant/int8.py, the project's bit-exact model of TFLite
Micro's integer kernels. The same case table runs under sanitizers
(test_runtime_c_sanitize.py) and on Cortex-M under QEMU (test_qemu_kernels.py).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from functools import lru_cache
from typing import Any

import numpy as np
import pytest

from effc.quant import fixedpoint as fp
from effc.quant import int8 as q8
from effc.quant import int8_pool as q8_pool
from tests import dw_walk_cases, matrix_cases, mve_cases, record_cases, winograd_cases
from tests.case_edits import in_place as _in_place
from tests.case_edits import per_tensor as _per_tensor
from tests.case_edits import requant_edges as _requant_edges
from tests.conftest_c import (
    Case,
    binary_case,
    conv_case,
    dense_case,
    pool_case,
    rand_i8,
    run_host,
    unary_case,
)
from tests.kernel_cases_ops import ops_int8_cases, ops_int8_oracle
from tests.prepared_cases import prepared_variants

SAME_KWS = (4, 1, 5, 1)  # TF 'SAME' pads (top, left, bottom, right) of 10x4 s2 on 49x10


def _add_p(kind: str, s1: float, z1: int, s2: float, z2: int, so: float, zo: int,
           act: tuple[int, int] = (-128, 127)) -> dict[str, int]:
    fn = q8.add_params if kind == "add" else q8.sub_params
    p = fn(s1, z1, s2, z2, so, zo)
    return {"input1_zero_point": p.input1_zero_point, "input2_zero_point": p.input2_zero_point,
            "output_zero_point": p.output_zero_point, "left_shift": p.left_shift,
            "input1_multiplier": p.input1_multiplier, "input1_shift": p.input1_shift,
            "input2_multiplier": p.input2_multiplier, "input2_shift": p.input2_shift,
            "output_multiplier": p.output_multiplier, "output_shift": p.output_shift,
            "activation_min": act[0], "activation_max": act[1]}


def _softmax_case(name: str, seed: int, rows: int, depth: int, scale: float,
                  beta: float = 1.0) -> Case:
    p = q8.softmax_params(scale, beta)
    fields = {"input_beta_multiplier": p.input_multiplier,
              "input_beta_left_shift": p.input_left_shift, "diff_min": p.diff_min}
    x = rand_i8(np.random.default_rng(seed), (rows, depth))
    return unary_case(name, "softmax", x, f"effc_softmax_s8(&p, {rows}, {depth}, @x, y)",
                      structs=[("effc_softmax_params", "p", fields)], meta={"params": p})


def _requant_case(name: str, seed: int, izp: int, ozp: int, ratio: float) -> Case:
    m, s = fp.quantize_multiplier(ratio)
    fields = {"input_zero_point": izp, "output_zero_point": ozp, "multiplier": m, "shift": s}
    x = rand_i8(np.random.default_rng(seed), (97,))
    return unary_case(name, "requantize", x, "effc_requantize_s8(&p, {n}, @x, y)",
                      structs=[("effc_requantize_params", "p", fields)], meta=fields)


def _quantize_case(name: str, scale: float, zp: int) -> Case:
    rng = np.random.default_rng(7)
    ties = (np.arange(-20, 20) + 0.5) * scale
    x = np.concatenate([ties, rng.normal(0, 60 * scale, 64), [0.0, -0.0, 1e30, -1e30,
                        np.inf, -np.inf, np.nan, 127.49 * scale, -128.5 * scale]])
    x = x.astype(np.float32)
    return unary_case(name, "quantize", x, f"effc_quantize_s8({scale!r}f, {zp}, {{n}}, @x, y)",
                      meta={"scale": scale, "zp": zp})


def _dequantize_case(name: str, scale: float, zp: int) -> Case:
    x = np.arange(-128, 128, dtype=np.int8)
    return unary_case(name, "dequantize", x,
                      f"effc_dequantize_s8({scale!r}f, {zp}, {{n}}, @x, y)",
                      out_dtype=np.float32, meta={"scale": scale, "zp": zp})


def _bias_at_int32_edges(case: Case) -> Case:
    """Biases within a few hundred of INT32_MAX / INT32_MIN: the accumulators wrap
    (TFLM's int32 arithmetic), which must not be signed overflow in C (UBSan)."""
    bias = case.arrays["bias"]
    edge = np.arange(bias.size, dtype=np.int64) * 37
    bias[:] = np.where(edge % 2 == 0, 2**31 - 1 - edge, -(2**31) + edge).astype(np.int32)
    return case


def _prelu_p(s_in: float, zp_in: int, s_alpha: float, zp_alpha: int, s_out: float,
             zp_out: int) -> dict[str, int]:
    return asdict(q8.prelu_params(s_in, zp_in, s_alpha, zp_alpha, s_out, zp_out))


def int8_cases() -> list[Case]:
    """The named int8 edge cases (also run by the sanitizer and QEMU tests)."""
    big = 1 << 30
    lut = rand_i8(np.random.default_rng(5), (256,))
    return [
        conv_case("conv3x3_s1_same", 1, h=8, w=8, cin=8, cout=16, pads=(1, 1, 1, 1)),
        conv_case("conv3x3_s2_pad_odd_cin", 2, h=9, w=9, cin=5, cout=7, stride=(2, 2),
                  pads=(1, 1, 1, 1)),
        conv_case("conv3x3_s2_asym_pads", 3, h=8, w=8, cin=4, cout=6, stride=(2, 2),
                  pads=(0, 0, 1, 1)),
        conv_case("conv1x1", 4, h=5, w=5, cin=16, cout=8, k=(1, 1)),
        conv_case("conv1x1_stride2_odd", 5, h=7, w=7, cin=6, cout=5, k=(1, 1), stride=(2, 2)),
        conv_case("conv1x1_trailing_pad", 6, h=4, w=4, cin=8, cout=4, k=(1, 1), stride=(2, 2),
                  pads=(0, 0, 1, 1)),
        conv_case("conv3x3_dilation2", 7, h=9, w=8, cin=4, cout=4, dil=(2, 2),
                  pads=(2, 2, 2, 2)),
        conv_case("conv5x3_dilation_2x1", 8, h=11, w=7, cin=3, cout=5, k=(5, 3), dil=(2, 1),
                  pads=(1, 0, 2, 1)),
        conv_case("conv10x4_s2_kws_first", 9, h=49, w=10, cin=1, cout=8, k=(10, 4),
                  stride=(2, 2), pads=SAME_KWS),
        conv_case("conv1d_k5", 10, h=1, w=20, cin=3, cout=7, k=(1, 5), pads=(0, 2, 0, 2)),
        conv_case("conv_batch2", 11, n=2, h=5, w=6, cin=4, cout=6, pads=(1, 1, 1, 1)),
        conv_case("conv_neg_zero_points", 12, h=6, w=6, cin=8, cout=8, pads=(1, 1, 1, 1),
                  izp=-100, ozp=-128),
        conv_case("conv_pos_zero_points_relu", 13, h=6, w=5, cin=4, cout=6, izp=50, ozp=20,
                  act=(20, 100), pads=(1, 1, 1, 1)),
        conv_case("conv_saturation", 14, h=5, w=5, cin=4, cout=6, pads=(1, 1, 1, 1),
                  bias_scale=big, real=3.0),
        conv_case("conv_positive_shift", 15, h=4, w=4, cin=2, cout=3, real=0.9),
        conv_case("conv_odd_channels", 16, h=5, w=7, cin=3, cout=5, pads=(1, 1, 1, 1),
                  bias=False),
        conv_case("conv1x1_no_bias_relu6_asm", 18, h=3, w=5, cin=8, cout=6, k=(1, 1),
                  bias=False, izp=3, ozp=-20, act=(-20, 90)),
        conv_case("conv5x5_generic", 17, h=7, w=7, cin=5, cout=6, k=(5, 5), pads=(2, 2, 2, 2)),
        conv_case("conv_generic_on_3x3", 1, h=8, w=8, cin=8, cout=16, pads=(1, 1, 1, 1),
                  path="conv_generic"),
        conv_case("conv_3x3_path_on_padded", 2, h=9, w=9, cin=5, cout=7, stride=(2, 2),
                  pads=(1, 1, 1, 1), path="conv_3x3"),
        conv_case("conv_generic_on_1x1", 4, h=5, w=5, cin=16, cout=8, k=(1, 1),
                  path="conv_generic"),
        conv_case("conv_1x1_path", 4, h=5, w=5, cin=16, cout=8, k=(1, 1), path="conv_1x1"),
        conv_case("dw3x3_s1_p1_kws", 20, h=25, w=5, cin=8, cout=0, depthwise=1,
                  pads=(1, 1, 1, 1)),
        conv_case("dw3x3_mult2", 21, h=6, w=6, cin=3, cout=0, depthwise=2, pads=(1, 1, 1, 1)),
        conv_case("dw3x3_s2_asym_pads", 22, h=8, w=8, cin=5, cout=0, depthwise=1,
                  stride=(2, 2), pads=(0, 0, 1, 1)),
        conv_case("dw5x5_dilation2", 23, h=10, w=9, cin=4, cout=0, depthwise=1, k=(5, 5),
                  dil=(2, 2), pads=(4, 4, 4, 4)),
        conv_case("dw3x3_batch2_neg_zp", 24, n=2, h=5, w=4, cin=6, cout=0, depthwise=1,
                  pads=(1, 1, 1, 1), izp=-128, ozp=-5),
        conv_case("dw3x3_valid_even_w", 25, h=6, w=8, cin=4, cout=0, depthwise=1),
        conv_case("dw3x3_saturation", 26, h=5, w=5, cin=4, cout=0, depthwise=1,
                  pads=(1, 1, 1, 1), bias_scale=big, real=2.5, act=(-100, 90)),
        conv_case("dw3x3_banded_large", 28, h=40, w=48, cin=4, cout=0, depthwise=1,
                  pads=(1, 1, 1, 1)),
        conv_case("dw3x3_s2_banded_odd_c", 29, h=33, w=40, cin=5, cout=0, depthwise=1,
                  stride=(2, 2), pads=(0, 0, 1, 1), izp=7),
        conv_case("dw1d_k3_mult3", 27, h=1, w=12, cin=2, cout=0, depthwise=3, k=(1, 3),
                  pads=(0, 1, 0, 1)),
        dense_case("dense_per_tensor_odd", 30, batches=1, fin=37, fout=11, per_channel=False,
                   izp=-7, ozp=3),
        dense_case("dense_per_channel_batch3", 31, batches=3, fin=64, fout=12),
        dense_case("dense_no_bias_relu", 32, batches=2, fin=17, fout=6, bias=False, izp=9,
                   ozp=-128, act=(-128, 60)),
        dense_case("dense_per_tensor_batch2_k64", 34, batches=2, fin=64, fout=7,
                   per_channel=False, izp=-1, ozp=4),
        dense_case("dense_saturation", 33, batches=1, fin=8, fout=5, bias_scale=big, real=4.0),
        _bias_at_int32_edges(dense_case("dense_bias_wraps", 36, batches=2, fin=21, fout=9,
                                        izp=-128, per_channel=False)),
        _bias_at_int32_edges(conv_case("conv_generic_bias_wraps", 37, h=5, w=6, cin=3, cout=5,
                                       k=(2, 3), izp=127, path="conv_generic")),
        _bias_at_int32_edges(conv_case("conv_1x1_bias_wraps", 38, h=4, w=4, cin=9, cout=6,
                                       k=(1, 1), izp=-100, path="conv_1x1")),
        _bias_at_int32_edges(conv_case("dw_bias_wraps", 35, h=6, w=5, cin=5, cout=5,
                                       depthwise=1, pads=(1, 1, 1, 1), izp=90)),
        conv_case("grouped_conv_2_groups_3x3", 61, h=6, w=7, cin=6, cout=4, groups=2,
                  pads=(1, 1, 1, 1), izp=5, ozp=-3),
        conv_case("grouped_conv_4_groups_1x1_s2", 62, n=2, h=5, w=5, cin=8, cout=12,
                  groups=4, k=(1, 1), stride=(2, 2)),
        conv_case("grouped_conv_3_groups_dilated", 63, h=8, w=9, cin=9, cout=6, groups=3,
                  k=(2, 3), dil=(2, 2), pads=(1, 0, 1, 2), act=(-100, 90)),
        pool_case("max_pool_2x2_s2", 40, "max_pool", h=6, w=6, c=5, k=(2, 2), stride=(2, 2)),
        pool_case("max_pool_3x3_s2_same", 41, "max_pool", h=7, w=7, c=3, k=(3, 3),
                  stride=(2, 2), pads=(1, 1, 1, 1), act=(-50, 100)),
        pool_case("avg_pool_3x3_s1_same", 42, "avg_pool", h=5, w=6, c=4, k=(3, 3),
                  stride=(1, 1), pads=(1, 1, 1, 1)),
        pool_case("avg_pool_asym_clamp", 43, "avg_pool", n=2, h=7, w=5, c=3, k=(2, 3),
                  stride=(2, 1), pads=(0, 1, 1, 1), act=(-20, 20)),
        pool_case("global_avg_pool_kws", 44, "global_avg_pool", h=25, w=5, c=8, k=(1, 1),
                  stride=(1, 1)),
        # ONNX options: count_include_pad (padded taps worth the zero point), dilation,
        # ceil_mode (an extra output row/column whose window overhangs the padding).
        pool_case("avg_pool_include_pad", 45, "avg_pool", h=5, w=6, c=5, k=(3, 3),
                  stride=(1, 1), pads=(1, 1, 1, 1), include_pad=1, zp=-9),
        pool_case("avg_pool_include_pad_asym", 46, "avg_pool", n=2, h=6, w=5, c=8, k=(3, 2),
                  stride=(2, 2), pads=(2, 0, 1, 1), include_pad=1, zp=17),
        pool_case("avg_pool_dilated_ceil", 48, "avg_pool", h=9, w=9, c=4, k=(3, 2),
                  stride=(2, 2), dil=(2, 3), pads=(1, 0, 0, 2), ceil=(1, 1)),
        pool_case("avg_pool_ceil_include_pad", 49, "avg_pool", h=7, w=7, c=9, k=(3, 3),
                  stride=(2, 2), pads=(1, 1, 1, 1), ceil=(0, 1), include_pad=1, zp=-128),
        pool_case("max_pool_dilated_ceil", 39, "max_pool", h=9, w=9, c=6, k=(2, 3),
                  stride=(2, 2), dil=(3, 2), pads=(0, 1, 2, 0), ceil=(1, 0)),
        binary_case("add_elementwise", 50, "add", (1, 4, 5, 6), (1, 4, 5, 6),
                    _add_p("add", 0.05, -3, 0.11, 10, 0.12, -20), "effc_add_params"),
        binary_case("add_broadcast_channels_relu", 51, "add", (2, 3, 4, 5), (5,),
                    _add_p("add", 0.02, 0, 0.5, -128, 0.3, -128, (-128, 100)),
                    "effc_add_params"),
        # the flat loop (effc_add_sub_flat; the DSP bodies' SMMLAR form): both inputs
        # high-only (equal scales), a far smaller second scale (a large right shift), the
        # zero points at the ends of int8, and clamps inside int8
        binary_case("add_elementwise_equal_scales_relu", 57, "add", (1, 8, 8, 16),
                    (1, 8, 8, 16), _add_p("add", 0.1, -128, 0.1, 127, 0.25, -128, (-128, 127)),
                    "effc_add_params"),
        binary_case("add_elementwise_small_ratio_clamped", 58, "add", (2, 5, 7, 9), (2, 5, 7, 9),
                    _add_p("add", 0.5, 127, 0.0031, -128, 0.02, 5, (-100, 90)),
                    "effc_add_params"),
        binary_case("add_elementwise_fine_output", 59, "add", (1, 1, 30, 33), (1, 1, 30, 33),
                    _add_p("add", 0.013, -7, 0.021, 3, 0.0009, -1), "effc_add_params"),
        # the DSP bodies' assembly loop of an exact-half input (effc_add_flat_half): the
        # half first (its operands swapped), the other's right shift 1, an odd count (it
        # enters a pass at its second element) with the zero points at the ends of int8;
        # one element alone
        binary_case("add_elementwise_half_first_odd", 64, "add", (1, 3, 5, 7), (1, 3, 5, 7),
                    _add_p("add", 0.2, -128, 0.14, 127, 0.15, -30), "effc_add_params"),
        binary_case("add_single_element", 65, "add", (1,), (1,),
                    _add_p("add", 0.03, 5, 0.09, -7, 0.05, -3), "effc_add_params"),
        binary_case("sub_elementwise", 52, "sub", (3, 7), (3, 7),
                    _add_p("sub", 0.07, 5, 0.03, -9, 0.09, 1), "effc_add_params"),
        binary_case("sub_broadcast_rows", 53, "sub", (4, 1, 6), (1, 3, 6),
                    _add_p("sub", 0.2, -128, 0.2, -128, 0.1, 0), "effc_add_params"),
        binary_case("mul_broadcast_scalar", 54, "mul", (2, 3, 5), (1,),
                    {"input1_zero_point": 4, "input2_zero_point": -3, "output_zero_point": -10,
                     "output_multiplier": fp.quantize_multiplier(0.004)[0],
                     "output_shift": fp.quantize_multiplier(0.004)[1],
                     "activation_min": -128, "activation_max": 127}, "effc_mul_params"),
        binary_case("prelu_per_channel_alpha", 55, "prelu", (2, 3, 4, 5), (5,),
                    _prelu_p(0.05, -7, 0.01, 3, 0.03, 10), "effc_prelu_params"),
        binary_case("prelu_scalar_alpha_saturating", 56, "prelu", (3, 17), (1,),
                    _prelu_p(0.2, 30, 0.5, -100, 0.01, -128), "effc_prelu_params"),
        _softmax_case("softmax_rows3_depth12", 60, 3, 12, 0.1),
        _softmax_case("softmax_sharp_beta", 61, 2, 33, 0.25, beta=2.0),
        unary_case("lut_256", "lut", np.arange(-128, 128, dtype=np.int8),
                   "effc_lut_s8(@table, {n}, @x, y)", extra={"table": lut},
                   meta={"table": lut}),
        _requant_case("requantize_down", 70, 10, -3, 0.37),
        _requant_case("requantize_up_shift", 71, -128, 0, 1.7),
        _quantize_case("quantize_ties_and_specials", 0.05, -12),
        _dequantize_case("dequantize_all_values", 0.0371, 7),
        *fast_path_cases(),
        *dw_plane_cases(),
        *dw_walk_cases.dw_walk_cases(),
        *dw_walk_cases.dw_fill_cases(),
        *winograd_cases.int8_cases(),
        *mve_cases.int8_cases(),
        *record_cases.int8_cases(),
        *matrix_cases.int8_cases(),
    ]


def fast_path_cases() -> list[Case]:
    """Cases aimed at the DSP fast paths: four-pixel pointwise blocks (in place
    too), the single-multiply requantization (right shifts only) next to its
    fallback, the column-wise depthwise 3x3 and the 16-bit-lane pools."""
    def kws_dw(name: str, seed: int, izp: int = -128, **kw: Any) -> Case:
        return conv_case(name, seed, h=25, w=5, cin=8, cout=0, depthwise=1,
                         pads=(1, 1, 1, 1), izp=izp, ozp=-128, **kw)

    def pw(name: str, seed: int, cin: int, cout: int, **kw: Any) -> Case:
        return conv_case(name, seed, h=3, w=5, cin=cin, cout=cout, k=(1, 1), izp=-128,
                         ozp=-128, **kw)

    flat = pool_case("global_avg_pool_all_min_400_taps", 47, "global_avg_pool", h=20, w=20,
                     c=6, k=(1, 1), stride=(1, 1))
    flat = replace(flat, arrays={"input": np.full((1, 20, 20, 6), -128, np.int8)})
    return [
        _in_place(pw("conv1x1_in_place_quads", 80, 12, 12)),
        _in_place(pw("conv1x1_in_place_odd_k", 81, 6, 6)),
        _in_place(pw("conv1x1_in_place_mixed_shifts", 82, 8, 8, real=0.3)),
        _in_place(_requant_edges(pw("conv1x1_in_place_requant_edges", 83, 16, 16),
                                 big_bias=True)),
        _requant_edges(pw("conv1x1_quads_requant_edges_relu", 84, 16, 10,
                          act=(-128, 60)), big_bias=True),
        _in_place(_requant_edges(pw("conv1x1_in_place_requant_deep_shift", 93, 16, 16),
                                 big_bias=True, deep=True)),
        _requant_edges(conv_case("conv1x1_quads_requant_edges_zp127", 94, h=4, w=3, cin=8,
                                 cout=8, k=(1, 1), izp=127, ozp=127), big_bias=True),
        _requant_edges(conv_case("conv10x4_s2_requant_edges", 85, h=49, w=10, cin=1,
                                 cout=8, k=(10, 4), stride=(2, 2), pads=SAME_KWS,
                                 izp=-128, ozp=5), big_bias=True),
        _requant_edges(dense_case("dense_requant_edges", 86, batches=3, fin=64, fout=9,
                                  izp=-1), big_bias=True),
        _requant_edges(dense_case("dense_requant_deep_shift", 95, batches=2, fin=32, fout=9,
                                  izp=2), big_bias=True, deep=True),
        # the two-channel loops' column tails (pixels mod 4: one and two run one column at
        # a time, three the four-column loop with a dummy column): K not a multiple of 4,
        # odd channel counts (the layout's zero channel), zero points at the int8 limits
        _requant_edges(conv_case("conv1x1_tail_one_requant_edges", 105, h=5, w=5, cin=13,
                                 cout=7, k=(1, 1), izp=127, ozp=-128), big_bias=True),
        _per_tensor(conv_case("conv1x1_tail_two_clamp_per_tensor", 106, h=2, w=3, cin=20,
                              cout=9, k=(1, 1), izp=-128, ozp=127, act=(-50, 70))),
        _requant_edges(conv_case("conv1x1_one_pixel_k64", 107, h=1, w=1, cin=64, cout=64,
                                 k=(1, 1), izp=-128, ozp=-128), big_bias=True),
        _requant_edges(conv_case("conv1x1_two_pixels_clamp", 108, h=1, w=2, cin=6, cout=3,
                                 k=(1, 1), izp=-1, ozp=3, act=(-128, 20)), big_bias=True),
        _requant_edges(conv_case("conv1x1_three_pixels_deep_shift", 109, h=3, w=1, cin=18,
                                 cout=5, k=(1, 1), izp=5, ozp=-7), big_bias=True, deep=True),
        # 4-byte kernel rows (one word read, shifted over an edge): one and two channels,
        # images of 3 (the bytewise fallback) and 4 columns, kernel rows wholly in the
        # padding, a dilated height (the per-row path), zero points at the int8 limits
        _per_tensor(conv_case("conv2x4_rows_in_padding_zp127", 110, h=3, w=6, cin=1, cout=5,
                              k=(2, 4), pads=(2, 1, 2, 2), izp=127, ozp=-3)),
        _requant_edges(conv_case("conv3x2_two_channels_edges", 111, h=5, w=4, cin=2, cout=6,
                                 k=(3, 2), pads=(1, 1, 1, 1), izp=-128, ozp=4),
                       big_bias=True),
        conv_case("conv3x4_image_of_four_columns", 112, h=4, w=4, cin=1, cout=3, k=(3, 4),
                  stride=(1, 2), pads=(1, 2, 1, 1), izp=-128, ozp=127),
        conv_case("conv2x4_image_of_three_columns", 113, h=3, w=3, cin=1, cout=4, k=(2, 4),
                  pads=(0, 1, 1, 2), izp=100),
        conv_case("conv3x4_dilated_height", 114, h=7, w=6, cin=1, cout=3, k=(3, 4),
                  dil=(2, 1), pads=(2, 1, 2, 2), izp=-7),
        _in_place(kws_dw("dw3x3_in_place_kws", 87)),
        _in_place(_requant_edges(kws_dw("dw3x3_in_place_requant_edges", 88, izp=0,
                                        act=(-100, 100)), big_bias=True)),
        _in_place(_requant_edges(kws_dw("dw3x3_in_place_requant_deep_shift", 96, izp=0),
                                 big_bias=True, deep=True)),
        _in_place(kws_dw("dw3x3_in_place_mixed_shifts", 89, real=0.3)),
        conv_case("dw3x3_s1_one_row", 90, h=1, w=7, cin=4, cout=0, depthwise=1,
                  pads=(1, 1, 1, 1)),
        conv_case("dw3x3_s1_one_column", 97, h=9, w=1, cin=8, cout=0, depthwise=1,
                  pads=(1, 1, 1, 1), izp=-3),
        conv_case("dw3x3_s2_two_columns", 98, h=7, w=2, cin=8, cout=0, depthwise=1,
                  stride=(2, 2), pads=(1, 1, 1, 1), izp=11),
        # the walks' counted loops: every tail (outputs a column mod 3 at stride 1, mod 2
        # at stride 2), per-tensor and per-channel quantization, shifts at the limits
        conv_case("dw3x3_s1_tail_two", 99, h=5, w=6, cin=8, cout=0, depthwise=1,
                  pads=(1, 1, 1, 1), izp=7, ozp=-5),
        _requant_edges(conv_case("dw3x3_s1_tail_two_requant_edges", 100, h=8, w=3, cin=8,
                                 cout=0, depthwise=1, pads=(1, 1, 1, 1), izp=-2),
                       big_bias=True),
        _per_tensor(conv_case("dw3x3_s1_per_tensor_tail_one", 103, h=7, w=4, cin=8, cout=0,
                              depthwise=1, pads=(1, 1, 1, 1), izp=3, ozp=9)),
        conv_case("dw3x3_s2_tail_one", 101, h=9, w=5, cin=4, cout=0, depthwise=1,
                  stride=(2, 2), pads=(1, 1, 1, 1), izp=-20),
        _requant_edges(conv_case("dw3x3_s2_one_row_requant_edges", 102, h=2, w=9, cin=8,
                                 cout=0, depthwise=1, stride=(2, 2), pads=(1, 1, 1, 1)),
                       big_bias=True),
        _per_tensor(conv_case("dw3x3_s2_per_tensor_tail_zero", 104, h=8, w=7, cin=4, cout=0,
                              depthwise=1, stride=(2, 2), pads=(1, 1, 1, 1), izp=-60)),
        pool_case("avg_pool_full_rows_300_taps", 91, "avg_pool", h=30, w=10, c=9,
                  k=(30, 10), stride=(30, 10)),
        pool_case("avg_pool_kws", 92, "avg_pool", h=25, w=5, c=64, k=(25, 5),
                  stride=(25, 5)),
        pool_case("avg_pool_dilated_rows_of_six_taps", 96, "avg_pool", h=6, w=13, c=19,
                  k=(3, 6), stride=(2, 1), dil=(2, 2), pads=(1, 0, 1, 0)),
        flat,
    ]


def dw_plane_cases() -> list[Case]:
    """The DSP depthwise body's two-channel plane fill and column walks: widths 1-7
    (the fill's odd pixel, single pair and two-pair steps), odd channel counts (the
    last channel alone), every stride-1 tail (outputs a column mod 6) and stride-2
    tail, padding on each side alone, zero points at the int8 limits, per-tensor
    and per-channel quantization, shifts at the limits."""
    pads = [(1, 1, 1, 1), (1, 1, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1),
            (0, 1, 1, 0), (1, 0, 0, 1)]
    zps = [(-128, 127), (127, -128), (-128, -128), (127, 127), (0, -1), (-1, 0), (5, -7)]
    cases = []
    for i, w in enumerate(range(1, 8)):
        izp, ozp = zps[i]
        cin = (3, 5, 7, 2, 9, 1, 6)[i]
        h = 8 + i - pads[i][0] - pads[i][2]  # 6 + i output rows
        s1 = conv_case(f"dw3x3_s1_plane_w{w}", 200 + i, h=h, w=w, cin=cin, cout=0,
                       depthwise=1, pads=pads[i], izp=izp, ozp=ozp)
        s2 = conv_case(f"dw3x3_s2_plane_w{w}", 210 + i, h=5 + i, w=w + 1, cin=cin, cout=0,
                       depthwise=1, stride=(2, 2), pads=pads[-1 - i], izp=ozp, ozp=izp)
        if i % 3 == 1:
            s1, s2 = _per_tensor(s1), _requant_edges(s2, big_bias=True)
        elif i % 3 == 2:
            s1, s2 = _requant_edges(s1, big_bias=True), _per_tensor(s2)
        cases += [s1, s2]
    tall = conv_case("dw3x3_s1_plane_banded_odd_c", 220, h=40, w=20, cin=3, cout=0,
                     depthwise=1, pads=(1, 1, 1, 1), izp=-128, ozp=127)
    return [*cases, tall, _in_place(_requant_edges(
        conv_case("dw3x3_s1_plane_in_place_w3", 221, h=17, w=3, cin=5, cout=0, depthwise=1,
                  pads=(1, 1, 1, 1), izp=127, ozp=-128), big_bias=True))]


def int8_oracle(case: Case) -> np.ndarray:
    """The expected output of an int8 case, from effc.quant.int8."""
    a, m = case.arrays, case.meta
    if case.kind in ("conv", "dw"):
        return q8.conv_int8(
            a["input"], a["filter"], a["bias"], strides=m["strides"], dilations=m["dil"],
            pads=[m["pads"][0], m["pads"][1], m["pads"][2], m["pads"][3]], group=m["group"],
            input_zero_point=m["izp"], output_zero_point=m["ozp"], multiplier=a["multiplier"],
            shift=a["shift"], activation_min=m["act"][0], activation_max=m["act"][1])
    if case.kind == "dense":
        return q8.dense_int8(
            a["input"], a["weights"], a["bias"], input_zero_point=m["izp"],
            output_zero_point=m["ozp"], multiplier=a["multiplier"], shift=a["shift"],
            activation_min=m["act"][0], activation_max=m["act"][1])
    if case.kind == "max_pool":
        return q8_pool.max_pool_int8(a["input"], m["k"], m["strides"], list(m["pads"]),
                                dilations=m["dil"], out_spatial=m["out"],
                                activation_min=m["act"][0], activation_max=m["act"][1])
    if case.kind == "avg_pool":
        return q8_pool.avg_pool_int8(a["input"], m["k"], m["strides"], list(m["pads"]),
                                dilations=m["dil"], out_spatial=m["out"],
                                count_include_pad=bool(m["include_pad"]), zero_point=m["zp"],
                                activation_min=m["act"][0], activation_max=m["act"][1])
    if case.kind == "global_avg_pool":
        return q8_pool.global_avg_pool_int8(a["input"], activation_min=m["act"][0],
                                       activation_max=m["act"][1])
    if case.kind in ("add", "sub"):
        p = m["params"]
        ap = q8.AddParams(*(p[k] for k in (
            "input1_zero_point", "input2_zero_point", "output_zero_point", "left_shift",
            "input1_multiplier", "input1_shift", "input2_multiplier", "input2_shift",
            "output_multiplier", "output_shift")))
        fn = q8.add_int8 if case.kind == "add" else q8.sub_int8
        return fn(a["a"], a["b"], ap, activation_min=p["activation_min"],
                  activation_max=p["activation_max"])
    if case.kind == "prelu":
        return q8.prelu_int8(a["a"], a["b"], q8.PreluParams(**m["params"]))
    if case.kind == "mul":
        p = m["params"]
        return q8.mul_int8(a["a"], a["b"], input1_zero_point=p["input1_zero_point"],
                           input2_zero_point=p["input2_zero_point"],
                           output_zero_point=p["output_zero_point"],
                           multiplier=p["output_multiplier"], shift=p["output_shift"],
                           activation_min=p["activation_min"],
                           activation_max=p["activation_max"])
    if case.kind == "softmax":
        return q8.softmax_int8(a["x"], m["params"])
    if case.kind == "lut":
        return q8.apply_lut(a["x"], m["table"])
    if case.kind == "requantize":
        return q8.requantize_int8(a["x"], input_zero_point=m["input_zero_point"],
                                  output_zero_point=m["output_zero_point"],
                                  multiplier=m["multiplier"], shift=m["shift"])
    if case.kind == "quantize":
        return q8.quantize(a["x"], m["scale"], m["zp"])
    if case.kind == "dequantize":
        return q8.dequantize(a["x"], m["scale"], m["zp"])
    expected = ops_int8_oracle(case)
    if expected is None:
        raise AssertionError(f"no oracle for {case.kind}")
    return expected


CASES = int8_cases() + ops_int8_cases() + prepared_variants(int8_cases())


@lru_cache(maxsize=1)
def host_results() -> list[tuple[int, int, np.ndarray]]:
    return run_host(CASES)


@pytest.mark.parametrize("idx", range(len(CASES)), ids=[c.name for c in CASES])
def test_int8_kernel_matches_tflm_model(idx: int) -> None:
    case = CASES[idx]
    rc, _, y = host_results()[idx]
    assert rc == 0, f"{case.name}: kernel returned {rc}"
    expected = int8_oracle(case)
    assert y.shape == expected.shape
    if case.out_dtype == np.float32:
        np.testing.assert_array_equal(y.view(np.uint32), expected.view(np.uint32))
    else:
        bad = np.argwhere(y != expected)
        assert bad.size == 0, (f"{case.name}: {len(bad)} of {y.size} differ, first at "
                               f"{bad[0].tolist()}: got {y[tuple(bad[0])]}, "
                               f"want {expected[tuple(bad[0])]}")


def test_edge_cases_exercise_saturation_and_ranges() -> None:
    """The table must really hit the clamps (else 'saturation' tests nothing)."""
    by_name = {c.name: r[2] for c, r in zip(CASES, host_results(), strict=True)}
    sat = by_name["conv_saturation"]
    assert (sat == 127).any() and (sat == -128).any()
    assert set(np.unique(by_name["dw3x3_saturation"])) >= {-100, 90}
    assert (by_name["softmax_sharp_beta"] == -128).any()
    for name in ("conv3x3_s1_same", "dw3x3_s1_p1_kws", "dense_per_channel_batch3"):
        y = by_name[name]
        assert np.unique(y).size > min(40, y.size // 2), f"{name}: outputs collapse to {np.unique(y)}"


# ------------------------------------------------------- requantization math

_EDGE = np.array([0, 1, -1, 2, -2, 3, -3, 127, -128, 1 << 20, -(1 << 20), (1 << 30) + 1,
                  -(1 << 30) - 1, 2**31 - 1, -(2**31), -(2**31) + 1, 12345678, -87654321,
                  (1 << 24) + (1 << 23), -((1 << 24) + (1 << 23))], dtype=np.int64)


def _requant_lib() -> tuple[Any, Any]:
    import cffi

    from tests.conftest_c import RUNTIME_C, cache_dir, digest

    ffi = cffi.FFI()
    ffi.cdef("""int32_t t_mbqm(int32_t, int32_t, int32_t);
                int32_t t_fast(int32_t, int32_t, int32_t);
                int32_t t_srdhm(int32_t, int32_t);
                int32_t t_rdbp(int32_t, int32_t);""")
    src = """#include "effc_requant.h"
int32_t t_mbqm(int32_t x, int32_t m, int32_t s) {
    return effc_multiply_by_quantized_multiplier(x, m, s); }
int32_t t_fast(int32_t x, int32_t m, int32_t s) {
    return effc_requant_apply(x, effc_requant_make(m, s)); }
int32_t t_srdhm(int32_t a, int32_t b) { return effc_srdhm(a, b); }
int32_t t_rdbp(int32_t x, int32_t e) { return effc_rounding_divide_by_pot(x, e); }
"""
    import subprocess

    folder = cache_dir() / f"requant-{digest(src)}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "t.c").write_text(src)
    so = folder / "librq.so"
    if not so.exists():
        subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-shared",
                        "-fPIC", f"-I{RUNTIME_C}", str(folder / "t.c"), "-o", str(so)],
                       check=True)
    return ffi, ffi.dlopen(str(so))


def test_requant_helpers_match_fixedpoint_py() -> None:
    _, lib = _requant_lib()
    mults = [0, 1 << 30, (1 << 30) + 1, 2**31 - 1, 1518500250, 1073741825]
    for m in mults:
        for s in (-31, -20, -8, -1, 0, 1, 3):
            for x in _EDGE:
                want = int(fp.multiply_by_quantized_multiplier(x, m, s))
                assert lib.t_mbqm(int(x), m, s) == want, (x, m, s)
                assert lib.t_fast(int(x), m, s) == want, (x, m, s)
    for a in _EDGE:
        for b in _EDGE:
            assert lib.t_srdhm(int(a), int(b)) == int(
                fp.saturating_rounding_doubling_high_mul(a, b)), (a, b)
        for e in (0, 1, 2, 5, 30, 31):
            assert lib.t_rdbp(int(a), e) == int(fp.rounding_divide_by_pot(a, e)), (a, e)
    assert lib.t_srdhm(-(2**31), -(2**31)) == 2**31 - 1


def test_negative_ties_round_away_from_zero() -> None:
    _, lib = _requant_lib()
    assert lib.t_rdbp(-6, 2) == -2  # -1.5 -> -2
    assert lib.t_rdbp(-5, 1) == -3  # -2.5 -> -3
    assert lib.t_rdbp(5, 1) == 3
    assert lib.t_rdbp(-7, 2) == -2  # -1.75
    assert lib.t_rdbp(-9, 3) == -1  # -1.125


# ---------------------------------------------------------------- build hygiene

ARM_M4 = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]


@pytest.mark.parametrize(("compiler", "flags"), [
    ("gcc", ["-O2"]),
    ("gcc", ["-O0", "-ffreestanding"]),
    ("arm-none-eabi-gcc", [*ARM_M4, "-O2"]),
    ("arm-none-eabi-gcc", [*ARM_M4, "-O0", "-ffreestanding"]),
    ("arm-none-eabi-gcc", [*ARM_M4, "-Os", "-DEFFC_NO_DSP"]),
    ("arm-none-eabi-gcc", ["-mcpu=cortex-m0plus", "-mthumb", "-O2"]),  # no DSP, no FPU
], ids=["host-O2", "host-O0", "m4-O2", "m4-O0", "m4-Os-portable", "m0plus"])
def test_runtime_compiles_without_warnings(compiler: str, flags: list[str],
                                           tmp_path: Any) -> None:
    import subprocess

    from tests.conftest_c import RUNTIME_C, require_tool, runtime_sources

    require_tool(compiler)
    for src in runtime_sources():
        proc = subprocess.run([compiler, "-std=c99", "-Wall", "-Wextra", "-Werror", *flags,
                               f"-I{RUNTIME_C}", "-c", str(src), "-o",
                               str(tmp_path / (src.stem + ".o"))], capture_output=True, text=True)
        assert proc.returncode == 0, f"{src.name} with {compiler} {flags}:\n{proc.stderr}"

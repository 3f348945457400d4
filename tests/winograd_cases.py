"""Kernel cases for effc_winograd_s8 / effc_winograd_f32 (tests/conftest_c.py).

The int8 cases are ordinary conv cases (kind "conv", so their oracle is the
*direct* convolution of effc.quant.int8) whose call goes through the
Winograd kernel with the weights transformed and laid out by the code
generator's own helpers: the kernel must give the direct convolution's bytes.
They join test_runtime_c.CASES, so they also run under ASan/UBSan and on
every QEMU board (portable and DSP bodies).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from effc.codegen.c.kernels import winograd_weights
from effc.quant.winograd import transform_weights
from tests.conftest_c import Case, conv_case

WINOGRAD_S8 = "effc_winograd_s8(&s, &p, &q, &in, @input, &f, @transformed, @bias, &o, y)"
WINOGRAD_F32 = ("effc_winograd_f32(&s, &p, {tile}, &in, @input, &f, @transformed, @bias, "
                "&o, y)")


def winograd_s8(case: Case, x: np.ndarray | None = None, w: np.ndarray | None = None
                ) -> Case:
    """A 3x3 (1x3) stride-1 conv case run through effc_winograd_s8, optionally with
    its input or weights replaced (extreme values)."""
    arrays = dict(case.arrays)
    if x is not None:
        arrays["input"] = x.astype(np.int8)
    if w is not None:
        arrays["filter"] = w.astype(np.int8)
    wt = arrays["filter"]
    ohwi = wt[:, 0] if wt.shape[1] == 1 else wt  # a 1x3 kernel is 1-D
    arrays["transformed"] = winograd_weights(transform_weights(ohwi, 2, True), True)
    return replace(case, name=case.name, arrays=arrays, call=WINOGRAD_S8,
                   scratch="effc_winograd_s8_scratch_size(&f)")


def _full(shape: tuple[int, ...], value: int) -> np.ndarray:
    return np.full(shape, value, np.int8)


def int8_cases() -> list[Case]:
    big = 1 << 30
    base = conv_case("winograd_s8_16x16_c32", 100, h=16, w=16, cin=32, cout=32,
                     pads=(1, 1, 1, 1), izp=-128, ozp=-128)
    extreme = conv_case("winograd_s8_all_min_max_weights", 104, h=5, w=7, cin=12, cout=5,
                        pads=(1, 1, 1, 1), izp=127, ozp=0, real=3e-5)
    ext_shape = extreme.arrays["filter"].shape
    signs = np.where(np.arange(ext_shape[0]) % 2 == 0, 127, -128)[:, None, None, None]
    return [
        winograd_s8(base),
        winograd_s8(conv_case("winograd_s8_odd_sizes_no_pad", 101, h=7, w=9, cin=5, cout=7,
                              izp=3, ozp=-7)),
        winograd_s8(conv_case("winograd_s8_asym_pads_relu", 102, h=6, w=5, cin=8, cout=6,
                              pads=(2, 0, 1, 2), izp=-50, ozp=20, act=(20, 100))),
        winograd_s8(conv_case("winograd_s8_batch2_pad_only_right", 103, n=2, h=4, w=3,
                              cin=3, cout=4, pads=(0, 0, 2, 2), bias=False)),
        # x - zp = -255 everywhere and weights all 127 / all -128: the bound's corner
        winograd_s8(extreme, x=_full(extreme.arrays["input"].shape, -128),
                    w=np.broadcast_to(signs, ext_shape)),
        winograd_s8(conv_case("winograd_s8_all_127_zp_min", 105, h=4, w=4, cin=4, cout=3,
                              pads=(1, 1, 1, 1), izp=-128, real=2e-4),
                    x=_full((1, 4, 4, 4), 127)),
        winograd_s8(conv_case("winograd_s8_saturation", 106, h=5, w=6, cin=7, cout=9,
                              pads=(1, 1, 1, 1), bias_scale=big, real=3.0)),
        winograd_s8(conv_case("winograd_s8_1x1_output", 107, h=3, w=3, cin=6, cout=5)),
        winograd_s8(conv_case("winograd_s8_conv1d", 108, h=1, w=11, cin=6, cout=5,
                              k=(1, 3), pads=(0, 1, 0, 1), izp=9, ozp=-4)),
        winograd_s8(conv_case("winograd_s8_conv1d_odd_valid", 109, h=1, w=8, cin=9, cout=3,
                              k=(1, 3), pads=(0, 0, 0, 0))),
        winograd_s8(conv_case("winograd_s8_deep_shift", 110, h=6, w=6, cin=4, cout=4,
                              pads=(1, 1, 1, 1), real=2e-8, bias_scale=big)),
    ]


def _f32_case(name: str, seed: int, tile: int, *, h: int, w: int, cin: int, cout: int,
              pads: tuple[int, int, int, int], act: tuple[float, float] = (-3e38, 3e38),
              one_d: bool = False) -> Case:
    rng = np.random.default_rng(seed)
    kh = 1 if one_d else 3
    x = rng.normal(size=(1, h, w, cin)).astype(np.float32)
    wt = rng.normal(size=(cout, kh, 3, cin)).astype(np.float32)
    b = rng.normal(size=cout).astype(np.float32)
    u = transform_weights(wt[:, 0] if one_d else wt, tile, False)
    oh, ow = h + pads[0] + pads[2] - kh + 1, w + pads[1] + pads[3] - 2
    p: dict[str, Any] = {"stride_h": 1, "stride_w": 1, "pad_top": pads[0],
                         "pad_left": pads[1], "dilation_h": 1, "dilation_w": 1,
                         "activation_min": act[0], "activation_max": act[1]}
    dims = {"in": (1, h, w, cin), "f": (cout, kh, 3, cin), "o": (1, oh, ow, cout)}
    return Case(name, "winograd_f32",
                {"input": x, "filter": wt, "bias": b,
                 "transformed": winograd_weights(u, False)},
                [("effc_conv_f32_params", "p", p),
                 *[("effc_dims", k, dict(zip("nhwc", v, strict=True))) for k, v in dims.items()]],
                WINOGRAD_F32.format(tile=tile), (1, oh, ow, cout), out_dtype=np.float32,
                scratch=f"effc_winograd_f32_scratch_size({tile}, &f)",
                meta={"stride": (1, 1), "pads": pads, "dil": (1, 1), "act": act, "group": 1})


def float_cases() -> list[Case]:
    return [
        _f32_case("winograd_f32_f4_same", 120, 4, h=9, w=10, cin=6, cout=5, pads=(1, 1, 1, 1)),
        _f32_case("winograd_f32_f2_asym_relu", 121, 2, h=7, w=6, cin=3, cout=4,
                  pads=(0, 2, 1, 0), act=(0.0, 3e38)),
        _f32_case("winograd_f32_f4_small_output", 122, 4, h=3, w=4, cin=5, cout=3,
                  pads=(0, 0, 0, 0)),
        _f32_case("winograd_f32_f4_conv1d", 123, 4, h=1, w=13, cin=4, cout=6,
                  pads=(0, 1, 0, 1), one_d=True),
        _f32_case("winograd_f32_f2_conv1d_clip", 124, 2, h=1, w=7, cin=2, cout=3,
                  pads=(0, 0, 0, 2), act=(-1.0, 1.0), one_d=True),
    ]

"""The firmware links only the kernel variants its model reaches
(effc/codegen/c/kernel_set.py), and ``--flash-budget`` bounds the image that
``--optimize speed`` builds (effc/codegen/c/target.py). That the general paths
taking over from a left-out variant compute the same bytes is pinned by
tests/test_qemu_kernels.py (the ``-omitted`` build)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from effc.codegen.c.kernel_set import (
    DW_D_MAX,
    DW_K_MAX,
    DW_NARROW_PW,
    DW_OUT_STRIDE_MAX,
    dw_shift_defines,
    dw_stride_defines,
    firmware_cflags,
    firmware_defines,
    relu_defines,
    rq_shift_defines,
)
from effc.codegen.c.kernels import Call
from effc.codegen.c.layouts import PAIR8, S8, WIDE2, WIDE4, CTarget, rq_shift
from effc.compiler import CompileOptions, compile_model
from effc.errors import EffcError
from effc.ir import Tensor
from tests.c_models import model_path
from tests.conftest_c import RUNTIME_C, require_tool

ALL = {"WIDE2", "WIDE4", "CLAMP", "CONV3X3", "CONV_COLUMNS", "DW_S2", "DW_NARROW", "DW_S1"}
#: code only layers the KWS DS-CNN never has would reach
KWS_UNREACHED = ("effc_mm_1x4_s8_clamp", "effc_mm_2x4_wide_clamp", "effc_mm_2x1_wide_clamp",
                 "effc_im2col_3x3", "effc_conv_3x3_s8", "effc_dw_walk_s2")
WIDE_CODE = ("effc_mm_2x4_wide", "effc_mm_2x1_wide", "effc_mm_widen_groups_x1", "effc_mm_4x1_wide")


def _omitted(calls: list[Call]) -> set[str]:  # the -D flags, by variant
    return {d.removeprefix("-DEFFC_OMIT_").removesuffix("=1") for d in firmware_defines(calls)}


def _conv(macro: str = "conv_s8", k: int = 1, stride: int = 1, layout: int = S8,
          lo: int = -128, hi: int = 127, cin: int = 8) -> Call:
    return Call(macro, "n", "Conv", {"kh": k, "kw": k, "stride_h": stride, "stride_w": stride,
                                      "layout": layout, "activation_min": lo,
                                      "activation_max": hi, "filter_dims": [8, k, k, cin]})


def _dw(out_w: int, stride: int = 1, dilation: int = 1, c: int = 64) -> Call:
    fields = {"kh": 3, "kw": 3, "stride_h": stride, "stride_w": stride,
              "dilation_h": dilation, "dilation_w": dilation, "output_dims": [1, 25, out_w, c],
              "activation_min": -128, "activation_max": 127}
    return Call("dw_conv_s8", "n", "Conv", fields)


def test_defines_leave_out_only_what_no_call_reaches() -> None:
    assert _omitted([]) == ALL
    assert _omitted([_conv()]) == ALL
    assert _omitted([_conv(layout=WIDE2)]) == ALL - {"WIDE2"}
    assert _omitted([_conv("dense_s8", layout=WIDE4)]) == ALL - {"WIDE4"}
    assert _omitted([_conv(lo=-5)]) == ALL - {"CLAMP"}  # a ReLU's zero point
    assert _omitted([_conv(hi=100)]) == ALL - {"CLAMP"}
    assert _omitted([_conv(k=3)]) == ALL - {"CONV3X3"}
    assert _omitted([_conv("winograd_s8", k=3)]) == ALL - {"CONV3X3"}  # conservative
    assert _omitted([_conv("dw_conv_s8", k=3)]) == ALL  # the depthwise walk is not im2col
    assert _omitted([_conv("dw_conv_s8", k=3, stride=2)]) == ALL - {"DW_S2"}
    assert _omitted([_conv(k=3, stride=2)]) == ALL - {"CONV3X3"}  # not a depthwise
    # column images: a WIDE2 conv with 4-byte kernel rows (10x4 on one channel, 2x2 on two)
    rows4 = [Call("conv_s8", "n", "Conv", {"layout": layout, "filter_dims": [8, 10, kw, cin],
                                           "dilation_h": 1, "dilation_w": dil})
             for layout, kw, cin, dil in ((WIDE2, 4, 1, 1), (WIDE2, 2, 2, 1), (S8, 4, 1, 1),
                                          (WIDE2, 4, 2, 1), (WIDE2, 4, 1, 2))]
    assert [_omitted([c]) for c in rows4] == [ALL - {"WIDE2", "CONV_COLUMNS"}] * 2 + [ALL] + \
        [ALL - {"WIDE2"}] * 2
    # the stride-1 walks: narrow planes (output width + 2 <= 8 columns, not at size)
    # and any others
    dws = [_dw(6), _dw(7), _dw(6, dilation=2), _dw(6, stride=2)]
    assert [_omitted([c]) for c in dws] == [ALL - {"DW_NARROW"}, ALL - {"DW_S1"}, ALL,
                                            ALL - {"DW_S2"}]
    assert _omitted(dws[:2]) == ALL - {"DW_NARROW", "DW_S1"}
    assert {d.removeprefix("-DEFFC_OMIT_").removesuffix("=1")
            for d in firmware_defines(dws[:1], size=True)} == ALL - {"DW_S1"}
    # float clamps are not int8 clamps; a fused call's nested fields count
    assert _omitted([Call("conv_f32", "n", "Conv", {"activation_min": 0.0})]) == ALL
    fused = Call("conv_add_s8", "n", "Conv", {"add": {"activation_min": 3}})
    assert _omitted([fused]) == ALL - {"CLAMP"}


def test_size_builds_at_os_only_where_inner_loops_are_assembly() -> None:
    calls = [_conv(lo=0)]
    defines = firmware_defines(calls)
    merge = "-fmerge-all-constants"
    assert firmware_cflags(calls, CTarget("cortex-m4", 1 << 20, "size")) == [*defines, "-Os",
                                                                             merge]
    assert firmware_cflags(calls, CTarget("cortex-m4", 1 << 20, "speed")) == defines
    assert firmware_cflags(calls, CTarget("cortex-m55", 1 << 20, "size")) == [*defines,
                                                                              merge]  # Helium C
    assert firmware_cflags(calls, None) == defines
    # a --flash-budget image (any form) merges its constants too, at -O2
    budget = firmware_cflags(calls, CTarget("cortex-m4", 1 << 20, "speed", widen=frozenset()))
    assert merge in budget and "-Os" not in budget


def test_speed_builds_unroll_the_two_channel_loop_only_without_a_budget() -> None:
    wide, unroll = [_conv(layout=WIDE2)], "-DEFFC_MM_2X4_UNROLL=16"
    defines, one = firmware_defines(wide), "-DEFFC_MM_2X4_ONE_PASS=1"
    quads = "-DEFFC_MM_2X4_QUADS=1"
    assert firmware_cflags(wide, CTarget("cortex-m4", 1 << 20, "speed")) == [*defines, unroll,
                                                                              quads, one]
    assert firmware_cflags(wide, CTarget("cortex-m7", 1 << 20, "speed")) == [*defines, unroll,
                                                                              quads, one]
    assert unroll not in firmware_cflags(wide, CTarget("cortex-m4", 1 << 20, "size"))
    budget = firmware_cflags(wide, CTarget("cortex-m4", 1 << 20, "speed", widen=frozenset({0})))
    assert unroll not in budget and quads not in budget  # --flash-budget: the code stays small
    compact = "-DEFFC_DW_COMPACT=1"  # the depthwise body without its speed-only extras
    assert compact in budget and compact not in firmware_cflags(wide, CTarget("cortex-m4",
                                                                             1 << 20, "speed"))
    assert unroll not in firmware_cflags(wide, CTarget("cortex-m55", 1 << 20, "speed"))
    assert unroll not in firmware_cflags([_conv()], CTarget("cortex-m4", 1 << 20, "speed"))
    assert unroll not in firmware_cflags(wide, None)


def test_speed_builds_leave_the_loop_test_out_only_when_every_wide2_k_fits_one_pass() -> None:
    """EFFC_MM_2X4_ONE_PASS: every WIDE2 layer's groups (k / 4 rounded up, then to even)
    are at most 17 (the first group and one pass of 16: k <= 64); a longer k needs the loop
    test."""
    speed, one = CTarget("cortex-m4", 1 << 20, "speed"), "-DEFFC_MM_2X4_ONE_PASS=1"
    assert one in firmware_cflags([_conv(layout=WIDE2, cin=64)], speed)  # KWS: 16 groups
    assert one in firmware_cflags([_conv(layout=WIDE2, cin=40), _conv(cin=400)], speed)
    assert one not in firmware_cflags([_conv(layout=WIDE2, cin=65)], speed)  # 18 groups
    assert one not in firmware_cflags([_conv(layout=WIDE2, k=3, cin=8)], speed)  # k = 72
    assert one not in firmware_cflags([_conv(layout=WIDE2, cin=8),
                                       _conv(layout=WIDE2, cin=136)], speed)
    assert one not in firmware_cflags([_conv(layout=WIDE2, cin=8)],
                                      CTarget("cortex-m4", 1 << 20, "speed", widen=frozenset({0})))


def test_full_step_define_needs_one_step_for_every_full_form_layer() -> None:
    """EFFC_MM_2X4_FULL_STEP=S: the one-pass stack build's full form (16 groups: k 57..64)
    stores at immediate offsets when every such layer's output columns are S bytes apart
    (a pixel's channels; with column images also an image row's), its channel count even
    and 3 S <= 4095; layers of other k do not count."""
    speed = CTarget("cortex-m4", 1 << 20, "speed")

    def step(calls: list[Call], target: CTarget | None = speed) -> list[str]:
        return [f for f in firmware_cflags(calls, target) if "FULL_STEP" in f]

    def conv(cout: int, cin: int = 64, kh: int = 1, kw: int = 1, ow: int = 5,
             layout: str = WIDE2) -> Call:
        return Call("conv_s8", "n", "Conv", {"layout": layout, "filter_dims": [cout, kh, kw, cin],
                                              "output_dims": [1, 25, ow, cout], "dilation_h": 1,
                                              "dilation_w": 1})

    dense = Call("dense_s8", "n", "Gemm", {"layout": WIDE2, "batches": 4, "in_features": 60,
                                           "out_features": 64})
    assert step([conv(64)]) == ["-DEFFC_MM_2X4_FULL_STEP=64"]  # KWS's pointwise
    assert step([conv(64), conv(64, cin=60), dense]) == ["-DEFFC_MM_2X4_FULL_STEP=64"]
    assert step([conv(64), conv(32)]) == []  # two steps: the loop takes each column's
    assert step([conv(64), conv(32, cin=40)]) == ["-DEFFC_MM_2X4_FULL_STEP=64"]  # 10 groups
    # KWS's first conv (10x4 on one channel, column images): 64 and 5 * 64 bytes apart
    assert step([conv(64, cin=1, kh=10, kw=4)]) == []
    assert step([conv(64, cin=1, kh=16, kw=4)]) == []  # 16 groups: steps 64 and 320
    assert step([conv(64, cin=1, kh=16, kw=4, ow=1)]) == ["-DEFFC_MM_2X4_FULL_STEP=64"]
    assert step([conv(7)]) == []  # an odd channel count: the dummy row
    assert step([conv(1364)]) == ["-DEFFC_MM_2X4_FULL_STEP=1364"]  # 3 S = 4092
    assert step([conv(1366)]) == []  # 4098: past STRH's offset
    assert step([conv(64), conv(64, cin=136)]) == []  # no one pass: no stack build
    assert step([conv(64)], CTarget("cortex-m4", 1 << 20, "size")) == []
    assert step([conv(64)], CTarget("cortex-m4", 1 << 20, "speed", widen=frozenset({0}))) == []
    # the --flash-budget compact form (kernel_set.compact_step_defines): its unrolled loop
    # stores every layer at the step, so every PAIR8 layer counts, at any k, and column
    # images (left out there) do not
    compact = CTarget("cortex-m4", 1 << 20, "speed", widen=frozenset({0, 1}), form="compact")

    def packed(cout: int, cin: int = 64, kh: int = 1, kw: int = 4) -> Call:
        return conv(cout, cin, kh, kw, layout=PAIR8)

    kws = [packed(64, cin=1, kh=10), packed(64, kw=1)]  # the first conv and a pointwise
    assert step(kws, compact) == ["-DEFFC_MM_2X4_FULL_STEP=64"]
    assert step([packed(64, cin=136, kw=1)], compact) == ["-DEFFC_MM_2X4_FULL_STEP=64"]
    assert step([packed(64, kw=1), packed(32, cin=40, kw=1)], compact) == []  # two steps
    assert step([packed(6, kw=1), packed(7, kw=1)], compact) == []  # an odd channel count
    assert step([packed(1366, kw=1)], compact) == []
    lean = CTarget("cortex-m4", 1 << 20, "speed", widen=frozenset({0, 1}), form="lean")
    # the lean form's stack loop stores at the step in its 16-group form alone
    assert step([packed(64, kw=1), packed(32, cin=40, kw=1)], lean) == [
        "-DEFFC_MM_2X4_FULL_STEP=64"]


def _symbols(elf: Path) -> set[str]:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[-1] for line in out.splitlines()}


def _kws(tmp_path: Path, folder: str, **options: object):
    return compile_model(model_path("kws_ref_model"), tmp_path / folder,
                         CompileOptions(board="mps2-an386", **options))


def _floor(call: Call, zp: int, lo: int) -> Call:
    return Call(call.macro, call.node, call.op, call.fields | {"output_zero_point": zp,
                                                             "activation_min": lo})


def _shift(call: Call, k: int) -> Call:
    return Call(call.macro, call.node, call.op, call.fields | {"rq_shift": k})


def test_rq_shift_define_needs_every_wide2_layer_shifted_alike_and_floored() -> None:
    wide = _floor(_conv(layout=WIDE2), -128, -128)
    assert rq_shift_defines([]) == []
    assert rq_shift_defines([_shift(wide, 9), _shift(wide, 9)]) == ["-DEFFC_WIDE2_RQ_SHIFT=9"]
    assert rq_shift_defines([_shift(wide, 9), _shift(wide, 10)]) == []  # one K a firmware
    assert rq_shift_defines([_shift(wide, 9), wide]) == []  # records of today's form
    assert rq_shift_defines([_shift(wide, 0)]) == []
    assert rq_shift_defines([_shift(wide, 9), _shift(_floor(wide, 5, -128), 9)]) == []
    # other layouts do not count
    assert rq_shift_defines([_shift(wide, 9), _conv(lo=-128),
                             _conv("dense_s8", layout=WIDE4)]) == ["-DEFFC_WIDE2_RQ_SHIFT=9"]


def _layer(name: str, shifts: list[int], zp: int = -128, weights: int = 127) -> tuple[
        Call, dict[str, Tensor]]:
    """A 1x1 WIDE2 conv of len(shifts) channels x 16 inputs, activation_min -128: floored
    at its output zero point zp = -128."""
    n = len(shifts)
    w = np.random.default_rng(n).integers(-weights, weights + 1, (n, 1, 1, 16)).astype(np.int8)
    tensors = {f"{name}_w": Tensor(f"{name}_w", w.shape, "int8", data=w),
               f"{name}_b": Tensor(f"{name}_b", (n,), "int32",
                                   data=np.arange(n, dtype=np.int32) * 100)}
    call = Call("conv_s8", name, "Conv", {
        "layout": WIDE2, "filter_dims": [n, 1, 1, 16], "bias": f"{name}_b",
        "multiplier": [1 << 30] * n, "shift": shifts, "input_zero_point": -128,
        "output_zero_point": zp, "activation_min": -128, "activation_max": 127},
        weights=[f"{name}_w"])
    return call, tensors


def test_rq_shift_is_the_least_k_every_wide2_layer_takes() -> None:
    speed = CTarget("cortex-m4", 1 << 20)
    a, ta = _layer("a", [-5, -6, -8, -7])
    b, tb = _layer("b", [-4, -5])
    assert rq_shift([a, b], ta | tb, speed) == 9  # the largest s is 8
    assert rq_shift([a, b], ta | tb, None) == 0
    assert rq_shift([a, b], ta | tb, CTarget("cortex-m4", 1 << 20, widen=frozenset({0}))) == 0
    assert rq_shift([a, _conv(lo=-128)], ta, speed) == 9  # int8 rows do not count
    linear, tl = _layer("l", [-5, -5], zp=-100)  # one WIDE2 layer below its zero point
    assert rq_shift([a, linear], ta | tl, speed) == 0
    # s = 1 next to s = 8: d = 8 puts a full-range weight * 2^9 outside int16; weights
    # within +-63 take it
    wide, tw = _layer("w", [-1, -8])
    assert rq_shift([wide], tw, speed) == 0
    small, ts = _layer("s", [-1, -8], weights=63)
    assert rq_shift([small], ts, speed) == 9


def test_relu_defines_need_every_layer_of_their_family_to_floor_at_its_zero_point() -> None:
    def relu(calls: list[Call]) -> set[str]:
        return {d.removeprefix("-DEFFC_").removesuffix("_RELU=1") for d in relu_defines(calls)}

    wide, dw = _conv(layout=WIDE2), _dw(5)
    assert relu([]) == set()
    assert relu([_floor(wide, -128, -128), _floor(dw, -128, -128)]) == {"WIDE2", "DW"}
    assert relu([_floor(wide, 5, 5), _floor(wide, 5, 6)]) == {"WIDE2"}  # ReLU, and above
    # one WIDE2 layer below its zero point (a linear conv) keeps the WIDE2 loops general
    assert relu([_floor(wide, -128, -128), _floor(wide, 5, -128)]) == set()
    assert relu([_floor(wide, 5, 4), _floor(dw, 0, 0)]) == {"DW"}
    assert relu([_floor(dw, 3, -128), _floor(wide, 0, 0)]) == {"WIDE2"}
    # layers of other loops do not count: int8 weights, WIDE4 (the dense one-row loop)
    assert relu([_floor(wide, 0, 0), _floor(_conv(), 5, -128),
                 _floor(_conv("dense_s8", layout=WIDE4), 5, -128)]) == {"WIDE2"}
    assert relu([wide, dw]) == set()  # no zero point known: never assumed
    # the int8-row loop: int8 convs (and conv + Add), dense of more than one row
    rows = [_floor(_conv(), -128, -128), _floor(_conv("conv_add_s8"), 0, 0),
            _floor(Call("dense_s8", "n", "Gemm", {"batches": 4, "layout": S8}), 3, 3)]
    assert relu(rows) == {"S8"}
    assert relu([*rows, _floor(_conv("grouped_conv_s8"), 3, -128)]) == set()
    one_row = Call("dense_s8", "n", "Gemm", {"batches": 1, "layout": S8})
    assert relu([*rows, _floor(one_row, 3, -128)]) == {"S8"}  # effc_mm_row requantizes in C
    assert relu([*rows, _floor(Call("dense_s8", "n", "Gemm", {"layout": S8}), 3, -128)]) == set()


def test_dw_out_stride_needs_one_row_size_over_the_narrow_walks_layers() -> None:
    def stride(calls: list[Call], size: bool = False) -> int | None:
        flags = dw_stride_defines(calls, size)
        return int(flags[0].removeprefix("-DEFFC_DW_OUT_STRIDE=")) if flags else None

    assert stride([]) is None
    assert stride([_dw(5), _dw(5)]) == 320  # KWS: 5 x 64
    assert stride([_dw(5)], size=True) is None  # size builds leave the narrow walk out
    assert stride([_dw(5), _dw(4, c=80)]) == 320  # 320 row bytes either way
    assert stride([_dw(5), _dw(4)]) is None  # 320 and 256
    # layers of other walks do not count: wider planes, stride 2, dilation 2, other kernels
    assert stride([_dw(5), _dw(7), _dw(3, stride=2), _dw(3, dilation=2),
                   _conv("dw_conv_s8", k=5)]) == 320
    assert stride([_dw(7)]) is None
    # the walk's immediates: STRB.W N and ADDW 2 * N (12 bits)
    assert DW_OUT_STRIDE_MAX == 2047
    assert stride([_dw(1, c=2047)]) == 2047 and stride([_dw(1, c=2048)]) is None
    assert stride([_dw(6, c=341)]) == 2046 and stride([_dw(6, c=342)]) is None


def _shifts(call: Call, multiplier: list[int], shift: list[int]) -> Call:
    return Call(call.macro, call.node, call.op, call.fields | {"multiplier": multiplier,
                                                             "shift": shift})


def test_dw_one_shift_needs_every_channels_shift_in_range_and_the_relu_switch() -> None:
    def k(calls: list[Call]) -> int | None:
        flags = dw_shift_defines(calls)
        return int(flags[0].removeprefix("-DEFFC_DW_RQ_SHIFT=")) if flags else None

    m = [1 << 30] * 4
    relu = _floor(_dw(5), -128, -128)
    assert k([]) is None
    assert k([_shifts(relu, m, [-5, -9, -7, -6])]) == 10  # KWS-like: s 5..9, d 1..5
    assert not dw_shift_defines([_shifts(relu, m, [-5, -9, -7, -6])], size=True)
    assert k([_shifts(_dw(5), m, [-5, -9, -7, -6])]) is None  # no zero point: no RELU
    assert k([_shifts(_floor(_dw(5), 0, -128), m, [-5, -9, -7, -6])]) is None  # below zp
    # d = K - s at its bounds 1 and DW_D_MAX: shifts spanning DW_D_MAX values, not one more
    assert DW_D_MAX == 6 and DW_K_MAX == 23
    assert k([_shifts(relu, m, [-1, -6, -3, -2])]) == 7
    assert k([_shifts(relu, m, [-1, -7, -3, -2])]) is None
    assert k([_shifts(relu, m, [-17, -22, -20, -18])]) == DW_K_MAX
    assert k([_shifts(relu, m, [-18, -23, -20, -19])]) is None  # K 24
    assert k([_shifts(relu, m, [0, -3, -3, -3])]) is None  # no right shift: never fast
    # every depthwise layer counts, per tensor too; multiplier 0 (every output zp) does not
    assert k([_shifts(relu, m, [-5, -9, -7, -6]), _shifts(relu, [1 << 30], [-4])]) == 10
    assert k([_shifts(relu, m, [-5, -9, -7, -6]), _shifts(relu, [1 << 30], [-3])]) is None
    assert k([_shifts(relu, [1 << 30, 0, 0, 1 << 30], [-5, -31, 0, -9])]) == 10
    # other families do not: a linear conv, its shift far off
    assert k([_shifts(relu, m, [-5, -9, -7, -6]),
              _shifts(_conv(layout=WIDE2), [1 << 30], [-20])]) == 10


def test_kws_images_leave_out_unreached_variants(tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    speed, size = _kws(tmp_path, "speed"), _kws(tmp_path, "size", optimize="size")
    fast, small = (_symbols(m.folder / m.manifest["firmware"]["elf"]) for m in (speed, size))
    for name in KWS_UNREACHED:
        assert name not in fast and name not in small, name
    # KWS's 5-column depthwise layers: the narrow walk, the general one at size
    assert "effc_dw_walk_s1_narrow" in fast and "effc_dw_walk_s1" not in fast
    assert "effc_dw_walk_s1" in small and "effc_dw_walk_s1_narrow" not in small
    assert set(WIDE_CODE) <= fast  # every layer widened: both wide loops run
    # the pointwise layers' columns 64 bytes apart (the first conv's 10 groups do not count)
    assert "-DEFFC_MM_2X4_FULL_STEP=64" in speed.manifest["c"]["firmware_cflags"]
    assert not set(WIDE_CODE) & small  # int8 weights only
    assert "effc_mm_1x4_s8" in small and "effc_dw_walk_s1" in small
    assert "-Os" in size.manifest["c"]["firmware_cflags"]
    assert "-Os" not in speed.manifest["c"]["firmware_cflags"]
    # every KWS convolution is a ReLU with output zero point -128
    assert {"-DEFFC_WIDE2_RELU=1", "-DEFFC_DW_RELU=1"} <= set(speed.manifest["c"]["firmware_cflags"])
    assert {"-DEFFC_DW_RELU=1", "-DEFFC_S8_RELU=1"} <= set(size.manifest["c"]["firmware_cflags"])
    # its WIDE2 layers' right shifts s are 5..8: K = 9 (size builds widen none)
    assert "-DEFFC_WIDE2_RQ_SHIFT=9" in speed.manifest["c"]["firmware_cflags"]
    assert not [f for f in size.manifest["c"]["firmware_cflags"] if "WIDE2_RQ_SHIFT" in f]
    # its depthwise layers' 5 x 64 output row bytes: the narrow walk's immediate (speed only)
    assert "-DEFFC_DW_OUT_STRIDE=320" in speed.manifest["c"]["firmware_cflags"]
    assert not any("DW_OUT_STRIDE" in f for f in size.manifest["c"]["firmware_cflags"])
    # its depthwise shifts s 5..9: one shift K = 10 for the family (speed only)
    assert "-DEFFC_DW_RQ_SHIFT=10" in speed.manifest["c"]["firmware_cflags"]
    assert not any("DW_RQ_SHIFT" in f for f in size.manifest["c"]["firmware_cflags"])
    # issue 14's goal at size; measured 39,292 B (8-byte records and merged
    # constants; 42,208 B with 12-byte records, 49,312 B with every variant linked, -O2)
    assert size.manifest["firmware"]["flash_bytes"] <= 40 * 1024


#: budgets above the all-int8 image of the fast form (at -O2, measured by the test): its own
#: bytes, where the lean and compact forms, their setup and light ops compiled for size
#: (kernel_set.SIZE_SOURCES) and the compact form's depthwise fill without its short rows,
#: widen some convolutions (PAIR8, +512 B each and the eight-group loop: KWS, four of
#: five); and room for all five and the dense layer; relative to that image, so that
#: speed-only code added elsewhere does not move them
SNUG_ABOVE, ROOMY_ABOVE = 0, 5_276


def test_flash_budget_bounds_the_speed_image(tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    # a budget below the all-int8 image (at -O2, as speed builds it): that image, reported
    tight = _kws(tmp_path, "tight", flash_budget=1).manifest
    floor = tight["firmware"]["flash_bytes"]
    assert tight["memory"]["widened_bytes"] == 0 and "-Os" not in tight["c"]["firmware_cflags"]
    assert tight["c"]["firmware_source_cflags"] == {}
    assert tight["flash_budget"] == {"bytes": 1, "met": False}
    widened = {}
    snug, roomy = floor + SNUG_ABOVE, floor + ROOMY_ABOVE
    for budget in (snug, roomy):
        m = _kws(tmp_path, f"b{budget}", flash_budget=budget).manifest
        assert m["firmware"]["flash_bytes"] <= budget
        assert m["flash_budget"] == {"bytes": budget, "met": True}
        assert m["c"]["firmware_source_cflags"]  # a size-compiled form
        widened[budget] = m["memory"]["widened_bytes"]
    # the int8 image's bytes hold some convolutions packed, the roomy budget every layer
    assert 0 < widened[snug] < widened[roomy]
    assert m["memory"]["widened_macs"] == 5 * 512_000 - 192_000 + 768  # 4 pw, conv0, dense


@pytest.mark.parametrize(("options", "message"), [
    ({"flash_budget": 0}, "a whole number > 0"),
    ({"flash_budget": 40960, "optimize": "size"}, "--optimize size widens none"),
])
def test_flash_budget_refusals(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(EffcError, match=message):
        _kws(tmp_path, "refused", **options)


def test_the_narrow_plane_width_is_the_runtimes() -> None:
    """kernel_set leaves out a depthwise walk by the plane width the runtime gives
    narrow layers (EFFC_DW_NARROW_PW): the two must be one number."""
    header = (RUNTIME_C / "effc_dw_internal.h").read_text()
    m = re.search(r"\bEFFC_DW_NARROW_PW = (\d+)", header)
    assert m, "effc_dw_internal.h no longer defines EFFC_DW_NARROW_PW"
    assert int(m.group(1)) == DW_NARROW_PW


def _ds_block(path: Path, tail: str) -> Path:
    """A DS-CNN-shaped model (3x3 conv, depthwise 3x3 on 8-column planes, 1x1 conv,
    global pool, dense): every conv a ReLU, or a ReLU6 (Clip 0..6), or its last
    pointwise linear (``tail`` "linear")."""
    from onnx import helper

    from tests.small_models import make_model, tensor, weights

    act = "Clip" if tail == "relu6" else "Relu"
    nodes, inits = [], []

    def activation(x: str, y: str) -> None:
        if act == "Clip":
            nodes.append(helper.make_node("Clip", [x, "lo", "hi"], [y]))
        else:
            nodes.append(helper.make_node("Relu", [x], [y]))

    for name, shape in (("c0", (16, 4, 3, 3)), ("dw", (16, 1, 3, 3)), ("pw", (16, 16, 1, 1))):
        inits += [tensor(f"{name}_w", weights(len(inits), *shape)),
                  tensor(f"{name}_b", weights(len(inits) + 1, shape[0], scale=0.2))]
    nodes.append(helper.make_node("Conv", ["x", "c0_w", "c0_b"], ["c0"], pads=[1, 1, 1, 1]))
    activation("c0", "a0")
    nodes.append(helper.make_node("Conv", ["a0", "dw_w", "dw_b"], ["dw"], pads=[1, 1, 1, 1],
                                  group=16))
    activation("dw", "a1")
    nodes.append(helper.make_node("Conv", ["a1", "pw_w", "pw_b"], ["pw" if tail != "linear"
                                                                   else "a2"]))
    if tail != "linear":
        activation("pw", "a2")
    nodes += [helper.make_node("GlobalAveragePool", ["a2"], ["g"]),
              helper.make_node("Flatten", ["g"], ["f"]),
              helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], transB=1)]
    inits += [tensor("fc_w", weights(9, 5, 16)), tensor("fc_b", weights(10, 5, scale=0.1)),
              tensor("lo", np.float32(0.0)), tensor("hi", np.float32(6.0))]
    return make_model(path, nodes, {"x": [1, 4, 9, 6]}, {"y": [1, 5]}, inits)


@pytest.mark.parametrize("tail", ["relu", "relu6", "linear"])
@pytest.mark.parametrize("granularity", ["per-tensor", "per-channel"])
def test_relu_models_bit_exact_under_qemu(tail: str, granularity: str, tmp_path: Path) -> None:
    """The RELU defines on a model's own build: on where every layer of the family floors
    at its zero point (ReLU, ReLU6: also the clamping loops), off for the WIDE2 loops when
    the last pointwise conv is linear; the firmware under QEMU equals the reference."""
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    from tests.small_models import check_int8

    x = np.random.default_rng(3).normal(0, 1, (6, 4, 9, 6)).astype(np.float32)
    compiled = check_int8(_ds_block(tmp_path / "m.onnx", tail), tmp_path / "out", x,
                          ("qemu",), granularity)
    flags = set(compiled.manifest["c"]["firmware_cflags"])
    assert "-DEFFC_DW_RELU=1" in flags
    assert ("-DEFFC_WIDE2_RELU=1" in flags) == (tail != "linear")
    assert any(f.startswith("-DEFFC_WIDE2_RQ_SHIFT=") for f in flags) == (tail != "linear")

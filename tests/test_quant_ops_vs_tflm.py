"""effc's int8 arithmetic for the ops of issue 17 against TensorFlow Lite Micro itself.

Each case builds a one-operator .tflite model, runs it in the tflite-micro wheel and
compares with effc/quant, bit for bit: MEAN, SUM and REDUCE_MAX, BATCH_MATMUL,
and the others as they land.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tflite_graph_runner as gr
from tflite_graph_runner import TSpec

from effc.quant import conv_transpose as qct
from effc.quant import int8 as q8
from effc.quant import matmul as qm
from effc.quant import reduce as qr
from effc.quant import resize as qres

SEED = 1717


@pytest.fixture(autouse=True)
def _needs_tflm() -> None:
    gr.require_tflm()


def _int8(shape: tuple[int, ...], seed: int = SEED) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, shape, dtype=np.int8)


def _tflm(opcode: str, ins: list[TSpec], outs: list[TSpec], options, feeds) -> np.ndarray:
    return gr.run_tflm(gr.build_single_op_model(opcode, ins, outs, options), feeds)[0]


REDUCE_QUANT = [(0.1, 3, 0.1, 3), (0.1, 3, 0.05, -7), (0.02, -128, 0.5, 100),
                (0.5, 10, 0.003, -128)]
REDUCE_AXES = [((1, 2), True), ((3,), False), ((1,), True), ((0, 1, 2, 3), False),
               ((2, 3), False)]


@pytest.mark.parametrize("opcode", ["MEAN", "SUM"])
@pytest.mark.parametrize("quant", REDUCE_QUANT)
@pytest.mark.parametrize(("axes", "keep"), REDUCE_AXES)
def test_mean_and_sum(opcode: str, quant: tuple, axes: tuple[int, ...], keep: bool) -> None:
    si, zi, so, zo = quant
    x = _int8((2, 5, 7, 3))
    shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape)) if keep else \
        tuple(d for i, d in enumerate(x.shape) if i not in axes) or (1,)
    theirs = _tflm(opcode, [TSpec(x.shape, scale=si, zero_point=zi),
                            TSpec((len(axes),), dtype="int32", data=np.array(axes, np.int32))],
                   [TSpec(shape, scale=so, zero_point=zo)], ("ReducerOptions", {"keepDims": keep}),
                   [x])
    m, s = qr.reduce_multiplier(si, so)
    mine = qr.mean_or_sum_int8(x, axes, input_zero_point=zi, output_zero_point=zo,
                               multiplier=m, shift=s, compute_sum=opcode == "SUM")
    assert np.array_equal(mine.reshape(theirs.shape), theirs)


def test_mean_over_a_long_axis_clamps_the_folded_shift() -> None:
    """count = 4096 > 2^(31 + shift) for a tiny ratio: TFLM clamps the folded shift."""
    x = _int8((1, 64, 64, 2), SEED + 1)
    theirs = _tflm("MEAN", [TSpec(x.shape, scale=1e-4, zero_point=0),
                            TSpec((2,), dtype="int32", data=np.array([1, 2], np.int32))],
                   [TSpec((1, 1, 1, 2), scale=0.9, zero_point=1)],
                   ("ReducerOptions", {"keepDims": True}), [x])
    m, s = qr.reduce_multiplier(1e-4, 0.9)
    mine = qr.mean_or_sum_int8(x, (1, 2), input_zero_point=0, output_zero_point=1,
                               multiplier=m, shift=s, compute_sum=False)
    assert np.array_equal(mine, theirs)


@pytest.mark.parametrize(("axes", "keep"), REDUCE_AXES)
def test_reduce_max(axes: tuple[int, ...], keep: bool) -> None:
    x = _int8((2, 5, 7, 3))
    shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape)) if keep else \
        tuple(d for i, d in enumerate(x.shape) if i not in axes) or (1,)
    theirs = _tflm("REDUCE_MAX", [TSpec(x.shape, scale=0.1, zero_point=3),
                                  TSpec((len(axes),), dtype="int32",
                                        data=np.array(axes, np.int32))],
                   [TSpec(shape, scale=0.1, zero_point=3)], ("ReducerOptions", {"keepDims": keep}),
                   [x])
    assert np.array_equal(x.max(axis=axes).reshape(theirs.shape), theirs)


@pytest.mark.parametrize(("a_shape", "b_shape"), [
    ((3, 5), (5, 4)), ((2, 3, 5), (2, 5, 4)), ((2, 3, 5), (1, 5, 4)),
    ((1, 2, 3, 8), (3, 1, 8, 2))])
def test_batch_matmul(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> None:
    a, b = _int8(a_shape), _int8(b_shape, SEED + 2)
    batch = np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    out = (*(int(d) for d in batch), a_shape[-2], b_shape[-1])
    theirs = _tflm("BATCH_MATMUL", [TSpec(a_shape, scale=0.05, zero_point=-3),
                                    TSpec(b_shape, scale=0.02, zero_point=7)],
                   [TSpec(out, scale=0.3, zero_point=-11)], None, [a, b])
    m, s = qm.batch_matmul_multiplier(0.05, 0.02, 0.3)
    assert np.array_equal(qm.batch_matmul_int8(a, b, -3, 7, -11, m, s), theirs)


@pytest.mark.parametrize("mode", ["half_pixel", "align_corners", "asymmetric"])
@pytest.mark.parametrize(("in_hw", "out_hw"), [((4, 5), (8, 10)), ((5, 3), (7, 9)),
                                               ((8, 8), (3, 5)), ((1, 6), (1, 13)),
                                               ((3, 3), (1, 1))])
def test_resize_bilinear(mode: str, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> None:
    x = _int8((2, *in_hw, 3))
    align, half = qres.TFLITE_FLAGS[mode]
    theirs = _tflm("RESIZE_BILINEAR",
                   [TSpec(x.shape, scale=0.05, zero_point=-9),
                    TSpec((2,), dtype="int32", data=np.array(out_hw, np.int32))],
                   [TSpec((2, *out_hw, 3), scale=0.05, zero_point=-9)],
                   ("ResizeBilinearOptions", {"alignCorners": align, "halfPixelCenters": half}),
                   [x])
    attrs = {"sizes": [2, *out_hw, 3], "coordinate_transformation_mode": mode}
    assert np.array_equal(qres.resize_bilinear_int8(x, attrs), theirs)


def _tflite_tconv_pad(out: int, k: int, s: int, same: bool) -> int:
    """TFLM's TRANSPOSE_CONV padding: that of the forward conv from the output size."""
    fwd = -(-out // s) if same else (out - k + s) // s
    return max(((fwd - 1) * s + k - out) // 2, 0)


@pytest.mark.parametrize(("in_hw", "k", "s", "out_hw", "same", "cin", "cout", "bias"), [
    ((4, 5), (3, 3), (2, 2), (8, 10), True, 3, 4, True),
    ((3, 3), (2, 2), (2, 2), (6, 6), False, 2, 5, False),
    ((5, 4), (3, 2), (1, 2), (5, 8), True, 4, 3, True),
    ((1, 7), (1, 4), (1, 2), (1, 16), False, 5, 2, True),
])
def test_transpose_conv(in_hw, k, s, out_hw, same, cin, cout, bias) -> None:
    rng = np.random.default_rng(SEED + 3)
    x = _int8((1, *in_hw, cin))
    w = rng.integers(-127, 128, (cout, *k, cin), dtype=np.int8)
    ws = [float(v) for v in rng.uniform(0.005, 0.02, cout).astype(np.float32)]
    b = rng.integers(-3000, 3000, cout).astype(np.int32)
    ins = [TSpec((4,), dtype="int32", data=np.array([1, *out_hw, cout], np.int32)),
           TSpec(w.shape, scale=ws, zero_point=[0] * cout, axis=0, data=w),
           TSpec(x.shape, scale=0.05, zero_point=-5)]
    if bias:
        ins.append(TSpec((cout,), dtype="int32", scale=[0.05 * v for v in ws],
                         zero_point=[0] * cout, data=b))
    theirs = _tflm("TRANSPOSE_CONV", ins, [TSpec((1, *out_hw, cout), scale=0.4, zero_point=6)],
                   ("TransposeConvOptions", {"padding": 0 if same else 1, "strideH": s[0],
                                             "strideW": s[1]}), [x])
    pads = [_tflite_tconv_pad(out_hw[i], k[i], s[i], same) for i in range(2)]
    m, sh = q8.conv_multipliers(0.05, ws, 0.4)
    mine = qct.transpose_conv_int8(x, w, b if bias else None, strides=s, dilations=(1, 1),
                                   pads_begin=pads, out_spatial=out_hw, group=1,
                                   input_zero_point=-5, output_zero_point=6, multiplier=m,
                                   shift=sh)
    assert np.array_equal(mine, theirs)

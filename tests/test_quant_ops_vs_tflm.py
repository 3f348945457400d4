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
from effc.quant import lstm as qlstm
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
    attrs = {"sizes": [2, *out_hw, 3], "coordinate_transformation_mode": mode,
             "scales": [1.0, *(o / i for o, i in zip(out_hw, in_hw, strict=True)), 1.0]}
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


def _lstm_model(n: int, t: int, i: int, h: int, q: dict, w: np.ndarray, r: np.ndarray,
                b: np.ndarray) -> bytes:
    """A one-operator UNIDIRECTIONAL_SEQUENCE_LSTM (batch-major, int8 x 8 -> int16 cell)."""
    model = gr.me.Model()
    sg = model.add_subgraph()

    def tensor(shape, dtype, scale=None, zero_point=0, data=None, name="t", variable=False):
        quant = None if scale is None else gr.me.Quantization(scales=scale,
                                                                zero_points=zero_point)
        tensor = sg.add_tensor(shape=shape, dtype=dtype, data=data, quantization=quant,
                               name=name)
        tensor.is_variable = variable
        return tensor

    int8, int16, int32 = gr.fb.TensorType.INT8, gr.fb.TensorType.INT16, gr.fb.TensorType.INT32
    x = tensor((n, t, i), int8, q["s_x"], q["z_x"], name="x")
    weights = [tensor((h, i), int8, float(q["w"][g]), 0, w[g], f"w{g}") for g in range(4)]
    recurrent = [tensor((h, h), int8, float(q["r"][g]), 0, r[g], f"r{g}") for g in range(4)]
    biases = [tensor((h,), int32, float(q["s_x"] * q["w"][g]), 0, b[g], f"b{g}")
              for g in range(4)]
    hidden = tensor((n, h), int8, q["s_h"], q["z_h"], name="h", variable=True)
    cell = tensor((n, h), int16, 2.0 ** q["power"], 0, name="c", variable=True)
    out = tensor((n, t, h), int8, q["s_h"], q["z_h"], name="y")
    op = sg.add_operator(  # gates in TFLite's (and the IR's) order: input, forget, cell, output
        opcode=gr.fb.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM,
        inputs=[x, *weights, *recurrent, None, None, None, *biases, None, None, hidden, cell,
                None, None, None, None],
        outputs=[out])
    options = gr.fb.UnidirectionalSequenceLSTMOptionsT()
    options.fusedActivationFunction = gr.fb.ActivationFunctionType.TANH
    options.timeMajor = False
    op._fb.builtinOptionsType = gr.fb.BuiltinOptions.UnidirectionalSequenceLSTMOptions
    op._fb.builtinOptions = options
    sg.inputs = [x]
    sg.outputs = [out]
    return bytes(model.build())


@pytest.mark.parametrize(("n", "t", "i", "h", "power"), [(1, 6, 5, 4, -11), (2, 4, 3, 6, -13),
                                                         (1, 8, 10, 8, -9), (3, 3, 4, 2, -15)])
def test_lstm(n: int, t: int, i: int, h: int, power: int) -> None:
    rng = np.random.default_rng(SEED + n * t + power)
    # IR gate order (input, forget, cell, output)
    w = rng.integers(-127, 128, (4, h, i), dtype=np.int8)
    r = rng.integers(-127, 128, (4, h, h), dtype=np.int8)
    b = rng.integers(-2000, 2000, (4, h)).astype(np.int32)
    q = {"s_x": 0.04, "z_x": -3, "s_h": 0.0078, "z_h": 5, "power": power,
         "w": rng.uniform(0.002, 0.02, 4).astype(np.float32),
         "r": rng.uniform(0.002, 0.02, 4).astype(np.float32)}
    x = _int8((n, t, i), SEED + 5)
    theirs = gr.run_tflm(_lstm_model(n, t, i, h, q, w, r, b), [x])[0]
    params = qlstm.lstm_params(q["s_x"], q["z_x"], q["s_h"], q["z_h"], q["w"], q["r"], power)
    # TFLM starts from its variable state tensors reset to their zero points (real 0)
    h0 = np.full((n, h), q["z_h"], np.int8)
    mine = qlstm.lstm_int8([x, w, r, b, h0, np.zeros((n, h), np.int16)], {"lstm": params})[0]
    assert np.array_equal(mine, theirs)


def _tanh_int16_model(shape: tuple[int, ...], input_scale: float) -> bytes:
    model = gr.me.Model()
    sg = model.add_subgraph()
    int16 = gr.fb.TensorType.INT16
    a = sg.add_tensor(shape=shape, dtype=int16, name="a",
                      quantization=gr.me.Quantization(scales=input_scale, zero_points=0))
    b = sg.add_tensor(shape=shape, dtype=int16, name="b",
                      quantization=gr.me.Quantization(scales=2.0 ** -15, zero_points=0))
    sg.add_operator(opcode=gr.fb.BuiltinOperator.TANH, inputs=[a], outputs=[b])
    sg.inputs, sg.outputs = [a], [b]
    return bytes(model.build())


def test_sigmoid_table() -> None:
    """TFLite's int16 Tanh with input scale 1/6144 reads table entry k exactly at the
    input 128 k (its multiplier 2^14 and shift 13 double the input; the fraction is 0)."""
    x = (np.arange(255) * 128).astype(np.int16).reshape(1, -1)
    measured = gr.run_tflm(_tanh_int16_model(x.shape, 1 / 6144), [x])[0].astype(np.int64) + 32768
    assert np.array_equal(measured.reshape(-1), qlstm.SIGMOID_TABLE[:255])
    # the last entry is only ever the upper neighbour of entry 254: 254/256 of its step
    last = np.array([[128 * 254 + 127]], np.int16)
    step = int(gr.run_tflm(_tanh_int16_model(last.shape, 1 / 6144), [last])[0][0, 0]) + 32768
    assert step - qlstm.SIGMOID_TABLE[254] == (254 * (qlstm.SIGMOID_TABLE[255]
                                                      - qlstm.SIGMOID_TABLE[254]) + 128) // 256


@pytest.mark.parametrize("scale", [2.0 ** -12, 2.0 ** -11, 1 / 6144])
def test_int16_tanh_over_its_whole_range(scale: float) -> None:
    x = np.arange(-32768, 32768, 7, dtype=np.int16).reshape(1, -1)
    theirs = gr.run_tflm(_tanh_int16_model(x.shape, scale), [x])[0]
    power = round(np.log2(scale))
    if 2.0 ** power == scale and 12 + power in (0, 1):
        mult, shift = 0, 12 + power
    else:
        mult, shift = 16384, 13  # 1/6144: the non-power-of-two path
    assert np.array_equal(qlstm.tanh_int16(x, mult, shift), theirs.astype(np.int64))

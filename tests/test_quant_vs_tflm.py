"""Ground truth: effc's int8 kernels against TensorFlow Lite Micro itself.

* the three MLPerf Tiny int8 models in ../shared/models: final outputs for all
  16 reference inputs and every intermediate tensor, bit for bit;
* the desktop-TFLite reference outputs, reproduced with the desktop kernel
  variant (see docs/tflm-vs-tflite.md);
* single-operator models built on the fly, run by the tflite-micro wheel.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tflite_graph_runner as gr
from tflite_graph_runner import TSpec

MODELS = ["kws_ref_model", "pretrainedResnet_quant", "ad01_int8"]


@pytest.fixture(autouse=True)
def _needs_tflm() -> None:
    gr.require_tflm()


def _model(name: str) -> tuple[Path, dict[str, np.ndarray]]:
    base = gr.require_models_dir() / "mlperf-tiny"
    data = np.load(base / f"{name}.npz")
    return base / f"{name}.tflite", {k: data[k] for k in data.files}


def _diff(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.count_nonzero(a.astype(np.int64) != b.astype(np.int64)))


# ------------------------------------------------------------- real models


@pytest.mark.parametrize("name", MODELS)
def test_model_outputs_bit_exact_with_tflm(name: str) -> None:
    path, ref = _model(name)
    graph = gr.parse_tflite(path)
    assert len(ref["inputs"]) == 16
    outs = np.stack([gr.run_graph(graph, [x])[0] for x in ref["inputs"]])
    assert outs.shape == ref["outputs"].shape
    assert _diff(outs, ref["outputs"]) == 0


@pytest.mark.parametrize("name", MODELS)
def test_model_intermediate_tensors_bit_exact_with_tflm(name: str) -> None:
    path, ref = _model(name)
    graph = gr.parse_tflite(path)
    for x in ref["inputs"][:2]:
        mine: dict[int, np.ndarray] = {}
        gr.run_graph(graph, [x], trace=mine)
        theirs = gr.run_tflm(path, [x], all_tensors=True)
        for op in graph.ops:
            idx = op.outputs[0]
            assert np.array_equal(mine[idx].reshape(theirs[idx].shape), theirs[idx]), (
                f"{name}: {op.name} -> tensor {graph.tensors[idx].name}")


@pytest.mark.parametrize("name", MODELS)
def test_desktop_tflite_reference_is_the_single_rounding_fc(name: str) -> None:
    path, ref = _model(name)
    graph = gr.parse_tflite(path)
    outs = np.stack([gr.run_graph(graph, [x], fc_multiplier_mode="desktop_reference")[0]
                     for x in ref["inputs"]])
    assert _diff(outs, ref["outputs_tflite_reference"]) == 0
    expected_gap = 3401 if name == "ad01_int8" else 0
    assert _diff(outs, ref["outputs"]) == expected_gap


def test_npz_reference_outputs_agree_with_installed_tflm() -> None:
    path, ref = _model("ad01_int8")
    for i in (0, 15):
        assert _diff(gr.run_tflm(path, [ref["inputs"][i]])[0], ref["outputs"][i]) == 0


# ------------------------------------------------------------- single operators

RNG_SEED = 20240611


def _check(opcode: str, ins: list[TSpec], outs: list[TSpec],
           options: tuple[str, dict] | None = None,
           feeds: list[np.ndarray] | None = None) -> None:
    rng = np.random.default_rng(RNG_SEED)
    model = gr.build_single_op_model(opcode, ins, outs, options)
    if feeds is None:
        feeds = [rng.integers(-128, 128, s.shape, dtype=np.int8)
                 for s in ins if s.data is None]
    theirs = gr.run_tflm(model, feeds)[0]
    mine = gr.run_graph(gr.parse_tflite(model), feeds)[0]
    assert mine.shape == theirs.shape and mine.dtype == theirs.dtype
    if theirs.dtype == np.float32:
        assert np.array_equal(mine.view(np.int32), theirs.view(np.int32))
    else:
        assert _diff(mine, theirs) == 0


FULL_RANGE = [np.arange(-128, 128, dtype=np.int8).reshape(1, 256)]
S = (2, 5, 7, 3)


@pytest.mark.parametrize(
    ("opcode", "ins", "outs", "options"),
    [
        ("ADD", [TSpec(S, scale=0.05, zero_point=3), TSpec((1, 1, 7, 3), scale=0.13,
                                                           zero_point=-7)],
         [TSpec(S, scale=0.11, zero_point=-2)], ("AddOptions", {"fusedActivationFunction": 0})),
        ("ADD", [TSpec(S, scale=0.0123, zero_point=-128), TSpec(S, scale=0.0123,
                                                                 zero_point=-128)],
         [TSpec(S, scale=0.02, zero_point=-128)], ("AddOptions", {"fusedActivationFunction": 1})),
        ("SUB", [TSpec(S, scale=0.05, zero_point=3), TSpec(S, scale=0.013, zero_point=-7)],
         [TSpec(S, scale=0.07, zero_point=-2)], ("SubOptions", {"fusedActivationFunction": 0})),
        ("SUB", [TSpec(S, scale=0.05, zero_point=3), TSpec((1, 1, 1, 3), scale=0.3,
                                                           zero_point=1)],
         [TSpec(S, scale=0.07, zero_point=-20)], ("SubOptions", {"fusedActivationFunction": 1})),
        ("MUL", [TSpec(S, scale=0.05, zero_point=3), TSpec((1, 5, 1, 3), scale=0.02,
                                                           zero_point=-7)],
         [TSpec(S, scale=0.003, zero_point=-2)], ("MulOptions", {"fusedActivationFunction": 0})),
        ("SOFTMAX", [TSpec((3, 10), scale=0.3, zero_point=-5)],
         [TSpec((3, 10), scale=1 / 256, zero_point=-128)], ("SoftmaxOptions", {"beta": 1.0})),
        ("SOFTMAX", [TSpec((3, 10), scale=0.01, zero_point=-5)],
         [TSpec((3, 10), scale=1 / 256, zero_point=-128)], ("SoftmaxOptions", {"beta": 1.0})),
        ("SOFTMAX", [TSpec((4, 33), scale=0.7, zero_point=0)],
         [TSpec((4, 33), scale=1 / 256, zero_point=-128)], ("SoftmaxOptions", {"beta": 2.5})),
        ("MAX_POOL_2D", [TSpec((1, 7, 9, 4), scale=0.1, zero_point=0)],
         [TSpec((1, 4, 5, 4), scale=0.1, zero_point=0)],
         ("Pool2DOptions", dict(padding=0, strideW=2, strideH=2, filterWidth=3,
                                filterHeight=3))),
        ("AVERAGE_POOL_2D", [TSpec((1, 7, 9, 4), scale=0.1, zero_point=-5)],
         [TSpec((1, 4, 5, 4), scale=0.1, zero_point=-5)],
         ("Pool2DOptions", dict(padding=0, strideW=2, strideH=2, filterWidth=3,
                                filterHeight=3))),
        ("AVERAGE_POOL_2D", [TSpec((2, 6, 6, 3), scale=0.1, zero_point=-5)],
         [TSpec((2, 2, 2, 3), scale=0.1, zero_point=-5)],
         ("Pool2DOptions", dict(padding=1, strideW=2, strideH=2, filterWidth=3,
                                filterHeight=3, fusedActivationFunction=1))),
    ],
)
def test_binary_softmax_pool_ops(opcode: str, ins: list[TSpec], outs: list[TSpec],
                                 options: tuple[str, dict]) -> None:
    _check(opcode, ins, outs, options)


@pytest.mark.parametrize(
    ("opcode", "in_q", "out_q", "options"),
    [
        ("LOGISTIC", (0.07, 5), (1 / 256, -128), None),
        ("LOGISTIC", (0.01, -20), (1 / 256, -128), None),
        ("LOGISTIC", (0.25, 0), (1 / 256, -128), None),
        ("TANH", (0.03, 5), (1 / 128, 0), None),
        ("TANH", (0.2, -3), (1 / 128, 0), None),
        ("LEAKY_RELU", (0.03, 5), (0.02, -60), ("LeakyReluOptions", {"alpha": 0.1})),
        ("LEAKY_RELU", (0.1, -10), (0.1, -10), ("LeakyReluOptions", {"alpha": 0.3})),
        ("HARD_SWISH", (0.05, 5), (0.03, -100), None),
        ("HARD_SWISH", (0.4, -10), (0.2, -110), None),
        ("HARD_SWISH", (0.01, 0), (0.008, -60), None),
        ("ELU", (0.05, 5), (0.03, -90), None),
        ("ELU", (0.1, -100), (0.1, 0), None),
        ("QUANTIZE", (0.05, -3), (0.021, 7), None),
        ("QUANTIZE", (0.02, 10), (0.5, -128), None),
    ],
)
def test_unary_ops_over_the_full_int8_range(opcode: str, in_q: tuple[float, int],
                                            out_q: tuple[float, int],
                                            options: tuple[str, dict] | None) -> None:
    _check(opcode, [TSpec((1, 256), scale=in_q[0], zero_point=in_q[1])],
           [TSpec((1, 256), scale=out_q[0], zero_point=out_q[1])], options, FULL_RANGE)


def test_float_quantize_and_dequantize() -> None:
    # Only |x / scale| < 2^31: beyond that TFLM's float->int32 cast is undefined
    # behaviour (x86 gives INT32_MIN, Cortex-M saturates); effc saturates.
    xf = np.concatenate([np.arange(-300, 300) * 0.025, [0.0125, -0.0125, 0.0375, -0.0375,
                                                         3e4, -3e4]])
    xf = xf.astype(np.float32).reshape(1, -1)
    _check("QUANTIZE", [TSpec(xf.shape, dtype="float32")],
           [TSpec(xf.shape, scale=0.05, zero_point=-3)], feeds=[xf])
    _check("DEQUANTIZE", [TSpec((1, 256), scale=0.0517, zero_point=-3)],
           [TSpec((1, 256), dtype="float32")], feeds=FULL_RANGE)


def _conv_case(n: int, h: int, w: int, ci: int, co: int, k: tuple[int, int],
               s: tuple[int, int], d: tuple[int, int], same: bool, act: int,
               per_channel: bool) -> tuple[list[TSpec], list[TSpec], tuple[str, dict]]:
    rng = np.random.default_rng(RNG_SEED + h * w + co)
    wt = rng.integers(-127, 128, (co, k[0], k[1], ci), dtype=np.int8)
    ws = [float(v) for v in rng.uniform(0.002, 0.02, co).astype(np.float32)]
    ws = ws if per_channel else ws[:1]
    b = rng.integers(-5000, 5000, co).astype(np.int32)
    oh = gr.conv_out_size(h, k[0], s[0], d[0], same)
    ow = gr.conv_out_size(w, k[1], s[1], d[1], same)
    ins = [TSpec((n, h, w, ci), scale=0.05, zero_point=-7),
           TSpec(wt.shape, scale=ws, zero_point=[0] * len(ws), axis=0, data=wt),
           TSpec((co,), dtype="int32", scale=[0.05 * v for v in ws],
                 zero_point=[0] * len(ws), data=b)]
    outs = [TSpec((n, oh, ow, co), scale=0.6, zero_point=3)]
    opts = ("Conv2DOptions", dict(padding=0 if same else 1, strideW=s[1], strideH=s[0],
                                  dilationWFactor=d[1], dilationHFactor=d[0],
                                  fusedActivationFunction=act))
    return ins, outs, opts


@pytest.mark.parametrize(
    "case",
    [
        (2, 9, 8, 3, 5, (3, 3), (2, 2), (1, 1), True, 0, True),
        (1, 10, 9, 4, 6, (3, 2), (1, 1), (2, 3), False, 1, True),
        (1, 6, 6, 2, 4, (3, 3), (1, 1), (1, 1), True, 3, False),
        (1, 1, 20, 4, 6, (1, 5), (1, 2), (1, 1), True, 0, True),
        (1, 49, 10, 1, 16, (10, 4), (2, 2), (1, 1), True, 1, True),
    ],
)
def test_conv2d(case: tuple) -> None:
    _check("CONV_2D", *_conv_case(*case))


@pytest.mark.parametrize("case", [(7, 6, 5, 1, (3, 3), (1, 1), (1, 1), True, 0),
                                  (9, 8, 4, 3, (3, 3), (2, 2), (1, 2), True, 1),
                                  (8, 8, 6, 2, (3, 2), (1, 2), (1, 1), False, 3)])
def test_depthwise_conv2d(case: tuple) -> None:
    h, w, ci, mult, k, s, d, same, act = case
    rng = np.random.default_rng(RNG_SEED + h)
    co = ci * mult
    wt = rng.integers(-127, 128, (1, k[0], k[1], co), dtype=np.int8)
    ws = [float(v) for v in rng.uniform(0.002, 0.05, co).astype(np.float32)]
    b = rng.integers(-3000, 3000, co).astype(np.int32)
    oh = gr.conv_out_size(h, k[0], s[0], d[0], same)
    ow = gr.conv_out_size(w, k[1], s[1], d[1], same)
    _check("DEPTHWISE_CONV_2D",
           [TSpec((1, h, w, ci), scale=0.05, zero_point=11),
            TSpec(wt.shape, scale=ws, zero_point=[0] * co, axis=3, data=wt),
            TSpec((co,), dtype="int32", scale=[0.05 * v for v in ws], zero_point=[0] * co,
                  data=b)],
           [TSpec((1, oh, ow, co), scale=0.3, zero_point=-9)],
           ("DepthwiseConv2DOptions", dict(padding=0 if same else 1, strideW=s[1],
                                           strideH=s[0], depthMultiplier=mult,
                                           dilationWFactor=d[1], dilationHFactor=d[0],
                                           fusedActivationFunction=act)))


@pytest.mark.parametrize("per_channel", [False, True])
def test_fully_connected(per_channel: bool) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ci, co = 37, 11
    wt = rng.integers(-127, 128, (co, ci), dtype=np.int8)
    ws = ([float(v) for v in rng.uniform(0.002, 0.02, co).astype(np.float32)]
          if per_channel else [0.0123])
    b = rng.integers(-5000, 5000, co).astype(np.int32)
    _check("FULLY_CONNECTED",
           [TSpec((3, ci), scale=0.05, zero_point=-7),
            TSpec(wt.shape, scale=ws, zero_point=[0] * len(ws), axis=0, data=wt),
            TSpec((co,), dtype="int32", scale=[0.05 * v for v in ws],
                  zero_point=[0] * len(ws), data=b)],
           [TSpec((3, co), scale=0.3, zero_point=4)],
           ("FullyConnectedOptions", dict(fusedActivationFunction=0)))

"""Every number path: non-finite constants, calibration data and QDQ scales.

Reproduced first: Clip(0, inf) and a BatchNormalization with var=0, eps=0
printed ``inff`` into the C (which does not compile), NaN calibration data
collapsed every range silently, a QDQ scale of 0 or below compiled and failed
at run time, and inf/NaN scales ended in tracebacks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from effc.compiler import CompiledModel
from effc.engines.host import run_host
from effc.reference import run_samples
from tests.test_cli_errors import assert_one_line_error, effc

I = numpy_helper.from_array  # noqa: E741


def _save(path: Path, nodes, inits, shape=(1, 8), out_shape=None) -> Path:
    graph = helper.make_graph(nodes, "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                             out_shape or shape)], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _clip(path: Path, lo: float, hi: float) -> Path:
    return _save(path, [helper.make_node("Add", ["x", "b"], ["s"]),
                        helper.make_node("Clip", ["s", "lo", "hi"], ["y"])],
                 [I(np.full((1, 8), 0.5, np.float32), "b"), I(np.array(lo, np.float32), "lo"),
                  I(np.array(hi, np.float32), "hi")])


@pytest.mark.parametrize("lo,hi", [(0.0, np.inf), (-np.inf, 6.0), (-np.inf, np.inf)])
@pytest.mark.parametrize("int8", [False, True])
def test_clip_to_infinity_compiles_and_matches(tmp_path: Path, lo: float, hi: float,
                                               int8: bool) -> None:
    model = _clip(tmp_path / "clip.onnx", lo, hi)
    x = np.linspace(-8, 8, 32, dtype=np.float32).reshape(4, 8)
    np.save(tmp_path / "calib.npy", x)
    extra = ["--calib", str(tmp_path / "calib.npy")] if int8 else []
    result = effc("compile", str(model), "-o", str(tmp_path / "out"), "--board", *extra)
    assert result.returncode == 0, result.stderr
    compiled = CompiledModel.open(tmp_path / "out")
    np.testing.assert_array_equal(run_host(compiled, x).outputs, run_samples(compiled.graph, x))


def _batchnorm(path: Path, var: float, eps: float) -> Path:
    c = 4
    return _save(path, [helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"],
                                         epsilon=eps)],
                 [I(np.ones(c, np.float32), "g"), I(np.zeros(c, np.float32), "b"),
                  I(np.zeros(c, np.float32), "m"), I(np.full(c, var, np.float32), "v")],
                 shape=(1, c, 2, 2))


@pytest.mark.parametrize("board", [[], ["--board"]])
def test_batchnorm_with_zero_variance_and_epsilon_is_refused(tmp_path: Path,
                                                             board: list[str]) -> None:
    model = _batchnorm(tmp_path / "bn.onnx", 0.0, 0.0)
    assert_one_line_error(effc("compile", str(model), "-o", str(tmp_path / "out"), *board),
                          "variance + epsilon", "positive")


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_weight_is_refused_naming_it(tmp_path: Path, value: float) -> None:
    w = np.ones((1, 8), np.float32)
    w[0, 3] = value
    model = _save(tmp_path / "m.onnx", [helper.make_node("Mul", ["x", "w_bad"], ["y"])],
                  [I(w, "w_bad")])
    assert_one_line_error(effc("compile", str(model), "-o", str(tmp_path / "out"), "--board"),
                          "w_bad")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_calibration_is_refused(tmp_path: Path, value: float) -> None:
    model = _clip(tmp_path / "clip.onnx", 0.0, 6.0)
    x = np.ones((5, 8), np.float32)
    x[2, 1] = value
    np.save(tmp_path / "calib.npy", x)
    assert_one_line_error(effc("compile", str(model), "-o", str(tmp_path / "out"), "--calib",
                               str(tmp_path / "calib.npy")), "NaN or infinite", "[2]")


def test_overflowing_activation_range_is_refused(tmp_path: Path) -> None:
    """Finite calibration data whose activations reach 1e36 (the float model all but
    overflows): int8 scales that large overflow float32 in the Add/Sub parameters (was a
    ValueError traceback, "multiplier must be in (0, 1), got 0.0")."""
    model = _save(tmp_path / "m.onnx", [helper.make_node("Mul", ["x", "big"], ["m"]),
                                        helper.make_node("Sub", ["m", "x"], ["y"])],
                  [I(np.full((1, 8), 1e36, np.float32), "big")])
    np.save(tmp_path / "calib.npy", np.linspace(-1, 1, 40, dtype=np.float32).reshape(5, 8))
    assert_one_line_error(effc("compile", str(model), "-o", str(tmp_path / "out"), "--calib",
                               str(tmp_path / "calib.npy")), "magnitude 1e+36", "overflow")


def test_activation_that_overflows_to_infinity_is_refused(tmp_path: Path) -> None:
    """Finite calibration data whose Exp overflows to inf inside the model, squashed back
    to finite outputs by Tanh (onnxruntime runs it): the refusal names the activation and
    the model, not the (finite) data."""
    model = _save(tmp_path / "m.onnx", [helper.make_node("Mul", ["x", "big"], ["m"]),
                                        helper.make_node("Exp", ["m"], ["e"]),
                                        helper.make_node("Tanh", ["e"], ["y"])],
                  [I(np.full((1, 8), 100.0, np.float32), "big")])
    np.save(tmp_path / "calib.npy", np.linspace(-1, 1, 40, dtype=np.float32).reshape(5, 8))
    assert_one_line_error(effc("compile", str(model), "-o", str(tmp_path / "out"), "--calib",
                               str(tmp_path / "calib.npy")), "activation 'e' is inf or NaN",
                          "overflows float32")


def _qdq(path: Path, x_scale: float, w_scale: float = 0.01) -> Path:
    z = I(np.array(0, np.int8), "z")
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "z"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "xs", "z"], ["xd"]),
             helper.make_node("DequantizeLinear", ["wq", "ws", "z"], ["w"]),
             helper.make_node("MatMul", ["xd", "w"], ["m"]),
             helper.make_node("QuantizeLinear", ["m", "ys", "z"], ["mq"]),
             helper.make_node("DequantizeLinear", ["mq", "ys", "z"], ["y"])]
    inits = [z, I(np.array(x_scale, np.float32), "xs"), I(np.array(w_scale, np.float32), "ws"),
             I(np.array(0.05, np.float32), "ys"),
             I(np.arange(32, dtype=np.int8).reshape(8, 4), "wq")]
    return _save(path, nodes, inits, out_shape=(1, 4))


@pytest.mark.parametrize("x_scale,w_scale", [(0.0, 0.01), (-0.1, 0.01), (np.inf, 0.01),
                                             (np.nan, 0.01), (0.02, 0.0), (0.02, np.nan)])
def test_bad_qdq_scale_is_refused_at_compile_time(tmp_path: Path, x_scale: float,
                                                  w_scale: float) -> None:
    model = _qdq(tmp_path / "q.onnx", x_scale, w_scale)
    assert_one_line_error(effc("compile", str(model), "-o", str(tmp_path / "out"), "--board"),
                          "scale", "positive finite")


def test_good_qdq_model_still_compiles(tmp_path: Path) -> None:
    model = _qdq(tmp_path / "q.onnx", 0.02)
    result = effc("compile", str(model), "-o", str(tmp_path / "out"), "--board")
    assert result.returncode == 0, result.stderr

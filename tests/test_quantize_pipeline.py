"""The int8 compile pipeline end to end, through the real CLI.

* QDQ models (MLPerf Tiny): ``effc compile`` then ``effc run OUTDIR`` is bit-exact
  with TensorFlow Lite Micro's outputs stored in the ``.npz`` next to each model.
* Post-training quantization of the digits CNN: int8 top-1 stays within 0.5 pp of
  float (1.5 pp for every calibrator), the manifest and report carry the SQNR.
* Bad input: one line on stderr, exit code 2, no traceback.

The in-process ``effc.cli.main`` is used where the exit status is all we need (fast);
error paths run the real subprocess so the one-line/no-traceback contract is tested.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from effc.cli import main
from effc.compiler import CompiledModel
from tests.conftest import EXAMPLES, shared_models
from tests.test_cli_errors import assert_one_line_error, effc

DIGITS = EXAMPLES / "digits" / "digits_cnn.onnx"
DIGITS_DATA = EXAMPLES / "digits" / "digits_data.npz"
CALIB = f"{DIGITS_DATA}:x_calib"
CALIBRATORS = ["minmax", "percentile", "mse", "entropy"]

# ----------------------------------------------------------------- helpers


def _cli(*args: str) -> None:
    """Run the CLI in-process and require success."""
    assert main([*map(str, args)]) == 0, args


def _top1(logits: np.ndarray, labels: np.ndarray) -> float:
    return 100.0 * float(np.mean(np.argmax(logits, axis=1) == labels))


@pytest.fixture(scope="module")
def digits() -> dict[str, np.ndarray]:
    data = np.load(DIGITS_DATA)
    return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def float_top1(digits: dict[str, np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> float:
    """Float top-1 of the digits CNN on x_test via ``effc run MODEL.onnx --engine reference``."""
    tmp = tmp_path_factory.mktemp("digits_float")
    np.save(tmp / "x.npy", digits["x_test"])
    _cli("run", DIGITS, "--engine", "reference", "--input", tmp / "x.npy", "--output", tmp / "y.npy")
    y = np.load(tmp / "y.npy")
    assert y.shape == (len(digits["y_test"]), 10) and y.dtype == np.float32
    top1 = _top1(y, digits["y_test"])
    print(f"digits float top-1: {top1:.2f}%")
    return top1


def _int8_top1(outdir: Path, x_test: np.ndarray, y_test: np.ndarray) -> float:
    x_path, y_path = outdir.parent / f"{outdir.name}_x.npy", outdir.parent / f"{outdir.name}_y.npy"
    np.save(x_path, x_test)
    _cli("run", outdir, "--engine", "reference", "--input", x_path, "--output", y_path)
    return _top1(np.load(y_path), y_test)


def _compile_digits(outdir: Path, *extra: str) -> CompiledModel:
    _cli("compile", DIGITS, "-o", outdir, "--calib", CALIB, *extra)
    return CompiledModel.open(outdir)


# ----------------------------------------------- QDQ models: bit-exact with TFLM


@pytest.mark.parametrize("name", ["kws_ref_model", "pretrainedResnet_quant", "ad01_int8"])
def test_qdq_model_bit_exact_with_tflm_through_cli(name: str, tmp_path: Path) -> None:
    base = shared_models() / "mlperf-tiny"
    ref = np.load(base / f"{name}.npz")
    inputs, expected = ref["inputs"], ref["outputs"]
    assert inputs.dtype == np.int8 and inputs.shape[:2] == (16, 1)
    x = inputs.reshape(16, *inputs.shape[2:])
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "out"
    # QDQ models quantize automatically: no --quantize, no --calib.
    assert main(["compile", str(base / f"{name}.onnx"), "-o", str(out)]) == 0
    compiled = CompiledModel.open(out)
    assert compiled.manifest["quantize"] == "int8"
    graph = compiled.graph
    model_input = graph.tensors[graph.inputs[0]]
    assert model_input.dtype == "int8"
    assert tuple(model_input.shape[1:]) == x.shape[1:], (model_input.shape, x.shape)
    _cli("run", out, "--engine", "reference", "--input", tmp_path / "x.npy",
         "--output", tmp_path / "y.npy")
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.int8
    assert y.size == expected.size
    differing = int(np.count_nonzero(y.reshape(expected.shape).astype(np.int64)
                                     != expected.astype(np.int64)))
    print(f"{name}: {differing} of {expected.size} values differ from TFLite Micro")
    assert differing == 0


# ------------------------------------------------------ PTQ of the digits CNN


@pytest.fixture(scope="module")
def digits_minmax(tmp_path_factory: pytest.TempPathFactory) -> CompiledModel:
    return _compile_digits(tmp_path_factory.mktemp("digits") / "minmax")


def test_digits_int8_top1_close_to_float(digits_minmax: CompiledModel, float_top1: float,
                                         digits: dict[str, np.ndarray]) -> None:
    int8 = _int8_top1(digits_minmax.folder, digits["x_test"], digits["y_test"])
    print(f"digits: float top-1 {float_top1:.2f}%, int8 (minmax) top-1 {int8:.2f}%")
    assert float_top1 > 95.0
    assert abs(int8 - float_top1) <= 0.5


def test_digits_manifest_and_report(digits_minmax: CompiledModel) -> None:
    folder = digits_minmax.folder
    manifest = json.loads((folder / "effc.json").read_text())
    assert manifest["quantize"] == "int8"
    quant = manifest["quantization"]
    assert quant["calibrator"] == "minmax"
    assert quant["calibration"] == "200 samples"
    layers = quant["layers"]
    assert layers and all("sqnr_db" in layer for layer in layers)
    ops = {layer["op"] for layer in layers}
    assert {"Conv", "Dense"} <= ops
    for layer in layers:
        assert isinstance(layer["sqnr_db"], (int, float)) and layer["sqnr_db"] > 20, layer
        if layer["op"] in ("Conv", "Dense"):
            lo, hi = layer["weight_range"]
            assert lo < 0 < hi
            lo, hi = layer["activation_range"]
            assert lo <= 0 <= hi and hi > lo
    # BatchNormalization was folded and the integer graph has int8 activations inside.
    graph = digits_minmax.graph
    assert "BatchNormalization" not in {n.op_type for n in graph.nodes}
    assert graph.tensors[graph.inputs[0]].dtype == "float32"
    assert graph.tensors[graph.outputs[0]].dtype == "float32"
    report = (folder / "report.md").read_text()
    assert "## Quantization" in report and "SQNR dB" in report
    assert (folder / "model.onnx").is_file()


@pytest.mark.parametrize("calibrator", [
    *CALIBRATORS[:3],
    "entropy",
])
def test_each_calibrator_keeps_accuracy(calibrator: str, tmp_path: Path, float_top1: float,
                                        digits: dict[str, np.ndarray]) -> None:
    compiled = _compile_digits(tmp_path / calibrator, "--calibrator", calibrator)
    assert compiled.manifest["quantization"]["calibrator"] == calibrator
    int8 = _int8_top1(compiled.folder, digits["x_test"], digits["y_test"])
    print(f"digits {calibrator}: float top-1 {float_top1:.2f}%, int8 top-1 {int8:.2f}%")
    assert abs(int8 - float_top1) <= 1.5


def test_per_tensor_calibrator_override(tmp_path: Path, digits_minmax: CompiledModel,
                                        float_top1: float, digits: dict[str, np.ndarray]) -> None:
    # 'logits' is the model's output tensor name in the ONNX file and in the IR.
    graph = digits_minmax.graph
    assert "logits" in graph.outputs
    compiled = _compile_digits(tmp_path / "override", "--calibrator", "minmax,logits=percentile")
    assert compiled.manifest["quantization"]["calibrator"] == "minmax,logits=percentile"
    plain, mixed = graph.tensors, compiled.graph.tensors
    # The overridden tensor got another scale; the input kept the minmax one.
    assert float(mixed["logits_int8"].quant.scale) != float(plain["logits_int8"].quant.scale)
    assert float(mixed["input_int8"].quant.scale) == float(plain["input_int8"].quant.scale)
    int8 = _int8_top1(compiled.folder, digits["x_test"], digits["y_test"])
    print(f"digits minmax,logits=percentile: int8 top-1 {int8:.2f}%")
    assert abs(int8 - float_top1) <= 1.5


def test_per_tensor_override_of_unknown_tensor_is_one_line(tmp_path: Path) -> None:
    result = effc("compile", str(DIGITS), "-o", str(tmp_path / "o"), "--calib", CALIB,
                  "--calibrator", "minmax,no_such_tensor=percentile")
    assert_one_line_error(result, "no_such_tensor", "--calibrator")


def test_unknown_calibrator_kind_is_one_line(tmp_path: Path) -> None:
    result = effc("compile", str(DIGITS), "-o", str(tmp_path / "o"), "--calib", CALIB,
                  "--calibrator", "kmeans")
    assert_one_line_error(result, "kmeans", "minmax", "entropy")


# ---------------------------------------------------------------- bad input


def test_calibration_shape_mismatch(tmp_path: Path) -> None:
    np.savez(tmp_path / "c.npz", x=np.zeros((4, 1, 9, 9), np.float32))
    result = effc("compile", str(DIGITS), "-o", str(tmp_path / "o"),
                  "--calib", f"{tmp_path / 'c.npz'}:x")
    assert_one_line_error(result, "shape", "[4, 1, 9, 9]", "[N, 1, 8, 8]")
    assert not (tmp_path / "o").exists()


def test_calibration_wrong_dtype(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", np.zeros((4, 1, 8, 8), np.float64))
    result = effc("compile", str(DIGITS), "-o", str(tmp_path / "o"), "--calib",
                  str(tmp_path / "c.npy"))
    assert_one_line_error(result, "dtype", "float64", "float32")


def test_calibration_npz_without_array_name(tmp_path: Path) -> None:
    result = effc("compile", str(DIGITS), "-o", str(tmp_path / "o"), "--calib", str(DIGITS_DATA))
    assert_one_line_error(result, "x_calib", ":ARRAY")


def test_float_model_int8_without_calib_is_refused(tmp_path: Path) -> None:
    result = effc("compile", str(DIGITS), "-o", str(tmp_path / "o"), "--quantize", "int8")
    assert_one_line_error(result, "calibration samples", "--calib", "--quantize none")


def test_calib_random_warns_loudly_but_compiles(tmp_path: Path) -> None:
    result = effc("compile", str(DIGITS), "-o", str(tmp_path / "o"), "--calib", "random")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "WARNING" in result.stderr and "random" in result.stderr
    manifest = json.loads((tmp_path / "o" / "effc.json").read_text())
    assert manifest["quantize"] == "int8"
    assert "random" in manifest["quantization"]["calibration"]


def _all_scales_positive_and_finite(outdir: Path) -> int:
    graph = CompiledModel.open(outdir).graph
    checked = 0
    for tensor in graph.tensors.values():
        if tensor.quant is None:
            continue
        scale = np.asarray(tensor.quant.scale, np.float64)
        assert np.all(np.isfinite(scale)) and np.all(scale > 0), (tensor.name, scale)
        checked += 1
    return checked


@pytest.mark.parametrize("value", [0.0, 0.5])
def test_constant_calibration_gives_positive_finite_scales(value: float, tmp_path: Path,
                                                           digits: dict[str, np.ndarray]) -> None:
    np.save(tmp_path / "c.npy", np.full((8, 1, 8, 8), value, np.float32))
    out = tmp_path / "o"
    _cli("compile", DIGITS, "-o", out, "--calib", tmp_path / "c.npy")
    # weights, biases and activations all carry quantization parameters
    assert _all_scales_positive_and_finite(out) >= 10
    y = CompiledModel.open(out).run("reference", digits["x_test"][:8]).outputs
    assert np.all(np.isfinite(y))


def _qdq_with_float_gap(path: Path) -> None:
    """x -> Q -> DQ -> Tanh -> Sigmoid -> Q -> DQ -> y: the Tanh output has no Q/DQ.

    (A Relu there would be fine: its outputs stay on its input's grid.)"""
    inits = [numpy_helper.from_array(np.array(0.05, np.float32), "s_x"),
             numpy_helper.from_array(np.array(0, np.int8), "z_x"),
             numpy_helper.from_array(np.array(1 / 256, np.float32), "s_y"),
             numpy_helper.from_array(np.array(-128, np.int8), "z_y")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s_x", "z_x"], ["xq"], name="q_in"),
             helper.make_node("DequantizeLinear", ["xq", "s_x", "z_x"], ["xd"], name="dq_in"),
             helper.make_node("Tanh", ["xd"], ["r"], name="gap_tanh"),
             helper.make_node("Sigmoid", ["r"], ["sg"], name="gap_sigmoid"),
             helper.make_node("QuantizeLinear", ["sg", "s_y", "z_y"], ["yq"], name="q_out"),
             helper.make_node("DequantizeLinear", ["yq", "s_y", "z_y"], ["y"], name="dq_out")]
    graph = helper.make_graph(nodes, "gap", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 4])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [1, 4])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_qdq_float_value_between_q_and_dq_is_refused(tmp_path: Path) -> None:
    _qdq_with_float_gap(tmp_path / "gap.onnx")
    result = effc("compile", str(tmp_path / "gap.onnx"), "-o", str(tmp_path / "o"))
    assert_one_line_error(result, "gap_tanh", "'r'", "quantize it", "--quantize none")




def test_qdq_model_compiles_and_runs_with_quantize_none(tmp_path: Path) -> None:
    """The escape hatch the refusal above names must work: float semantics, no Q/DQ."""
    _qdq_with_float_gap(tmp_path / "gap.onnx")
    x = np.array([[-1.0, 0.5, 1.0, 3.0]], np.float32)
    np.save(tmp_path / "x.npy", x)
    _cli("compile", tmp_path / "gap.onnx", "-o", tmp_path / "o", "--quantize", "none")
    assert main(["run", str(tmp_path / "o"), "--input", str(tmp_path / "x.npy"),
                 "--output", str(tmp_path / "y.npy")]) == 0
    expected = 1.0 / (1.0 + np.exp(-np.tanh(x)))
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, rtol=1e-5)

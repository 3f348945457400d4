"""The shared float models (hls4ml examples, MLPerf Tiny) against onnxruntime.

onnxruntime is the oracle; where it cannot run a model (opset-6 Gemm) the
onnx reference evaluator is. Inputs are seeded random samples.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from effc.cli import main
from effc.errors import EffcError
from effc.frontend.importer import load
from effc.frontend.loader import load_onnx
from effc.onnx_export import to_onnx
from effc.reference import run_samples
from tests.conftest import EXAMPLES, onnx_oracle, shared_models

HLS4ML = [
    "conv1d_small_keras", "conv2d_small_keras", "conv2d_small_mp_keras", "dense_big_keras",
    "three_layer_bn_pytorch", "three_layer_keras", "three_layer_pytorch", "two_layer_keras",
    "two_layer_pytorch",
]
MLPERF_FLOAT = ["kws_ref_model_float32", "pretrainedResnet", "ad01_fp32"]


def _path(name: str):
    if name == "digits_cnn":
        return EXAMPLES / "digits" / "digits_cnn.onnx"
    root = shared_models()
    folder = "mlperf-tiny" if name in MLPERF_FLOAT else "hls4ml"
    return root / folder / f"{name}.onnx"


@pytest.mark.parametrize("name", [*HLS4ML, *MLPERF_FLOAT, "digits_cnn"])
def test_float_reference_matches_onnx_oracle(name: str) -> None:
    path = _path(name)
    graph = load(path)
    shape = graph.tensors[graph.inputs[0]].shape
    x = np.random.default_rng(1234).standard_normal((3, *shape[1:])).astype(np.float32)
    y = run_samples(graph, x)
    ref = onnx_oracle(load_onnx(path), x).reshape(y.shape)
    # Relative to the output's magnitude (floor 1e-6): the reference computes in
    # float64, the oracle in float32, so tiny elements carry the oracle's noise.
    scale = max(float(np.abs(ref).max()), 1e-6)
    assert float(np.abs(y - ref).max()) / scale < 1e-5


@pytest.mark.parametrize("name", [*HLS4ML, *MLPERF_FLOAT, "digits_cnn"])
def test_exported_ir_runs_in_onnxruntime(name: str) -> None:
    graph = load(_path(name))
    shape = graph.tensors[graph.inputs[0]].shape
    x = np.random.default_rng(7).standard_normal((2, *shape[1:])).astype(np.float32)
    exported = to_onnx(graph)
    session = ort.InferenceSession(exported.SerializeToString())
    got = np.concatenate([session.run(None, {graph.inputs[0]: x[i:i + 1]})[0] for i in range(2)])
    ref = run_samples(graph, x)
    assert float(np.abs(got - ref).max()) / max(float(np.abs(ref).max()), 1e-6) < 1e-5


def test_ill_formed_keras_bn_is_refused_precisely() -> None:
    path = shared_models() / "hls4ml" / "three_layer_bn_keras.onnx"
    with pytest.raises(EffcError, match="parameters of length 64 for 1 channels"):
        load(path)


@pytest.mark.parametrize("name,macs", [("kws_ref_model_float32", 2656768),
                                       ("pretrainedResnet", 12501632)])
def test_inspect_json_macs(name: str, macs: int, capsys: pytest.CaptureFixture) -> None:
    assert main(["inspect", str(_path(name)), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["macs"] == macs
    assert sum(layer["macs"] for layer in report["layers"]) == macs
    assert report["inputs"][0]["shape"][0] == 1
    assert isinstance(report["params"], int) and report["params"] > 0


def test_input_shape_override_fixes_the_batch(capsys: pytest.CaptureFixture) -> None:
    path = _path("three_layer_pytorch")  # exported with batch 789444
    assert main(["inspect", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["inputs"][0]["shape"] == [1, 16]
    assert main(["inspect", str(path), "--json", "--input-shape", "0=4x16"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["inputs"][0]["shape"] == [4, 16]
    assert report["outputs"][0]["shape"] == [4, 5]


@pytest.mark.parametrize("opset", [18, 21])
def test_newer_opsets_import_the_same_model(tmp_path, opset: int) -> None:
    from onnx import version_converter

    source = _path("digits_cnn")
    converted = version_converter.convert_version(onnx.load(source), opset)
    onnx.save(converted, tmp_path / "m.onnx")
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(run_samples(load(tmp_path / "m.onnx"), x),
                                  run_samples(load(source), x))

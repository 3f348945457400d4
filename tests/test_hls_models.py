"""Real models on the HLS target: the C simulation bit-exact with the integer reference.

The digits CNN, int8 builds of the hls4ml example models (Conv1D, Conv2D with
max pooling and Selu tables, dense networks, BatchNormalization folded into
dense layers: all nine the frontend imports) and the MLPerf Tiny KWS DS-CNN,
ResNet-8 (residual Adds) and the anomaly-detection autoencoder as QDQ models:
``effc run --engine hls`` (the project's C simulation built with g++, every
sample in one process) gives the integer reference's outputs, 0 differing
values, and for the MLPerf Tiny models also TensorFlow Lite Micro's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from effc.frontend.importer import load
from tests.conftest import EXAMPLES, shared_models
from tests.hls_support import check_threaded, compile_hls

#: Every hls4ml example effc imports (three_layer_bn_keras is ill-formed ONNX, refused by
#: the frontend: docs/frontend.md).
HLS4ML = ["conv1d_small_keras", "conv2d_small_keras", "conv2d_small_mp_keras",
          "dense_big_keras", "three_layer_bn_pytorch", "three_layer_keras",
          "three_layer_pytorch", "two_layer_keras", "two_layer_pytorch"]


def _bit_exact(compiled, x: np.ndarray) -> np.ndarray:
    got = compiled.run("hls", x).outputs
    ref = compiled.run("reference", x).outputs
    assert got.shape == ref.shape
    assert int(np.count_nonzero(got != ref)) == 0, "the C simulation differs from the reference"
    return got


def test_digits_cnn(tmp_path: Path) -> None:
    data = np.load(EXAMPLES / "digits" / "digits_data.npz")
    compiled = compile_hls(EXAMPLES / "digits" / "digits_cnn.onnx", tmp_path / "out",
                           data["x_calib"])
    assert compiled.manifest["hls"]["inputs"][0]["converted"]  # a float interface
    logits = _bit_exact(compiled, data["x_test"][:32])
    assert (logits.argmax(1) == data["y_test"][:32]).mean() > 0.9


@pytest.mark.parametrize("model", HLS4ML)
def test_hls4ml_model_int8(tmp_path: Path, model: str) -> None:
    path = shared_models() / "hls4ml" / f"{model}.onnx"
    shape = load(path).tensors[load(path).inputs[0]].shape
    rng = np.random.default_rng(0)
    calib = rng.normal(0, 1, (32 * shape[0], *shape[1:])).astype(np.float32)
    compiled = compile_hls(path, tmp_path / "out", calib)
    ops = {layer["op"] for layer in compiled.manifest["hls"]["estimate"]["layers"]}
    assert ops & {"Conv", "Dense"}
    _bit_exact(compiled, rng.normal(0, 1.5, (16 * shape[0], *shape[1:])).astype(np.float32))


@pytest.mark.parametrize("model", ["kws_ref_model", "pretrainedResnet_quant", "ad01_int8"])
def test_mlperf_tiny_against_tflm(tmp_path: Path, model: str) -> None:
    folder = shared_models() / "mlperf-tiny"
    data = np.load(folder / f"{model}.npz")
    compiled = compile_hls(folder / f"{model}.onnx", tmp_path / "out")
    x = data["inputs"].reshape(-1, *data["inputs"].shape[2:])
    got = _bit_exact(compiled, x)
    tflm = data["outputs"].reshape(got.shape)
    assert int(np.count_nonzero(got != tflm)) == 0, "the C simulation differs from TFLite Micro"
    if model == "pretrainedResnet_quant":
        check_threaded(compiled)  # three residual joins at effc's FIFO depths

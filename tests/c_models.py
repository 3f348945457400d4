"""Compile each model once per test session (shared by the C, host and QEMU tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from effc.boards import BOARDS_DIR
from effc.compiler import CompiledModel, CompileOptions, compile_model
from tests.conftest import EXAMPLES, shared_models

_CACHE: dict[tuple[str, str, str], CompiledModel] = {}

INT8_MODELS = ["kws_ref_model", "pretrainedResnet_quant", "ad01_int8"]
FLOAT_MLPERF = ["kws_ref_model_float32", "pretrainedResnet", "ad01_fp32"]
HLS4ML = ["conv1d_small_keras", "conv2d_small_keras", "conv2d_small_mp_keras",
          "dense_big_keras", "three_layer_bn_pytorch", "three_layer_keras",
          "three_layer_pytorch", "two_layer_keras", "two_layer_pytorch"]


def model_path(name: str) -> Path:
    if name == "digits_cnn":
        return EXAMPLES / "digits" / "digits_cnn.onnx"
    root = shared_models()
    folder = "hls4ml" if name in HLS4ML else "mlperf-tiny"
    return root / folder / f"{name}.onnx"


def compiled(tmp_factory: pytest.TempPathFactory, name: str, board: str = "mps2-an386",
             quantize: str | None = None) -> CompiledModel:
    key = (name, board, quantize or "")
    if key not in _CACHE:
        out = tmp_factory.mktemp(f"{name}-{board}")
        options = CompileOptions(board=board, quantize=quantize)
        if name == "digits_cnn" and quantize != "none":
            options.calib = np.load(EXAMPLES / "digits" / "digits_data.npz")["x_calib"]
        _CACHE[key] = compile_model(model_path(name), out, options)
    return _CACHE[key]


def small_board(folder: Path, name: str, flash_bytes: int) -> Path:
    """A user's board file: the NUCLEO-L4R5ZI with ``flash_bytes`` of flash (and no
    [hardware] table: only the QEMU-style image is built and checked)."""
    text = (BOARDS_DIR / "nucleo-l4r5zi.toml").read_text().split("\n[hardware]")[0] + "\n"
    for old, new in (('name = "nucleo-l4r5zi"', f'name = "{name}"'),
                     ("size = 0x00200000", f"size = {flash_bytes}")):
        assert old in text
        text = text.replace(old, new)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def tflm_vectors(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The 16 int8 inputs and TFLite Micro outputs, as [16, *shape[1:]]."""
    data = np.load(shared_models() / "mlperf-tiny" / f"{name}.npz")
    x, y = data["inputs"], data["outputs"]
    return x.reshape(x.shape[0], *x.shape[2:]), y.reshape(y.shape[0], *y.shape[2:])

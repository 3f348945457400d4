"""Conv and pooling window attributes, through the reference, the host C and QEMU.

Regressions: ``auto_pad`` arrives from ONNX as bytes and was compared with a
str, so every explicit mode acted as SAME_LOWER; the int8 AveragePool kernel
divided by the in-bounds taps where ``count_include_pad=1`` divides by the
padded window; pools with ``ceil_mode`` or ``dilations`` had no int8 form.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import helper

from effc.errors import EffcError
from effc.frontend.importer import load
from effc.ops._window import resolve_pads
from tests.small_models import check_engines, make_model, tensor, weights

AUTO_PAD = ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"]


def _inputs(seed: int, shape: tuple[int, ...], n: int = 6) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, (n, *shape[1:])).astype(np.float32)


@pytest.mark.parametrize("mode", AUTO_PAD)
def test_conv_auto_pad(tmp_path: Path, mode: str) -> None:
    path = make_model(tmp_path / "m.onnx",
                      [helper.make_node("Conv", ["x", "w"], ["y"], auto_pad=mode,
                                        strides=[2, 1])],
                      {"x": [1, 3, 5, 4]}, {"y": None}, [tensor("w", weights(0, 4, 3, 2, 2))])
    out_hw = {"NOTSET": (2, 3), "VALID": (2, 3), "SAME_UPPER": (3, 4), "SAME_LOWER": (3, 4)}
    assert load(path).tensors["y"].shape[2:] == out_hw[mode]
    check_engines(path, tmp_path, _inputs(1, (1, 3, 5, 4)))


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
@pytest.mark.parametrize("mode", AUTO_PAD)
def test_pool_auto_pad(tmp_path: Path, op: str, mode: str) -> None:
    path = make_model(tmp_path / "m.onnx",
                      [helper.make_node(op, ["x"], ["y"], kernel_shape=[2, 3], strides=[2, 2],
                                        auto_pad=mode)],
                      {"x": [1, 3, 5, 6]}, {"y": None})
    check_engines(path, tmp_path, _inputs(2, (1, 3, 5, 6)))


def test_unknown_auto_pad_is_one_line() -> None:
    with pytest.raises(EffcError, match="auto_pad 'SAME' is not an ONNX padding mode"):
        resolve_pads("SAME", [], (4, 4), [2, 2], [1, 1], [1, 1])


POOLS = [
    # (op, attributes, input NCHW)
    ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1},
     [1, 4, 5, 6]),
    ("AveragePool", {"kernel_shape": [3, 2], "pads": [2, 0, 1, 1], "strides": [2, 2],
                     "count_include_pad": 1}, [1, 5, 6, 5]),
    ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [2, 2],
                     "ceil_mode": 1}, [1, 3, 8, 8]),
    ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [2, 2],
                     "ceil_mode": 1, "count_include_pad": 1}, [1, 3, 8, 7]),
    ("AveragePool", {"kernel_shape": [2, 2], "dilations": [2, 2], "strides": [1, 2],
                     "pads": [1, 0, 1, 1]}, [1, 2, 7, 7]),
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}, [1, 3, 8, 8]),
    ("MaxPool", {"kernel_shape": [2, 3], "dilations": [2, 2], "pads": [1, 1, 0, 1]},
     [1, 3, 7, 8]),
    ("MaxPool", {"kernel_shape": [3], "strides": [2], "pads": [1, 0], "ceil_mode": 1},
     [1, 5, 10]),
    ("AveragePool", {"kernel_shape": [4], "strides": [3], "pads": [2, 1],
                     "count_include_pad": 1, "ceil_mode": 1}, [1, 5, 11]),
]


@pytest.mark.parametrize("case", range(len(POOLS)))
def test_pool_flags_on_every_engine(tmp_path: Path, case: int) -> None:
    op, attrs, shape = POOLS[case]
    opset = 19 if "dilations" in attrs and op == "AveragePool" else 13
    path = make_model(tmp_path / "m.onnx", [helper.make_node(op, ["x"], ["y"], **attrs)],
                      {"x": shape}, {"y": None}, opset=opset)
    check_engines(path, tmp_path, _inputs(3 + case, tuple(shape)))


@pytest.mark.qemu
def test_pool_flags_under_qemu(tmp_path: Path) -> None:
    """The DSP bodies (Cortex-M4) of the same geometries, in one model."""
    nodes = [helper.make_node("AveragePool", ["x"], ["a"], kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1], strides=[2, 2], ceil_mode=1,
                              count_include_pad=1),
             helper.make_node("MaxPool", ["a"], ["y"], kernel_shape=[2, 2], dilations=[2, 2],
                              pads=[1, 0, 1, 1], ceil_mode=1)]
    path = make_model(tmp_path / "m.onnx", nodes, {"x": [1, 8, 9, 9]}, {"y": None})
    check_engines(path, tmp_path, _inputs(9, (1, 8, 9, 9)), engines=("host", "qemu"))

"""Grouped, depthwise-multiplier and 1-D convolutions on every engine.

Grouped convolution (1 < group < C_in) had no C kernel; the float kernel now
groups by itself and int8 groups run through ``effc_grouped_conv_s8``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import helper

from tests.small_models import check_engines, make_model, tensor, weights

CASES = [
    # (name, input NCHW, weight OIHW, attributes)
    ("grouped_2x2", [1, 6, 7, 6], (4, 3, 3, 3), {"group": 2, "pads": [1, 1, 1, 1]}),
    ("grouped_3_strided", [1, 9, 8, 9], (6, 3, 2, 2), {"group": 3, "strides": [2, 1]}),
    ("grouped_pointwise", [1, 8, 4, 4], (12, 2, 1, 1), {"group": 4}),
    ("grouped_1d_dilated", [1, 4, 12], (6, 2, 3), {"group": 2, "dilations": [2]}),
    ("depthwise_multiplier_3", [1, 3, 6, 5], (9, 1, 3, 3), {"group": 3, "pads": [0, 1, 2, 1]}),
    ("depthwise_1d", [1, 5, 11], (5, 1, 4), {"group": 5, "strides": [2], "pads": [1, 2]}),
    ("height_one", [1, 3, 1, 9], (5, 3, 1, 3), {"pads": [0, 1, 0, 1]}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_conv_variant_on_every_engine(tmp_path: Path, case: tuple) -> None:
    _, shape, wshape, attrs = case
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], **attrs),
             helper.make_node("Relu", ["c"], ["y"])]
    inits = [tensor("w", weights(1, *wshape)), tensor("b", weights(2, wshape[0]))]
    path = make_model(tmp_path / "m.onnx", nodes, {"x": shape}, {"y": None}, inits)
    x = np.random.default_rng(3).normal(0, 1, (6, *shape[1:])).astype(np.float32)
    check_engines(path, tmp_path, x)

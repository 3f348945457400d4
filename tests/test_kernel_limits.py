"""Depthwise layers past the fast kernels' size limits, as whole models under QEMU.

The kernel cases (tests/test_qemu_kernels.py) run inside 64 KiB of scratch, so
the routing that sends a layer too large for a fast body elsewhere never runs
there. Here, bit for bit against the integer reference and the host (both
weight granularities, Cortex-M4 DSP and Cortex-M55 Helium boards):

- rows of more than 65,532 bytes (``w * c``): the Helium body's plane copy
  uses 16-bit offsets over two input rows and the DSP walk a 16-bit output
  row stride, so both hand the layer to their general paths (either check
  removed: about 99 % of the outputs differ);
- planes wider than the Helium walk's layout (the general column-major path,
  stride 1 and 2), and scratch past the 4 x 21,844 bytes the Helium copy's
  16-bit scatter reaches (the cap removed: 97 % differ).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.conftest_c import require_tool
from tests.differential.generator import RandomModel
from tests.differential.harness import WEIGHT_QUANTS, Differential
from tests.differential.onnx_builder import Builder, nhwc_input, nhwc_output
from tests.test_differential import QEMU_BOARDS

HELIUM_ROW_LIMIT = 0xFFFF - 3  # in->w * in->c the Helium body's copy reaches
HELIUM_WALK_PLANE_COLUMNS = (0xFFFF - 1) // 3 // 32  # widest plane of the walk's layout


def _pointwise(b: Builder, x, c_out: int, name: str, stride: int = 1):
    weight = b.weight((c_out, x.shape[1], 1, 1), x.shape[1])
    bias = b.const(np.linspace(-0.2, 0.2, c_out).astype(np.float32), name)
    out = tuple((size - 1) // stride + 1 for size in x.shape[2:])
    return b.op("Conv", [x.name, weight, bias], (1, c_out, *out), "", "cl",
                kernel_shape=[1, 1], strides=[stride, stride])


def depthwise_model(h: int, w: int, c: int, stride: int, c_io: int = 4,
                    tail_stride: int = 1) -> RandomModel:
    """NHWC input of ``c_io`` channels -> 1x1 conv to ``c`` -> depthwise 3x3 conv (pads
    1, ``stride``, bias) -> ReLU -> 1x1 conv (``tail_stride``) to ``c_io`` -> NHWC: the
    large activations stay int8 in the arena (the firmware's float input and output
    would not fit the RAM)."""
    b = Builder(17, np.random.default_rng(h * 1_000_003 + w * 101 + c * 7 + stride))
    x = _pointwise(b, nhwc_input(b, h, w, c_io), c, "expand_bias")
    weight = b.weight((c, 1, 3, 3), 9)
    bias = b.const(np.linspace(-0.3, 0.3, c).astype(np.float32), "bias")
    out = ((h + 2 - 3) // stride + 1, (w + 2 - 3) // stride + 1)
    y = b.op("Conv", [x.name, weight, bias], (1, c, *out), "", "cl", kernel_shape=[3, 3],
             pads=[1, 1, 1, 1], strides=[stride, stride], group=c)
    y = _pointwise(b, b.op("Relu", [y.name], y.shape, "", "cl"), c_io, "reduce_bias",
                   tail_stride)
    nhwc_output(b, y)
    features = frozenset({"input_image", "input_nhwc", "conv2d", "conv_depthwise", "relu",
                          "output_nhwc"} | ({"conv_stride"} if stride > 1 else set()))
    return RandomModel(b.model(), features, b.layers, 0, [(v.name, v.shape) for v in b.inputs])


LIMITS = {
    # rows of 1,028 x 64 = 65,792 bytes: past the Helium copy and the DSP walk
    "row_past_16_bit_offsets": (2, 1028, 64, 1),
    # 700 columns x 4 channels: planes wider than the Helium walk's layout
    "planes_past_the_walk_layout": (3, 700, 4, 1),
    # and as wide at stride 2 (the general path's gathers; never the walk)
    "wide_planes_stride_2": (5, 701, 4, 2),
    # 16 rows of 1,400 x 4: scratch past 4 planes of 21,844 bytes (the Helium copy's
    # 16-bit scatter reaches the fourth plane's second row), so the planes are capped
    "planes_past_16_bit_scatter": (16, 1400, 4, 1, 1, 4),
}
HELIUM_PLANES_BYTES = 4 * 21_844  # what the Helium body's planes may take


def test_the_limit_shapes_are_past_the_limits() -> None:
    _, w, c, _ = LIMITS["row_past_16_bit_offsets"]
    assert w * c > HELIUM_ROW_LIMIT and w * c >= 65536
    for name in ("planes_past_the_walk_layout", "wide_planes_stride_2"):
        _, w, c, _ = LIMITS[name]
        assert w + 2 > HELIUM_WALK_PLANE_COLUMNS and w * c <= HELIUM_ROW_LIMIT
    h, w, c, _, _, _ = LIMITS["planes_past_16_bit_scatter"]
    assert (w + 2) * (h + 2) * c > HELIUM_PLANES_BYTES


@pytest.mark.slow
@pytest.mark.qemu
@pytest.mark.parametrize("name", list(LIMITS))
def test_depthwise_past_the_fast_kernels_limits_under_qemu(name: str, tmp_path) -> None:
    require_tool("qemu-system-arm")
    require_tool("arm-none-eabi-gcc")
    diff = Differential(depthwise_model(*LIMITS[name]), tmp_path / name)
    for weight_quant in WEIGHT_QUANTS:
        for board in QEMU_BOARDS:
            diff.check_qemu(weight_quant, board)
    assert set(diff.report.outcomes.values()) == {"ran"}
    shutil.rmtree(tmp_path / name)

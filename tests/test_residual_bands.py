"""A conv and the residual Add it feeds, run band by band (effc/codegen/c/residual.py):
bit-exact with the integer reference on the host and under QEMU, bands of
several rows and a short last one, at both weight layouts, and the arena no
longer holds the convolution's whole output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from effc.codegen.c import residual
from tests.conftest_c import require_tool

H, W, C = 11, 6, 8


def block_model(seed: int = 0) -> onnx.ModelProto:
    """x = relu(conv0(input)); y = conv2(relu(conv1(x))); out = relu(x + y)."""
    rng = np.random.default_rng(seed)
    inits, nodes = [], []

    def conv(name: str, src: str, c_in: int, k: int) -> str:
        w = rng.normal(0, 1 / np.sqrt(k * k * c_in), (C, c_in, k, k)).astype(np.float32)
        inits.extend([numpy_helper.from_array(w, f"{name}_w"),
                      numpy_helper.from_array(rng.normal(0, 0.1, C).astype(np.float32),
                                              f"{name}_b")])
        nodes.append(helper.make_node("Conv", [src, f"{name}_w", f"{name}_b"], [name],
                                      kernel_shape=[k, k], pads=[k // 2] * 4))
        return name

    def relu(src: str) -> str:
        nodes.append(helper.make_node("Relu", [src], [f"{src}_relu"]))
        return f"{src}_relu"

    x = relu(conv("conv0", "input", 3, 3))
    y = conv("conv2", relu(conv("conv1", x, C, 3)), C, 3)
    nodes.append(helper.make_node("Add", [x, y], ["sum"]))
    nodes.append(helper.make_node("Relu", ["sum"], ["output"]))
    graph = helper.make_graph(
        nodes, "block",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, H, W])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, C, H, W])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_bands_cover_the_output_with_the_rows_they_read() -> None:
    f = {"input_dims": [1, 9, 4, 2], "output_dims": [1, 9, 4, 3], "filter_dims": [3, 3, 3, 2],
         "stride_h": 1, "dilation_h": 1, "pad_top": 1}
    old, residual.BAND_BYTES = residual.BAND_BYTES, 2 * 4 * 3 + 5  # two rows a band
    try:
        bands = residual._bands(f)
    finally:
        residual.BAND_BYTES = old
    assert [b["output_dims"][1] for b in bands] == [2, 2, 2, 2, 1]
    assert [b["pad_top"] for b in bands] == [1, 0, 0, 0, 0]
    assert [b["input_dims"][1] for b in bands] == [3, 4, 4, 4, 2]  # the last: bottom padding
    assert [b["in_offset"] // 8 for b in bands] == [0, 1, 3, 5, 7]
    assert [b["out_offset"] // 12 for b in bands] == [0, 2, 4, 6, 8]


@pytest.mark.parametrize("optimize", ["speed", "size"])
def test_residual_block_runs_in_bands_bit_exact(optimize: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    from effc.compiler import CompileOptions, compile_model
    from effc.reference import run_samples

    monkeypatch.setattr(residual, "BAND_BYTES", 2 * W * C)  # 6 bands, the last one row
    path = tmp_path / "block.onnx"
    onnx.save(block_model(), path)
    rng = np.random.default_rng(1)
    calib = rng.normal(size=(8, 3, H, W)).astype(np.float32)
    model = compile_model(path, tmp_path / "out", CompileOptions(
        board="mps2-an386", calib=calib, optimize=optimize))  # verify: the host self-check
    kernels = [layer["kernel"] for layer in model.manifest["c"]["layers"]]
    assert kernels.count("conv_add_s8") == 1 and "binary_s8" not in kernels
    # x, conv1's output and a band (+ scratch): not x, conv1's and conv2's whole outputs
    assert model.manifest["memory"]["activations_lower_bound_bytes"] < 3 * H * W * C
    x = rng.normal(size=(3, 3, H, W)).astype(np.float32)
    result = model.run("qemu", x)
    np.testing.assert_array_equal(result.outputs, run_samples(model.graph, x))

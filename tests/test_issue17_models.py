"""Acceptance of issue 17: a GRU keyword spotter, an encoder-decoder with Resize and
ConvTranspose, and a CNN ending in ReduceMean + Gemm(transB) compile to int8 C and run
bit-exact on the integer reference, the host library and the Cortex-M4 firmware under
QEMU (tests/issue17_models.py builds them; the float C library matches the float
reference too)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from effc.compiler import CompileOptions, compile_model
from tests.conftest_c import require_tool
from tests.issue17_models import MODELS, calibration

#: int8 against the float reference, dB (the models' own quantization noise).
MIN_SQNR = {"gru_kws": 25.0, "encoder_decoder": 25.0, "gap_gemm": 25.0}


def _sqnr(ref: np.ndarray, got: np.ndarray) -> float:
    noise = float(np.sum((ref.astype(np.float64) - got) ** 2))
    return float(10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / max(noise, 1e-30)))


@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(MODELS))
def test_int8_bit_exact_on_reference_host_and_qemu(tmp_path: Path, name: str) -> None:
    require_tool("qemu-system-arm")
    require_tool("arm-none-eabi-gcc")
    model = MODELS[name]()
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    calib, x = calibration(model, 64), calibration(model, 8, seed=1)
    compiled = compile_model(path, tmp_path / "int8", CompileOptions(
        calib=calib, board="mps2-an386"))
    assert compiled.manifest["verification"]["differing_values"] == 0
    ref = compiled.run("reference", x).outputs
    for engine in ("host", "qemu"):
        run = compiled.run(engine, x)
        differing = int(np.count_nonzero(run.outputs != ref))
        assert differing == 0, f"{name} on {engine}: {differing} of {ref.size} values differ"
    metrics = compiled.run("qemu", x[:1]).metrics
    float_out = compile_model(path, tmp_path / "float", CompileOptions(
        quantize="none")).run("reference", x).outputs
    sqnr = _sqnr(float_out, ref)
    print(f"\n{name}: {metrics['macs']} MACs, {metrics['instructions']} instructions "
          f"({metrics['instructions_per_mac']} per MAC), flash {metrics['flash_bytes']} B, "
          f"arena {metrics['arena_bytes']} B; int8 SQNR {sqnr:.1f} dB")
    assert sqnr > MIN_SQNR[name]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_float_c_matches_the_float_reference(tmp_path: Path, name: str) -> None:
    model = MODELS[name]()
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    x = calibration(model, 2, seed=2)
    compiled = compile_model(path, tmp_path / "float", CompileOptions(
        quantize="none", board="mps2-an386"))
    ref = compiled.run("reference", x).outputs
    got = compiled.run("host", x).outputs
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * float(np.abs(ref).max()))

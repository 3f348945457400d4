"""Compiled firmware under QEMU: bit-exact int8 on two boards, float ResNet-8, error paths."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from effc.compiler import CompileOptions, compile_model
from effc.engines.qemu import run_qemu_model
from effc.errors import EffcError
from effc.frontend.loader import load_onnx
from tests.c_models import INT8_MODELS, compiled, model_path, small_board, tflm_vectors
from tests.conftest import onnx_oracle

pytestmark = pytest.mark.qemu


@pytest.mark.parametrize("board", ["mps2-an386", "mps3-an547"])
@pytest.mark.parametrize("name", INT8_MODELS)
def test_int8_firmware_bit_exact_with_tflite_micro(tmp_path_factory, name: str,
                                                   board: str) -> None:
    model = compiled(tmp_path_factory, name, board)
    x, expected = tflm_vectors(name)
    result = run_qemu_model(model, x)
    differing = int(np.count_nonzero(result.outputs != expected))
    m = result.metrics
    print(f"{board} {name}: {differing} differing of {expected.size}; "
          f"{m['instructions']} instructions, {m['instructions_per_mac']} instr/MAC, "
          f"flash {m['flash_bytes']}, arena {m['arena_bytes']}, stack {m['stack_bytes']}")
    assert differing == 0
    # an SMLAD does at most two MACs, a Helium VMLADAVA.S8 (Cortex-M55) sixteen
    assert m["instructions"] > m["macs"] / (16 if board == "mps3-an547" else 2)
    assert 0 < m["stack_bytes"] < 4096


@pytest.mark.parametrize(("name", "budget"), [("kws_ref_model", 1 << 22),
                                            ("pretrainedResnet_quant", 1 << 22),
                                            ("kws_ref_model", 49_152)])
def test_packed_firmware_bit_exact_with_tflite_micro(tmp_path, name: str, budget: int) -> None:
    """A --flash-budget image reads its convolutions' PAIR8 weights in the WIDE2 loops
    (EFFC_WIDE2_PACKED): KWS through the one-pass stack loop (k 40 and 64), ResNet-8's
    3x3 convolutions (k up to 576) through the unrolled loop, their pixel remainders
    through the one-column loop; bit-exact with TFLite Micro. KWS within 48 KiB takes a
    smaller form: the eight-group loop, its setup and light ops compiled for size
    (kernel_set.SIZE_SOURCES)."""
    model = compile_model(model_path(name), tmp_path,
                          CompileOptions(board="mps2-an386", flash_budget=budget))
    c = model.manifest["c"]
    assert "-DEFFC_WIDE2_PACKED=1" in c["firmware_cflags"]
    assert model.manifest["memory"]["widened_macs"] > 0
    assert bool(c["firmware_source_cflags"]) == (budget < 1 << 22)
    assert model.manifest["firmware"]["flash_bytes"] <= budget
    x, expected = tflm_vectors(name)
    result = run_qemu_model(model, x)
    differing = int(np.count_nonzero(result.outputs != expected))
    m = result.metrics
    print(f"{name} packed: {differing} differing of {expected.size}; {m['instructions']} "
          f"instructions, flash {m['flash_bytes']}")
    assert differing == 0


def test_instruction_counts_are_deterministic(tmp_path_factory) -> None:
    model = compiled(tmp_path_factory, "ad01_int8")
    x, _ = tflm_vectors("ad01_int8")
    first = run_qemu_model(model, x[:2]).metrics["instructions"]
    assert run_qemu_model(model, x[:2]).metrics["instructions"] == first


def test_profile_splits_instructions_per_layer(tmp_path_factory) -> None:
    model = compiled(tmp_path_factory, "kws_ref_model")
    x, expected = tflm_vectors("kws_ref_model")
    result = run_qemu_model(model, x[:1], profile=True)
    per_layer = result.metrics["per_layer_instructions"]
    assert np.array_equal(result.outputs, expected[:1])
    assert sum(per_layer.values()) == result.metrics["instructions"]
    # the cycle model: per layer, summing to the whole; cycles exceed instructions on the M4
    rows = result.metrics["profile"]
    assert sum(r["cycles_estimate"] for r in rows) == result.metrics["cycles_estimate"]
    assert all(r["cycles_estimate"] >= r["instructions"] for r in rows)
    assert result.metrics["cycle_model"]["core"] == "cortex-m4"
    assert len([k for k in per_layer if int(k) >= 0]) == len(
        [c for c in model.manifest["summary"]["layers"] if c["op"] != "Reshape"])


def test_float_resnet_matches_onnxruntime_under_qemu(tmp_path_factory) -> None:
    model = compiled(tmp_path_factory, "pretrainedResnet", quantize="none")
    x = np.random.default_rng(3).standard_normal((2, 32, 32, 3)).astype(np.float32)
    got = run_qemu_model(model, x).outputs
    ref = onnx_oracle(load_onnx(model_path("pretrainedResnet")), x)
    assert float(np.abs(got - ref).max()) <= 1e-4


def test_qemu_engine_via_cli_reports_json(tmp_path_factory, tmp_path) -> None:
    model = compiled(tmp_path_factory, "ad01_int8")
    x, expected = tflm_vectors("ad01_int8")
    np.save(tmp_path / "x.npy", x[:3])
    result = subprocess.run([sys.executable, "-m", "effc.cli", "run", str(model.folder),
                             "--engine", "qemu", "--input", str(tmp_path / "x.npy"),
                             "--output", str(tmp_path / "y.npy"), "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    import json

    report = json.loads(result.stdout)
    for key in ("instructions", "flash_bytes", "ram_bytes", "arena_bytes", "stack_bytes", "macs",
                "cycles_estimate"):
        assert isinstance(report[key], int) and report[key] > 0
    assert np.array_equal(np.load(tmp_path / "y.npy"), expected[:3])


def test_hardware_board_reports_fit(tmp_path) -> None:
    from effc.compiler import CompileOptions, compile_model

    fits = {}
    for optimize in ("speed", "size"):
        model = compile_model(model_path("kws_ref_model"), tmp_path / optimize,
                              CompileOptions(board="stm32f746g-disco", optimize=optimize))
        fits[optimize] = fit = model.manifest["fit"]
        assert model.manifest["optimize"] == optimize
        assert 0 < fit["flash_bytes"] < fit["flash_limit"]
        assert fit["ram_bytes"] < fit["ram_limit"]
    # size keeps int8 weights; speed spends flash on int16 ones (fits the 1 MiB)
    assert fits["size"]["flash_bytes"] < 48 * 1024 < fits["speed"]["flash_bytes"]


def test_hardware_board_too_small_names_the_shortfall(tmp_path) -> None:
    from effc.compiler import CompileOptions, compile_model

    small = str(small_board(tmp_path, "small", 128 * 1024))
    with pytest.raises(EffcError, match=r"does not fit small: flash needs .* over\)"):
        compile_model(model_path("ad01_int8"), tmp_path / "ad01", CompileOptions(board=small))


def test_firmware_without_qemu_board_is_a_clear_error(tmp_path_factory, tmp_path) -> None:
    from effc.compiler import CompileOptions, compile_model

    model = compile_model(model_path("kws_ref_model"), tmp_path / "hw",
                          CompileOptions(board="stm32f746g-disco"))
    x, _ = tflm_vectors("kws_ref_model")
    with pytest.raises(EffcError, match="has no QEMU model"):
        run_qemu_model(model, x[:1])

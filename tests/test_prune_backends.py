"""Pruned models go through quantization and the C backend unchanged (QEMU, bit-exact)."""

from __future__ import annotations

import numpy as np
import pytest

from effc.compiler import CompileOptions, compile_model
from effc.engines.qemu import run_qemu_model
from effc.reference import run_samples
from tests.c_models import model_path, small_board

pytestmark = pytest.mark.qemu
DIGITS_DATA = model_path("digits_cnn").parent / "digits_data.npz"


def test_pruned_digits_int8_firmware_bit_exact(tmp_path) -> None:
    data = np.load(DIGITS_DATA)
    prune = {"ratio": 0.5, "criterion": "l1", "reconstruct": "lsq"}
    model = compile_model(model_path("digits_cnn"), tmp_path / "pruned",
                          CompileOptions(calib=data["x_calib"], board="mps2-an386", prune=prune))
    full = compile_model(model_path("digits_cnn"), tmp_path / "full",
                         CompileOptions(calib=data["x_calib"]))
    macs, full_macs = model.manifest["summary"]["macs"], full.manifest["summary"]["macs"]
    assert full_macs >= 2 * macs
    x, y = data["x_test"], data["y_test"]
    result = run_qemu_model(model, x)
    assert np.array_equal(result.outputs, run_samples(model.graph, x))
    pruned_top1 = float(np.mean(result.outputs.argmax(1) == y))
    full_top1 = float(np.mean(run_samples(full.graph, x).argmax(1) == y))
    print(f"digits: MACs {full_macs} -> {macs}; int8 top-1 {full_top1:.4f} -> {pruned_top1:.4f}")
    assert pruned_top1 >= full_top1 - 0.02
    assert model.manifest["pruning"]["macs"]["after"] == macs


def test_pruned_kws_quantizes_and_runs_on_qemu(tmp_path) -> None:
    rng = np.random.default_rng(11)
    calib = rng.standard_normal((32, 49, 10, 1)).astype(np.float32)
    model = compile_model(model_path("kws_ref_model_float32"), tmp_path / "kws",
                          CompileOptions(calib=calib, board="mps2-an386",
                                         prune={"ratio": 0.3, "reconstruct": "lsq"}))
    assert model.manifest["summary"]["macs"] < 2656768
    x = rng.standard_normal((3, 49, 10, 1)).astype(np.float32)
    result = run_qemu_model(model, x)
    assert np.array_equal(result.outputs, run_samples(model.graph, x))


def test_prune_fit_board_prunes_just_enough(tmp_path) -> None:
    """--prune-fit-board shrinks the digits model until it fits a 14 KiB-flash board."""
    small = str(small_board(tmp_path, "small-m4", 14 * 1024))
    data = np.load(DIGITS_DATA)
    model = compile_model(model_path("digits_cnn"), tmp_path / "fit", CompileOptions(
        calib=data["x_calib"], board=small, prune={"fit_board": True}))
    fit = model.manifest["fit"]
    assert fit["flash_bytes"] <= 14 * 1024 and fit["ram_bytes"] <= fit["ram_limit"]
    assert model.manifest["summary"]["macs"] < 452864
    assert model.manifest["pruning"]["fit"]

"""The command line as a newcomer meets it: --version, --verbose/--quiet progress, a warning
for --calib on a quantized model, --board before the model, inspect OUTDIR, layers by index,
and prune --help listing only what prune takes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from effc.version import __version__
from tests.c_models import model_path
from tests.conftest import EXAMPLES

DIGITS = EXAMPLES / "digits" / "digits_cnn.onnx"


def effc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "effc.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def test_version() -> None:
    r = effc("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"effc {__version__}"


def test_verbose_lists_the_steps_and_plain_output_has_none(tmp_path: Path) -> None:
    r = effc("-v", "compile", str(DIGITS), "-o", str(tmp_path / "v"), "--board")
    assert r.returncode == 0, r.stderr
    steps = [ln.split(":")[1].strip() for ln in r.stderr.splitlines()]
    assert steps[0] == "loading digits_cnn.onnx"
    assert {"optimizing", "generating and building for mps2-an386",
            "self-check against the reference", "writing the report"} <= set(steps)
    plain = effc("compile", str(DIGITS), "-o", str(tmp_path / "p"), "--board")
    assert plain.returncode == 0 and plain.stderr == ""  # not a terminal: no progress


def test_calib_on_a_quantized_model_warns(tmp_path: Path) -> None:
    model = str(model_path("kws_ref_model"))
    r = effc("compile", model, "-o", str(tmp_path / "a"), "--calib", "random")
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == ("effc: warning: --calib is ignored: the model is already "
                                "quantized (its QuantizeLinear/DequantizeLinear or integer "
                                "tensors carry the scales); drop --calib")
    quiet = effc("-q", "compile", model, "-o", str(tmp_path / "b"), "--calib", "random")
    assert quiet.returncode == 0 and quiet.stderr == ""
    float_model = effc("compile", str(DIGITS), "-o", str(tmp_path / "c"), "--calib", "random")
    assert float_model.returncode == 0 and "warning" not in float_model.stderr


def test_board_flag_before_the_model(tmp_path: Path) -> None:
    r = effc("compile", "--board", str(DIGITS), "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "out" / "effc.json").read_text())["board"] == "mps2-an386"
    missing = effc("compile", "-o", str(tmp_path / "x"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == ("effc: error: the model is missing: effc compile "
                                      "MODEL.onnx -o OUTDIR [--board NAME]")


def test_inspect_a_compiled_folder(tmp_path: Path) -> None:
    assert effc("compile", str(DIGITS), "-o", str(tmp_path / "o"), "--board",
                "nucleo-l4r5zi").returncode == 0
    r = effc("inspect", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    assert "arena offset" in r.stdout and "conv_f32" in r.stdout
    assert "of 2,097,152 bytes" in r.stdout  # the board's flash
    data = json.loads(effc("inspect", str(tmp_path / "o"), "--json").stdout)
    assert data["board"] == "nucleo-l4r5zi" and data["memory"]["arena_bytes"] > 0
    assert any(row["kernel"] == "conv_f32" for row in data["layers"])


def test_layers_by_index(tmp_path: Path) -> None:
    by_index = effc("prune", str(DIGITS), "--prune-layer", "1=0.5", "--prune-protect", "#4",
                    "-o", str(tmp_path / "a.onnx"))
    assert by_index.returncode == 0, by_index.stderr
    name = "/features/features.0/Conv"
    by_name = effc("prune", str(DIGITS), "--prune-layer", f"{name}=0.5", "-o",
                   str(tmp_path / "b.onnx"))
    assert by_name.returncode == 0, by_name.stderr
    assert (tmp_path / "a.onnx").stat().st_size == (tmp_path / "b.onnx").stat().st_size
    bad = effc("prune", str(DIGITS), "--prune-layer", "99=0.5", "-o", str(tmp_path / "c.onnx"))
    assert bad.returncode == 2
    assert "--prune-layer names layer index 99, but the model has 12 layers" in bad.stderr


@pytest.mark.parametrize("command", ["prune", "compile"])
def test_help_lists_only_what_the_command_takes(command: str) -> None:
    r = effc(command, "--help")
    assert r.returncode == 0
    assert ("--prune-fit-board" in r.stdout) == (command == "compile")


def test_run_input_names_an_array_of_an_npz(tmp_path: Path) -> None:
    assert effc("compile", str(DIGITS), "-o", str(tmp_path / "o"), "--board").returncode == 0
    data = str(EXAMPLES / "digits" / "digits_data.npz")
    ok = effc("run", str(tmp_path / "o"), "--engine", "host", "--input", f"{data}:x_test",
              "--output", str(tmp_path / "y.npy"))
    assert ok.returncode == 0, ok.stderr
    bad = effc("run", str(tmp_path / "o"), "--input", f"{data}:nope", "--output",
               str(tmp_path / "z.npy"))
    assert bad.returncode == 2 and "has no array 'nope'; it holds x_train" in bad.stderr


def test_compile_help_calls_no_registered_target_unavailable() -> None:
    r = effc("compile", "--help")
    assert r.returncode == 0
    help_text = " ".join(r.stdout.split())
    assert "not available" not in help_text
    assert "rtl (FPGA boards: effc's programmable int8 Verilog accelerator)" in help_text

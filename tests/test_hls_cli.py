"""The HLS target through the command line: ``effc compile --board <FPGA board> --target
hls``, the project it writes, ``effc run --engine hls``, and every user mistake as one
line with exit code 2.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import EXAMPLES
from tests.test_cli_errors import DIGITS, assert_one_line_error, effc

CALIB = f"{EXAMPLES / 'digits' / 'digits_data.npz'}:x_calib"


@pytest.fixture(scope="module")
def digits_hls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The digits CNN compiled for pynq-z2 with the hls target; (OUTDIR, stdout)."""
    out = tmp_path_factory.mktemp("digits") / "out"
    result = effc("compile", str(DIGITS), "-o", str(out), "--calib", CALIB,
                  "--board", "pynq-z2", "--target", "hls")
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_compile_prints_the_estimate_and_the_c_simulation_self_check(digits_hls) -> None:
    out, stdout = digits_hls
    assert re.search(r"^hls: pynq-z2 \(xc7z020clg400-1\) at 100 MHz: initiation interval "
                     r"[\d,]+ cycles = [\d,]+ inferences/s; latency .*DSP \d+/220, "
                     r"BRAM18 \d+/280, LUT [\d,]+/45,220 \(estimates\)$", stdout, re.M), stdout
    assert re.search(r"^self-check: HLS C simulation vs the integer reference on 8 calibration "
                     r"samples: 0 differing values \(bit-exact\)$", stdout, re.M), stdout
    manifest = json.loads((out / "effc.json").read_text())
    assert manifest["target"] == "hls" and manifest["board_kind"] == "fpga"
    assert manifest["verification"]["engine"] == "hls"
    report = (out / "report.md").read_text()
    assert "## HLS accelerator (pynq-z2, xc7z020clg400-1)" in report
    assert "**bottleneck**" in report and "| FIFO in |" in report


def test_the_project_is_ready_for_vitis_hls(digits_hls) -> None:
    out, _ = digits_hls
    hls = out / "hls"
    tcl = (hls / "run_hls.tcl").read_text()
    for line in ("set_top digits_cnn", "set_part xc7z020clg400-1",
                 "create_clock -period 10 -name default", "csim_design -argv $tb_args",
                 "csynth_design", "cosim_design -argv $tb_args",
                 "export_design -format ip_catalog"):
        assert line in tcl, line
    readme = (hls / "README.md").read_text()
    for word in ("csim_design", "csynth_design", "cosim_design", "export_design",
                 "vitis_hls -f run_hls.tcl", "make csim"):
        assert word in readme, word
    top = (hls / "digits_cnn.cpp").read_text()
    assert "#pragma HLS INTERFACE mode=axis port=in" in top
    assert "#pragma HLS INTERFACE mode=s_axilite port=return" in top
    assert "#pragma HLS DATAFLOW" in top
    params = (hls / "digits_cnn_params.h").read_text()
    assert re.search(r"static const int8_t \w+\[", params)  # weights in headers, not files
    assert (hls / "data" / "input.bin").stat().st_size == 8 * 64
    assert (hls / "data" / "expected.bin").stat().st_size == 8 * 10


def test_make_csim_runs_the_testbench_with_plain_gxx(digits_hls, tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    hls = tmp_path / "hls"
    shutil.copytree(digits_hls[0] / "hls", hls)
    proc = subprocess.run(["make", "-s", "csim", "CXXFLAGS=-std=c++14 -O0 -Wall -Werror "
                           "-Wno-unknown-pragmas"], cwd=hls, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r" 0 of 80 output values differ", proc.stdout), proc.stdout


def test_run_engine_hls_matches_the_reference(digits_hls, tmp_path: Path) -> None:
    out, _ = digits_hls
    x = np.load(EXAMPLES / "digits" / "digits_data.npz")["x_test"][:20]
    np.save(tmp_path / "x.npy", x)
    result = effc("run", str(out), "--engine", "hls", "--input", str(tmp_path / "x.npy"),
                  "--output", str(tmp_path / "y.npy"), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["engine"] == "hls" and info["inferences"] == 20
    ref = effc("run", str(out), "--engine", "reference", "--input", str(tmp_path / "x.npy"),
               "--output", str(tmp_path / "ref.npy"))
    assert ref.returncode == 0, ref.stderr
    assert np.array_equal(np.load(tmp_path / "y.npy"), np.load(tmp_path / "ref.npy"))


def test_no_verify_still_writes_the_vectors(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = effc("compile", str(DIGITS), "-o", str(out), "--calib", CALIB, "--board",
                  "arty-a7-35t", "--target", "hls", "--no-verify")
    assert result.returncode == 0, result.stderr
    assert "self-check" not in result.stdout
    assert (out / "hls" / "data" / "expected.bin").stat().st_size == 8 * 10
    assert "set_part xc7a35ticsg324-1L" in (out / "hls" / "run_hls.tcl").read_text()


# -- mistakes: one line, exit code 2 -----------------------------------------------------


def test_run_engine_hls_on_a_c_outdir(tmp_path: Path) -> None:
    out = tmp_path / "c"
    assert effc("compile", str(DIGITS), "-o", str(out), "--calib", CALIB, "--board",
                "--no-verify").returncode == 0
    np.save(tmp_path / "x.npy", np.zeros((1, 1, 8, 8), np.float32))
    assert_one_line_error(effc("run", str(out), "--engine", "hls", "--input",
                               str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")),
                          "holds no HLS project", "--target hls")


@pytest.mark.parametrize(("args", "words"), [
    (["--board", "mps2-an386", "--fps", "1000"],
     ["--fps is an option of the hls target, not of the c target", "--target hls"]),
    (["--fps", "1000"], ["--fps is an option of the hls target", "add --board NAME"]),
    (["--board", "pynq-z2", "--fps", "1000"],
     ["--fps is an option of the hls target, not of the rtl target"]),
    (["--board", "pynq-z2", "--target", "hls", "--fps", "-5"],
     ["--fps -5 is not a positive number"]),
    (["--board", "icebreaker", "--target", "hls"], ["'icebreaker' (iCE40UP5K-SG48, family ice40up) is not a "
                                 "device Vitis HLS targets", "choose an AMD board"]),
])
def test_refused_before_any_work(tmp_path: Path, args: list[str], words: list[str]) -> None:
    out = tmp_path / "out"
    assert_one_line_error(effc("compile", str(DIGITS), "-o", str(out), "--calib", CALIB,
                               *args), *words)
    assert not out.exists()


def test_a_layer_without_template_is_named(tmp_path: Path) -> None:
    assert_one_line_error(effc("compile", str(DIGITS), "-o", str(tmp_path / "w"), "--calib",
                               CALIB, "--board", "pynq-z2", "--target", "hls", "--winograd",
                               "on"),
                          "(Winograd) has no HLS template", "node '")
    assert_one_line_error(effc("compile", str(DIGITS), "-o", str(tmp_path / "f"),
                               "--quantize", "none", "--board", "pynq-z2", "--target", "hls"),
                          "computes in float", "node '")


def test_a_board_too_small_names_the_resource_and_the_excess(tmp_path: Path) -> None:
    board = tmp_path / "tiny.toml"
    board.write_text('name = "tiny"\nkind = "fpga"\npart = "xc7z007sclg225-1"\n'
                     'family = "zynq7"\nclock_mhz = 100\n\n[resources]\nlut = 1500\n'
                     'ff = 3000\ndsp = 2\nbram36 = 1\n')
    assert_one_line_error(effc("compile", str(DIGITS), "-o", str(tmp_path / "out"),
                               "--calib", CALIB, "--board", str(board), "--target", "hls"),
                          "does not fit tiny even at its smallest folding", "over")

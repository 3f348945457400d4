"""effc sweep without Ray: grid mistakes, a digits sweep (accuracy against the reference,
QEMU measurements, a failed point, the reproducing command), resume after SIGINT, the
Pareto frontier; and that the core never imports Ray."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from effc.cli import main
from effc.compiler import CompiledModel
from effc.sweep.summary import best_fit, frontier
from tests.conftest import EXAMPLES, ROOT
from tests.test_cli_errors import assert_one_line_error, effc

DIGITS = EXAMPLES / "digits" / "digits_cnn.onnx"
DATA = EXAMPLES / "digits" / "digits_data.npz"
CALIB = f"{DATA}:x_calib"


def sweep_args(grid: Path, out: Path, *extra: str) -> list[str]:
    return ["sweep", str(DIGITS), "--calib", CALIB, "--data", str(DATA), "--inputs-key",
            "x_test", "--labels-key", "y_test", "--grid", str(grid), "-o", str(out), *extra]


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(("grid", "words"), [
    ("prune = [0.5", ["not valid TOML"]),
    ("pruning = [0.5]", ["'pruning' is not an 'effc compile' option"]),
    ("calib = ['x.npy']", ["--calib of effc sweep"]),
    ("prune = []", ["'prune' has no values"]),
    ("no-verify = 'yes'", ["'no-verify' is a switch"]),
    ("winograd = ['maybe']", ["winograd=maybe", "invalid choice"]),
    ("prune = ['half']", ["prune=half", "not a number"]),
])
def test_grid_mistakes_are_one_line(tmp_path: Path, grid: str, words: list[str]) -> None:
    (tmp_path / "grid.toml").write_text(grid + "\n")
    result = effc(*sweep_args(tmp_path / "grid.toml", tmp_path / "out"))
    assert_one_line_error(result, *words)
    assert not (tmp_path / "out" / "results.jsonl").exists()


def test_data_mistakes_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "grid.toml").write_text("prune = [0.5]\n")
    args = sweep_args(tmp_path / "grid.toml", tmp_path / "out")
    assert_one_line_error(effc(*args[:args.index("--inputs-key")], *args[args.index("--grid"):]),
                          "holds arrays", "--inputs-key")
    args[args.index("y_test")] = "y_tset"
    assert_one_line_error(effc(*args), "y_tset", "--labels-key")
    args[args.index("y_tset")] = "x_calib"
    assert_one_line_error(effc(*args), "labels 'x_calib' must be")


def test_ray_missing_is_one_line(tmp_path: Path) -> None:
    """Without Ray installed (import ray fails), --ray names the extra to install."""
    (tmp_path / "grid.toml").write_text("prune = [0.5]\nno-verify = true\n")
    code = ("import sys; sys.modules['ray'] = None; from effc.cli import main; "
            f"sys.exit(main({sweep_args(tmp_path / 'grid.toml', tmp_path / 'out', '--ray')!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert_one_line_error(result, "pip install effc[ray]")


def test_a_board_run_is_not_sharded(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((2, 1, 8, 8), np.float32))
    result = effc("run", str(tmp_path), "--engine", "board", "--input", str(tmp_path / "x.npy"),
                  "--output", str(tmp_path / "y.npy"), "--ray")
    assert_one_line_error(result, "--engine board runs on one attached device: drop --ray")


def test_the_core_never_imports_ray() -> None:
    code = ("import sys, effc, effc.cli, effc.sweep, effc.sweep.shard, effc.cli.sweep; "
            "effc.cli.build_parser(); print('ray' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip() == "False"


def test_frontier_and_budget() -> None:
    def rec(key: str, acc: float, cycles: int, flash: int, ram: int) -> dict:
        return {"key": key, "status": "ok", "accuracy": acc, "cycles": cycles,
                "flash_bytes": flash, "ram_bytes": ram}

    rs = [rec("a", 0.90, 100, 3_000_000, 10), rec("b", 0.95, 200, 20, 10),
          rec("c", 0.93, 300, 10, 10), rec("d", 0.95, 150, 30, 700_000),
          {"key": "e", "status": "failed", "error": "x"}, rec("f", 0.95, 150, 40, 700_000)]
    assert [r["key"] for r in frontier(rs, "cycles")] == ["a", "d", "f"]  # d, f tie
    assert [r["key"] for r in frontier(rs, "flash_bytes")] == ["c", "b"]
    assert best_fit(rs, "mps2-an386")["key"] == "d"  # 4 MB flash, 4 MB RAM; less flash than f
    assert best_fit(rs, "nucleo-l4r5zi")["key"] == "b"  # 2 MB flash, 640 KB RAM


@pytest.mark.qemu
def test_digits_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """2 ratios x 2 criteria, plus a ratio that fails: 4 points ok, 2 failed and recorded;
    accuracy is the reference's on the test split, QEMU agrees with it, and the printed
    command compiles the best point again."""
    (tmp_path / "grid.toml").write_text(
        "prune = [0.25, 0.5, 1.5]\nprune_criterion = ['l1', 'activation']\nno-verify = true\n")
    out = tmp_path / "out"
    assert main(sweep_args(tmp_path / "grid.toml", out, "--workers", "2",
                           "--budget-board", "nucleo-l4r5zi")) == 0
    text = capsys.readouterr().out
    rs = records(out)
    assert len(rs) == 6 and len({r["key"] for r in rs}) == 6
    failed = [r for r in rs if r["status"] == "failed"]
    assert [r["options"]["prune"] for r in failed] == [1.5, 1.5]
    assert all("outside [0, 1)" in r["error"] for r in failed)
    ok = [r for r in rs if r["status"] == "ok"]
    for r in ok:
        assert r["engine"] == "qemu" and r["differing_values"] == 0
        assert r["instructions"] > 0 and r["cycles"] > r["instructions"] // 2
        assert r["ram_bytes"] == r["static_ram_bytes"] + r["stack_bytes"]
    assert len({r["macs"] for r in ok}) >= 2  # the ratios differ
    assert (out / "frontier.png").stat().st_size > 10_000
    command = next(line for line in text.splitlines() if line.startswith("reproduce it: "))
    summary = json.loads((out / "summary.json").read_text())
    best = next(r for r in rs if r["key"] == summary["best"]["key"])
    assert best["accuracy"] == max(r["accuracy"] for r in ok)
    argv = shlex.split(command.removeprefix("reproduce it: "))
    assert argv[:2] == ["effc", "compile"] and main(argv[1:]) == 0
    again = CompiledModel.open(out / "best")
    data = np.load(DATA)
    logits = again.run("reference", data["x_test"]).outputs
    assert float(np.mean(logits.argmax(axis=1) == data["y_test"])) == best["accuracy"]
    assert again.manifest["firmware"]["flash_bytes"] == best["flash_bytes"]


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.qemu
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_sweep_resumes_the_missing_points(tmp_path: Path, sig: int) -> None:
    """Ctrl-C or a kill after the first point is written; the rerun runs only the others."""
    grid = tmp_path / "grid.toml"
    grid.write_text("prune = [0.25, 0.5]\nprune-criterion = ['l1', 'activation']\n"
                    "no-verify = true\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "effc.cli", *sweep_args(grid, out, "--workers", "1")]
    # A shell without job control starts background jobs with SIGINT ignored, and Python
    # keeps an inherited SIG_IGN; the sweep must see the Ctrl-C however pytest was started.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, preexec_fn=_sigint_default)
    results = out / "results.jsonl"
    deadline = time.monotonic() + 240
    while not (results.is_file() and results.read_text().count("\n") >= 1):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "effc: interrupted" in err and "Traceback" not in err
    first = records(out)
    assert 1 <= len(first) < 4
    rerun = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600,
                           env=os.environ)
    assert rerun.returncode == 0, rerun.stderr
    assert (f"sweep: {len(first)} of 4 points already in" in rerun.stdout
            and f"running the other {4 - len(first)}" in rerun.stdout)
    final = records(out)
    assert len(final) == 4 and len({r["key"] for r in final}) == 4  # nothing ran twice
    assert final[:len(first)] == first


def test_grid_cases_pair_options(tmp_path: Path) -> None:
    """[[cases]] are combined with every point of the lists; a missing board is the
    default one; the args are effc compile's flags."""
    from effc.cli.sweep import compile_flags
    from effc.errors import EffcError
    from effc.sweep.grid import load_grid

    grid = tmp_path / "grid.toml"
    grid.write_text("prune = [0.25, 0.5]\nno_verify = true\nprune-layer = [['a=0.5', 'b=1']]\n"
                    "[[cases]]\nboard = 'mps2-an386'\n"
                    "[[cases]]\nboard = 'icebreaker'\ntarget = 'rtl'\n")
    points, swept = load_grid(grid, compile_flags())
    assert swept == ["board", "target", "prune"]
    assert [p.args for p in points][1:3] == [
        ("--board", "mps2-an386", "--prune", "0.5", "--no-verify", "--prune-layer", "a=0.5",
         "--prune-layer", "b=1"),
        ("--board", "icebreaker", "--target", "rtl", "--prune", "0.25", "--no-verify",
         "--prune-layer", "a=0.5", "--prune-layer", "b=1")]
    grid.write_text("prune = [0.5]\n")
    assert [p.args for p in load_grid(grid, compile_flags())[0]] == [
        ("--board", "mps2-an386", "--prune", "0.5")]
    for text, words in (("[[cases]]\nprune = [0.1, 0.2]\n", "in a case takes one value"),
                        ("prune = 0.5\n[[cases]]\nprune = 0.2\n", "given twice"),
                        ("cases = 3\n", r"must be \[\[cases\]\] tables")):
        grid.write_text(text)
        with pytest.raises(EffcError, match=words):
            load_grid(grid, compile_flags())

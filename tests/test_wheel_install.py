"""effc installs as a wheel and compiles and runs a model from outside the checkout.

Reproduced first: runtime_c/, boards/ and the firmware sources were found
relative to the source tree, so an installed effc failed with "board folder
... site-packages ... is missing".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from effc.compiler import CompiledModel
from tests.conftest import EXAMPLES, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.qemu]


def _run(cmd: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_wheel_compiles_and_runs_under_qemu_outside_the_checkout(tmp_path: Path) -> None:
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh)")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # Build from a copy of the tracked files, so the checkout gets no build/ folder.
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    source = tmp_path / "source"
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, source],
         tmp_path, env)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], tmp_path, env)
    _run([venv / "bin" / "pip", "install", "-q", "--disable-pip-version-check",
          "--find-links", wheels, "effc"], tmp_path, env)

    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copyfile(EXAMPLES / "digits" / "digits_cnn.onnx", work / "digits.onnx")
    data = np.load(EXAMPLES / "digits" / "digits_data.npz")
    np.save(work / "calib.npy", data["x_train"][:64])
    np.save(work / "x.npy", data["x_test"][:4])
    where = _run([venv / "bin" / "python", "-c", "import effc; print(effc.__file__)"], work, env)
    assert "site-packages" in where and str(ROOT) not in where
    effc = venv / "bin" / "effc"
    _run([effc, "compile", "digits.onnx", "-o", "out", "--board", "mps2-an386", "--calib",
          "calib.npy"], work, env)
    out = _run([effc, "run", "out", "--engine", "qemu", "--input", "x.npy", "--output",
                "y.npy"], work, env)
    assert "instructions per inference" in out
    expected = CompiledModel.open(work / "out").run("reference", data["x_test"][:4]).outputs
    np.testing.assert_array_equal(np.load(work / "y.npy"), expected)

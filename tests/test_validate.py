"""effc validate: the float digits CNN against its int8 compile on the 450 test digits."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest

from effc.validate import validate
from tests.c_models import compiled
from tests.conftest import EXAMPLES, onnx_oracle

DIGITS = EXAMPLES / "digits"


def test_validate_digits_prints_the_metrics(tmp_path_factory) -> None:
    model = compiled(tmp_path_factory, "digits_cnn")
    result = subprocess.run(
        [sys.executable, "-m", "effc.cli", "validate", str(DIGITS / "digits_cnn.onnx"),
         str(model.folder), "--data", str(DIGITS / "digits_data.npz"), "--inputs-key",
         "x_test", "--labels-key", "y_test"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    print(result.stdout)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("validate: 450 samples, the float model against")
    for what in ("top-1 agreement", "accuracy float", "/ compiled", "L2 relative error",
                 "cosine", "SQNR"):
        assert what in lines[1]


def test_validate_metrics_against_onnxruntime(tmp_path_factory) -> None:
    model = compiled(tmp_path_factory, "digits_cnn")
    data = np.load(DIGITS / "digits_data.npz")
    report = validate(DIGITS / "digits_cnn.onnx", model.folder, DIGITS / "digits_data.npz",
                      inputs_key="x_test", labels_key="y_test")
    m = report["outputs"][model.graph.outputs[0]]
    ref = onnx_oracle(onnx.load(DIGITS / "digits_cnn.onnx"), data["x_test"])
    assert m["accuracy_float"] == pytest.approx(float(np.mean(ref.argmax(1) == data["y_test"])))
    got = model.run("host", data["x_test"]).values[model.graph.outputs[0]].astype(np.float64)
    assert m["accuracy_compiled"] == pytest.approx(float(np.mean(got.argmax(1) ==
                                                                 data["y_test"])))
    err = got - ref
    assert m["l2_relative_error"] == pytest.approx(np.linalg.norm(err) / np.linalg.norm(ref),
                                                   rel=1e-4)
    assert m["sqnr_db"] == pytest.approx(10 * np.log10((ref ** 2).sum() / (err ** 2).sum()),
                                         abs=0.01)
    assert m["top1_agreement"] >= 0.97 and m["cosine"] > 0.99


@pytest.mark.qemu
def test_validate_on_qemu_matches_host(tmp_path_factory) -> None:
    model = compiled(tmp_path_factory, "digits_cnn")
    args = (DIGITS / "digits_cnn.onnx", model.folder, DIGITS / "digits_data.npz")
    host = validate(*args, inputs_key="x_test", labels_key="y_test", limit=40)
    qemu = validate(*args, engine="qemu", inputs_key="x_test", labels_key="y_test", limit=40)
    assert host["samples"] == qemu["samples"] == 40
    assert host["outputs"] == qemu["outputs"]  # the engines are bit-exact


def test_validate_refuses_in_one_line(tmp_path_factory, tmp_path) -> None:
    model = compiled(tmp_path_factory, "digits_cnn")
    np.savez(tmp_path / "other.npz", a=np.zeros((2, 1, 8, 8), np.float32), b=np.zeros(2))
    cases = [
        (["--data", str(tmp_path / "other.npz")], "name the samples with --inputs-key"),
        (["--data", str(DIGITS / "digits_data.npz"), "--inputs-key", "x_test", "--labels-key",
          "nope"], "has no array 'nope'"),
        (["--data", str(tmp_path / "missing.npz")], "does not exist"),
    ]
    for extra, message in cases:
        r = subprocess.run([sys.executable, "-m", "effc.cli", "validate",
                            str(DIGITS / "digits_cnn.onnx"), str(model.folder), *extra],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and message in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr

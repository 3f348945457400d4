"""The compile that checks itself (issue 8, part 4): ``effc compile --board`` runs the
host build of the generated C against the reference and names the first differing
layer when they disagree."""

from __future__ import annotations

import io
import json
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from effc.cli import main
from effc.codegen.c import kernels
from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.errors import EffcError
from tests.conftest import EXAMPLES
from tests.conftest_c import require_tool

DIGITS = EXAMPLES / "digits" / "digits_cnn.onnx"


def _calib() -> np.ndarray:
    return np.load(EXAMPLES / "digits" / "digits_data.npz")["x_calib"]


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _corrupt(monkeypatch: pytest.MonkeyPatch, op: str, which: int, change) -> None:
    """The ``which``-th node of type ``op`` gets a wrong kernel parameter in the C code."""
    original = kernels.CALLS[op]
    seen: list[str] = []

    def call(graph, node, int8):
        result = original(graph, node, int8)
        if node.name not in seen:
            seen.append(node.name)
        if seen.index(node.name) == which:
            change(result.fields, int8)
        return result

    monkeypatch.setitem(kernels.CALLS, op, call)


def test_compile_reports_the_self_check(tmp_path: Path) -> None:
    np.save(tmp_path / "calib.npy", _calib()[:20])
    code, out, err = _cli("compile", str(DIGITS), "-o", str(tmp_path / "out"), "--calib",
                          str(tmp_path / "calib.npy"), "--board", "mps2-an386")
    assert code == 0, err
    check = json.loads((tmp_path / "out" / "effc.json").read_text())["verification"]
    assert check["inputs"] == "8 calibration samples" and check["samples"] == 8
    assert check["differing_values"] == 0 and check["criterion"] == "bit-exact"
    assert check["output_values"] == 80
    assert "self-check: host build vs the integer reference on 8 calibration samples: 0 " \
           "differing values" in out
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Self-check" in report and "0 of 80 output values differ (bit-exact)" in report


def test_the_host_engine_reuses_the_verified_build(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = compile_model(DIGITS, tmp_path / "out", CompileOptions(
        calib=_calib()[:16], board="mps2-an386"))
    from effc.toolchain import objcache

    def no_build(*args, **kwargs):
        raise AssertionError("the host engine rebuilt the library the self-check built")

    monkeypatch.setattr(objcache, "compile_objects", no_build)
    x = _calib()[16:20]
    assert np.array_equal(compiled.run("host", x).outputs, compiled.run("reference", x).outputs)


def test_a_wrong_kernel_parameter_fails_the_compile_naming_its_layer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def shift_zero_point(fields, int8):
        fields["output_zero_point"] += 3

    _corrupt(monkeypatch, "Conv", 1, shift_zero_point)  # the second convolution
    np.save(tmp_path / "calib.npy", _calib()[:20])
    out = tmp_path / "out"
    args = ["compile", str(DIGITS), "-o", str(out), "--calib", str(tmp_path / "calib.npy"),
            "--board", "mps2-an386"]

    code, printed, err = _cli(*args, "--no-verify")
    assert code == 0, err
    assert "self-check" not in printed
    manifest = json.loads((out / "effc.json").read_text())
    assert manifest["verification"] == {"skipped": "--no-verify"}
    # The skipped check hides a really wrong library: the engines disagree.
    compiled = CompiledModel.open(out)
    x = _calib()[:4]
    assert not np.array_equal(compiled.run("host", x).outputs,
                              compiled.run("reference", x).outputs)
    bad = [layer for layer in manifest["c"]["layers"] if layer["op"] == "Conv"][1]

    code, _, err = _cli(*args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("effc: error: self-check failed"), err
    assert (f"the first differing layer is {bad['index']} '{bad['node']}' (Conv, kernel "
            f"{bad['kernel']}): ") in lines[0]
    assert "--no-verify" in lines[0]
    assert not (out / "effc.json").exists()  # the compile did not finish
    assert "FAILED: self-check failed" in (out / "report.md").read_text()


def test_a_float_model_is_checked_within_the_tolerance(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = compile_model(DIGITS, tmp_path / "ok", CompileOptions(quantize="none",
                                                                     board="mps2-an386"))
    check = compiled.manifest["verification"]
    assert check["compared_with"] == "float reference"
    assert check["inputs"] == "8 random inputs (seed 0)" and check["differing_values"] == 0
    assert check["criterion"] == "|host - reference| <= 0.0001 * max(1, max |reference|)"

    def clamp(fields, int8):
        fields["activation_max"] = 0.25

    _corrupt(monkeypatch, "Dense", 0, clamp)
    with pytest.raises(EffcError, match=r"float reference; the first differing layer is \d+ "
                                        r"'[^']+' \(Dense, kernel dense_f32\): [1-9]"):
        compile_model(DIGITS, tmp_path / "bad", CompileOptions(quantize="none",
                                                                board="mps2-an386"))


def _near_tie_then_dense(path: Path) -> Path:
    """Sigmoids of 16.8 and 30 (a zero-weight dense layer's bias), an ArgMax over them (a
    near tie that float32 C breaks the other way, effc.verify.near_ties), then a dense
    layer after the sigmoids: the ArgMax layer comes first."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    consts = [numpy_helper.from_array(v, n) for n, v in (
        ("w0", np.zeros((3, 2), np.float32)), ("b0", np.array([16.8, 30.0], np.float32)),
        ("w1", np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], np.float32)))]
    nodes = [helper.make_node("MatMul", ["x", "w0"], ["m"]),
             helper.make_node("Add", ["m", "b0"], ["a"]),
             helper.make_node("Sigmoid", ["a"], ["s"]),
             helper.make_node("ArgMax", ["s"], ["i"], axis=1, keepdims=1),
             helper.make_node("MatMul", ["s", "w1"], ["d"])]
    graph = helper.make_graph(
        nodes, "tie", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("i", TensorProto.INT64, [1, 1]),
         helper.make_tensor_value_info("d", TensorProto.FLOAT, [1, 3])], consts)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def test_a_failing_check_names_the_layer_past_a_near_tie(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The self-check passes a float ArgMax that broke a near tie; when a later layer
    really differs, the message names that layer, not the ArgMax before it."""
    model = _near_tie_then_dense(tmp_path / "tie.onnx")
    ok = compile_model(model, tmp_path / "ok", CompileOptions(quantize="none",
                                                             board="mps2-an386"))
    assert ok.manifest["verification"]["differing_values"] == 0
    kernels_of = {layer["op"]: layer["kernel"] for layer in ok.manifest["c"]["layers"]}
    assert kernels_of["ArgMax"] == "arg_f32"

    def clamp(fields, int8):
        fields["activation_max"] = 0.25

    _corrupt(monkeypatch, "Dense", 1, clamp)  # the dense layer after the sigmoids
    with pytest.raises(EffcError, match=r"the first differing layer is \d+ '[^']+' "
                                        r"\(Dense, kernel dense_f32\): [1-9]"):
        compile_model(model, tmp_path / "bad", CompileOptions(quantize="none",
                                                              board="mps2-an386"))


def test_a_qdq_model_is_checked_on_random_inputs(tmp_path: Path) -> None:
    """No calibration data: 8 seeded random inputs over the input's int8 range."""
    first = compile_model(DIGITS, tmp_path / "ptq", CompileOptions(calib=_calib()[:32]))
    qdq = compile_model(first.folder / "model.onnx", tmp_path / "qdq",
                        CompileOptions(board="mps2-an386"))
    check = qdq.manifest["verification"]
    assert check["inputs"] == "8 random inputs (seed 0)" and check["differing_values"] == 0
    assert check["criterion"] == "bit-exact"


def test_the_trace_hook_is_compiled_out_of_the_firmware(tmp_path: Path) -> None:
    nm = require_tool("arm-none-eabi-nm")
    compiled = compile_model(DIGITS, tmp_path / "out", CompileOptions(
        calib=_calib()[:16], board="mps2-an386"))
    symbols = subprocess.run([nm, str(compiled.folder / "firmware" / "firmware.elf")],
                             capture_output=True, text=True, check=True).stdout
    assert "_run" in symbols and "layer_trace" not in symbols

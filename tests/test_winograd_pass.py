"""The Winograd pass: which convolutions it rewrites, why, and that nothing else changes.

* ref(pass(g)) == ref(g): bit for bit on int8 graphs (ResNet-8 QDQ, the
  digits CNN with post-training quantization), within float rounding on float
  graphs;
* eligibility: 3x3 (3-tap) kernels, stride 1, dilation 1, group 1, and the
  int8 overflow bound; every 3x3 layer's choice and reason reach effc.json and
  report.md; auto follows the cost model;
* the Winograd node exports to ONNX as the original Conv, survives the saved
  IR, and the generated C (host) stays bit-exact with its scratch planned.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

from effc.cli import main
from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.errors import EffcError
from effc.frontend.importer import load
from effc.passes.pipeline import compile_pipeline
from effc.passes.winograd import winograd
from effc.passes.winograd_cost import MARGIN, predict
from effc.reference import run_samples
from tests.conftest import EXAMPLES, shared_models
from tests.small_models import make_model, onnxruntime_outputs, tensor, weights

DIGITS = EXAMPLES / "digits" / "digits_cnn.onnx"


def _resnet(name: str = "pretrainedResnet_quant") -> Path:
    return shared_models() / "mlperf-tiny" / f"{name}.onnx"


def _kinds(graph) -> list[str]:
    return [n.op_type for n in graph.nodes if n.op_type in ("Conv", "Winograd")]


def test_int8_resnet8_reference_is_bit_exact_and_matches_tflite_micro() -> None:
    """ref(pass(g)) == ref(g) on the int8 ResNet-8, and both equal TFLM's outputs."""
    data = np.load(shared_models() / "mlperf-tiny" / "pretrainedResnet_quant.npz")
    x = data["inputs"][:, 0]
    graphs = {mode: compile_pipeline(load(_resnet()), CompileOptions(winograd=mode))[0]
              for mode in ("off", "on")}
    assert _kinds(graphs["on"]).count("Winograd") == 5  # every 3x3 stride-1 conv
    assert "Winograd" not in _kinds(graphs["off"])
    off, on = (run_samples(graphs[m], x) for m in ("off", "on"))
    np.testing.assert_array_equal(on, off)
    assert int(np.count_nonzero(on != data["outputs"].reshape(on.shape))) == 0


def test_float_resnet8_f4_matches_direct_and_onnxruntime() -> None:
    path = _resnet("pretrainedResnet")
    x = np.random.default_rng(3).standard_normal((4, 32, 32, 3)).astype(np.float32)
    on = compile_pipeline(load(path), CompileOptions(quantize="none", winograd="on"))[0]
    tiles = {n.attrs["tile"] for n in on.nodes if n.op_type == "Winograd"}
    assert tiles == {4}
    y = run_samples(on, x)
    direct = run_samples(compile_pipeline(load(path), CompileOptions(quantize="none"))[0], x)
    ref = onnxruntime_outputs(path, x)
    scale = float(np.abs(ref).max())
    assert float(np.abs(y - direct).max()) <= 1e-5 * scale
    assert float(np.abs(y - ref).max()) <= 1e-4 * scale


def test_digits_ptq_winograd_is_bit_exact(tmp_path: Path) -> None:
    data = np.load(EXAMPLES / "digits" / "digits_data.npz")
    outs = {}
    for mode in ("off", "on"):
        compiled = compile_model(DIGITS, tmp_path / mode, CompileOptions(
            calib=data["x_calib"][:64], winograd=mode))
        outs[mode] = compiled.run("reference", data["x_test"][:32]).outputs
    np.testing.assert_array_equal(outs["on"], outs["off"])


def _convs_model(path: Path) -> Path:
    """One float model with every kind of convolution the pass must tell apart."""
    c = 4
    specs = [  # name, kernel, attrs
        ("same3x3", [3, 3], {"pads": [1, 1, 1, 1]}),
        ("stride2", [3, 3], {"pads": [1, 1, 1, 1], "strides": [2, 2]}),
        ("dilated", [3, 3], {"pads": [2, 2, 2, 2], "dilations": [2, 2]}),
        ("grouped", [3, 3], {"pads": [1, 1, 1, 1], "group": 2}),
        ("five", [5, 5], {"pads": [2, 2, 2, 2]}),
        ("pointwise", [1, 1], {}),
        ("valid3x3", [3, 3], {}),
    ]
    nodes, inits, prev = [], [], "x"
    for i, (name, kernel, attrs) in enumerate(specs):
        group = attrs.get("group", 1)
        inits.append(tensor(f"w{i}", weights(i, c, c // group, *kernel)))
        inits.append(tensor(f"b{i}", weights(50 + i, c)))
        nodes.append(helper.make_node("Conv", [prev, f"w{i}", f"b{i}"], [name], name=name,
                                      kernel_shape=kernel, **attrs))
        prev = name
    return make_model(path, nodes, {"x": [1, c, 12, 12]}, {prev: None}, inits)


def test_pass_rewrites_only_eligible_convolutions_and_reports_why(tmp_path: Path) -> None:
    path = _convs_model(tmp_path / "convs.onnx")
    x = np.random.default_rng(0).standard_normal((3, 4, 12, 12)).astype(np.float32)
    compiled = compile_model(path, tmp_path / "out", CompileOptions(calib=x, winograd="on"))
    kinds = {n.name: n.op_type for n in compiled.graph.nodes if n.op_type in ("Conv",
                                                                             "Winograd")}
    assert kinds == {"same3x3": "Winograd", "stride2": "Conv", "dilated": "Conv",
                     "grouped": "Conv", "five": "Conv", "pointwise": "Conv",
                     "valid3x3": "Winograd"}
    layers = {layer["name"]: layer for layer in compiled.manifest["winograd"]["layers"]}
    assert set(layers) == {"same3x3", "stride2", "dilated", "grouped", "valid3x3"}
    assert layers["same3x3"]["choice"] == "F(2x2,3x3)"
    assert "stride [2, 2]" in layers["stride2"]["reason"]
    assert "dilation [2, 2]" in layers["dilated"]["reason"]
    assert "group 2" in layers["grouped"]["reason"]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Winograd" in report and "F(2x2,3x3)" in report
    off = compile_model(path, tmp_path / "off", CompileOptions(calib=x))
    assert "winograd" not in off.manifest and "## Winograd" not in \
        (tmp_path / "off" / "report.md").read_text()
    np.testing.assert_array_equal(compiled.run("reference", x).outputs,
                                  off.run("reference", x).outputs)


def test_a_layer_past_the_overflow_bound_keeps_the_direct_convolution(tmp_path: Path) -> None:
    """1900 input channels of equal weights: 4 * 255 * 127 * 9 * 1900 > 2^31."""
    c_in = 1900
    path = make_model(tmp_path / "wide.onnx",
                      [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3],
                                        pads=[1, 1, 1, 1])],
                      {"x": [1, c_in, 4, 4]}, {"y": None},
                      [tensor("w", np.full((2, c_in, 3, 3), 0.01, np.float32))])
    x = np.random.default_rng(0).standard_normal((2, c_in, 4, 4)).astype(np.float32)
    compiled = compile_model(path, tmp_path / "out", CompileOptions(calib=x, winograd="on"))
    assert _kinds(compiled.graph) == ["Conv"]
    reason = compiled.manifest["winograd"]["layers"][0]["reason"]
    assert reason.startswith("not eligible: overflow bound") and "past int32" in reason


def test_auto_follows_the_cost_model(tmp_path: Path) -> None:
    path = _convs_model(tmp_path / "convs.onnx")
    graph = compile_pipeline(load(path), CompileOptions(quantize="none", winograd="auto"))[0]
    decided = {}
    for node in graph.nodes:
        decision = node.attrs.get("winograd")
        if decision is None or "predicted" not in decision:
            continue
        decided[node.name] = decision
        predicted = decision["predicted"]
        best = min((k for k in predicted if k != "direct"), key=predicted.__getitem__)
        wins = predicted[best] < (1 - MARGIN) * predicted["direct"]
        assert decision["choice"] == (best if wins else "direct")
        assert "cost model" in decision["reason"]
        assert (node.op_type == "Winograd") == wins
    assert set(decided) == {"same3x3", "valid3x3"}
    shape = {"rank": 2, "batch": 1, "out_h": 12, "out_w": 12, "c_in": 4, "c_out": 4,
             "dtype": "float32", "pads": [1, 1, 1, 1]}
    assert decided["same3x3"]["predicted"] == {
        "direct": predict(shape, 0), "F(2x2,3x3)": predict(shape, 2),
        "F(4x4,3x3)": predict(shape, 4)}


def test_modes_are_checked() -> None:
    graph = load(DIGITS)
    with pytest.raises(EffcError, match="not a mode; use auto, on or off"):
        winograd(graph, "always")


def test_cli_winograd_option(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["compile", str(DIGITS), "-o", str(tmp_path / "out"), "--quantize", "none",
                 "--winograd", "on"]) == 0
    manifest = json.loads((tmp_path / "out" / "effc.json").read_text())
    assert manifest["winograd"]["mode"] == "on"
    assert [layer["choice"] for layer in manifest["winograd"]["layers"]] == ["F(4x4,3x3)"] * 3
    with pytest.raises(SystemExit) as exc:
        main(["compile", str(DIGITS), "-o", str(tmp_path / "bad"), "--winograd", "yes"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--winograd" in err


@pytest.mark.parametrize("quantize", ["int8", "none"])
def test_generated_c_runs_winograd_layers_exactly(tmp_path: Path, quantize: str) -> None:
    """Host build: bit-exact (int8) or within the float criterion, scratch in the arena,
    the saved IR reloads, model.onnx runs the original convolutions."""
    data = np.load(EXAMPLES / "digits" / "digits_data.npz")
    options = CompileOptions(board="mps2-an386", winograd="on", quantize=quantize,
                             calib=data["x_calib"][:64] if quantize == "int8" else None)
    compiled = compile_model(DIGITS, tmp_path / "out", options)
    assert compiled.manifest["verification"]["differing_values"] == 0
    kernels = [layer["kernel"] for layer in compiled.manifest["c"]["layers"]]
    assert kernels.count("winograd_s8" if quantize == "int8" else "winograd_f32") == 3
    x = data["x_test"][:16]
    reopened = CompiledModel.open(tmp_path / "out")
    ref = reopened.run("reference", x).outputs
    host = reopened.run("host", x).outputs
    if quantize == "int8":
        np.testing.assert_array_equal(host, ref)
    else:
        assert float(np.abs(host - ref).max()) <= 1e-4 * max(1.0, float(np.abs(ref).max()))
        onnx_out = onnxruntime_outputs(tmp_path / "out" / "model.onnx", x)
        assert float(np.abs(onnx_out - ref).max()) <= 1e-4 * max(1.0, float(np.abs(ref).max()))
    source = (tmp_path / "out" / "c" / f"{compiled.manifest['name']}.c").read_text()
    assert source.count("effc_winograd_") == 3 and "effc_conv_s8(" not in source

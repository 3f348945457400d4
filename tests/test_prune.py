"""Structured pruning end to end: valid graphs, ONNX export, accuracy, controls, errors.

Run with ``-s`` to see the measured numbers (MACs, errors, top-1).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from effc.cli.prune import add_prune_command_arguments, prune_from_args
from effc.errors import EffcError
from effc.frontend.importer import load
from effc.ir import Graph
from effc.onnx_export import save_onnx, to_onnx
from effc.passes.prune import output_error, prune_graph, prune_to_fit, run_batched
from effc.summary import summarize
from tests.conftest import EXAMPLES, shared_models

DIGITS = EXAMPLES / "digits" / "digits_cnn.onnx"
DIGITS_DATA = EXAMPLES / "digits" / "digits_data.npz"


@pytest.fixture(scope="module")
def digits() -> dict[str, Any]:
    data = dict(np.load(DIGITS_DATA))
    return {"graph": load(DIGITS), **data}


@pytest.fixture(scope="module")
def digits_pruned(digits: dict[str, Any]) -> dict[str, tuple[Graph, dict[str, Any]]]:
    """50% of the channels, globally, l1, with and without reconstruction on x_calib."""
    return {rec: prune_graph(digits["graph"], ratio=0.5, criterion="l1", calib=digits["x_calib"],
                             reconstruct=rec) for rec in ("none", "lsq")}


def _top1(graph: Graph, x: np.ndarray, y: np.ndarray) -> float:
    return float((run_batched(graph, x)[0].argmax(axis=-1) == y).mean())


def _check_onnxruntime(graph: Graph, x: np.ndarray) -> float:
    """The exported ONNX model in onnxruntime against effc's float reference."""
    session = ort.InferenceSession(to_onnx(graph).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    got = np.concatenate([session.run(None, {graph.inputs[0]: x[i:i + 1]})[0]
                          for i in range(len(x))])
    ref = run_batched(graph, x)[0]
    err = float(np.abs(got - ref).max()) / max(float(np.abs(ref).max()), 1e-6)
    assert err < 1e-5
    return err


def _groups_consistent(graph: Graph, report: dict[str, Any]) -> None:
    """Every producer of a group ends with the group's kept channel count, and every
    consumer reads exactly that many (true for models without Concat or Flatten)."""
    nodes = {n.name: n for n in graph.nodes}
    for group in report["groups"]:
        if group["mode"] == "skipped":
            continue
        for p in group["producers"]:
            assert graph.tensors[nodes[p].outputs[0]].shape[-1] == group["kept"], (p, group)
        for c in group["consumers"]:
            node = nodes[c]
            if node.attrs.get("group", 1) == 1:
                assert graph.tensors[node.inputs[1]].shape[-1] == group["kept"], (c, group)


# ------------------------------------------------------------------ digits


def test_digits_half_the_channels_halves_macs_and_keeps_accuracy(digits, digits_pruned) -> None:
    base = _top1(digits["graph"], digits["x_test"], digits["y_test"])
    results = {}
    for rec, (graph, report) in digits_pruned.items():
        graph.validate()
        assert report["channels"]["removed"] == report["channels"]["prunable"] // 2
        assert report["macs"]["before"] == summarize(digits["graph"])["macs"] == 452864
        assert report["macs"]["after"] == summarize(graph)["macs"]
        assert report["macs"]["before"] >= 2 * report["macs"]["after"]
        results[rec] = _top1(graph, digits["x_test"], digits["y_test"])
        print(f"digits 50% l1 reconstruct={rec}: MACs {report['macs']['before']:,} -> "
              f"{report['macs']['after']:,}, params {report['params']['before']:,} -> "
              f"{report['params']['after']:,}, top-1 {base:.2%} -> {results[rec]:.2%}, "
              f"calib error {report['error']['relative_l2']:.3f}")
    assert base - results["lsq"] <= 0.02
    assert results["lsq"] > results["none"]
    lsq_report = digits_pruned["lsq"][1]
    assert lsq_report["error"]["relative_l2"] < lsq_report["error_without_reconstruction"][
        "relative_l2"]
    for layer in lsq_report["reconstruction"]:
        assert layer["relative_error_after"] <= layer["relative_error_before"]


@pytest.mark.parametrize("criterion", ["l2", "fpgm", "bn-gamma", "activation"])
def test_digits_other_criteria(digits, criterion: str) -> None:
    base = _top1(digits["graph"], digits["x_test"], digits["y_test"])
    graph, report = prune_graph(digits["graph"], ratio=0.5, criterion=criterion,
                                calib=digits["x_calib"])
    top1 = _top1(graph, digits["x_test"], digits["y_test"])
    print(f"digits 50% {criterion} + lsq: MACs {report['macs']['after']:,}, top-1 {base:.2%} -> "
          f"{top1:.2%} (without reconstruction: calib error "
          f"{report['error_without_reconstruction']['relative_l2']:.3f} -> "
          f"{report['error']['relative_l2']:.3f})")
    assert report["macs"]["before"] >= 2 * report["macs"]["after"]
    assert base - top1 <= 0.03
    if criterion == "bn-gamma":  # only the first conv has a BN; the others fall back to l1
        assert len(report["warnings"]) == 2 and "l1" in report["warnings"][0]


def test_pruned_digits_exports_runs_in_onnxruntime_and_quantizes(digits, digits_pruned,
                                                                 tmp_path: Path) -> None:
    from effc.compiler import CompileOptions, compile_model

    graph, _ = digits_pruned["lsq"]
    _check_onnxruntime(graph, digits["x_test"][:16])
    path = tmp_path / "pruned.onnx"
    save_onnx(graph, path)
    reloaded = load(path)
    assert summarize(reloaded)["macs"] == summarize(graph)["macs"]
    compiled = compile_model(path, tmp_path / "out", CompileOptions(calib=digits["x_calib"]))
    assert compiled.manifest["quantize"] == "int8"
    y_int8 = compiled.run("reference", digits["x_test"]).outputs
    top1_int8 = float((y_int8.argmax(-1) == digits["y_test"]).mean())
    top1_float = _top1(graph, digits["x_test"], digits["y_test"])
    print(f"pruned digits: float top-1 {top1_float:.2%}, int8 reference top-1 {top1_int8:.2%}")
    assert abs(top1_float - top1_int8) <= 0.01


# ------------------------------------------------------------------ MLPerf Tiny


def _seeded(graph: Graph, seed: int, n: int, kind: str) -> np.ndarray:
    shape = (n, *graph.tensors[graph.inputs[0]].shape[1:])
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, shape) if kind == "uniform" else 8.0 * rng.standard_normal(shape)
    return x.astype(np.float32)


@pytest.mark.parametrize("name,kind", [("pretrainedResnet", "uniform"),
                                       ("kws_ref_model_float32", "normal")])
def test_mlperf_tiny_30_percent(name: str, kind: str) -> None:
    graph = load(shared_models() / "mlperf-tiny" / f"{name}.onnx")
    # A Dense after global pooling sees one row per sample: KWS gets more samples.
    n = 32 if name == "pretrainedResnet" else 64
    calib, test = _seeded(graph, 1, n, kind), _seeded(graph, 2, 32, kind)
    reference = run_batched(graph, test)
    errors = {}
    for rec in ("none", "lsq"):
        pruned, report = prune_graph(graph, ratio=0.3, calib=calib, reconstruct=rec)
        pruned.validate()
        _groups_consistent(pruned, report)
        y = run_batched(pruned, test)
        errors[rec] = output_error(reference, y)
        agree = float((y[0].argmax(-1) == reference[0].argmax(-1)).mean())
        print(f"{name} 30% l1 reconstruct={rec}: MACs {report['macs']['before']:,} -> "
              f"{report['macs']['after']:,}; error on held-out inputs: relative L2 "
              f"{errors[rec]['relative_l2']:.4f}, max abs {errors[rec]['max_abs']:.4f}, "
              f"top-1 agreement {agree:.0%}")
        assert report["macs"]["after"] < 0.75 * report["macs"]["before"]
    _check_onnxruntime(pruned, test[:2])
    assert errors["lsq"]["relative_l2"] < 0.5 * errors["none"]["relative_l2"]
    if name == "pretrainedResnet":
        adds = [n for n in pruned.nodes if n.op_type == "Add"]
        assert len(adds) == 3
        for add in adds:  # both residual branches lost the same channels
            a, b = (pruned.tensors[i].shape for i in add.inputs)
            assert a == b and a[-1] < graph.tensors[add.inputs[0]].shape[-1]
        residual = [g for g in report["groups"] if len(g["producers"]) == 2]
        assert len(residual) == 3
    else:
        depthwise = [n for n in pruned.nodes if n.op_type == "Conv" and n.attrs["group"] > 1]
        assert len(depthwise) == 4
        for dw in depthwise:
            channels = pruned.tensors[dw.inputs[0]].shape[-1]
            assert dw.attrs["group"] == channels == pruned.tensors[dw.outputs[0]].shape[-1] < 64


# ------------------------------------------------------------------ controls


def test_target_macs_and_channel_multiple(digits) -> None:
    graph = digits["graph"]
    pruned, report = prune_graph(graph, target_macs=150_000, channel_multiple=4)
    assert summarize(pruned)["macs"] == report["macs"]["after"]
    assert report["macs"]["after"] <= 150_000 == report["target_macs"]
    for layer in report["layers"]:
        if layer["op"] == "Conv":
            assert layer["out_channels"][1] % 4 == 0
    with pytest.raises(EffcError, match=r"smallest reachable is [0-9,]+ MACs"):
        prune_graph(graph, target_macs=1000)


def test_layer_ratio_and_protect(digits) -> None:
    graph = digits["graph"]
    conv = [n.name for n in graph.nodes if n.op_type == "Conv"]
    pruned, report = prune_graph(graph, layer_ratios={conv[2]: 0.5}, protect=[conv[0]], ratio=0.5)
    pruned.validate()
    out = {layer["name"]: layer["out_channels"] for layer in report["layers"]}
    assert out[conv[2]] == [32, 16]
    assert out[conv[0]] == [16, 16]  # protected
    assert out[conv[1]][1] < 32
    modes = {g["producers"][0]: g["mode"] for g in report["groups"] if g["producers"]}
    assert modes[conv[0]] == "protected" and modes[conv[2]] == "layer"


def test_prune_to_fit_bisects_the_ratio(digits) -> None:
    graph = digits["graph"]

    def estimate(g: Graph) -> tuple[int, int]:
        s = summarize(g)
        return s["params"], max(t.size for t in g.activations()) * 4

    full_flash, full_ram = estimate(graph)
    pruned, report = prune_to_fit(graph, full_flash // 2, full_ram, estimate)
    flash, _ = estimate(pruned)
    assert flash <= full_flash // 2 and 0 < report["fit"]["ratio"] < 0.5
    print(f"prune_to_fit: flash {full_flash} -> {flash} at ratio {report['fit']['ratio']}")
    with pytest.raises(EffcError, match="does not fit"):
        prune_to_fit(graph, 10, 10, estimate)


@pytest.mark.parametrize("kwargs,words", [
    ({"ratio": 1.0}, "outside [0, 1)"),
    ({"ratio": -0.1}, "outside [0, 1)"),
    ({"protect": ["conv9"]}, "does not have; layers include '/features"),
    ({"layer_ratios": {"nope": 0.5}}, "'nope', which the model does not have"),
    ({"layer_ratios": {"/fc/Gemm": 0.5}}, "reach graph output"),
    ({"criterion": "magic"}, "unknown pruning criterion 'magic'; choose one of l1"),
    ({"ratio": 0.3, "reconstruct": "lsq"}, "needs calibration data"),
    ({"ratio": 0.3, "criterion": "activation"}, "needs calibration data"),
    ({"target_macs": 10}, "smallest reachable"),
    ({"ratio": 0.3, "channel_multiple": 0}, "positive integer"),
])
def test_bad_inputs_give_one_line_errors(digits, kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(EffcError) as info:
        prune_graph(digits["graph"], **kwargs)
    message = str(info.value)
    assert "\n" not in message and words in message, message


def test_bn_gamma_without_any_batchnorm_is_an_error() -> None:
    graph = load(shared_models() / "mlperf-tiny" / "kws_ref_model_float32.onnx")
    with pytest.raises(EffcError, match="bn-gamma needs BatchNormalization"):
        prune_graph(graph, ratio=0.3, criterion="bn-gamma")


# ------------------------------------------------------------------ CLI


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="effc prune")
    add_prune_command_arguments(parser)
    return parser


def test_prune_command(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "pruned.onnx"
    args = _parser().parse_args([str(DIGITS), "-o", str(out), "--calib",
                                 f"{DIGITS_DATA}:x_calib", "--prune", "0.5",
                                 "--channel-multiple", "2", "--prune-criterion", "l2"])
    assert prune_from_args(args) == 0
    printed = capsys.readouterr().out
    assert "452,864 ->" in printed and "relative L2" in printed
    report = json.loads((tmp_path / "pruned.json").read_text())
    assert report["criterion"] == "l2" and report["reconstruct"] == "lsq"
    assert report["macs"]["after"] == summarize(load(out))["macs"] < 452864 / 2
    for bad, words in ((["--prune-protect", "x"], "no amount"),
                       (["--prune", "0.3", "--prune-layer", "nolayer"], "NAME=RATIO"),
                       (["--prune-target-macs", "lots"], "positive whole number")):
        with pytest.raises(EffcError, match=words):
            prune_from_args(_parser().parse_args([str(DIGITS), "-o", str(out), *bad]))
    with pytest.raises(SystemExit):  # effc prune has no board, so no --prune-fit-board
        _parser().parse_args([str(DIGITS), "-o", str(out), "--prune", "0.3",
                              "--prune-fit-board"])
    args = _parser().parse_args([str(DIGITS), "-o", str(out), "--prune-target-macs", "200k"])
    assert prune_from_args(args) == 0
    assert json.loads((tmp_path / "pruned.json").read_text())["macs"]["after"] <= 200_000

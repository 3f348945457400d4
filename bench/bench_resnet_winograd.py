"""ResNet-8 (MLPerf Tiny) with --winograd off, on and auto, under QEMU (mps2-an386).

int8 (pretrainedResnet_quant, QDQ): the firmware's outputs on the 16 TFLite
Micro reference inputs against TFLM's, whole-model instructions, instructions
per MAC, flash and arena, and per layer the exact instructions of each build.
float (pretrainedResnet): outputs against onnxruntime (max |diff| over the
largest output) on 4 seeded inputs, the same figures. Instructions are exact
guest instructions of one inference (the first input), not cycles.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from effc.compiler import CompileOptions, compile_model

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "models" / "mlperf-tiny"
MODES = ("off", "on", "auto")


def _onnxruntime(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(path), options)
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])


def _build(model: str, mode: str, folder: Path, x: np.ndarray, oracle: np.ndarray,
           exact: bool) -> dict[str, Any]:
    compiled = compile_model(MODELS / f"{model}.onnx", folder / f"{model}-{mode}",
                             CompileOptions(board="mps2-an386", winograd=mode))
    run = compiled.run("qemu", x)
    expected = oracle.reshape(run.outputs.shape)
    if exact:
        error = int(np.count_nonzero(run.outputs != expected))
    else:
        error = float(np.abs(run.outputs - expected).max() / np.abs(expected).max())
    profile = compiled.run("qemu", x[:1], profile=True).metrics["profile"]
    choices = {layer["name"]: layer for layer in
               compiled.manifest.get("winograd", {}).get("layers", [])}
    return {"mode": mode, "metrics": run.metrics, "error": error, "profile": profile,
            "choices": choices, "summary": compiled.manifest["summary"]}


def measure() -> dict[str, list[dict[str, Any]]]:
    data = np.load(MODELS / "pretrainedResnet_quant.npz")
    x8 = data["inputs"][:, 0]
    xf = np.random.default_rng(0).standard_normal((4, 32, 32, 3)).astype(np.float32)
    ref = _onnxruntime(MODELS / "pretrainedResnet.onnx", xf)
    with tempfile.TemporaryDirectory(prefix="effc-resnet-") as tmp:
        return {"int8": [_build("pretrainedResnet_quant", m, Path(tmp), x8, data["outputs"],
                                True) for m in MODES],
                "float": [_build("pretrainedResnet", m, Path(tmp), xf, ref, False)
                          for m in MODES]}


def _shape(layers: list[dict[str, Any]], node: str) -> dict[str, Any] | None:
    for layer in layers:
        if layer["name"] == node:
            return layer
    return None


def rows_by_node(profile: list[dict[str, Any]] | dict[int, dict[str, Any]],
                 other: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A profile's rows by node. Where ``other`` (the build it is compared with) ran
    a conv and its residual Add as one band-by-band call (``conv_add_s8``, named
    after the conv, docs/c-backend.md) and this build ran them apart (a Winograd
    conv is never fused), the conv's row also counts the Add's instructions."""
    listed = list(profile.values()) if isinstance(profile, dict) else list(profile)
    rows = {row["node"]: dict(row) for row in listed}
    for row, after in itertools.pairwise(listed):
        if other.get(row["node"], {}).get("kernel") == "conv_add_s8" and \
                row["kernel"] != "conv_add_s8" and after["op"] == "Add":
            rows[row["node"]]["instructions"] += after["instructions"]
            del rows[after["node"]]
    return rows


def _tables(kind: str, builds: list[dict[str, Any]]) -> list[str]:
    by_mode = {b["mode"]: b for b in builds}
    error = "differing values vs TFLM (16 inputs)" if kind == "int8" else \
        "max abs error / max output vs onnxruntime (4 inputs)"
    lines = [f"| --winograd | instructions | instr/MAC | flash B | arena B | {error} |",
             "|---|---|---|---|---|---|"]
    for b in builds:
        m = b["metrics"]
        err = f"{b['error']}" if kind == "int8" else f"{b['error']:.2e}"
        lines.append(f"| {b['mode']} | {m['instructions']:,} | {m['instructions_per_mac']:.3f} "
                     f"| {m['flash_bytes']:,} | {m['arena_bytes']:,} | {err} |")
    lines += ["", "| # | 3x3 layer (output, C_in -> C_out) | off: kernel, instructions | "
              "on: kernel, instructions | off / on | auto: choice, instructions |",
              "|---|---|---|---|---|---|"]
    off = {row["node"]: row for row in by_mode["off"]["profile"]}
    on, auto = (rows_by_node(by_mode[m]["profile"], off) for m in ("on", "auto"))
    choices = by_mode["on"]["choices"]
    for node, row_on in on.items():
        row_off, row_auto = off[node], auto[node]
        layer = _shape(list(choices.values()), row_on["node"])
        if layer is None:
            continue
        auto_choice = by_mode["auto"]["choices"][row_on["node"]]["choice"]
        lines.append(
            f"| {row_on['index']} | {layer['shape']} | {row_off['kernel']} "
            f"{row_off['instructions']:,} | {row_on['kernel']} {row_on['instructions']:,} | "
            f"{row_off['instructions'] / row_on['instructions']:.2f}x | {auto_choice} "
            f"{row_auto['instructions']:,} |")
    return lines


def markdown(results: dict[str, list[dict[str, Any]]]) -> str:
    lines = [
        "## Winograd convolution (ResNet-8)",
        "",
        "Produced by `.venv/bin/python -m bench.bench_winograd --resnet` (also part of "
        "`bench.bench_qemu --write`). `--winograd on` runs every 3x3 stride-1 convolution as "
        "Winograd F(2x2,3x3), exact in int8 (bit-identical with the direct convolution), "
        "F(4x4,3x3) in float; `auto` chooses per layer with the cost model of "
        "`effc/passes/winograd_cost.py` (docs/winograd.md). Per-layer counts come from "
        "firmware built with layer markers; a layer running the same kernel in two builds "
        "can differ by a few instructions of arena addressing. A `conv_add_s8` row is a "
        "convolution and the residual Add it feeds, run band by band (docs/c-backend.md); "
        "the other builds' rows for that layer then count the conv and its Add too.",
        "",
        "### int8 (pretrainedResnet_quant)",
        "",
        *_tables("int8", results["int8"]),
        "",
        "### float (pretrainedResnet)",
        "",
        *_tables("float", results["float"]),
    ]
    return "\n".join(lines) + "\n"


def report() -> str:
    return markdown(measure())

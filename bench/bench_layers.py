"""Single int8 layers of the shapes issue 14 names, exact QEMU counts (mps2-an386).

Usage: .venv/bin/python -m bench.bench_layers   (bench_qemu --write adds its table)

Each layer is a one-convolution float ONNX model (random weights, bias, ReLU
off), quantized by effc on random calibration inputs, compiled for the board
at --optimize speed, run under QEMU with per-layer markers and checked
bit-exact against the effc integer reference; the row gives the layer's
instructions and estimated cycles per MAC (docs/cycle-model.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Layer(NamedTuple):
    label: str
    h: int
    w: int
    c_in: int
    c_out: int
    k: int
    stride: int
    group: int  # 1: a convolution; c_in: depthwise


#: MobileNet-class shapes (VWW: MobileNetV1 0.25 at 96x96) and KWS's.
LAYERS = [
    Layer("first conv 3x3 s2, 3 channels (K = 27)", 96, 96, 3, 8, 3, 2, 1),
    Layer("depthwise 3x3 s2 (VWW)", 48, 48, 16, 16, 3, 2, 16),
    Layer("depthwise 3x3 s2 (VWW)", 24, 24, 64, 64, 3, 2, 64),
    Layer("depthwise 3x3 s1 (KWS)", 25, 5, 64, 64, 3, 1, 64),
    Layer("pointwise K = 8", 48, 48, 8, 16, 1, 1, 1),
    Layer("pointwise K = 16", 24, 24, 16, 32, 1, 1, 1),
    Layer("pointwise K = 64 (KWS)", 25, 5, 64, 64, 1, 1, 1),
]


def layer_model(layer: Layer, seed: int = 0) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    per_group = layer.c_in // layer.group
    w = rng.normal(0, 1 / np.sqrt(layer.k * layer.k * per_group),
                   (layer.c_out, per_group, layer.k, layer.k))
    b = rng.normal(0, 0.1, layer.c_out)
    pad = layer.k // 2
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[layer.k] * 2,
                            strides=[layer.stride] * 2, pads=[pad] * 4, group=layer.group)
    oh = (layer.h + 2 * pad - layer.k) // layer.stride + 1
    ow = (layer.w + 2 * pad - layer.k) // layer.stride + 1
    graph = helper.make_graph(
        [node], "layer",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, layer.c_in, layer.h, layer.w])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, layer.c_out, oh, ow])],
        [numpy_helper.from_array(w.astype(np.float32), "w"),
         numpy_helper.from_array(b.astype(np.float32), "b")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def measure(layer: Layer, board: str = "mps2-an386") -> dict:
    from effc.compiler import CompileOptions, compile_model
    from effc.reference import run_samples

    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory(prefix="effc-layer-") as tmp:
        path = Path(tmp) / "layer.onnx"
        onnx.save(layer_model(layer), path)
        calib = rng.normal(size=(8, layer.c_in, layer.h, layer.w)).astype(np.float32)
        compiled = compile_model(path, Path(tmp) / "out",
                                 CompileOptions(board=board, calib=calib, verify=False))
        x = calib[:1]
        result = compiled.run("qemu", x, profile=True)
        if not np.array_equal(result.outputs, run_samples(compiled.graph, x)):
            raise SystemExit(f"{layer}: firmware output differs from the effc reference")
        row = next(r for r in result.metrics["profile"] if r["op"] == "Conv")
        return {"layer": layer, "kernel": row["kernel"], "macs": row["macs"],
                "instructions": row["instructions"], "cycles": row["cycles_estimate"]}


def markdown(rows: list[dict]) -> str:
    lines = ["## Single layers (issue 14's shapes)", "",
             "`.venv/bin/python -m bench.bench_layers`: one-convolution int8 models "
             "(random weights), --optimize speed, per-layer markers.", "",
             "| layer | input | C_in -> C_out | kernel | MACs | instructions | instr/MAC "
             "| cycles est. | cycles/MAC |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ly = r["layer"]
        lines.append(f"| {ly.label} | {ly.h}x{ly.w} | {ly.c_in} -> {ly.c_out} | {r['kernel']} | "
                     f"{r['macs']:,} | {r['instructions']:,} | "
                     f"{r['instructions'] / r['macs']:.2f} | {r['cycles']:,} | "
                     f"{r['cycles'] / r['macs']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    print(markdown([measure(layer) for layer in LAYERS]))


if __name__ == "__main__":
    main()

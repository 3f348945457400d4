"""Benchmark: the RTL accelerator under Verilator, cycles per inference and per layer.

Usage: .venv/bin/python -m bench.bench_rtl [--write docs/benchmarks-rtl.md]

For each model (KWS on icebreaker, ResNet-8, AD01 and digits on pynq-z2; the
accelerator is the same, only the memory sizes differ): cycles per inference
counted by the Verilator simulation of the controller (start to done), MACs,
PE utilization = MACs / (cycles x lanes), the schedule's prediction, and the
KWS per-layer table (measured against predicted). Every output is checked
bit-exact against the integer reference before a figure is recorded.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.errors import EffcError
from effc.reference import run_samples

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "models" / "mlperf-tiny"
DIGITS = ROOT / "examples" / "digits"
MODELS = [("kws_ref_model", "icebreaker"), ("pretrainedResnet_quant", "pynq-z2"),
          ("ad01_int8", "pynq-z2"), ("digits_cnn", "pynq-z2")]
CFU_KWS_CYCLES = 25_200_000  # CFU Playground, KWS on iCE40 UP5K (issue 12, shared notes)


def _compile(name: str, board: str, folder: Path) -> tuple[CompiledModel, np.ndarray]:
    if name == "digits_cnn":
        data = np.load(DIGITS / "digits_data.npz")
        model = compile_model(DIGITS / "digits_cnn.onnx", folder / name,
                              CompileOptions(board=board, target="rtl", calib=data["x_calib"]))
        return model, data["x_test"][:2]
    vectors = np.load(SHARED / f"{name}.npz")["inputs"][:2]
    model = compile_model(SHARED / f"{name}.onnx", folder / name,
                          CompileOptions(board=board, target="rtl"))
    return model, vectors.reshape(vectors.shape[0] * vectors.shape[1], *vectors.shape[2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="FILE.md")
    args = parser.parse_args()
    lines = ["# RTL accelerator benchmarks", "",
             "Produced by `.venv/bin/python -m bench.bench_rtl --write docs/benchmarks-rtl.md` "
             "(Verilator 5.006). Cycles are clock cycles of the accelerator from start to done "
             "for one inference, counted in the simulation; every output was first checked "
             "bit-exact against the effc integer reference. PE utilization = MACs / (cycles x "
             "8 lanes). The int8 Softmax runs on the host (not counted).", "",
             "| model | board | MACs | cycles | predicted | PE utilization | arena B |",
             "|---|---|---|---|---|---|---|"]
    kws_layers = None
    with tempfile.TemporaryDirectory() as tmp:
        for name, board in MODELS:
            try:
                model, x = _compile(name, board, Path(tmp))
            except EffcError as exc:
                lines.append(f"| {name} | {board} | - | refused: {exc} | | | |")
                continue
            got = model.run("verilator", x, profile=True)
            ref = run_samples(model.graph, x)
            assert np.array_equal(got.outputs, ref), f"{name}: not bit-exact"
            m = got.metrics
            info = model.manifest["rtl"]
            lines.append(f"| {name} | {board} | {m['macs']:,} | {m['cycles']:,} | "
                         f"{m['predicted_cycles']:,} | {m['pe_utilization']:.1%} | "
                         f"{info['arena_bytes']:,} |")
            if name == "kws_ref_model":
                kws_layers = m["layers"]
                kws_cycles = m["cycles"]
    if kws_layers:
        lines += ["", f"KWS on icebreaker: {kws_cycles:,} cycles, "
                      f"{CFU_KWS_CYCLES / kws_cycles:.0f}x fewer than CFU Playground's "
                      f"{CFU_KWS_CYCLES:,} on the same chip (issue 12).", "",
                  "## KWS DS-CNN per layer (icebreaker)", "",
                  "| # | kind | tiling | MACs | cycles | predicted | PE utilization |",
                  "|---|---|---|---|---|---|---|"]
        for i, layer in enumerate(kws_layers):
            lines.append(f"| {i} | {layer['kind']} | {layer['tiling']} | {layer['macs']:,} | "
                         f"{layer['cycles']:,} | {layer['predicted_cycles']:,} | "
                         f"{layer['pe_utilization']:.1%} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(args.write).write_text(text)


if __name__ == "__main__":
    main()

"""Benchmark: the RTL accelerator under Verilator, cycles per inference and per layer.

Usage: .venv/bin/python -m bench.bench_rtl [--write docs/benchmarks-rtl.md]

For each model (KWS on icebreaker, ResNet-8, AD01 and digits on pynq-z2; the
accelerator is the same, only the memory sizes differ): cycles per inference
counted by the Verilator simulation of the controller (start to done), MACs,
PE utilization = MACs / (cycles x lanes), the schedule's prediction, and the
KWS per-layer table (measured against predicted), and `effc synth` of the KWS
folder (yosys synth_ice40 -dsp, nextpnr-ice40 on the UP5K). Every output is
checked bit-exact against the integer reference before a figure is recorded.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.errors import EffcError
from effc.reference import run_samples
from effc.toolchain.fpga import nextpnr_fmax, nextpnr_utilization, yosys_cells

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


def _synth_lines(folder: Path) -> list[str]:
    """`effc synth FOLDER`: its one-line verdict and the cells it counted."""
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "effc"), "synth", str(folder)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    logs = folder / "synth"
    cells = yosys_cells((logs / "yosys.log").read_text())
    pnr = (logs / "nextpnr.log").read_text() if (logs / "nextpnr.log").is_file() else ""
    util = nextpnr_utilization(pnr)
    ff = sum(v for k, v in cells.items() if k.startswith("SB_DFF"))
    verdict = (proc.stderr or proc.stdout).strip().splitlines()[-1].split(" (see ")[0]
    fmax = nextpnr_fmax(pnr) if proc.returncode == 0 else None
    lines = ["", "## UP5K synthesis and place-and-route (KWS, icebreaker)", "",
             f"`effc synth OUTDIR` (yosys 0.23 `synth_ice40 -dsp`, nextpnr-ice40 0.4): "
             f"yosys {cells.get('SB_LUT4', 0):,} SB_LUT4, {cells.get('SB_CARRY', 0):,} "
             f"SB_CARRY, {ff:,} flip-flops, {cells.get('SB_MAC16', 0)} SB_MAC16, "
             f"{cells.get('SB_RAM40_4K', 0)} SB_RAM40_4K, {cells.get('SB_SPRAM256KA', 0)} "
             "SB_SPRAM256KA.", "", "| resource | used | available |", "|---|---|---|"]
    for name, (used, avail) in util.items():
        lines.append(f"| {name} | {used:,} | {avail:,} |")
    lines += ["", f"fmax after place-and-route: {fmax:.1f} MHz." if fmax else
              f"No fmax (place-and-route did not run to the end): `{verdict}`"]
    return lines


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
                synth = _synth_lines(model.folder)
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
        lines += synth
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(args.write).write_text(text)


if __name__ == "__main__":
    main()

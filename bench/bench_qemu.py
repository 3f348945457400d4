"""Benchmark: int8 models as firmware on a QEMU board, exact instruction counts.

Usage: .venv/bin/python -m bench.bench_qemu [--board mps2-an386] [--write docs/benchmarks.md]

For each MLPerf Tiny int8 model and the digits example: instructions per
inference (exact guest instructions counted by effc's QEMU TCG plugin between
the harness markers, not cycles), instructions per MAC, flash, static RAM,
arena against its layer-by-layer lower bound, and the painted-stack peak.
Also the per-layer breakdown of the KWS DS-CNN, and with --write the Winograd
section (bench/bench_resnet_winograd.py), issue 17's models (bench/bench_issue17.py)
and the HLS section (bench/bench_hls.py). Every output is checked bit-exact against
the effc integer reference before a figure is recorded.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.reference import run_samples

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "models" / "mlperf-tiny"
DIGITS = ROOT / "examples" / "digits"
MODELS = ["kws_ref_model", "pretrainedResnet_quant", "ad01_int8", "digits_cnn"]
TFLM_CMSIS_KWS = 2.95  # instructions/MAC of CMSIS-NN on the same QEMU (shared notes)


def _compile(name: str, board: str, folder: Path) -> tuple[CompiledModel, np.ndarray]:
    if name == "digits_cnn":
        data = np.load(DIGITS / "digits_data.npz")
        model = compile_model(DIGITS / "digits_cnn.onnx", folder / name,
                              CompileOptions(board=board, calib=data["x_calib"]))
        return model, data["x_test"][:4]
    vectors = np.load(SHARED / f"{name}.npz")["inputs"]
    model = compile_model(SHARED / f"{name}.onnx", folder / name, CompileOptions(board=board))
    return model, vectors.reshape(vectors.shape[0], *vectors.shape[2:])[:4]


def measure(board: str) -> tuple[list[dict], list[dict]]:
    rows, kws_layers = [], []
    with tempfile.TemporaryDirectory(prefix="effc-bench-") as tmp:
        for name in MODELS:
            model, x = _compile(name, board, Path(tmp))
            result = model.run("qemu", x)
            expected = run_samples(model.graph, x)
            if not np.array_equal(result.outputs, expected):
                raise SystemExit(f"{name}: firmware output differs from the effc reference")
            m = result.metrics
            rows.append({"model": name, **m})
            if name == "kws_ref_model":  # a second build with per-layer markers
                kws_layers = model.run("qemu", x[:1], profile=True).metrics["profile"]
    return rows, kws_layers


def markdown(board: str, rows: list[dict], layers: list[dict], winograd: str = "") -> str:
    lines = [
        "# Benchmarks",
        "",
        "Produced by `.venv/bin/python -m bench.bench_qemu --board "
        f"{board} --write docs/benchmarks.md` (QEMU 7.2, arm-none-eabi-gcc 12, -O2).",
        "Instructions are exact guest instructions of one inference, counted by effc's QEMU",
        "TCG plugin; they are not cycles. Every run is checked bit-exact against the effc",
        "integer reference first.",
        "",
        "The RTL accelerator's clock cycles under Verilator (per model and per layer, "
        "against the schedule's prediction) are in `docs/benchmarks-rtl.md` "
        "(`.venv/bin/python -m bench.bench_rtl --write docs/benchmarks-rtl.md`).",
        "",
        f"## int8 models on {board}",
        "",
        "| model | MACs | instructions | instr/MAC | flash B | static RAM B | arena B "
        "| arena lower bound B | stack B |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['macs']:,} | {r['instructions']:,} | "
            f"{r['instructions_per_mac']:.3f} | {r['flash_bytes']:,} | {r['ram_bytes']:,} | "
            f"{r['arena_bytes']:,} | {r['arena_lower_bound_bytes']:,} | {r['stack_bytes']:,} |")
    kws = next(r for r in rows if r["model"] == "kws_ref_model")
    lines += [
        "",
        f"KWS DS-CNN: {kws['instructions_per_mac']:.3f} instructions/MAC against "
        f"{TFLM_CMSIS_KWS} for TFLite Micro + CMSIS-NN on the same QEMU "
        "(`../shared/notes/qemu-cortex-m.md`); the SMLAD floor is 0.5.",
        "",
        "## KWS DS-CNN per layer",
        "",
        "From a firmware built with per-layer markers (each marker call adds a few",
        "instructions); `effc run OUTDIR --engine qemu --profile` prints the same table.",
        "",
        "| # | op | kernel | MACs | instructions | instr/MAC |",
        "|---|---|---|---|---|---|",
    ]
    for layer in layers:
        per_mac = f"{layer['instructions'] / layer['macs']:.2f}" if layer["macs"] else "-"
        lines.append(f"| {layer['index']} | {layer['op']} | {layer['kernel']} | "
                     f"{layer['macs']:,} | {layer['instructions']:,} | {per_mac} |")
    return "\n".join(lines) + "\n" + ("\n" + winograd if winograd else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2-an386")
    parser.add_argument("--write", type=Path, help="also write the markdown report here")
    args = parser.parse_args()
    rows, layers = measure(args.board)
    table = Table(title=f"effc int8 on {args.board} (QEMU, exact instructions)")
    for col in ("model", "MACs", "instructions", "instr/MAC", "flash", "arena", "lower bound",
                "stack"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for r in rows:
        table.add_row(r["model"], f"{r['macs']:,}", f"{r['instructions']:,}",
                      f"{r['instructions_per_mac']:.3f}", f"{r['flash_bytes']:,}",
                      f"{r['arena_bytes']:,}", f"{r['arena_lower_bound_bytes']:,}",
                      f"{r['stack_bytes']:,}")
    Console().print(table)
    if args.write:
        from bench.bench_hls import replace_section
        from bench.bench_hls import report as hls_report
        from bench.bench_issue17 import markdown as issue17
        from bench.bench_issue17 import measure as measure_issue17
        from bench.bench_resnet_winograd import report

        text = markdown(args.board, rows, layers, report()) + "\n" + issue17(measure_issue17())
        args.write.write_text(replace_section(text, hls_report()))
        Console().print(f"wrote {args.write}")


if __name__ == "__main__":
    main()

"""Benchmark: the HLS accelerator per FPGA board, estimates and counted cycles.

Usage: .venv/bin/python -m bench.bench_hls [--write docs/benchmarks.md]

For each MLPerf Tiny int8 model and the digits example on each AMD FPGA board:
``effc compile --target hls`` (the fastest folding that fits the board), then
the project's C simulation built with ``-DEFFC_HLS_COUNT`` on the test vectors:
every output bit-exact with the integer reference, and every process's
pipelined loop iterations counted. The interval is the slowest layer's counted
cycles (the estimator predicts exactly these counts); throughput and latency
follow at the board's clock. DSP, BRAM and LUT are the estimator's: nothing
is synthesized here (no vendor tool). With --write, the section replaces its
own in the file (bench.bench_qemu --write also writes it).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.errors import EffcError
from effc.toolchain.hls import csim_binary

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "models" / "mlperf-tiny"
DIGITS = ROOT / "examples" / "digits"
MODELS = ["kws_ref_model", "pretrainedResnet_quant", "ad01_int8", "digits_cnn"]
BOARDS = ["pynq-z2", "arty-a7-35t", "zcu104"]
TITLE = "## HLS accelerator (FPGA boards, C simulation)"


def _compile(name: str, board: str, folder: Path) -> CompiledModel:
    if name == "digits_cnn":
        data = np.load(DIGITS / "digits_data.npz")
        return compile_model(DIGITS / "digits_cnn.onnx", folder,
                             CompileOptions(board=board, target="hls", calib=data["x_calib"]))
    return compile_model(SHARED / f"{name}.onnx", folder,
                         CompileOptions(board=board, target="hls"))


def counted_layer_cycles(model: CompiledModel) -> dict[int, int]:
    """Each layer's cycles per inference, counted by the C simulation (its slowest
    process), on the project's vectors, which must match the reference."""
    info = model.manifest["hls"]
    folder = model.folder / info["folder"]
    binary = csim_binary(folder, info["name"], info["sources"],
                         [*info["cxxflags"], "-DEFFC_HLS_COUNT"])
    data = folder / "data"
    proc = subprocess.run([str(binary), str(data / "input.bin"), str(data / "bench_out.bin"),
                           str(data / "expected.bin")], capture_output=True, text=True,
                          timeout=600, check=False)
    if proc.returncode != 0 or not re.search(r" 0 of \d+ output values differ", proc.stdout):
        raise SystemExit(f"{info['name']}: the C simulation differs from the reference: "
                         f"{proc.stdout.strip()} {proc.stderr.strip()}")
    counts = {int(i): int(c) for i, c in re.findall(r"^cycles (\d+) (\d+)$", proc.stdout, re.M)}
    layers: dict[int, int] = {}
    for i, process in enumerate(info["processes"]):
        if process["layer"] is not None:
            layers[process["layer"]] = max(layers.get(process["layer"], 0), counts.get(i, 0))
    return layers


def measure() -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="effc-bench-hls-") as tmp:
        for name in MODELS:
            for board in BOARDS:
                try:
                    model = _compile(name, board, Path(tmp) / f"{name}-{board}")
                except EffcError as exc:  # the refusal is the figure: what is over
                    rows.append({"model": name, "board": board, "refused": str(exc)})
                    continue
                est = model.manifest["hls"]["estimate"]
                counted = counted_layer_cycles(model)
                interval = max(counted.values())
                latency = sum(counted.values())
                rows.append({
                    "model": name, "board": board, "macs": model.manifest["summary"]["macs"],
                    "interval": interval, "estimated": est["interval_cycles"],
                    "fps": est["clock_mhz"] * 1e6 / interval,
                    "latency_us": latency / est["clock_mhz"],
                    "total": est["total"], "budget": est["budget"],
                    "bottleneck": next(r["kind"] for r in est["layers"] if r["bottleneck"])})
    return rows


def report(rows: list[dict[str, Any]] | None = None) -> str:
    rows = measure() if rows is None else rows
    lines = [
        TITLE, "",
        "Produced by `.venv/bin/python -m bench.bench_hls` (also part of `bench.bench_qemu "
        "--write`). `effc compile --board B --target hls` (the fastest folding whose "
        "estimate fits the board), then the project's C simulation with `-DEFFC_HLS_COUNT` on "
        "its 8 test vectors: outputs bit-exact with the integer reference, pipelined loop "
        "iterations counted per process. The interval is the slowest layer's counted cycles "
        "(equal to the estimator's, as the tests require), throughput and latency (the sum of "
        "the layers' cycles, an upper bound) at the board's clock, 100 MHz. DSP, BRAM18 and "
        "LUT are estimates (docs/hls-backend.md): nothing is synthesized here.", "",
        "| model | board | MACs | interval cycles | inferences/s | latency us | bottleneck | "
        "DSP | BRAM18 | LUT |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        if "refused" in r:
            over = r["refused"].split(": ", 1)[-1].split("; ")[0]
            lines.append(f"| {r['model']} | {r['board']} | | does not fit ({over}) | | | | | | |")
            continue
        t, b = r["total"], r["budget"]
        lines.append(f"| {r['model']} | {r['board']} | {r['macs']:,} | {r['interval']:,} | "
                     f"{r['fps']:,.0f} | {r['latency_us']:,.1f} | {r['bottleneck']} | "
                     f"{t['dsp']:,}/{b['dsp']:,} | {t['bram18']:,}/{b['bram18']:,} | "
                     f"{t['lut']:,}/{b['lut']:,} |")
    return "\n".join(lines) + "\n"


def replace_section(text: str, section: str) -> str:
    """``text`` with its HLS section replaced by ``section`` (appended if absent)."""
    start = text.find(TITLE)
    if start < 0:
        return text.rstrip("\n") + "\n\n" + section
    end = text.find("\n## ", start + len(TITLE))
    return text[:start] + section + (text[end:] if end >= 0 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="replace the HLS section of this file")
    args = parser.parse_args()
    rows = measure()
    for r in rows:
        if "refused" not in r and r["interval"] != r["estimated"]:
            raise SystemExit(f"{r['model']} on {r['board']}: counted interval {r['interval']} "
                             f"cycles, estimated {r['estimated']}")
    table = Table(title="effc HLS accelerator (C simulation; resources estimated)")
    for col in ("model", "board", "interval", "inferences/s", "latency us", "DSP", "BRAM18",
                "LUT"):
        table.add_column(col, justify="left" if col in ("model", "board") else "right")
    for r in rows:
        if "refused" in r:
            table.add_row(r["model"], r["board"], r["refused"])
            continue
        table.add_row(r["model"], r["board"], f"{r['interval']:,}", f"{r['fps']:,.0f}",
                      f"{r['latency_us']:,.1f}", str(r["total"]["dsp"]),
                      str(r["total"]["bram18"]), f"{r['total']['lut']:,}")
    Console().print(table)
    if args.write:
        args.write.write_text(replace_section(args.write.read_text(), report(rows)))
        Console().print(f"wrote {args.write}")


if __name__ == "__main__":
    main()

"""Issue 17's acceptance models (tests/issue17_models.py) in int8 under QEMU.

A GRU keyword spotter, an encoder-decoder with Resize and ConvTranspose and a CNN
ending in ReduceMean + Gemm(transB), each compiled to int8 C for mps2-an386
(Cortex-M4) and run on 4 seeded inputs; every run is first checked bit-exact
against effc's integer reference. Per layer: the exact guest instructions of one
inference with the DSP bodies (the default build) and with the portable C bodies
(the same firmware built with -DEFFC_NO_DSP).

Usage: .venv/bin/python -m bench.bench_issue17 [--write docs/benchmarks.md]
(--write replaces the section of that name in the file, or appends it).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from effc.artifact import Artifact, entry_ports
from effc.boards import load_board
from effc.compiler import CompileOptions, compile_model
from effc.engines.qemu import pack, packed_bytes, run_qemu, run_qemu_model, timeout_for
from effc.outdir import OutDir
from effc.reference.interpreter import as_feeds, inference_feeds
from effc.toolchain.firmware import mcu_board, outdir_firmware
from tests.issue17_models import MODELS, calibration

BOARD = "mps2-an386"
TITLE = "## Issue 17 models (GRU, encoder-decoder, ReduceMean + Gemm)"


def _portable_profile(compiled: Artifact, x: np.ndarray) -> dict[int, int]:
    """Per-layer instructions of the firmware built with the portable C bodies (from
    the library a core without DSP gets: int8 weight rows, --optimize size, at -O2 as
    effc/codegen/c/kernel_set.py builds C kernel bodies)."""
    board = mcu_board(load_board(BOARD))
    board = dataclasses.replace(board, cflags=(*board.cflags, "-DEFFC_NO_DSP"))
    c = compiled.manifest["c"]
    c = c | {"firmware_cflags": [f for f in c.get("firmware_cflags", []) if f != "-Os"]}
    elf = outdir_firmware(board, OutDir.existing(compiled.folder), c, profile=True).elf
    inputs, outputs = entry_ports(compiled)
    feeds = inference_feeds(compiled.graph, as_feeds(compiled.graph, x), 0)
    run = run_qemu(elf, board, pack(inputs, feeds), packed_bytes(outputs), count=True,
                   profile=True, timeout=timeout_for(1, compiled.manifest["summary"]["macs"]))
    return dict(run.per_layer_instructions)


def measure_model(name: str, folder: Path) -> dict[str, Any]:
    model = MODELS[name]()
    path = folder / f"{name}.onnx"
    onnx.save(model, path)
    compiled = compile_model(path, folder / name, CompileOptions(
        calib=calibration(model, 64), board=BOARD))
    x = calibration(model, 4, seed=1)
    ref = compiled.run("reference", x).outputs
    run = run_qemu_model(compiled, x)
    differing = int(np.count_nonzero(run.outputs != ref))
    if differing:
        raise SystemExit(f"{name}: {differing} values differ from the integer reference")
    layers = run_qemu_model(compiled, x[:1], profile=True).metrics["profile"]
    plain = compile_model(path, folder / f"{name}-portable", CompileOptions(
        calib=calibration(model, 64), board=BOARD, optimize="size"))
    portable = _portable_profile(plain, x[:1])
    for layer in layers:
        layer["portable"] = portable.get(layer["index"], 0)
    return {"model": name, "metrics": run.metrics, "layers": layers}


def measure() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="effc-issue17-") as tmp:
        return [measure_model(name, Path(tmp)) for name in sorted(MODELS)]


def _per_mac(instructions: int, macs: int) -> str:
    return f"{instructions / macs:.2f}" if macs else "-"


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        TITLE, "",
        "Produced by `.venv/bin/python -m bench.bench_issue17 --write docs/benchmarks.md` "
        f"(int8, {BOARD}, 4 seeded inputs, every output bit-exact with the integer "
        "reference). *portable*: the firmware a core without DSP gets (int8 weight rows, as "
        "`--optimize size`) built with `-DEFFC_NO_DSP` (the C bodies instead of the SMLAD "
        "ones), its instructions per MAC summed over the layers "
        "of a firmware with layer markers (a few instructions per marker), as the per-layer "
        "counts (one inference).", "",
        "| model | MACs | instructions | instr/MAC | portable instr/MAC | flash B | arena B |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        m = r["metrics"]
        portable = sum(layer["portable"] for layer in r["layers"])
        lines.append(f"| {r['model']} | {m['macs']:,} | {m['instructions']:,} | "
                     f"{m['instructions_per_mac']:.3f} | {portable / m['macs']:.3f} | "
                     f"{m['flash_bytes']:,} | {m['arena_bytes']:,} |")
    for r in results:
        lines += ["", f"### {r['model']} per layer", "",
                  "| # | op | kernel | MACs | instructions | instr/MAC | portable | "
                  "portable instr/MAC |", "|---|---|---|---|---|---|---|---|"]
        for layer in r["layers"]:
            lines.append(
                f"| {layer['index']} | {layer['op']} | {layer['kernel']} | {layer['macs']:,} | "
                f"{layer['instructions']:,} | {_per_mac(layer['instructions'], layer['macs'])} "
                f"| {layer['portable']:,} | {_per_mac(layer['portable'], layer['macs'])} |")
    return "\n".join(lines) + "\n"


def write_section(doc: Path, section: str) -> None:
    """Replace the section titled TITLE in ``doc`` (up to the next '## '), or append it."""
    text = doc.read_text()
    pattern = re.compile(re.escape(TITLE) + r"\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="write the section into this markdown file")
    args = parser.parse_args()
    section = markdown(measure())
    print(section)
    if args.write:
        write_section(args.write, section)
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()

"""Compiling models for the HLS target in tests, and running its C-simulation variants.

``compile_hls`` compiles a model for an FPGA board with the HLS target (the
project, its test vectors and the engine's self-check). ``check_vectors``
builds the project's C simulation with cycle counting (EFFC_HLS_COUNT) and
runs it on the project's vectors: every output must equal effc's integer
reference, and each layer's counted cycles (the slowest of its processes) must
equal the estimator's. ``check_threaded`` runs it with one thread per process
and every FIFO bounded by its depth (EFFC_HLS_THREADED): the FIFO depths
effc chose must not deadlock.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from effc.boards import FpgaBoard, load_board
from effc.codegen.hls.layers import Fold, Layer
from effc.codegen.hls.target import emit_hls, write_vectors
from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.outdir import OutDir
from effc.toolchain.hls import csim_binary
from effc.verify import write_vectors as reference_vectors


def fpga_board(name: str = "pynq-z2") -> FpgaBoard:
    board = load_board(name)
    assert isinstance(board, FpgaBoard)
    return board


def fastest(layer: Layer, folds: list[Fold]) -> Fold:
    return min(folds, key=lambda f: (f.cycles, f.res.dsp, f.res.lut))


def slowest(layer: Layer, folds: list[Fold]) -> Fold:
    return max(folds, key=lambda f: (f.cycles, -f.res.lut))


def middle(layer: Layer, folds: list[Fold]) -> Fold:
    ordered = sorted(folds, key=lambda f: (f.cycles, f.res.lut))
    return ordered[len(ordered) // 2]


PICKS = {"fastest": fastest, "slowest": slowest, "middle": middle}


def compile_hls(model: Path, out: Path, calib: Any = None, pick: str | None = None,
                weight_quant: str = "per-channel", board: FpgaBoard | None = None
                ) -> CompiledModel:
    """The model compiled without a board, then its HLS project (the folding search, or
    ``pick`` for every layer) and its test vectors, as ``effc compile --target hls``
    writes them (without the self-check)."""
    compiled = compile_model(model, out, CompileOptions(calib=calib, weight_quant=weight_quant))
    folder = OutDir.prepare(out, [], force=True)
    compiled.manifest.update(emit_hls(compiled.graph, board or fpga_board(), folder,
                                      pick=PICKS[pick] if pick else None))
    reference_vectors(compiled, calib, write_vectors, compiled.manifest["hls"], folder)
    return compiled


def _binary(compiled: CompiledModel, *flags: str) -> Path:
    """A variant of the project's C simulation; -O0 compiles the tiny test models fastest."""
    info = compiled.manifest["hls"]
    cxxflags = ["-O0" if f == "-O2" else f for f in info["cxxflags"]]
    return csim_binary(compiled.folder / info["folder"], info["name"], info["sources"],
                       [*cxxflags, *flags])


def _run(compiled: CompiledModel, binary: Path, samples: int | None = None) -> str:
    """Run ``binary`` on the project's vectors (the first ``samples``); its stdout."""
    info = compiled.manifest["hls"]
    data = compiled.folder / info["folder"] / "data"
    inputs, expected = data / "input.bin", data / "expected.bin"
    if samples is not None:
        per_in = sum(int(np.prod(p["shape"])) for p in info["inputs"])
        per_out = sum(int(np.prod(p["shape"])) for p in info["outputs"])
        inputs, expected = data / "input_few.bin", data / "expected_few.bin"
        inputs.write_bytes((data / "input.bin").read_bytes()[:samples * per_in])
        expected.write_bytes((data / "expected.bin").read_bytes()[:samples * per_out])
    proc = subprocess.run([str(binary), str(inputs), str(data / "csim_output.bin"),
                           str(expected)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"C simulation: exit {proc.returncode}: {proc.stderr.strip()}"
    assert re.search(r" 0 of \d+ output values differ", proc.stdout), proc.stdout
    return proc.stdout


def check_vectors(compiled: CompiledModel) -> list[int]:
    """Outputs bit-exact on the vectors; counted cycles per layer == the estimate.
    Returns the counted cycles per process."""
    out = _run(compiled, _binary(compiled, "-DEFFC_HLS_COUNT"))
    counts = {int(i): int(c) for i, c in re.findall(r"^cycles (\d+) (\d+)$", out, re.M)}
    info = compiled.manifest["hls"]
    per_layer: dict[int, int] = {}
    for i, process in enumerate(info["processes"]):
        if process["layer"] is not None:
            per_layer[process["layer"]] = max(per_layer.get(process["layer"], 0),
                                              counts.get(i, 0))
    for row in info["estimate"]["layers"]:
        assert per_layer[row["index"]] == row["cycles"], (
            f"layer {row['index']} ({row['kind']}, {row['folding']}): counted "
            f"{per_layer[row['index']]} cycles, estimated {row['cycles']}")
    return [counts.get(i, 0) for i in range(len(info["processes"]))]


def check_threaded(compiled: CompiledModel, samples: int = 1) -> None:
    """One thread per process, every internal FIFO bounded by its depth: no deadlock,
    the same outputs."""
    _run(compiled, _binary(compiled, "-DEFFC_HLS_THREADED", "-pthread"), samples)

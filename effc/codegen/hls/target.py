"""``effc compile --target hls``: the HLS C++ dataflow project for an FPGA board.

The entry point ``emit_hls(graph, board, out)`` maps the int8 core of the graph
to layers (layers.py, layers_misc.py), chooses every layer's folding for the
board (folding.py, with --fps a throughput target), builds the stream network
(dataflow.py), writes the project under OUTDIR/hls (emit.py) and returns the
manifest section: ports, sources, the C-simulation flags and the estimate.
The driver then writes the test vectors and runs the self-check through the
``hls`` engine (the C simulation with g++).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from effc.codegen.hls.dataflow import Dataflow, Port
from effc.codegen.hls.emit import CXXFLAGS, design_namer, render
from effc.codegen.hls.folding import Budget, Pick, choose_folding
from effc.codegen.hls.report import estimate_rows, markdown
from effc.errors import EffcError
from effc.ir import Graph
from effc.outdir import OutDir


@dataclass(frozen=True)
class FpgaBoard:
    """An FPGA board (until the shared board files: the same fields and values)."""

    name: str
    part: str
    family: str
    clock_mhz: float
    lut: int
    ff: int
    dsp: int
    bram36: int


FPGA_BOARDS = {b.name: b for b in (
    FpgaBoard("pynq-z2", "xc7z020clg400-1", "zynq7", 100, 53200, 106400, 220, 140),
    FpgaBoard("arty-a7-35t", "xc7a35ticsg324-1L", "artix7", 100, 20800, 41600, 90, 50),
    FpgaBoard("zcu104", "xczu7ev-ffvc1156-2-e", "zynquplus", 100, 230400, 460800, 1728, 312),
)}


def fpga_board(name: str | None) -> FpgaBoard:
    if name not in FPGA_BOARDS:
        raise EffcError(f"--target hls needs an FPGA board: --board "
                        f"{' | '.join(FPGA_BOARDS)} (got {name!r})")
    return FPGA_BOARDS[name]


FOLDER = "hls"
DATA = "data"
VECTOR_SAMPLES = 8  # inferences in data/input.bin (effc.verify.SAMPLES)


def _port(port: Port) -> dict[str, Any]:
    quant = port.quant
    return {"name": port.name, "param": port.param, "shape": port.shape, "lanes": port.lanes,
            "converted": port.converted,
            "scale": float(quant.scale) if quant is not None else None,
            "zero_point": int(quant.zero_point) if quant is not None else None}


def emit_hls(graph: Graph, board: Any, out: OutDir, fps: float | None = None,
             pick: Pick | None = None) -> dict[str, Any]:
    """Write OUTDIR/hls for ``board`` (an FPGA board: part, clock, LUT, FF, DSP, BRAM);
    ``pick`` overrides the folding search (tests)."""
    if getattr(board, "family", "") == "ice40up":
        raise EffcError(f"board '{board.name}' is a Lattice iCE40, which Vitis HLS does not "
                        "target; choose an AMD board (pynq-z2, arty-a7-35t, zcu104)")
    if fps is not None and not fps > 0:
        raise EffcError(f"--fps {fps:g} is not a positive number of inferences per second")
    budget = Budget.of(board)
    flow = Dataflow(graph)
    selection = choose_folding(flow, budget, fps, pick)
    name = graph.name
    design = flow.design(selection.folds, design_namer(name))
    files = render(flow, selection, design, budget, name, VECTOR_SAMPLES)
    for file, data in sorted(files.items()):
        out.write(f"{FOLDER}/{file}", data)
    plan = design.plan
    estimate = estimate_rows(flow, selection, budget)
    return {"hls": {
        "folder": FOLDER, "name": name, "top": name, "board": budget.name,
        "part": budget.part, "clock_mhz": budget.clock_mhz,
        "sources": [f"{name}.cpp", f"{name}_tb.cpp"], "cxxflags": list(CXXFLAGS),
        "inputs": [_port(p) for p in plan.inputs], "outputs": [_port(p) for p in plan.outputs],
        "vectors": {"input": f"{DATA}/input.bin", "expected": f"{DATA}/expected.bin"},
        "fps_target": fps,
        "processes": [{"template": p.template, "layer": layer} for layer, p in design.processes],
        "estimate": estimate, "report": markdown(estimate)}}

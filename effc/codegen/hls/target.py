"""The HLS target (``effc compile --board`` an FPGA board, ``--target hls``): a
streaming HLS C++ dataflow accelerator.

``emit_hls(graph, board, out, fps)`` maps the int8 core of the graph to layers
(layers.py, layers_misc.py), chooses every layer's folding for the board
(folding.py, with ``--fps`` a throughput target), builds the stream network
(dataflow.py), writes the project under OUTDIR/hls (emit.py) and returns the
manifest section: ports, sources, the C-simulation flags and the estimate.
The driver then writes the project's test vectors (``write_vectors``) and runs
the self-check on the ``hls`` engine (the C simulation with g++).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from effc.boards import Board, FpgaBoard
from effc.codegen import Target, register_target
from effc.codegen.hls.dataflow import Dataflow, Port
from effc.codegen.hls.emit import design_namer, render
from effc.codegen.hls.folding import Budget, Pick, choose_folding
from effc.codegen.hls.layers_misc import accepts
from effc.codegen.hls.report import estimate_rows, markdown, summary_line
from effc.errors import EffcError
from effc.ir import Graph
from effc.outdir import OutDir
from effc.toolchain.hls import CXXFLAGS

FOLDER = "hls"
DATA = "data"
VECTOR_SAMPLES = 8  # inferences in data/input.bin (effc.verify.SAMPLES)
#: Device families Vitis HLS targets (the AMD boards' ``family`` field).
VITIS_FAMILIES = ("zynq7", "artix7", "kintex7", "virtex7", "zynquplus", "kintexu", "virtexu",
                  "kintexuplus", "virtexuplus", "versal")


def _port(port: Port) -> dict[str, Any]:
    quant = port.quant
    return {"name": port.name, "core": port.core, "param": port.param, "shape": port.shape,
            "lanes": port.lanes, "converted": port.converted,
            "scale": float(quant.scale) if quant is not None else None,
            "zero_point": int(quant.zero_point) if quant is not None else None}


def check_hls(board: Board, fps: float | None = None) -> None:
    """Refuse, before any work, a board Vitis HLS does not target and a bad --fps."""
    assert isinstance(board, FpgaBoard)  # the registry gives the HLS target FPGA boards only
    if board.family not in VITIS_FAMILIES:
        raise EffcError(f"board '{board.name}' ({board.part}, family {board.family}) is not a "
                        "device Vitis HLS targets; choose an AMD board (family "
                        f"{', '.join(VITIS_FAMILIES)}; see 'effc boards')")
    if fps is not None and not fps > 0:
        raise EffcError(f"--fps {fps:g} is not a positive number of inferences per second; "
                        "give the throughput to reach, e.g. --fps 10000")


def emit_hls(graph: Graph, board: Board, out: OutDir, fps: float | None = None,
             pick: Pick | None = None) -> dict[str, Any]:
    """Write OUTDIR/hls for ``board``; ``pick`` overrides the folding search (tests)."""
    check_hls(board, fps)
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
        "estimate": estimate, "summary_line": summary_line(estimate),
        "report_title": f"HLS accelerator ({budget.name}, {budget.part})",
        "report": markdown(estimate)}}


def write_vectors(section: dict[str, Any], out: OutDir,
                  values: list[dict[str, np.ndarray]]) -> None:
    """OUTDIR/hls/data/input.bin and expected.bin (``run_hls.tcl``'s csim and cosim read
    them): each inference's int8 port values, inputs then the reference's outputs."""
    for key, ports in (("input", section["inputs"]), ("expected", section["outputs"])):
        data = b"".join(np.asarray(v[p["core"]], np.int8).tobytes()
                        for v in values for p in ports)
        out.write(f"{section['folder']}/{section['vectors'][key]}", data)


register_target(Target("hls", "fpga", "a streaming HLS C++ dataflow accelerator (Vitis HLS; "
                       "C simulation with g++)", emit_hls, options=("fps",),
                       check=check_hls, check_engine="hls", vectors=write_vectors,
                       accepts=accepts))

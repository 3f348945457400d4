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

from typing import Any

from effc.codegen.hls.dataflow import Dataflow, Port
from effc.codegen.hls.emit import CXXFLAGS, design_namer, render
from effc.codegen.hls.folding import Budget, Pick, choose_folding
from effc.codegen.hls.report import estimate_rows
from effc.errors import EffcError
from effc.ir import Graph
from effc.outdir import OutDir

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
    return {"hls": {
        "folder": FOLDER, "name": name, "top": name, "board": budget.name,
        "part": budget.part, "clock_mhz": budget.clock_mhz,
        "sources": [f"{name}.cpp", f"{name}_tb.cpp"], "cxxflags": list(CXXFLAGS),
        "inputs": [_port(p) for p in plan.inputs], "outputs": [_port(p) for p in plan.outputs],
        "vectors": {"input": f"{DATA}/input.bin", "expected": f"{DATA}/expected.bin"},
        "fps_target": fps,
        "processes": [{"template": p.template, "layer": layer} for layer, p in design.processes],
        "estimate": estimate_rows(flow, selection, budget)}}

"""The HLS project's files: Python decides (dataflow.py, folding.py), jinja2 renders.

Writes, for an int8 graph and a folding:
  <name>.h, <name>.cpp          the top function (AXI-Stream ports, DATAFLOW, streams, calls)
  <name>_config.h               one config struct per process
  <name>_params.h               weights and per-layer parameters as const arrays
  <name>_tb.cpp                 the C-simulation testbench (vectors from files)
  effc_hls*.h, effc_requant.h, effc_fixedpoint.h   the template library (copied)
  run_hls.tcl, Makefile, README.md
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from effc.codegen.hls.dataflow import Dataflow, Design, Port
from effc.codegen.hls.folding import Budget, Selection
from effc.codegen.hls.report import estimate_rows, markdown
from effc.names import Namer, comment_text
from effc.summary import summarize
from effc.toolchain.hls import CXXFLAGS
from effc.toolchain.host import RUNTIME_DIR
from effc.version import __version__

TEMPLATES = Path(__file__).resolve().parent / "templates"
LIBRARY = Path(__file__).resolve().parents[2] / "hls"  # package data: effc/hls/*.h
SHARED_C = ("effc_requant.h", "effc_fixedpoint.h")  # effc's one C home of the integer math
VALUES_PER_LINE = 24
CTYPES = {"int8": "int8_t", "int32": "int32_t"}


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True)


def library_files() -> dict[str, bytes]:
    """The template library and the shared integer-math headers, as copied into a project."""
    files = {p.name: p.read_bytes() for p in sorted(LIBRARY.glob("*.h"))}
    return files | {name: (RUNTIME_DIR / name).read_bytes() for name in SHARED_C}


def _lines(values: np.ndarray) -> list[str]:
    flat = [str(int(v)) for v in values.reshape(-1).tolist()]
    return [", ".join(flat[i:i + VALUES_PER_LINE]) + ","
            for i in range(0, len(flat), VALUES_PER_LINE)]


def _port(port: Port) -> dict[str, Any]:
    quant = port.quant
    return {"param": port.param, "size": port.size, "lanes": port.lanes,
            "scale": repr(float(quant.scale)) if quant is not None else None,
            "zero_point": int(quant.zero_point) if quant is not None else None}


def _pragmas(design: Design) -> list[str]:
    pragmas = []
    for array in design.arrays:
        for kind, dim, factor in array.partition:
            if kind == "reshape":
                pragmas.append(f"ARRAY_RESHAPE variable={array.symbol} complete dim={dim}")
            elif kind == "cyclic":
                pragmas.append(f"ARRAY_PARTITION variable={array.symbol} cyclic "
                               f"factor={factor} dim={dim}")
            else:
                pragmas.append(f"ARRAY_PARTITION variable={array.symbol} complete dim={dim}")
    return pragmas


def render(flow: Dataflow, selection: Selection, design: Design, budget: Budget, name: str,
           samples: int) -> dict[str, bytes]:
    """Every file of the project (the data vectors aside)."""
    graph = flow.graph
    summary = summarize(graph)
    plan = design.plan
    inputs = [_port(p) for p in plan.inputs]
    outputs = [_port(p) for p in plan.outputs]
    signature = ", ".join(f"effc_hls::stream<effc_hls::vec<int8_t, {p['lanes']}> > &{p['param']}"
                          for p in inputs + outputs)
    processes, used = [], {}
    for layer_index, process in design.processes:
        if layer_index is None:
            what = f"{process.template}: {', '.join(process.inputs)} -> {', '.join(process.outputs)}"
            base = f"p_{process.template}"
        else:
            layer = flow.layers[layer_index]
            fold = selection.folds[layer_index]
            what = (f"layer {layer_index}: {layer.node.op_type} "
                    f"'{comment_text(layer.node.name)}' ({layer.kind}; {fold.label()})")
            base = f"c{layer_index}_{process.template}"
        used[base] = used.get(base, 0) + 1
        config_name = base if used[base] == 1 else f"{base}_{used[base]}"
        processes.append({"template": process.template, "config_name": config_name,
                          "comment": what, "config": list(process.config.items()),
                          "args": [*process.inputs, *process.outputs, *process.arrays]})
    arrays = [{"symbol": a.symbol, "ctype": a.ctype, "dims": list(a.values.shape) or [1],
               "lines": _lines(a.values),
               "comment": f"layer {a.layer}: {comment_text(flow.layers[a.layer].node.name)}"}
              for a in design.arrays]
    constant_bytes = sum(a.values.size * a.values.itemsize for a in design.arrays)
    streams = [{"name": s.name, "ctype": CTYPES[s.dtype], "lanes": s.lanes, "depth": s.depth}
               for s in plan.streams.values() if not s.port]
    context = {
        "name": name, "NAME": name.upper(), "version": __version__,
        "source": comment_text(graph.name), "board": budget.name, "part": budget.part,
        "period_ns": f"{1000.0 / budget.clock_mhz:g}",
        "summary": f"{summary['macs']} MACs, {summary['params']} parameters, "
                   f"{len(flow.layers)} layers",
        "interval": selection.interval, "inputs": inputs, "outputs": outputs,
        "signature": signature, "processes": processes, "arrays": arrays,
        "constant_bytes": constant_bytes, "streams": streams,
        "array_pragmas": _pragmas(design),
        "input_bytes": sum(p["size"] for p in inputs),
        "output_bytes": sum(p["size"] for p in outputs),
        "port_args": ", ".join(p["param"] for p in inputs + outputs),
        "samples": samples, "cxxflags": " ".join(CXXFLAGS),
        "sources": [f"{name}.cpp", f"{name}_tb.cpp"],
    }
    env = _environment()
    files = {f"{name}.h": "model.h.j2", f"{name}.cpp": "model.cpp.j2",
             f"{name}_config.h": "config.h.j2", f"{name}_params.h": "params.h.j2",
             f"{name}_tb.cpp": "tb.cpp.j2", "run_hls.tcl": "run_hls.tcl.j2",
             "Makefile": "Makefile.j2", "README.md": "README.md.j2"}
    context["estimate"] = markdown(estimate_rows(flow, selection, budget))
    out = {file: env.get_template(template).render(**context).encode()
           for file, template in files.items()}
    return out | library_files()


def design_namer(name: str) -> Namer:
    return Namer({name, f"{name}_tb", "main", "read_file"})


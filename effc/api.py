"""The Python API: load, inspect, run (the float reference), compile, run on an engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.engines import EngineResult, get_engine
from effc.errors import EffcError
from effc.frontend.importer import load
from effc.frontend.loader import parse_input_shapes
from effc.ir import Graph
from effc.reference import run_samples
from effc.reference.interpreter import Feeds


def inspect_model(model: str | Path | Graph, input_shapes: list[str] | None = None) -> dict[str, Any]:
    """Per-layer summary (op, output shape, MACs, params) plus totals."""
    from effc.summary import summarize

    graph = model if isinstance(model, Graph) else load(model, parse_input_shapes(input_shapes))
    return summarize(graph)


def run(model: str | Path | Graph, x: np.ndarray) -> np.ndarray:
    """Run the reference interpreter on ``x`` = [N, *input_shape[1:]]."""
    graph = model if isinstance(model, Graph) else load(model)
    return run_samples(graph, x)



def run_engine(model: str | Path, engine: str, x: Feeds, input_shapes: list[str] | None = None,
               profile: bool = False) -> EngineResult:
    """``effc run``: a compiled OUTDIR on any engine, or an .onnx model on an engine that
    runs models as they are (the reference)."""
    path = Path(model)
    if path.is_dir():
        return CompiledModel.open(path).run(engine, x, profile=profile)
    found = get_engine(engine)
    if not found.runs_models:
        raise EffcError(f"engine '{engine}' runs a compiled folder; first run "
                        f"'effc compile {model} -o OUTDIR', then 'effc run OUTDIR'")
    graph = load(path, parse_input_shapes(input_shapes))
    return found.run(CompiledModel(None, graph, {}), x, profile)


def compile(model: str | Path, outdir: str | Path | None = None, *,
            board: str | None = "mps2-an386", calib: Any = None, **options: Any
            ) -> CompiledModel:
    """``effc compile`` as a function: ``effc.compile("m.onnx", "out", board="nucleo-l4r5zi",
    calib="data.npz:x_calib")`` returns the compiled model (``.run(engine, x)``,
    ``.report``, ``.flash()``). ``options`` are the other ``CompileOptions`` fields
    (quantize, name, arena, export, prune, winograd, ...); without ``outdir`` the model
    is compiled into a new temporary folder."""
    import dataclasses
    import tempfile

    known = {f.name for f in dataclasses.fields(CompileOptions)} - {"board", "calib"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise EffcError(f"effc.compile() has no option '{unknown[0]}'; the options are "
                        f"{', '.join(sorted(known))}")
    if outdir is None:
        outdir = Path(tempfile.mkdtemp(prefix="effc-")) / Path(model).stem
    return compile_model(model, outdir, CompileOptions(board=board, calib=calib, **options))


__all__ = ["CompileOptions", "CompiledModel", "compile", "compile_model", "inspect_model",
           "load", "run"]

"""The Python API: load, inspect, run (the float reference) and compile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.frontend.importer import load
from effc.frontend.loader import parse_input_shapes
from effc.ir import Graph
from effc.reference import run_samples


def inspect_model(model: str | Path | Graph, input_shapes: list[str] | None = None) -> dict[str, Any]:
    """Per-layer summary (op, output shape, MACs, params) plus totals."""
    from effc.summary import summarize

    graph = model if isinstance(model, Graph) else load(model, parse_input_shapes(input_shapes))
    return summarize(graph)


def run(model: str | Path | Graph, x: np.ndarray) -> np.ndarray:
    """Run the reference interpreter on ``x`` = [N, *input_shape[1:]]."""
    graph = model if isinstance(model, Graph) else load(model)
    return run_samples(graph, x)


__all__ = ["CompileOptions", "CompiledModel", "compile_model", "inspect_model", "load", "run"]

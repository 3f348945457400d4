"""``effc run``: one entry point over the engines (reference, host, qemu)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from effc.errors import EffcError
from effc.ir import Graph
from effc.reference.interpreter import Feeds, as_feeds, inference_count, run_batches


@dataclass
class EngineResult:
    """What an engine returns: every output by name (each inference's results
    concatenated on axis 0), and the engine's measurements."""

    values: dict[str, np.ndarray]
    engine: str
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def outputs(self) -> np.ndarray:
        """The output of a one-output model."""
        if len(self.values) != 1:
            raise EffcError(f"the model has {len(self.values)} outputs "
                            f"({', '.join(self.values)}); read them from .values")
        return next(iter(self.values.values()))

    def to_json(self) -> dict[str, Any]:
        first = next(iter(self.values.values()))
        outputs = {name: {"shape": list(v.shape), "dtype": str(v.dtype)}
                   for name, v in self.values.items()}
        single = {"output_shape": list(first.shape), "output_dtype": str(first.dtype)} \
            if len(self.values) == 1 else {}
        return {"engine": self.engine, "samples": int(self.metrics.get("inferences",
                                                                       first.shape[0])),
                "outputs": outputs} | single | self.metrics


def run_engine(
    model: str | Path,
    engine: str,
    x: Feeds,
    input_shapes: list[str] | None = None,
    profile: bool = False,
) -> EngineResult:
    path = Path(model)
    if path.is_dir():
        from effc.compiler import CompiledModel

        compiled = CompiledModel.open(path)
        return compiled.run(engine, x, profile=profile)
    if engine != "reference":
        raise EffcError(f"engine '{engine}' runs a compiled folder; first run "
                        f"'effc compile {model} -o OUTDIR', then 'effc run OUTDIR'")
    from effc.frontend.importer import load
    from effc.frontend.loader import parse_input_shapes

    graph = load(path, parse_input_shapes(input_shapes))
    return run_reference(graph, x)


def run_reference(graph: Graph, x: Feeds) -> EngineResult:
    feeds = as_feeds(graph, x)
    values = run_batches(graph, feeds)
    return EngineResult(values, "reference", {"inferences": inference_count(graph, feeds)})

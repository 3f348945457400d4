"""``effc run``: one entry point over the engines (reference, host, qemu)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from effc.errors import EffcError


@dataclass
class EngineResult:
    outputs: np.ndarray
    engine: str
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"engine": self.engine, "samples": int(self.outputs.shape[0]),
                "output_shape": list(self.outputs.shape),
                "output_dtype": str(self.outputs.dtype)} | self.metrics


def run_engine(
    model: str | Path,
    engine: str,
    x: np.ndarray,
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
    from effc.reference import run_samples

    graph = load(path, parse_input_shapes(input_shapes))
    return EngineResult(run_samples(graph, x), "reference")

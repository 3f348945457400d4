"""Engines: peers that run a compiled model, one module each, registered by name.

An engine module calls ``register_engine(Engine(name, run, ...))``; ``run(artifact, x,
profile)`` takes one array per model input (``Feeds``) and returns an ``EngineResult``.
The driver finds engines here by name and never imports an engine module.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from effc.artifact import Artifact
from effc.errors import EffcError
from effc.reference.interpreter import Feeds


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


@dataclass(frozen=True)
class Engine:
    """``run(artifact, x, profile)``: every output of the inferences in ``x`` (profile:
    per-layer measurements, where the engine makes them). ``runs_models``: it also runs a
    model that was not compiled (from its graph alone). ``trace(artifact, feeds)``: one
    inference's output of every layer as (layer index, bytes), where the engine can.
    ``label``: what it runs, as the self-check names it."""

    name: str
    run: Callable[[Artifact, Feeds, bool], EngineResult]
    runs_models: bool = False
    trace: Callable[[Artifact, dict[str, np.ndarray]], list[tuple[int, bytes]]] | None = None
    label: str = ""  # what it runs, in the self-check's lines ("host build"); default: name


_ENGINES: dict[str, Engine] = {}


def register_engine(engine: Engine) -> Engine:
    _ENGINES[engine.name] = engine
    return engine


@functools.cache
def _engines() -> dict[str, Engine]:
    """Every engine: each module of this package registers one when imported."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return _ENGINES


def engine_names() -> list[str]:
    """The engines that run models first (the oracle), then the others by name."""
    return sorted(_engines(), key=lambda name: (not _ENGINES[name].runs_models, name))


def get_engine(name: str) -> Engine:
    engine = _engines().get(name)
    if engine is None:
        names = engine_names()
        raise EffcError(f"unknown engine '{name}'; choose {', '.join(names[:-1])} or "
                        f"{names[-1]}")
    return engine

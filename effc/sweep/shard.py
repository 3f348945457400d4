"""``effc run OUTDIR --ray``: the inferences split across Ray workers, gathered in order.

The samples are cut into contiguous shards (whole inferences), each runs on its own
worker, and the outputs are concatenated in shard order: the same bytes as one
process running them all. Measurements that describe the first inference
(instructions, cycles) come from the first shard; counts add up; the stack's
high-water mark is the largest; per-sample lists are joined.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from effc.compiler import CompiledModel
from effc.engines import EngineResult
from effc.errors import EffcError
from effc.reference.interpreter import Feeds, as_feeds, inference_count
from effc.sweep import ENGINE_TOOLS


def split(graph: Any, feeds: dict[str, np.ndarray], shards: int) -> list[dict[str, np.ndarray]]:
    """``feeds`` cut into at most ``shards`` runs of whole inferences, in order."""
    count = inference_count(graph, feeds)
    bounds = np.linspace(0, count, min(shards, count) + 1).round().astype(int)
    out = []
    for a, b in itertools.pairwise(bounds):
        if b > a:
            out.append({k: v[a * graph.tensors[k].shape[0]:b * graph.tensors[k].shape[0]]
                        for k, v in feeds.items()})
    return out


def merge(results: list[EngineResult]) -> EngineResult:
    """The shards' results as one run's."""
    first = results[0]
    values = {name: np.concatenate([r.values[name] for r in results], axis=0)
              for name in first.values}
    metrics = dict(first.metrics)
    metrics["inferences"] = sum(int(r.metrics.get("inferences", 0)) for r in results)
    if metrics.get("stack_bytes") is not None:
        metrics["stack_bytes"] = max(r.metrics["stack_bytes"] for r in results)
    for key, value in first.metrics.items():
        if key.endswith("_all_samples") and isinstance(value, list):
            metrics[key] = [v for r in results for v in r.metrics[key]]
    return EngineResult(values, first.engine, metrics)


def run_sharded(folder: str, engine: str, x: Feeds, profile: bool, address: str | None,
                workers: int | None) -> EngineResult:
    """``effc run OUTDIR --engine E --ray [ADDRESS]``."""
    from effc.engines import get_engine
    from effc.sweep import ray_runner

    get_engine(engine)  # an unknown engine is refused before Ray starts
    if engine not in ENGINE_TOOLS:
        raise EffcError(f"--ray splits runs of the engines that simulate ("
                        f"{', '.join(ENGINE_TOOLS)}); --engine {engine} runs on one attached "
                        "device: drop --ray")
    compiled = CompiledModel.open(folder)
    feeds = as_feeds(compiled.graph, x)
    if workers is not None and workers < 1:
        raise EffcError(f"--workers {workers}: give 1 or more")
    ray = ray_runner.connect(address)
    count = workers or int(ray.cluster_resources().get("CPU", 1)) or 1
    shards = split(compiled.graph, feeds, count)
    results = ray_runner.run_shards(compiled.folder, engine, shards, profile,
                                    ENGINE_TOOLS.get(engine, []), address)
    return merge(results)

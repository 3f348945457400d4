"""The reference engine: the IR interpreter, the oracle every other engine must match."""

from __future__ import annotations

from effc.artifact import Artifact
from effc.engines import Engine, EngineResult, register_engine
from effc.reference.interpreter import Feeds, as_feeds, inference_count, run_batches


def run_reference(artifact: Artifact, x: Feeds, profile: bool = False) -> EngineResult:
    graph = artifact.graph
    feeds = as_feeds(graph, x)
    values = run_batches(graph, feeds)
    return EngineResult(values, "reference", {"inferences": inference_count(graph, feeds)})


register_engine(Engine("reference", run_reference, runs_models=True))

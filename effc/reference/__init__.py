"""The reference interpreter: the oracle every backend must match."""

from effc.reference.interpreter import run_batches, run_graph, run_samples

__all__ = ["run_batches", "run_graph", "run_samples"]

"""Runs an IR graph with the ops' numpy reference math.

A node whose first activation input is int8 runs its exact integer math
(``run_int``); every other node runs its float math (``run_float``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.ops import get_op

Observer = Callable[[Node, list[np.ndarray]], None]


def _is_integer_node(node: Node, graph: Graph) -> bool:
    if node.op_type in ("QuantizeLinear", "DequantizeLinear"):
        return False
    for name in node.inputs:
        tensor = graph.tensors.get(name) if name else None
        if tensor is not None and not tensor.is_constant:
            return tensor.dtype == "int8"
    return False


def check_input(graph: Graph, name: str, x: np.ndarray) -> np.ndarray:
    """``x`` must have the input's dtype and its shape after the batch axis."""
    tensor = graph.tensors[name]
    if x.ndim == 0 or x.shape[0] == 0:
        raise EffcError(f"input '{name}' holds no samples (shape {list(x.shape)}); give at "
                        "least one sample")
    if x.dtype != np.dtype(tensor.dtype):
        raise EffcError(
            f"input '{name}' has dtype {x.dtype}, the model expects {tensor.dtype}; "
            "convert the input file"
        )
    if tuple(x.shape[1:]) != tuple(tensor.shape[1:]):
        raise EffcError(
            f"input '{name}' has shape {list(x.shape)}, the model expects "
            f"[N, {', '.join(map(str, tensor.shape[1:]))}]; fix the input file"
        )
    return x


def run_graph(
    graph: Graph,
    feeds: dict[str, np.ndarray],
    observer: Observer | None = None,
    keep: bool = False,
) -> dict[str, np.ndarray]:
    """Run one batch; returns the graph outputs (or every value when ``keep``)."""
    values: dict[str, np.ndarray] = {}
    for name in graph.inputs:
        if name not in feeds:
            raise EffcError(f"no value given for model input '{name}'")
        values[name] = check_input(graph, name, np.asarray(feeds[name]))
    refcount: dict[str, int] = {}
    for node in graph.nodes:
        for name in node.inputs:
            refcount[name] = refcount.get(name, 0) + 1
    for node in graph.nodes:
        xs = []
        for name in node.inputs:
            if not name:
                continue
            const = graph.const(name)
            xs.append(const if const is not None else values[name])
        op = get_op(node.op_type, node)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # IEEE results
            ys = op.run_int(node, graph, xs) if _is_integer_node(node, graph) else \
                op.run_float(node, graph, xs)
        for name, y in zip(node.outputs, ys, strict=True):
            values[name] = y
        if observer is not None:
            observer(node, ys)
        if not keep:
            for name in node.inputs:
                refcount[name] -= 1
                if refcount[name] == 0 and name not in graph.outputs and name in values:
                    del values[name]
    if keep:
        return values
    return {name: values[name] for name in graph.outputs}


Feeds = np.ndarray | Mapping[str, np.ndarray]


def as_feeds(graph: Graph, x: Feeds) -> dict[str, np.ndarray]:
    """``x`` as {input name: array}: an array feeds a one-input model; a mapping
    must name every model input and nothing else."""
    if not isinstance(x, Mapping):
        if len(graph.inputs) != 1:
            raise EffcError(f"the model has {len(graph.inputs)} inputs "
                            f"({', '.join(graph.inputs)}); give one array per input "
                            "(an .npz with arrays named like the inputs)")
        return {graph.inputs[0]: np.asarray(x)}
    missing = [n for n in graph.inputs if n not in x]
    extra = [n for n in x if n not in graph.inputs]
    if missing or extra:
        raise EffcError(f"the inputs given are {sorted(x)} but the model's are "
                        f"{list(graph.inputs)}; name the arrays like the model's inputs")
    return {n: np.asarray(x[n]) for n in graph.inputs}


def inference_count(graph: Graph, feeds: Mapping[str, np.ndarray]) -> int:
    """How many inferences ``feeds`` hold: every input gives a whole number of its
    leading dimension's rows (``[k * shape[0], *shape[1:]]``), the same k for all."""
    counts = {}
    for name in graph.inputs:
        x = check_input(graph, name, feeds[name])
        batch = graph.tensors[name].shape[0]
        if x.shape[0] % batch:
            raise EffcError(f"input '{name}' has {x.shape[0]} rows; the model takes "
                            f"{list(graph.tensors[name].shape)} per inference, so give a "
                            f"multiple of {batch} rows")
        counts[name] = x.shape[0] // batch
    if len(set(counts.values())) > 1:
        raise EffcError(f"the inputs hold different numbers of inferences {counts}; give "
                        "each input the same number")
    return next(iter(counts.values()))


def inference_feeds(graph: Graph, feeds: Mapping[str, np.ndarray], i: int
                    ) -> dict[str, np.ndarray]:
    """The feeds of inference ``i`` (rows ``i * batch`` to ``(i + 1) * batch``)."""
    out = {}
    for name in graph.inputs:
        batch = graph.tensors[name].shape[0]
        out[name] = np.ascontiguousarray(feeds[name][i * batch:(i + 1) * batch])
    return out


def run_batches(graph: Graph, x: Feeds) -> dict[str, np.ndarray]:
    """Run every inference in ``x``; each output's results concatenated on axis 0."""
    feeds = as_feeds(graph, x)
    count = inference_count(graph, feeds)
    results: dict[str, list[np.ndarray]] = {name: [] for name in graph.outputs}
    for i in range(count):
        ys = run_graph(graph, inference_feeds(graph, feeds, i))
        for name in graph.outputs:
            results[name].append(ys[name])
    return {name: np.concatenate(ys, axis=0) for name, ys in results.items()}


def run_samples(graph: Graph, x: Feeds) -> np.ndarray:
    """Run a one-output graph on ``x`` (see :func:`run_batches`); its only output."""
    if len(graph.outputs) != 1:
        raise EffcError(f"the model has {len(graph.outputs)} outputs "
                        f"({', '.join(graph.outputs)}); ask for all of them (an .npz output)")
    return run_batches(graph, x)[graph.outputs[0]]

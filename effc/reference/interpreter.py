"""Runs an IR graph with the ops' numpy reference math.

A node whose first activation input is int8 runs its exact integer math
(``run_int``); every other node runs its float math (``run_float``).
"""

from __future__ import annotations

from collections.abc import Callable

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
        ys = op.run_int(node, graph, xs) if _is_integer_node(node, graph) else op.run_float(
            node, graph, xs)
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


def run_samples(graph: Graph, x: np.ndarray) -> np.ndarray:
    """Run a single-input, single-output graph on ``x`` = [N, *input_shape[1:]]."""
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise EffcError(
            f"this command handles models with one input and one output; the model has "
            f"{len(graph.inputs)} inputs and {len(graph.outputs)} outputs"
        )
    name = graph.inputs[0]
    x = check_input(graph, name, np.asarray(x))
    batch = graph.tensors[name].shape[0]
    expected = graph.tensors[name].shape
    if x.ndim != len(expected) or x.shape[0] % batch:
        raise EffcError(
            f"input has shape {list(x.shape)}, the model expects {list(expected)} "
            f"(or [N, {', '.join(map(str, expected[1:]))}] for N samples); fix the input file"
        )
    outs = [
        run_graph(graph, {name: x[i : i + batch]})[graph.outputs[0]]
        for i in range(0, x.shape[0], batch)
    ]
    return np.concatenate(outs, axis=0)

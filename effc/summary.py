"""Model summaries: per-layer op, output shape, MACs, parameters and weight bytes."""

from __future__ import annotations

from typing import Any

from effc.ir import Graph
from effc.ops import get_op

_LAYOUT_ONLY = {"Reshape", "Transpose"}


def summarize(graph: Graph) -> dict[str, Any]:
    layers = []
    for node in graph.nodes:
        op = get_op(node.op_type, node)
        weight_bytes = sum(graph.tensors[i].nbytes for k, i in enumerate(node.inputs)
                           if i and graph.tensors[i].is_constant and k not in op.export_only_inputs
                           and node.op_type not in _LAYOUT_ONLY)
        layers.append({
            "name": node.name,
            "op": node.op_type,
            "input_shapes": ["x".join(map(str, graph.tensors[i].shape)) for i in node.inputs
                             if i and not graph.tensors[i].is_constant],
            "output_shape": list(graph.tensors[node.outputs[0]].shape),
            "macs": int(op.macs(node, graph)),
            "params": int(op.params(node, graph)) if node.op_type not in _LAYOUT_ONLY else 0,
            "weight_bytes": int(weight_bytes),
        })

    def io(names: list[str]) -> list[dict[str, Any]]:
        return [{"name": n, "shape": list(graph.tensors[n].shape), "dtype": graph.tensors[n].dtype}
                for n in names]

    return {
        "name": graph.name,
        "inputs": io(graph.inputs),
        "outputs": io(graph.outputs),
        "macs": sum(layer["macs"] for layer in layers),
        "params": sum(layer["params"] for layer in layers),
        "weight_bytes": sum(layer["weight_bytes"] for layer in layers),
        "layers": layers,
    }

"""Fuse a constant per-channel Add into the bias of the Conv or Dense before it.

Contract: expects channels-last IR. Guarantees that a Conv/Dense whose only
consumer is an Add of a constant that broadcasts along the output channels
(ONNX MatMul+Add, Keras BiasAdd) now carries that constant as its bias, and
the Add is gone. The function is unchanged.
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph


def _per_channel(const: np.ndarray, channels: int) -> np.ndarray | None:
    if const.size == channels and (const.ndim == 1 or all(d == 1 for d in const.shape[:-1])):
        return const.reshape(-1).astype(np.float32)
    if const.size == 1:
        return np.full(channels, float(const.reshape(())), np.float32)
    return None


#: Ops with a per-output-channel (last axis) bias.
LINEAR = ("Conv", "ConvTranspose", "Dense")


def fuse_bias(graph: Graph) -> Graph:
    changed = True
    while changed:
        changed = False
        for node in list(graph.nodes):
            if node.op_type not in LINEAR or node.attrs.get("activation_min") is not None:
                continue
            out = node.outputs[0]
            users = graph.consumers(out)
            if len(users) != 1 or users[0].op_type != "Add" or out in graph.outputs:
                continue
            add = users[0]
            other = add.inputs[1] if add.inputs[0] == out else add.inputs[0]
            const = graph.const(other)
            if const is None or graph.tensors[out].dtype != "float32":
                continue
            channels = graph.tensors[out].shape[-1]
            if const.ndim > len(graph.tensors[out].shape):
                continue
            bias = _per_channel(const, channels)
            if bias is None:
                continue
            if len(node.inputs) > 2:
                bias = bias + graph.const(node.inputs[2])
                node.inputs[2] = graph.add_constant(node.inputs[2], bias).name
            else:
                node.inputs.append(graph.add_constant(f"{node.name}_bias", bias).name)
            graph.nodes.remove(add)
            graph.forward(add.outputs[0], out)
            changed = True
        graph.prune_unused()
    return graph

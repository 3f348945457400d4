"""Fold BatchNormalization into the linear op before it.

Contract: expects channels-last IR (BN normalizes the last axis). Guarantees
that no BatchNormalization remains: a BN whose input is produced by a Conv or
Dense (with or without bias; possibly through Reshapes that keep the channel
axis) that has no other consumer and no fused clamp is folded into that op's
weights and bias (w' = w * s per output channel, b' = b * s + t, with
s = gamma / sqrt(var + eps), t = beta - mean * s); any other BN becomes a
per-channel Mul and Add. Float outputs change only by rounding (within 1e-5
relative). Follows Jacob et al., CVPR 2018, section 3.2.
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node, Tensor
from effc.ops.batchnorm import bn_scale_shift


def _fold_into(graph: Graph, linear: Node, scale: np.ndarray, shift: np.ndarray) -> None:
    w = graph.const(linear.inputs[1]).astype(np.float64)
    w = w * scale.reshape((-1,) + (1,) * (w.ndim - 1))
    bias = graph.const(linear.inputs[2]).astype(np.float64) if len(linear.inputs) > 2 else 0.0
    linear.inputs[1] = graph.add_constant(linear.inputs[1] + "_bn", w.astype(np.float32)).name
    new_bias = (bias * scale + shift).astype(np.float32)
    if len(linear.inputs) > 2:
        linear.inputs[2] = graph.add_constant(linear.inputs[2] + "_bn", new_bias).name
    else:
        linear.inputs.append(graph.add_constant(f"{linear.name}_bias", new_bias).name)


def _linear_producer(graph: Graph, x: str) -> Node | None:
    """The Conv/Dense whose output channels reach ``x`` unchanged and unshared.

    Reshapes that keep the channel (last) axis are looked through, as the
    Unsqueeze/Squeeze pairs that PyTorch exports put around BatchNorm1d.
    """
    while True:
        if len(graph.consumers(x)) != 1 or x in graph.outputs:
            return None
        producer = graph.producer(x)
        if producer is None:
            return None
        if producer.op_type in ("Conv", "Dense"):
            return producer
        src = producer.inputs[0] if producer.op_type == "Reshape" else None
        if src is None or graph.tensors[src].shape[-1] != graph.tensors[x].shape[-1]:
            return None
        x = src


def fold_batchnorm(graph: Graph) -> Graph:
    for bn in [n for n in graph.nodes if n.op_type == "BatchNormalization"]:
        params = [graph.const(i) for i in bn.inputs[1:5]]
        scale, shift = bn_scale_shift(params, bn.attrs["epsilon"])
        x = bn.inputs[0]
        producer = _linear_producer(graph, x)
        foldable = (
            producer is not None
            and producer.attrs.get("activation_min") is None
            and producer.attrs.get("activation_max") is None
        )
        if foldable:
            _fold_into(graph, producer, scale, shift)
            graph.nodes.remove(bn)
            graph.forward(bn.outputs[0], x)
            continue
        mid = graph.unique_name(bn.outputs[0] + "_scaled")
        src = graph.tensors[x]
        graph.add_tensor(Tensor(mid, src.shape, src.dtype, src.layout))
        s = graph.add_constant(f"{bn.name}_scale", scale.astype(np.float32)).name
        t = graph.add_constant(f"{bn.name}_shift", shift.astype(np.float32)).name
        index = graph.nodes.index(bn)
        graph.nodes[index:index + 1] = [
            Node("Mul", graph.unique_name(bn.name + "_mul"), [x, s], [mid]),
            Node("Add", graph.unique_name(bn.name + "_add"), [mid, t], [bn.outputs[0]]),
        ]
    graph.prune_unused()
    return graph

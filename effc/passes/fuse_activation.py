"""Fuse Relu / Clip (Relu6) into the Conv, ConvTranspose, Dense, Add or Sub before it.

Contract: expects channels-last float IR. Guarantees that a Relu or Clip
whose input is produced by a Conv/Dense/Add/Sub with no other consumer (and
no clamp yet) is gone, and the producer carries ``activation_min`` /
``activation_max`` (float bounds). The function is unchanged. This is the
fused-activation form TFLite kernels take (CalculateActivationRangeQuantized
turns the bounds into int8 clamps at quantization).
"""

from __future__ import annotations

from effc.ir import Graph

FUSABLE_PRODUCERS = ("Conv", "ConvTranspose", "Dense", "Add", "Sub")
#: The activations that fuse into their producer (a clamp of its output).
FUSABLE = ("Relu", "Clip")


def fuse_activation(graph: Graph) -> Graph:
    for act in [n for n in graph.nodes if n.op_type in FUSABLE]:
        x = act.inputs[0]
        producer = graph.producer(x)
        if (
            producer is None
            or producer.op_type not in FUSABLE_PRODUCERS
            or "activation_min" in producer.attrs
            or len(graph.consumers(x)) != 1
            or x in graph.outputs
            or graph.tensors[x].dtype != "float32"
        ):
            continue
        if act.op_type == "Relu":
            lo, hi = 0.0, None
        else:
            lo, hi = act.attrs.get("min"), act.attrs.get("max")
        producer.attrs["activation_min"] = lo
        producer.attrs["activation_max"] = hi
        graph.nodes.remove(act)
        y = act.outputs[0]
        if graph.tensors[y].quant is not None and graph.tensors[x].quant is None:
            graph.tensors[x].quant = graph.tensors[y].quant
        graph.forward(y, x)
    return graph

"""Fold BatchNormalization into the linear op before it.

Contract: expects channels-last IR (BN normalizes the last axis). Guarantees
that no BatchNormalization remains: a BN whose input is produced by a Conv or
Dense (with or without bias; possibly through Reshapes that keep the channel
axis) that has no other consumer and no fused clamp is folded into that op's
weights and bias (w' = w * s per output channel, b' = b * s + t, with
s = gamma / sqrt(var + eps), t = beta - mean * s); any other BN (on a 2-D,
3-D or 4-D tensor) becomes a depthwise 1x1 Conv with weights s and bias t,
whose int8 form is one exact TFLM kernel with per-channel weights (a
quantized model's standalone BN, DequantizeLinear -> BN -> QuantizeLinear,
stays one integer op). Float outputs change only by rounding (within 1e-5
relative). Follows Jacob et al., CVPR 2018, section 3.2.
"""

from __future__ import annotations

import numpy as np

from effc.errors import EffcError
from effc.ir import Graph, Node, QuantParams, Tensor
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
        if producer.op_type in ("Conv", "ConvTranspose", "Dense"):
            return producer
        src = producer.inputs[0] if producer.op_type == "Reshape" else None
        if src is None or graph.tensors[src].shape[-1] != graph.tensors[x].shape[-1]:
            return None
        x = src


def _depthwise_affine(graph: Graph, bn: Node, scale: np.ndarray, shift: np.ndarray
                      ) -> list[Node]:
    """y = x * scale + shift per channel (last axis) as a depthwise 1x1 Conv.

    The weights carry per-channel symmetric int8 parameters (|s| / 127), so
    their int8 form represents every s to float precision.
    """
    x, y = bn.inputs[0], bn.outputs[0]
    src = graph.tensors[x]
    channels = src.shape[-1]
    if len(src.shape) not in (2, 3, 4):
        raise EffcError(f"node '{bn.name}' (BatchNormalization) on a {len(src.shape)}-D tensor; "
                        "effc supports BatchNormalization on 2-D, 3-D and 4-D tensors")
    nodes = []
    if len(src.shape) == 2:  # [N, C] runs as a 1-D conv on [N, 1, C]
        shaped = graph.unique_name(x + "_nwc")
        graph.add_tensor(Tensor(shaped, (src.shape[0], 1, channels), src.dtype, "NWC"))
        nodes.append(Node("Reshape", graph.unique_name(bn.name + "_reshape"), [x], [shaped],
                          {"shape": [src.shape[0], 1, channels]}))
        x = shaped
    spatial = len(graph.tensors[x].shape) - 2
    weight = scale.astype(np.float32).reshape((channels,) + (1,) * (spatial + 1))
    peak = np.abs(weight.reshape(-1)).astype(np.float64)
    hint = QuantParams(np.where(peak > 0, peak / 127.0, 1.0), np.zeros(channels), 0)
    w = graph.add_constant(f"{bn.name}_scale", weight, quant=hint).name
    t = graph.add_constant(f"{bn.name}_shift", shift.astype(np.float32)).name
    out = y
    if len(src.shape) == 2:
        out = graph.unique_name(y + "_nwc")
        graph.add_tensor(Tensor(out, graph.tensors[x].shape, src.dtype, "NWC"))
    nodes.append(Node("Conv", graph.unique_name(bn.name + "_depthwise"), [x, w, t], [out],
                      {"kernel_shape": [1] * spatial, "strides": [1] * spatial,
                       "dilations": [1] * spatial, "pads": [0] * (2 * spatial),
                       "group": channels}))
    if out != y:
        nodes.append(Node("Reshape", graph.unique_name(bn.name + "_reshape_back"), [out], [y],
                          {"shape": list(src.shape)}))
    return nodes


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
        index = graph.nodes.index(bn)
        graph.nodes[index:index + 1] = _depthwise_affine(graph, bn, scale, shift)
    graph.prune_unused()
    return graph

"""Layout optimization: remove the Transposes that channels-last IR ops leave.

Contract: expects a graph straight from the importer, where every
channels-last op sits between Transposes that keep ONNX's channels-first
meaning. Guarantees the same function, with Transposes composed, cancelled,
pushed down through elementwise ops, folded into constants and into the
rows of a Dense layer that reads a flattened tensor, and turned into
Reshapes where they only move axes of size 1. Transposes remain only where
data really must be permuted (for example an NCHW model input).

This is the classic transpose-sinking rewrite used by layout optimizers
(e.g. tf2onnx's TransposeOptimizer), run in the other direction.
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node, Tensor
from effc.ops import get_op
from effc.ops.activation import FUNCTIONS as ACTIVATIONS

_UNARY = {*ACTIVATIONS, "QuantizeLinear", "DequantizeLinear"}
_BINARY = {"Add", "Sub", "Mul", "Div", "PRelu", "Min", "Max", "Pow"}


def set_output_shapes(graph: Graph, node: Node) -> None:
    """Recompute a node's output tensors from its inputs (dtype and quant kept)."""
    infos = get_op(node.op_type, node).infer(node, graph)
    for name, (shape, dtype) in zip(node.outputs, infos, strict=True):
        old = graph.tensors.get(name)
        graph.tensors[name] = Tensor(name, tuple(shape), dtype,
                                     layout=old.layout if old else "",
                                     quant=old.quant if old else None)


def _inverse(perm: list[int]) -> list[int]:
    return [int(i) for i in np.argsort(perm)]


def _only_unit_moves(shape: tuple[int, ...], perm: list[int]) -> bool:
    moved = [p for p in perm if shape[p] != 1]
    return moved == sorted(moved)


def _new_tensor_like(graph: Graph, base: str, like: str) -> str:
    name = graph.unique_name(base)
    src = graph.tensors[like]
    graph.tensors[name] = Tensor(name, src.shape, src.dtype, quant=src.quant)
    return name


def _rewrite_once(graph: Graph) -> bool:
    for node in list(graph.nodes):
        if node.op_type == "Reshape":
            if _simplify_reshape(graph, node):
                return True
        if node.op_type != "Transpose":
            continue
        x, t = node.inputs[0], node.outputs[0]
        perm = node.attrs["perm"]
        x_shape = graph.tensors[x].shape
        if perm == list(range(len(perm))):
            if not graph.bypass(node):  # an output copying an interface value
                node.op_type, node.attrs = "Reshape", {"shape": list(graph.tensors[t].shape)}
            return True
        const = graph.const(x)
        if const is not None:
            graph.nodes.remove(node)
            graph.tensors[t] = Tensor(t, graph.tensors[t].shape, str(const.dtype),
                                      data=np.ascontiguousarray(const.transpose(perm)))
            return True
        producer = graph.producer(x)
        if producer is not None and producer.op_type == "Transpose":
            inner = producer.attrs["perm"]
            if graph.tensors[producer.inputs[0]].quant is None:
                graph.tensors[producer.inputs[0]].quant = graph.tensors[x].quant
            node.inputs[0] = producer.inputs[0]
            node.attrs["perm"] = [inner[p] for p in perm]
            return True
        if _only_unit_moves(x_shape, perm):
            node.op_type = "Reshape"
            node.attrs = {"shape": list(graph.tensors[t].shape)}
            return True
        for consumer in graph.consumers(t):
            if _sink(graph, node, consumer):
                return True
    return False


def _simplify_reshape(graph: Graph, node: Node) -> bool:
    x = node.inputs[0]
    if tuple(node.attrs["shape"]) == graph.tensors[x].shape:
        return graph.bypass(node)
    producer = graph.producer(x)
    if producer is not None and producer.op_type == "Reshape":
        for name in (producer.inputs[0], node.outputs[0]):  # reshapes keep quantization
            if graph.tensors[name].quant is None:
                graph.tensors[name].quant = graph.tensors[x].quant
        node.inputs[0] = producer.inputs[0]
        return True
    const = graph.const(x)
    if const is not None:
        graph.nodes.remove(node)
        out = node.outputs[0]
        graph.tensors[out] = Tensor(out, tuple(node.attrs["shape"]), str(const.dtype),
                                    data=const.reshape(node.attrs["shape"]))
        return True
    return False


def _sink(graph: Graph, transpose: Node, consumer: Node) -> bool:
    """Move ``transpose`` below ``consumer`` when that keeps the function."""
    x, t = transpose.inputs[0], transpose.outputs[0]
    perm = transpose.attrs["perm"]
    op = consumer.op_type
    if op in _UNARY or op in ("Softmax", "LogSoftmax", "Pad"):
        if len(consumer.outputs) != 1 or consumer.inputs.count(t) != 1 or consumer.inputs[0] != t:
            return False
        attrs = dict(consumer.attrs)
        if op in ("Softmax", "LogSoftmax"):
            attrs["axis"] = perm[attrs["axis"]]
        if op == "Pad":
            n = len(perm)
            pads = attrs["pads"]
            inv = _inverse(perm)
            attrs["pads"] = [pads[inv[i]] for i in range(n)] + [pads[n + inv[i]] for i in range(n)]
        new_inputs = [x, *consumer.inputs[1:]]
        if graph.tensors[x].quant is None:
            graph.tensors[x].quant = graph.tensors[t].quant  # a transpose keeps quantization
    elif op in _BINARY:
        new_inputs = []
        rank = len(perm)
        for name in consumer.inputs:
            if name == t:
                new_inputs.append(x)
                continue
            twin = graph.producer(name)
            if twin is not None and twin.op_type == "Transpose" and twin.attrs["perm"] == perm:
                new_inputs.append(twin.inputs[0])
                continue
            const = graph.const(name)
            if const is None or const.ndim > rank:
                return False
            full = const.reshape((1,) * (rank - const.ndim) + const.shape)
            new_inputs.append(graph.add_constant(name + "_T", full.transpose(_inverse(perm)),
                                                 quant=graph.tensors[name].quant).name)
        attrs = dict(consumer.attrs)
    elif op == "Concat":
        sources = []
        for name in consumer.inputs:
            p = graph.producer(name)
            if p is None or p.op_type != "Transpose" or p.attrs["perm"] != perm:
                return False
            sources.append(p.inputs[0])
        new_inputs = sources
        attrs = {**consumer.attrs, "axis": perm[consumer.attrs["axis"]]}
    elif op == "Reshape":
        return _absorb_into_dense(graph, transpose, consumer)
    else:
        return _sink_declared(graph, transpose, consumer)
    out = consumer.outputs[0]
    moved = graph.unique_name(out + "_cl")
    graph.tensors[moved] = Tensor(moved, (1,), graph.tensors[out].dtype,
                                  quant=graph.tensors[out].quant)
    new_node = Node(op, graph.unique_name(consumer.name), new_inputs, [moved], attrs)
    graph.nodes.insert(graph.nodes.index(consumer), new_node)
    set_output_shapes(graph, new_node)
    consumer.op_type, consumer.inputs, consumer.attrs = "Transpose", [moved], {"perm": perm}
    consumer.name = graph.unique_name(consumer.name + "_transpose")
    graph.prune_unused()
    return True


def _sink_declared(graph: Graph, transpose: Node, consumer: Node) -> bool:
    """Move ``transpose`` below an op that declares how (``Op.through_transpose``)."""
    x, t = transpose.inputs[0], transpose.outputs[0]
    if consumer.inputs[0] != t or consumer.inputs.count(t) != 1:
        return False
    moved = get_op(consumer.op_type, consumer).through_transpose(
        consumer, transpose.attrs["perm"], graph)
    if moved is None:
        return False
    attrs, out_perms = moved
    if graph.tensors[x].quant is None:
        graph.tensors[x].quant = graph.tensors[t].quant  # a transpose keeps quantization
    new_outputs = []
    for out, out_perm in zip(consumer.outputs, out_perms, strict=True):
        name = graph.unique_name(out + "_cl")
        graph.tensors[name] = Tensor(name, (1,), graph.tensors[out].dtype,
                                     quant=graph.tensors[out].quant)
        new_outputs.append(name)
        index = graph.nodes.index(consumer) + 1
        graph.nodes.insert(index, Node("Transpose", graph.unique_name(consumer.name + "_transpose"),
                                       [name], [out], {"perm": out_perm}))
    consumer.inputs = [x, *consumer.inputs[1:]]
    consumer.outputs = new_outputs
    consumer.attrs = attrs
    set_output_shapes(graph, consumer)
    graph.prune_unused()
    return True


def _absorb_into_dense(graph: Graph, transpose: Node, reshape: Node) -> bool:
    """Transpose -> flatten -> Dense becomes flatten -> Dense with permuted rows."""
    x, t = transpose.inputs[0], transpose.outputs[0]
    out_shape = reshape.attrs["shape"]
    t_shape = graph.tensors[t].shape
    if len(out_shape) != 2 or out_shape[0] != t_shape[0] or transpose.attrs["perm"][0] != 0:
        return False
    denses = graph.consumers(reshape.outputs[0])
    if not denses or any(d.op_type != "Dense" or d.inputs[0] != reshape.outputs[0]
                         for d in denses) or reshape.outputs[0] in graph.outputs:
        return False
    perm = transpose.attrs["perm"]
    features = int(np.prod(t_shape[1:]))
    # order[k] = position in the transposed flattening of element k of x's flattening
    index = np.arange(features).reshape(t_shape[1:])
    order = index.transpose([p - 1 for p in _inverse(perm)[1:]]).reshape(-1)
    for dense in denses:
        w = graph.const(dense.inputs[1])
        assert w is not None
        dense.inputs[1] = graph.add_constant(dense.inputs[1] + "_perm", w[:, order],
                                             quant=graph.tensors[dense.inputs[1]].quant).name
    reshape.inputs[0] = x
    graph.prune_unused()
    return True


def optimize_layout(graph: Graph) -> Graph:
    """Apply the rewrites above until none applies (see module docstring)."""
    for _ in range(10000):
        if not _rewrite_once(graph):
            break
        graph.toposort()
    graph.prune_unused()
    _mark_layouts(graph)
    return graph


def _mark_layouts(graph: Graph) -> None:
    channels_last = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool",
                     "GlobalMaxPool"}
    names = {3: "NWC", 4: "NHWC"}
    for node in graph.nodes:
        if node.op_type in channels_last:
            for name in [node.inputs[0], node.outputs[0]]:
                tensor = graph.tensors[name]
                tensor.layout = names.get(len(tensor.shape), "")

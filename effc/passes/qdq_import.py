"""Turn an imported QDQ graph into an annotated float graph (or a plain float one).

Contract: expects channels-last IR in which QuantizeLinear / DequantizeLinear
nodes mark quantized values (as written by tf2onnx from TFLite models and by
onnxruntime's ``quantize_static``), and constant weights carry the
quantization of the DequantizeLinear they came from. ``annotate_qdq``
guarantees that no Q/DQ node remains except at the graph boundary (a float
input that is quantized, or a float output that is dequantized); every value
that was quantized now carries exactly the scale and zero point given, ready
for ``lower_int8``. ``strip_qdq`` removes the inner pairs and the annotations:
the model then runs in float, without the fake quantization.
"""

from __future__ import annotations

import numpy as np

from effc.errors import EffcError
from effc.ir import Graph
from effc.ops import get_op


def _same(a, b) -> bool:
    return bool(np.allclose(a.scale, b.scale, rtol=1e-6) and
                np.array_equal(a.zero_point, b.zero_point))


def annotate_qdq(graph: Graph) -> Graph:
    for q in [n for n in graph.nodes if n.op_type == "QuantizeLinear"]:
        x, y = q.inputs[0], q.outputs[0]
        if x in graph.inputs:
            continue  # boundary: float model input quantized on entry
        src = graph.tensors[x]
        quant = graph.tensors[y].quant
        if src.quant is not None and not _same(src.quant, quant):
            raise EffcError(
                f"tensor '{x}' is quantized twice with different parameters (node "
                f"'{q.name}'); fix the model's QDQ nodes or compile with --quantize none")
        src.quant = quant
        graph.nodes.remove(q)
        graph.forward(y, x)
    for dq in [n for n in graph.nodes if n.op_type == "DequantizeLinear"]:
        x, y = dq.inputs[0], dq.outputs[0]
        if y in graph.outputs:
            continue  # boundary: dequantized model output
        graph.nodes.remove(dq)
        graph.forward(y, x)
    graph.prune_unused()
    return graph


def strip_qdq(graph: Graph) -> Graph:
    """Run the model in float: drop the fake quantization, keep real conversions.

    A DequantizeLinear of an int8 graph input and a QuantizeLinear producing
    an int8 graph output stay (the interface is int8); every other Q/DQ goes.
    """
    for node in [n for n in graph.nodes if n.op_type in ("QuantizeLinear", "DequantizeLinear")]:
        x, y = node.inputs[0], node.outputs[0]
        if (node.op_type == "DequantizeLinear" and x in graph.inputs
                and graph.tensors[x].dtype == "int8") or (
                node.op_type == "QuantizeLinear" and y in graph.outputs):
            continue
        graph.nodes.remove(node)
        graph.forward(y, x)
    for node in graph.nodes:  # a layout op between a dropped Q and DQ now moves floats
        if get_op(node.op_type).moves_values and graph.tensors[node.inputs[0]].dtype == "float32":
            for y in node.outputs:
                if graph.tensors[y].dtype == "int8" and y not in graph.outputs:
                    graph.tensors[y].dtype = "float32"
    for tensor in graph.activations():
        if tensor.dtype == "float32":
            tensor.quant = None
    graph.prune_unused()
    return graph

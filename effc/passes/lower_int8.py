"""Lower an annotated float graph to the exact integer (int8) IR: the pass.

Contract and guarantees: see lower_int8_core.py, which holds the core ops'
lowerings and the helpers; lower_int8_ops.py holds those of issue 17's ops.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.passes.calibrate import choose_quant
from effc.passes.lower_int8_core import (
    INTERNAL_OUTPUTS,
    POOLS,
    SAME_SCALE,
    WEIGHT_GRANULARITIES,
    _divide_by_constant,
    weight_quant,
)
from effc.passes.lower_int8_core import (
    LOWERINGS as CORE_LOWERINGS,
)
from effc.passes.lower_int8_ops import LOWERINGS as OP_LOWERINGS
from effc.quant import int8 as q8

#: Every op with an int8 form -> its lowering (Div: a Mul by the constant's reciprocal).
LOWERINGS: dict[str, Callable[[Graph, Node], None]] = {**CORE_LOWERINGS, **OP_LOWERINGS}
#: Ops whose int8 form is another op: a Div by a constant is a Mul by its reciprocal.
LOWERED_AS = {"Div": "Mul"}
#: The quantization's own ops, which the pass keeps as they are.
CONVERSIONS = ("QuantizeLinear", "DequantizeLinear")


def int8_form(op_type: str) -> str | None:
    """The op a node of ``op_type`` computes as in the int8 graph, or None when it has no
    int8 form (``lower_int8`` refuses such a node in one line)."""
    if op_type in CONVERSIONS:
        return op_type
    op = LOWERED_AS.get(op_type, op_type)
    return op if op in LOWERINGS else None


#: Ops whose output values all lie on their input's grid: an output that no
#: QuantizeLinear (nor a layout op after it) names takes the input's (a
#: QOperator model's float Relu between two quantized convolutions).
GRID_PRESERVING = {"Relu"}


def keeps_scale(graph: Graph, node: Node, ops: set[str] = SAME_SCALE) -> bool:
    """Do ``node``'s outputs keep its first input's quantization? (``ops``, and a
    Gather of an activation: a Gather of a constant table takes its output's.)"""
    if node.op_type == "Gather":
        return not graph.tensors[node.inputs[0]].is_constant
    return node.op_type in ops


def _propagate_same_scale(graph: Graph) -> None:
    """Layout ops and pools pass quantization through, forwards and backwards;
    grid-preserving ops pass it forwards where nothing else decided."""

    def forward(ops: set[str]) -> None:
        for node in graph.nodes:
            if keeps_scale(graph, node, ops):
                x = graph.tensors[node.inputs[0]]
                for y in (graph.tensors[o] for o in node.outputs):
                    if y.quant is None and x.quant is not None:
                        y.quant = x.quant

    forward(SAME_SCALE | POOLS)
    for node in reversed(graph.nodes):
        if keeps_scale(graph, node):
            x, y = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
            if x.quant is None and y.quant is not None and not x.is_constant:
                x.quant = y.quant
    forward(SAME_SCALE | POOLS | GRID_PRESERVING)


def _quantize_constant_operands(graph: Graph, node: Node) -> None:
    """Constant operands of Add/Sub/Mul/PRelu become per-tensor int8 constants, with the
    quantization a QDQ model gave them, else one that covers their range."""
    for i, name in enumerate(node.inputs):
        tensor = graph.tensors[name]
        if tensor.data is None or tensor.dtype == "int8":
            continue
        data = tensor.data.astype(np.float64)
        quant = tensor.quant
        if quant is None or quant.per_channel:
            quant = choose_quant(float(data.min()), float(data.max()))
        q = q8.quantize(data, float(quant.scale), int(quant.zero_point))
        node.inputs[i] = graph.add_constant(name + "_q", q, quant=quant).name


def lower_int8(graph: Graph, weight_granularity: str = "per-channel") -> Graph:
    """``weight_granularity`` applies to weights that carry no quantization yet
    (a QDQ model's weights keep theirs): "per-channel" or "per-tensor"."""
    if weight_granularity not in WEIGHT_GRANULARITIES:
        raise EffcError(f"unknown weight quantization '{weight_granularity}'; choose "
                        f"{' or '.join(WEIGHT_GRANULARITIES)}")
    _propagate_same_scale(graph)
    for node in graph.nodes:
        if node.op_type in ("Conv", "ConvTranspose", "Dense"):
            weight = graph.tensors[node.inputs[1]]
            if weight.quant is None and weight.data is not None:
                weight.quant = weight_quant(weight.data, weight_granularity)
    for node in list(graph.nodes):
        if node.op_type in CONVERSIONS:
            continue
        form = int8_form(node.op_type)
        if form is None:
            raise EffcError(f"node '{node.name}' ({node.op_type}) has no int8 form; compile "
                            "with --quantize none")
        lowering = LOWERINGS[form]
        if node.op_type == "Div":
            _divide_by_constant(graph, node)
        if node.op_type in ("Add", "Sub", "Mul", "MatMul", "PRelu"):
            _quantize_constant_operands(graph, node)
        operands = node.inputs if node.op_type == "MatMul" else node.inputs[:1]
        internal = INTERNAL_OUTPUTS.get(node.op_type, ())
        for name in [*operands, *(o for i, o in enumerate(node.outputs) if i not in internal)]:
            tensor = graph.tensors[name]
            if tensor.quant is None and tensor.dtype == "float32" and not tensor.is_constant:
                if _is_integer_accumulator(graph, node):
                    raise EffcError(
                        f"node '{node.name}' keeps its int32 accumulator as the float value "
                        f"'{name}' (ConvInteger/MatMulInteger with a float rescale: dynamic "
                        "quantization), which has no int8 form; compile the float model "
                        "(effc quantizes it with --calib), quantize it statically (QDQ), or "
                        "compile with --quantize none")
                raise EffcError(
                    f"node '{node.name}' ({node.op_type}) has the float value '{name}' left "
                    "between Q and DQ nodes; quantize it in the model, or compile with "
                    "--quantize none")
        lowering(graph, node)
    for tensor in graph.activations():
        if tensor.quant is not None and tensor.dtype == "float32":
            tensor.dtype = "int8"
    graph.prune_unused()
    return graph


def _is_integer_accumulator(graph: Graph, node: Node) -> bool:
    """Whether a Conv/Dense is an imported ConvInteger/MatMulInteger: input and weights
    dequantized with scale exactly 1 (x - zp), so its output is the integer accumulator."""
    if node.op_type not in ("Conv", "Dense") or len(node.inputs) < 2:
        return False
    quants = [graph.tensors[name].quant for name in node.inputs[:2]]
    return all(q is not None and np.all(np.asarray(q.scale) == 1.0) for q in quants)

"""Integer lowerings of the ops issue 17 added (see lower_int8.py for the contract).

Each computes the parameters its TFLite Micro kernel (or effc's own documented
scheme) needs and stores them on the node; the arithmetic lives in effc/quant.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.passes.lower_int8 import (
    _insert_requantize,
    _lower_concat,
    _lower_pool,
    _scale,
    _zp,
)
from effc.quant import int8 as q8


def _lower_reduce(graph: Graph, node: Node) -> None:
    """TFLM MEAN / SUM: one requantization of the int32 sum (effc/quant/reduce.py)."""
    from effc.quant.reduce import reduce_multiplier

    x, out = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    node.attrs["multiplier"], node.attrs["shift"] = reduce_multiplier(_scale(x), _scale(out))


def _lower_matmul(graph: Graph, node: Node) -> None:
    """TFLM BATCH_MATMUL: per-tensor operands, one multiplier (effc/quant/matmul.py)."""
    from effc.quant.matmul import batch_matmul_multiplier

    a, b = (graph.tensors[i] for i in node.inputs)
    out = graph.tensors[node.outputs[0]]
    node.attrs["multiplier"], node.attrs["shift"] = batch_matmul_multiplier(
        _scale(a), _scale(b), _scale(out))


def _lower_resize(graph: Graph, node: Node) -> None:
    """Nearest copies values; linear is TFLite's integer bilinear (effc/quant/resize.py);
    both keep the input's quantization (a Requantize follows if the model asks)."""
    from effc.quant.resize import int8_bilinear_problem

    mode = node.attrs["mode"]
    problem = "cubic interpolation has no int8 form" if mode == "cubic" else None
    if mode == "linear":
        problem = int8_bilinear_problem(graph.tensors[node.inputs[0]].shape, node.attrs)
    if problem:
        raise EffcError(f"node '{node.name}' (Resize, {mode}): {problem}; compile with "
                        "--quantize none")
    _lower_pool(graph, node)


def _lower_gather(graph: Graph, node: Node) -> None:
    """A gathered activation keeps its quantization; a constant table (an embedding)
    is quantized at the output's (TFLite's GATHER copies int8 values)."""
    data = graph.tensors[node.inputs[0]]
    if data.is_constant:
        out = graph.tensors[node.outputs[0]]
        assert data.data is not None
        q = q8.quantize(data.data.astype(np.float64), _scale(out), _zp(out))
        node.inputs[0] = graph.add_constant(data.name + "_q", q, quant=out.quant).name
    else:
        _lower_pool(graph, node)


def _lower_pow(graph: Graph, node: Node) -> None:
    """x ** p with a constant p (one value): a 256-entry table over x (effc's choice;
    TFLite has no int8 POW)."""
    exponent = graph.const(node.inputs[1])
    if exponent is None or np.unique(exponent).size != 1:
        raise EffcError(f"node '{node.name}' (Pow): a computed or varying exponent has no "
                        "int8 form; compile with --quantize none")
    x, out = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    p = float(np.unique(exponent)[0])
    with np.errstate(all="ignore"):
        lut = q8.build_lut_int8(lambda v: np.power(v, p), _scale(x), _zp(x), _scale(out),
                                _zp(out))
    node.attrs["lut"] = [int(v) for v in lut]


def _lower_split(graph: Graph, node: Node) -> None:
    """Every part keeps the input's quantization; a part the model quantized otherwise
    gets a Requantize after it."""
    x = graph.tensors[node.inputs[0]]
    for index in range(len(node.outputs)):
        out = graph.tensors[node.outputs[index]]
        if _scale(x) != _scale(out) or _zp(x) != _zp(out):
            _insert_requantize(graph, node, x, index)


def _no_params(graph: Graph, node: Node) -> None:
    pass


LOWERINGS: dict[str, Callable[[Graph, Node], None]] = {
    "MatMul": _lower_matmul,
    "Resize": _lower_resize,
    "ReduceMean": _lower_reduce,
    "ReduceSum": _lower_reduce,
    "ReduceMax": _lower_pool,
    "ReduceMin": _lower_pool,
    "Slice": _lower_pool,
    "Split": _lower_split,
    "Expand": _lower_pool,
    "Tile": _lower_pool,
    "Gather": _lower_gather,
    "Min": _lower_concat,  # TFLite's MAXIMUM/MINIMUM compare raw values at one scale
    "Max": _lower_concat,
    "Pow": _lower_pow,
    "ArgMax": _no_params,
    "ArgMin": _no_params,
}

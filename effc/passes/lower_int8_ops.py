"""Integer lowerings of the ops issue 17 added (see lower_int8_core.py for the contract).

Each computes the parameters its TFLite Micro kernel (or effc's own documented
scheme) needs and stores them on the node; the arithmetic lives in effc/quant.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.passes.lower_int8_core import (
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


def _recurrent_problem(graph: Graph, node: Node) -> str | None:
    """Why a recurrent node has no integer form, or None."""
    a = node.attrs
    if list(a["activations"]) != {"LSTM": ["Sigmoid", "Tanh", "Tanh"],
                                  "GRU": ["Sigmoid", "Tanh"]}[node.op_type]:
        return f"activations {list(a['activations'])} (int8 takes the default ones)"
    if a.get("clip"):
        return "clip of the gate pre-activations"
    if a.get("input_forget"):
        return "input_forget (coupled gates)"
    if node.op_type == "LSTM" and len(node.inputs) > 6:
        return "peepholes"
    steps = graph.tensors[node.inputs[0]].shape[1]
    if a.get("seq_lens") and any(v != steps for v in a["seq_lens"]):
        return "sequences shorter than the input"
    if node.op_type == "LSTM" and (graph.consumers(node.outputs[2])
                                   or node.outputs[2] in graph.outputs):
        return "its cell state output Y_c is read (the int8 cell state is int16 internal)"
    return None


def _gate_weights(graph: Graph, name: str) -> tuple[str, np.ndarray]:
    """Symmetric int8 weights with one scale per gate matrix (axis 0)."""
    from effc.ir import QuantParams
    from effc.passes.lower_int8_core import weight_quant

    w = graph.const(name)
    assert w is not None
    quant = weight_quant(w, "per-channel")  # per-channel on axis 0 = per gate
    scale = quant.scale.reshape(-1, *[1] * (w.ndim - 1)).astype(np.float64)
    q = np.clip(np.round(w.astype(np.float64) / scale), -127, 127).astype(np.int8)
    params = QuantParams(quant.scale, np.zeros(w.shape[0], np.int32), 0)
    return graph.add_constant(name + "_q", q, quant=params).name, quant.scale


def _constant(graph: Graph, name: str, data: np.ndarray, dtype: type, scale: float = 0.0,
              zero_point: int = 0) -> str:
    """An integer constant; with a scale it carries its quantization (the ONNX export
    dequantizes it)."""
    from effc.ir import QuantParams

    quant = QuantParams(np.float32(scale), np.int32(zero_point)) if scale else None
    return graph.add_constant(name + "_q", data.astype(dtype), quant=quant).name


def _bias(graph: Graph, name: str, s_in: float, scales: np.ndarray) -> str:
    b = graph.const(name)
    assert b is not None
    from effc.ir import QuantParams

    scale = np.float64(np.float32(s_in)) * scales.astype(np.float64).reshape(-1, 1)
    q = np.clip(np.round(b.astype(np.float64) / scale), -(2**31), 2**31 - 1)
    quant = QuantParams(scale.reshape(-1), np.zeros(scale.size, np.int32), 0)
    return graph.add_constant(name + "_q", q.astype(np.int32), quant=quant).name


def _lower_recurrent(graph: Graph, node: Node) -> None:
    """LSTM: TFLite Micro's integer LSTM (effc/quant/lstm.py); GRU: effc's own exact
    scheme built from the same pieces (effc/quant/gru.py)."""
    from effc.quant import gru as qgru
    from effc.quant import lstm as qlstm

    problem = _recurrent_problem(graph, node)
    if problem:
        raise EffcError(f"node '{node.name}' ({node.op_type}): {problem} has no int8 form; "
                        "compile with --quantize none")
    x, y = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    s_x, z_x, s_h, z_h = _scale(x), _zp(x), _scale(y), _zp(y)
    w, w_scales = _gate_weights(graph, node.inputs[1])
    r, r_scales = _gate_weights(graph, node.inputs[2])
    h0_float = graph.const(node.inputs[4 if node.op_type == "LSTM" else 5])
    assert h0_float is not None
    h0 = q8.quantize(h0_float.astype(np.float64), s_h, z_h)
    if node.op_type == "LSTM":
        c0 = graph.const(node.inputs[5])
        assert c0 is not None
        steps = x.shape[1]
        # the largest |cell| calibration saw, else the bound |c0| + steps (|f|, |i g| < 1)
        peak = node.attrs.pop("cell_peak", float(np.abs(c0).max(initial=0.0)) + steps)
        power = qlstm.cell_scale_power(peak)
        c0_q = np.clip(np.round(c0.astype(np.float64) / 2.0 ** power), -32768, 32767)
        node.inputs = [node.inputs[0], w, r, _bias(graph, node.inputs[3], s_x, w_scales),
                       _constant(graph, node.inputs[4], h0, np.int8, s_h, z_h),
                       _constant(graph, node.inputs[5], c0_q, np.int16, 2.0 ** power)]
        node.attrs["lstm"] = qlstm.lstm_params(s_x, z_x, s_h, z_h, w_scales, r_scales, power)
        c = graph.tensors[node.outputs[2]]
        c.dtype = "int16"
        from effc.ir import QuantParams

        c.quant = QuantParams(np.float32(2.0 ** power), np.int32(0))
        return
    power = qgru.state_power(float(np.abs(h0_float).max(initial=0.0)))
    state = np.clip(np.round(h0_float.astype(np.float64) / 2.0 ** power), -32768, 32767)
    node.inputs = [node.inputs[0], w, r, _bias(graph, node.inputs[3], s_x, w_scales),
                   _bias(graph, node.inputs[4], s_h, r_scales),
                   _constant(graph, node.inputs[5], state, np.int16, 2.0 ** power)]
    node.attrs["gru"] = qgru.gru_params(s_x, z_x, s_h, z_h, w_scales, r_scales, power)


LOWERINGS["LSTM"] = _lower_recurrent
LOWERINGS["GRU"] = _lower_recurrent

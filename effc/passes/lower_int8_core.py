"""The int8 lowerings of the core ops and the helpers every lowering uses (the
pass itself is lower_int8.py; the lowerings of issue 17's ops are lower_int8_ops.py).

Contract of the pass: expects channels-last IR with fused activations, in which every
activation tensor that must be int8 carries quantization parameters (from
QDQ import or calibration) and every weight either carries them or gets
per-channel symmetric ones here. Guarantees: every activation tensor between
the boundary Quantize/Dequantize nodes is int8; weights are int8 (per-channel
symmetric, zero point 0, range +-127), biases int32 with scale
input_scale * weight_scale; every node carries the precomputed integer
parameters its TFLite Micro kernel needs (multipliers and shifts from
QuantizeMultiplier, clamps, add/softmax parameters, lookup tables), so the
reference, C, HLS and RTL backends only read them. Integer semantics: Jacob et
al., CVPR 2018, as refined by TFLite Micro (docs/conventions.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from effc.errors import EffcError
from effc.ir import Graph, Node, QuantParams, Tensor
from effc.ops.activation import FUNCTIONS as ACTIVATIONS
from effc.ops.activation import float_function
from effc.quant import int8 as q8

#: Ops whose outputs keep the (first) input's quantization (no arithmetic on values).
SAME_SCALE = {"Reshape", "Transpose", "MaxPool", "GlobalMaxPool", "Pad", "ReduceMax",
              "ReduceMin", "Resize", "Slice", "Split", "Expand", "Tile"}
#: Outputs that take another output's quantization (the final hidden state is the
#: last step of the sequence output).
TIED_OUTPUTS: dict[str, dict[int, int]] = {"LSTM": {1: 0}, "GRU": {1: 0}}
#: Outputs the integer lowering quantizes itself (the LSTM's int16 cell state).
INTERNAL_OUTPUTS: dict[str, tuple[int, ...]] = {"LSTM": (2,)}
#: Ops whose output must have the input's scale in TFLite (a Requantize follows if not).
POOLS = {"AveragePool", "GlobalAveragePool"}

#: Fixed output quantization TFLite uses for these int8 ops.
FIXED_OUTPUT = {
    "Softmax": (1.0 / 256.0, -128),
    "Sigmoid": (1.0 / 256.0, -128),
    "Tanh": (1.0 / 128.0, 0),
}


def _scale(t: Tensor) -> float:
    assert t.quant is not None
    return float(t.quant.scale)


def _zp(t: Tensor) -> int:
    assert t.quant is not None
    return int(t.quant.zero_point)


#: How weights without quantization parameters of their own are quantized.
WEIGHT_GRANULARITIES = ("per-channel", "per-tensor")


def weight_quant(w: np.ndarray, granularity: str = "per-channel") -> QuantParams:
    """Symmetric int8 weight quantization (range +-127, never a zero scale):
    one scale per output channel (axis 0), or one for the whole tensor."""
    per_channel = granularity == "per-channel"
    reduce = tuple(range(1, w.ndim)) if per_channel else None
    peak = np.abs(w.astype(np.float64)).max(axis=reduce)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    return QuantParams(scale, np.zeros_like(scale, dtype=np.int32), 0 if per_channel else None)


def _quantize_weight(graph: Graph, name: str) -> tuple[str, np.ndarray]:
    tensor = graph.tensors[name]
    w = tensor.data
    assert w is not None and tensor.quant is not None
    quant = tensor.quant
    scale = quant.scale.astype(np.float64)
    if quant.axis is not None:
        scale = scale.reshape((-1,) + (1,) * (w.ndim - 1))
    # w = scale * (q - zero_point) exactly, so q - zero_point is an integer: with
    # zero point 0 the same reals are int8 values whenever they fit (any
    # symmetric or narrow asymmetric weights; TFLM kernels take symmetric ones).
    q = np.round(w.astype(np.float64) / scale)
    if q.min(initial=0) < -128 or q.max(initial=0) > 127:
        raise EffcError(
            f"weight '{name}' is quantized asymmetrically (zero point "
            f"{quant.zero_point.reshape(-1)[0]}, values {int(q.min())}..{int(q.max())} around "
            "it), which int8 kernels with symmetric weights cannot hold; quantize weights "
            "symmetrically (onnxruntime: weight_type=QInt8, WeightSymmetric=True) or compile "
            "the float model")
    symmetric = QuantParams(quant.scale, np.zeros_like(quant.zero_point), quant.axis)
    new = graph.add_constant(name + "_q", q.astype(np.int8), quant=symmetric)
    return new.name, quant.scale.reshape(-1)


def _quantize_bias(graph: Graph, name: str, input_scale: float, weight_scales: np.ndarray,
                   channels: int) -> str:
    bias = graph.const(name)
    assert bias is not None
    scale = np.float64(np.float32(input_scale)) * weight_scales.astype(np.float64)
    hint = graph.tensors[name].quant
    if hint is not None:
        scale = hint.scale.astype(np.float64)
    scale = np.broadcast_to(scale, (channels,))
    q = np.clip(np.round(bias.astype(np.float64) / scale), -(2**31), 2**31 - 1)
    quant = QuantParams(scale.astype(np.float32), np.zeros(channels, np.int32), 0)
    return graph.add_constant(name + "_q", q.astype(np.int32), quant=quant).name


def _clamp_range(node: Node, out: Tensor) -> tuple[int, int]:
    """Float fused-activation bounds -> int8 clamps (CalculateActivationRangeQuantized)."""
    lo, hi = node.attrs.get("activation_min"), node.attrs.get("activation_max")
    qmin, qmax = -128, 127
    if lo is not None:
        qmin = max(qmin, int(q8.quantize(np.float32(lo), _scale(out), _zp(out))))
    if hi is not None:
        qmax = min(qmax, int(q8.quantize(np.float32(hi), _scale(out), _zp(out))))
    return qmin, qmax


def _set_clamps(node: Node, out: Tensor) -> None:
    node.attrs["activation_min"], node.attrs["activation_max"] = _clamp_range(node, out)


def _lower_linear(graph: Graph, node: Node) -> None:
    x, out = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    w_name, w_scales = _quantize_weight(graph, node.inputs[1])
    channels = graph.tensors[w_name].shape[0]
    node.inputs[1] = w_name
    if len(node.inputs) > 2:
        node.inputs[2] = _quantize_bias(graph, node.inputs[2], _scale(x), w_scales, channels)
    if node.op_type == "Dense":
        # TFLM FullyConnected keeps one multiplier for per-tensor weights.
        mult, shift = q8.dense_multipliers(_scale(x), w_scales, _scale(out))
    else:
        # TFLM Conv/DepthwiseConv always requantize per output channel
        # (PopulateConvolutionQuantizationParams repeats a per-tensor scale).
        mult, shift = q8.conv_multipliers(_scale(x), np.broadcast_to(w_scales, (channels,)),
                                          _scale(out))
    node.attrs["multiplier"] = [int(m) for m in mult]
    node.attrs["shift"] = [int(s) for s in shift]
    _set_clamps(node, out)


def _lower_add_sub(graph: Graph, node: Node) -> None:
    a, b = (graph.tensors[i] for i in node.inputs)
    out = graph.tensors[node.outputs[0]]
    params = q8.add_params if node.op_type == "Add" else q8.sub_params
    try:
        node.attrs["params"] = asdict(params(_scale(a), _zp(a), _scale(b), _zp(b),
                                             _scale(out), _zp(out)))
    except ValueError:
        raise EffcError(f"node '{node.name}' ({node.op_type}): its output scale "
                        f"{_scale(out):.3g} is below 2^-19 of its inputs' (up to "
                        f"{max(_scale(a), _scale(b)):.3g}), which TFLite's int8 ADD/SUB cannot "
                        "represent; widen the output's quantization range") from None
    _set_clamps(node, out)


def _lower_mul(graph: Graph, node: Node) -> None:
    a, b = (graph.tensors[i] for i in node.inputs)
    out = graph.tensors[node.outputs[0]]
    node.attrs["multiplier"], node.attrs["shift"] = q8.mul_multiplier(_scale(a), _scale(b),
                                                                      _scale(out))
    _set_clamps(node, out)


def _lower_prelu(graph: Graph, node: Node) -> None:
    x, alpha = (graph.tensors[i] for i in node.inputs)
    out = graph.tensors[node.outputs[0]]
    node.attrs["params"] = asdict(q8.prelu_params(_scale(x), _zp(x), _scale(alpha), _zp(alpha),
                                                  _scale(out), _zp(out)))


def _divide_by_constant(graph: Graph, node: Node) -> None:
    """Div(x, c) with a constant c becomes Mul(x, 1 / c): TFLite has no int8 DIV."""
    divisor = graph.const(node.inputs[1])
    if divisor is None:
        raise EffcError(f"node '{node.name}' (Div) divides by a computed value, which has no "
                        "int8 form; compile with --quantize none")
    with np.errstate(divide="ignore"):
        reciprocal = (1.0 / divisor.astype(np.float64)).astype(np.float32)
    if not np.isfinite(reciprocal).all():
        raise EffcError(f"node '{node.name}' (Div) divides by zero; fix the model's constant")
    node.op_type = "Mul"
    node.inputs[1] = graph.add_constant(node.inputs[1] + "_reciprocal", reciprocal).name


def _lower_softmax(graph: Graph, node: Node) -> None:
    x = graph.tensors[node.inputs[0]]
    node.attrs["params"] = asdict(q8.softmax_params(_scale(x), 1.0))


def _lower_lut(graph: Graph, node: Node) -> None:
    """Every int8 elementwise activation is a 256-entry table.

    Where TFLite Micro has an integer kernel (Logistic, Tanh, LeakyRelu,
    HardSwish) the table is that kernel evaluated on all 256 inputs, so it is
    bit-exact with TFLM; the others are built from the float function.
    """
    x, out = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    s_in, z_in, s_out, z_out = _scale(x), _zp(x), _scale(out), _zp(out)
    domain = np.arange(-128, 128, dtype=np.int64).reshape(1, -1)
    op = node.op_type
    if op == "Sigmoid" and (s_out, z_out) == FIXED_OUTPUT["Sigmoid"]:
        lut = q8.logistic_int8(domain, q8.sigmoid_tanh_params(s_in, z_in))
    elif op == "Tanh" and (s_out, z_out) == FIXED_OUTPUT["Tanh"]:
        lut = q8.tanh_int8(domain, q8.sigmoid_tanh_params(s_in, z_in))
    elif op == "LeakyRelu":
        lut = q8.leaky_relu_int8(domain, q8.leaky_relu_params(
            s_in, z_in, node.attrs.get("alpha", 0.01), s_out, z_out))
    elif op == "HardSwish":
        lut = q8.hard_swish_int8(domain, q8.hard_swish_params(s_in, z_in, s_out, z_out))
    else:
        lut = q8.build_lut_int8(float_function(op, node.attrs), s_in, z_in, s_out, z_out)
    node.attrs["lut"] = [int(v) for v in np.asarray(lut).reshape(-1)]


def _lower_pad(graph: Graph, node: Node) -> None:
    out = graph.tensors[node.outputs[0]]
    node.attrs["value_q"] = int(q8.quantize(np.float32(node.attrs["value"]), _scale(out),
                                            _zp(out)))


def _lower_concat(graph: Graph, node: Node) -> None:
    """Concat copies int8 values, so every input must be at the output's scale:
    a constant is quantized with it, an activation with other parameters gets a
    Requantize (TFLM's Quantize int8 -> int8) in front."""
    out = graph.tensors[node.outputs[0]]
    for i, name in enumerate(node.inputs):
        x = graph.tensors[name]
        if x.is_constant:
            assert x.data is not None
            q = q8.quantize(x.data.astype(np.float64), _scale(out), _zp(out))
            node.inputs[i] = graph.add_constant(name + "_q", q, quant=out.quant).name
        elif _scale(x) != _scale(out) or _zp(x) != _zp(out):
            node.inputs[i] = _requantized(graph, node, x, out)


def _requantized(graph: Graph, consumer: Node, x: Tensor, like: Tensor) -> str:
    """A Requantize of ``x`` to ``like``'s scale and zero point, placed before ``consumer``."""
    name = graph.unique_name(f"{x.name}_requantized")
    graph.add_tensor(Tensor(name, x.shape, "int8", x.layout, quant=like.quant))
    m, s = q8.requantize_multiplier(_scale(x), _scale(like))
    graph.nodes.insert(graph.nodes.index(consumer), Node(
        "Requantize", graph.unique_name(consumer.name + "_requantize"), [x.name], [name],
        {"multiplier": int(m), "shift": int(s)}))
    return name


def _lower_pool(graph: Graph, node: Node) -> None:
    x, out = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    if _scale(x) != _scale(out) or _zp(x) != _zp(out):
        _insert_requantize(graph, node, x)


def _insert_requantize(graph: Graph, node: Node, x: Tensor, index: int = 0) -> None:
    """Compute ``node``'s output ``index`` at its input's scale, then requantize to the
    output's."""
    out = graph.tensors[node.outputs[index]]
    mid = graph.unique_name(out.name + "_same_scale")
    graph.add_tensor(Tensor(mid, out.shape, "int8", out.layout, quant=x.quant))
    m, s = q8.requantize_multiplier(_scale(x), _scale(out))
    req = Node("Requantize", graph.unique_name(node.name + "_requantize"), [mid], [out.name],
               {"multiplier": int(m), "shift": int(s)})
    node.outputs[index] = mid
    graph.nodes.insert(graph.nodes.index(node) + 1, req)


def _no_params(graph: Graph, node: Node) -> None:
    pass


LOWERINGS: dict[str, Callable[[Graph, Node], None]] = {
    "Conv": _lower_linear,
    "ConvTranspose": _lower_linear,
    "Dense": _lower_linear,
    "Add": _lower_add_sub,
    "Sub": _lower_add_sub,
    "Mul": _lower_mul,
    "PRelu": _lower_prelu,
    "Softmax": _lower_softmax,
    **{op: _lower_lut for op in ACTIVATIONS},
    "Pad": _lower_pad,
    "Concat": _lower_concat,
    "AveragePool": _lower_pool,
    "GlobalAveragePool": _lower_pool,
    "MaxPool": _no_params,
    "GlobalMaxPool": _no_params,
    "Reshape": _no_params,
    "Transpose": _no_params,
}

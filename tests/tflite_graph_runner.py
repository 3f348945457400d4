"""Test-only helper: run int8 .tflite graphs with effc's numpy kernels, build
single-operator .tflite models, and run either through TFLite Micro.

This is not product code. It parses flatbuffers with the schema module that
ships inside the ``tflite-micro`` wheel and maps each builtin operator onto
``effc.quant.int8``. TFLite layouts already match effc's conventions (NHWC,
OHWI conv weights, ``[out, in]`` FC weights); depthwise filters
``[1, H, W, C_out]`` are transposed to ``[C_out, H, W, 1]``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from effc.quant import fixedpoint as fp
from effc.quant import int8 as q8
from effc.quant import int8_pool as q8_pool

try:  # the wheel is the oracle; tests decide whether its absence skips or fails
    from tflite_micro.python.tflite_micro import runtime as tflm_runtime
    from tflite_micro.tensorflow.lite.micro.compression import model_editor as me
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb
except ImportError:  # pragma: no cover - exercised only without the wheel
    tflm_runtime = me = fb = None

MODELS_DIR = Path(__file__).resolve().parents[2] / "shared" / "models"

_ACTIVATIONS = {0: None, 1: "relu", 2: "relu_n1_to_1", 3: "relu6"}
_NP_TYPES = {0: np.float32, 2: np.int32, 9: np.int8, 3: np.uint8, 7: np.int16}


def require_tflm() -> None:
    """Skip without the tflite-micro wheel, but fail under CI=true."""
    if tflm_runtime is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tflite-micro is required in CI (pip install tflite-micro)")
        pytest.skip("tflite-micro is not installed")


def require_models_dir() -> Path:
    """Return ../shared/models; skip when missing, fail when missing under CI=true."""
    if not MODELS_DIR.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{MODELS_DIR} is missing (CI=true)")
        pytest.skip(f"{MODELS_DIR} is missing")
    return MODELS_DIR


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


@dataclass
class TensorInfo:
    """One tensor of a parsed TFLite subgraph."""

    name: str
    shape: tuple[int, ...]
    dtype: type
    scales: np.ndarray
    zero_points: np.ndarray
    data: np.ndarray | None

    @property
    def scale(self) -> float:
        return float(self.scales[0])

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0])


@dataclass
class OpInfo:
    """One operator: builtin name, tensor indices and builtin options."""

    name: str
    inputs: list[int]
    outputs: list[int]
    options: Any


@dataclass
class Graph:
    """A parsed single-subgraph TFLite model."""

    tensors: list[TensorInfo]
    ops: list[OpInfo]
    inputs: list[int]
    outputs: list[int]
    notes: list[str] = field(default_factory=list)


def parse_tflite(path_or_bytes: str | Path | bytes) -> Graph:
    """Parse a .tflite flatbuffer into tensors (with constant data) and ops."""
    data = (path_or_bytes if isinstance(path_or_bytes, (bytes, bytearray))
            else Path(path_or_bytes).read_bytes())
    model = tflm_runtime.convert_bytearray_to_object(bytearray(data))
    op_names = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
    sg = model.subgraphs[0]
    tensors = []
    for t in sg.tensors:
        dtype = _NP_TYPES[t.type]
        q = t.quantization
        has_q = q is not None and q.scale is not None and len(q.scale) > 0
        buf = model.buffers[t.buffer].data if t.buffer < len(model.buffers) else None
        shape = tuple(int(s) for s in t.shape) if t.shape is not None else ()
        arr = None
        if buf is not None and len(buf) > 0:
            arr = np.frombuffer(np.asarray(buf, dtype=np.uint8).tobytes(), dtype=dtype)
            arr = arr.reshape(shape)
        tensors.append(TensorInfo(
            name=t.name.decode() if isinstance(t.name, bytes) else str(t.name),
            shape=shape, dtype=dtype,
            scales=np.asarray(q.scale, dtype=np.float32) if has_q else np.ones(1, np.float32),
            zero_points=np.asarray(q.zeroPoint, dtype=np.int64) if has_q else np.zeros(1, int),
            data=arr))
    ops = []
    for op in sg.operators:
        code = tflm_runtime.get_builtin_code_from_operator_code(
            model.operatorCodes[op.opcodeIndex])
        ops.append(OpInfo(op_names[code], [int(i) for i in op.inputs],
                          [int(i) for i in op.outputs], op.builtinOptions))
    return Graph(tensors, ops, [int(i) for i in sg.inputs], [int(i) for i in sg.outputs])


# --------------------------------------------------------------------------
# Execution with effc kernels
# --------------------------------------------------------------------------


def same_padding(in_size: int, kernel: int, stride: int, dilation: int = 1
                 ) -> tuple[int, int]:
    """TFLite ComputePaddingWithOffset for SAME: (before, after), extra pixel at the end."""
    eff = (kernel - 1) * dilation + 1
    out = (in_size + stride - 1) // stride
    total = max((out - 1) * stride + eff - in_size, 0)
    return total // 2, total - total // 2


def _spatial_pads(padding: int, in_hw: tuple[int, ...], k_hw: tuple[int, ...],
                  strides: list[int], dilations: list[int]) -> list[tuple[int, int]]:
    if padding == fb.Padding.VALID:
        return [(0, 0)] * len(in_hw)
    zipped = zip(in_hw, k_hw, strides, dilations, strict=True)
    return [same_padding(i, k, s, d) for i, k, s, d in zipped]


def run_graph(graph: Graph, inputs: list[np.ndarray], *, fc_multiplier_mode: str = "tflm",
              trace: dict[int, np.ndarray] | None = None) -> list[np.ndarray]:
    """Run the graph with effc kernels; ``trace`` (if given) receives every tensor.

    ``fc_multiplier_mode``: "tflm" (TFLM: Q31 multiplier from the float32
    product ``s_in * s_w``, double rounding) or "desktop_reference" (desktop
    TFLite/LiteRT ``reference_integer_ops::FullyConnected`` with float scales:
    ``round(double(acc) * (double(s_in) * double(s_w) / double(s_out)))``).
    """
    t = graph.tensors
    vals: dict[int, np.ndarray] = {i: x for i, x in zip(graph.inputs, inputs, strict=True)}
    for i, ti in enumerate(t):
        if ti.data is not None:
            vals[i] = ti.data
    for op in graph.ops:
        ins = [vals[i] if i >= 0 else None for i in op.inputs]
        out_t = t[op.outputs[0]]
        vals[op.outputs[0]] = _run_op(op, ins, [t[i] if i >= 0 else None for i in op.inputs],
                                      out_t, fc_multiplier_mode)
    if trace is not None:
        trace.update(vals)
    return [vals[i] for i in graph.outputs]


def _run_op(op: OpInfo, ins: list, tin: list, tout: TensorInfo, fc_mode: str) -> np.ndarray:
    o = op.options
    if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL",
                   "AVERAGE_POOL_2D", "MAX_POOL_2D"):
        act_min, act_max = q8.activation_range(
            _ACTIVATIONS[o.fusedActivationFunction], tout.scale, tout.zero_point)
    if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        x, w, b = ins
        depthwise = op.name == "DEPTHWISE_CONV_2D"
        if depthwise:
            w = np.transpose(w, (3, 1, 2, 0))
        strides = [o.strideH, o.strideW]
        dil = [o.dilationHFactor, o.dilationWFactor]
        pads = _spatial_pads(o.padding, x.shape[1:3], w.shape[1:3], strides, dil)
        mult, shift = q8.conv_multipliers(tin[0].scale, tin[1].scales, tout.scale)
        group = x.shape[-1] if depthwise else x.shape[-1] // w.shape[-1]
        return q8.conv_int8(x, w, b, strides=strides, dilations=dil, pads=pads, group=group,
                            input_zero_point=tin[0].zero_point,
                            output_zero_point=tout.zero_point, multiplier=mult, shift=shift,
                            activation_min=act_min, activation_max=act_max)
    if op.name == "FULLY_CONNECTED":
        x, w, b = ins[0], ins[1], ins[2] if len(ins) > 2 else None
        if fc_mode == "desktop_reference":
            y = dense_int8_desktop_reference(
                x.reshape(-1, w.shape[1]), w, b, tin[0], tin[1], tout, act_min, act_max)
            return y.reshape(tout.shape)
        mult, shift = q8.dense_multipliers(tin[0].scale, tin[1].scales, tout.scale)
        y = q8.dense_int8(x.reshape(-1, w.shape[1]), w, b,
                          input_zero_point=tin[0].zero_point,
                          output_zero_point=tout.zero_point, multiplier=mult, shift=shift,
                          activation_min=act_min, activation_max=act_max)
        return y.reshape(tout.shape)
    if op.name in ("ADD", "SUB"):
        prep = q8.add_params if op.name == "ADD" else q8.sub_params
        kern = q8.add_int8 if op.name == "ADD" else q8.sub_int8
        p = prep(tin[0].scale, tin[0].zero_point, tin[1].scale, tin[1].zero_point,
                 tout.scale, tout.zero_point)
        return kern(ins[0], ins[1], p, activation_min=act_min, activation_max=act_max)
    if op.name == "MUL":
        m, s = q8.mul_multiplier(tin[0].scale, tin[1].scale, tout.scale)
        return q8.mul_int8(ins[0], ins[1], input1_zero_point=tin[0].zero_point,
                           input2_zero_point=tin[1].zero_point,
                           output_zero_point=tout.zero_point, multiplier=m, shift=s,
                           activation_min=act_min, activation_max=act_max)
    if op.name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        x = ins[0]
        k, s = [o.filterHeight, o.filterWidth], [o.strideH, o.strideW]
        pads = _spatial_pads(o.padding, x.shape[1:3], tuple(k), s, [1, 1])
        if op.name == "MAX_POOL_2D":
            return q8_pool.max_pool_int8(x, k, s, pads, activation_min=act_min,
                                    activation_max=act_max)
        return q8_pool.avg_pool_int8(x, k, s, pads, activation_min=act_min, activation_max=act_max)
    if op.name == "RESHAPE":
        return ins[0].reshape(tout.shape)
    if op.name == "SOFTMAX":
        return q8.softmax_int8(ins[0], q8.softmax_params(tin[0].scale, o.beta))
    if op.name in ("LOGISTIC", "TANH"):
        p = q8.sigmoid_tanh_params(tin[0].scale, tin[0].zero_point)
        return (q8.logistic_int8 if op.name == "LOGISTIC" else q8.tanh_int8)(ins[0], p)
    if op.name == "LEAKY_RELU":
        p = q8.leaky_relu_params(tin[0].scale, tin[0].zero_point, o.alpha, tout.scale,
                                 tout.zero_point)
        return q8.leaky_relu_int8(ins[0], p)
    if op.name == "HARD_SWISH":
        p = q8.hard_swish_params(tin[0].scale, tin[0].zero_point, tout.scale, tout.zero_point)
        return q8.hard_swish_int8(ins[0], p)
    if op.name == "ELU":
        lut = q8.build_lut_int8("elu", tin[0].scale, tin[0].zero_point, tout.scale,
                                tout.zero_point)
        return q8.apply_lut(ins[0], lut)
    if op.name == "QUANTIZE":
        if tin[0].dtype == np.float32:
            return q8.quantize(ins[0], tout.scale, tout.zero_point)
        m, s = q8.requantize_multiplier(tin[0].scale, tout.scale)
        return q8.requantize_int8(ins[0], input_zero_point=tin[0].zero_point,
                                  output_zero_point=tout.zero_point, multiplier=m, shift=s)
    if op.name == "DEQUANTIZE":
        return q8.dequantize(ins[0], tin[0].scale, tin[0].zero_point)
    raise NotImplementedError(f"op {op.name} not mapped in the test runner")


def dense_int8_desktop_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                                 tin: TensorInfo, tw: TensorInfo, tout: TensorInfo,
                                 act_min: int, act_max: int) -> np.ndarray:
    """Desktop TFLite (LiteRT) reference int8 FullyConnected, the float-scale overload.

    Not TFLM: the accumulator is scaled in double precision and rounded once,
    ``round(double(acc) * double(s_in) * double(s_w[c]) / double(s_out))``.
    Used only to explain ``outputs_tflite_reference`` (docs/tflm-vs-tflite.md).
    """
    acc = (x.astype(np.int64) - tin.zero_point) @ w.astype(np.int64).T
    if b is not None:
        acc = acc + b.astype(np.int64)
    fs = tw.scales.astype(np.float64)
    eff = float(np.float64(np.float32(tin.scale))) * fs / float(np.float32(tout.scale))
    scaled = fp.tflite_round(acc.astype(np.float64) * eff).astype(np.int64)
    return np.clip(scaled + tout.zero_point, act_min, act_max).astype(np.int8)


# --------------------------------------------------------------------------
# TFLite Micro oracle
# --------------------------------------------------------------------------


def run_tflm(model: bytes | str | Path, inputs: list[np.ndarray], *,
             all_tensors: bool = False) -> list[np.ndarray] | dict[int, np.ndarray]:
    """Invoke the TFLM interpreter once; optionally return every tensor by index."""
    data = model if isinstance(model, (bytes, bytearray)) else Path(model).read_bytes()
    cfg = (tflm_runtime.InterpreterConfig.kPreserveAllTensors if all_tensors
           else tflm_runtime.InterpreterConfig.kAllocationRecording)
    it = tflm_runtime.Interpreter.from_bytes(bytes(data), intrepreter_config=cfg,
                                             arena_size=max(len(data) * 10, 1 << 20))
    for i, x in enumerate(inputs):
        it.set_input(x, i)
    it.invoke()
    if all_tensors:
        graph = parse_tflite(data)
        return {i: np.array(it.GetTensor(i, 0)["tensor_data"]) for i in range(len(graph.tensors))}
    n_out = len(parse_tflite(data).outputs)
    return [np.array(it.get_output(i)) for i in range(n_out)]


# --------------------------------------------------------------------------
# Single-operator model builder
# --------------------------------------------------------------------------


@dataclass
class TSpec:
    """A tensor for :func:`build_single_op_model` (``data`` makes it constant)."""

    shape: tuple[int, ...]
    dtype: str = "int8"
    scale: float | list[float] | None = None
    zero_point: int | list[int] = 0
    axis: int | None = None
    data: np.ndarray | None = None


_FB_TYPES = {"int8": 9, "int32": 2, "float32": 0}


def build_single_op_model(opcode: str, inputs: list[TSpec], outputs: list[TSpec],
                          options: tuple[str, dict] | None = None) -> bytes:
    """Build a one-operator .tflite model; non-constant inputs become graph inputs."""
    model = me.Model()
    sg = model.add_subgraph()

    def tensor(spec: TSpec, name: str):
        quant = None
        if spec.scale is not None:
            quant = me.Quantization(scales=spec.scale, zero_points=spec.zero_point,
                                    axis=spec.axis)
        data = None if spec.data is None else np.ascontiguousarray(spec.data)
        return sg.add_tensor(shape=spec.shape, dtype=_FB_TYPES[spec.dtype], data=data,
                             quantization=quant, name=name)

    tin = [tensor(s, f"in{i}") for i, s in enumerate(inputs)]
    tout = [tensor(s, f"out{i}") for i, s in enumerate(outputs)]
    op = sg.add_operator(opcode=getattr(fb.BuiltinOperator, opcode), inputs=tin,
                         outputs=tout)
    if options is not None:
        kind, fields = options
        opt = getattr(fb, f"{kind}T")()
        for k, v in fields.items():
            setattr(opt, k, v)
        op._fb.builtinOptionsType = getattr(fb.BuiltinOptions, kind)
        op._fb.builtinOptions = opt
    sg.inputs = [t for t, s in zip(tin, inputs, strict=True) if s.data is None]
    sg.outputs = tout
    return bytes(model.build())


def conv_out_size(in_size: int, k: int, stride: int, dilation: int, same: bool) -> int:
    """TFLite output size for SAME / VALID padding."""
    if same:
        return math.ceil(in_size / stride)
    return (in_size - (k - 1) * dilation - 1) // stride + 1

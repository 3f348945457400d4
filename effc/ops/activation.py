"""Elementwise functions of one value: Relu, Clip, LeakyRelu, Sigmoid, Tanh, Selu,
HardSigmoid, HardSwish, Elu, Softplus, Softsign, Neg, Abs, Exp, Sqrt, Reciprocal,
Erf, Gelu, Log, Floor, Ceil, Round, Sign, Mish, Swish, Celu, ThresholdedRelu.

Float math follows the ONNX definitions. Int8: a Relu or Clip after a Conv,
Dense, Add or Sub is fused into it as a clamp; every other int8 activation
runs a 256-entry lookup table (attribute ``lut``) built by the quantizer:
TFLite Micro's integer kernel evaluated on all 256 inputs where TFLM has one
(Logistic, Tanh, LeakyRelu, HardSwish), else the float function below.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register

# ONNX default attribute values.
_SELU_ALPHA = 1.67326319217681884765625
_SELU_GAMMA = 1.05070102214813232421875


def _sigmoid(x: np.ndarray, a: dict[str, Any]) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _hard_sigmoid(x: np.ndarray, a: dict[str, Any]) -> np.ndarray:
    return np.clip(a.get("alpha", 0.2) * x + a.get("beta", 0.5), 0.0, 1.0)


_ERF = np.vectorize(math.erf, otypes=[np.float64])


def _gelu(x: np.ndarray, a: dict[str, Any]) -> np.ndarray:
    if a.get("approximate", "none") == "tanh":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + _ERF(x / math.sqrt(2.0)))


def _celu(x: np.ndarray, a: dict[str, Any]) -> np.ndarray:
    alpha = a.get("alpha", 1.0)
    return np.maximum(x, 0.0) + np.minimum(0.0, alpha * np.expm1(np.minimum(x, 0.0) / alpha))


FUNCTIONS: dict[str, Callable[[np.ndarray, dict[str, Any]], np.ndarray]] = {
    "Relu": lambda x, a: np.maximum(x, 0.0),
    "Clip": lambda x, a: np.clip(x, a.get("min", -np.inf), a.get("max", np.inf)),
    "LeakyRelu": lambda x, a: np.where(x >= 0, x, a.get("alpha", 0.01) * x),
    "Sigmoid": _sigmoid,
    "Tanh": lambda x, a: np.tanh(x),
    "Selu": lambda x, a: a.get("gamma", _SELU_GAMMA)
    * np.where(x > 0, x, a.get("alpha", _SELU_ALPHA) * (np.exp(np.minimum(x, 0.0)) - 1.0)),
    "HardSigmoid": _hard_sigmoid,
    "HardSwish": lambda x, a: x * np.clip(x / 6.0 + 0.5, 0.0, 1.0),
    "Elu": lambda x, a: np.where(x >= 0, x, a.get("alpha", 1.0) * np.expm1(np.minimum(x, 0.0))),
    "Softplus": lambda x, a: np.logaddexp(0.0, x),
    "Softsign": lambda x, a: x / (1.0 + np.abs(x)),
    "Neg": lambda x, a: -x,
    "Abs": lambda x, a: np.abs(x),
    "Exp": lambda x, a: np.exp(x),
    "Sqrt": lambda x, a: np.sqrt(x),
    "Reciprocal": lambda x, a: 1.0 / x,
    "Erf": lambda x, a: _ERF(x),
    "Gelu": _gelu,
    "Log": lambda x, a: np.log(x),
    "Floor": lambda x, a: np.floor(x),
    "Ceil": lambda x, a: np.ceil(x),
    "Round": lambda x, a: np.round(x),  # half to even, as ONNX
    "Sign": lambda x, a: np.sign(x),
    "Mish": lambda x, a: x * np.tanh(np.logaddexp(0.0, x)),
    "Swish": lambda x, a: x * _sigmoid(a.get("alpha", 1.0) * x, a),
    "Celu": _celu,
    "ThresholdedRelu": lambda x, a: np.where(x > a.get("alpha", 1.0), x, 0.0),
}

#: The newest ONNX version of each function whose semantics the importer implements
#: (the versions after opset 13 only add types).
VERSIONS = {"Relu": 14, "Clip": 13, "LeakyRelu": 16, "Sigmoid": 13, "Tanh": 13, "Selu": 22,
            "HardSigmoid": 22, "HardSwish": 22, "Elu": 22, "Softplus": 22, "Softsign": 22,
            "Neg": 13, "Abs": 13, "Exp": 13, "Sqrt": 13, "Reciprocal": 13, "Erf": 13,
            "Gelu": 20, "Log": 13, "Floor": 13, "Ceil": 13, "Round": 22, "Sign": 13,
            "Mish": 22, "Swish": 24, "Celu": 28, "ThresholdedRelu": 22}


def float_function(op_type: str, attrs: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    """The float function of an activation node (used to build int8 tables)."""
    fn = FUNCTIONS[op_type]
    return lambda x: fn(np.asarray(x, np.float64), attrs)


class _Activation(Op):
    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        attrs: dict[str, Any] = {}
        for key, value in ctx.attrs(onnx_node).items():
            if key == "approximate":  # Gelu
                if value not in ("none", "tanh"):
                    raise ctx.error(f"approximate='{value}'", "use 'none' or 'tanh'")
                attrs[key] = value
            else:
                attrs[key] = float(value)
        if onnx_node.op_type == "Clip" and len(onnx_node.input) > 1:
            for key, name in zip(("min", "max"), onnx_node.input[1:3], strict=False):
                if name:
                    attrs[key] = float(ctx.require_const(name, f"Clip {key}"))
        ctx.add_node(cls.op_type, [onnx_node.input[0]], [onnx_node.output[0]], attrs,
                     name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        return [(x.shape, x.dtype)]

    def run_float(self, node, graph, xs):
        return [FUNCTIONS[node.op_type](xs[0].astype(np.float64), node.attrs).astype(np.float32)]

    def run_int(self, node, graph, xs):
        lut = np.asarray(node.attrs["lut"], dtype=np.int8)
        return [lut[xs[0].astype(np.int32) + 128]]

    def to_onnx(self, node, graph, builder) -> None:
        attrs = {k: v for k, v in node.attrs.items()
                 if k in ("alpha", "beta", "gamma", "approximate")}
        x = builder.float_input(node.inputs[0])
        y = builder.output_name(node.outputs[0])
        if node.op_type == "Clip":
            bounds = [builder.initializer("clip_min", np.array(node.attrs.get("min", -np.inf),
                                                               np.float32)),
                      builder.initializer("clip_max", np.array(node.attrs.get("max", np.inf),
                                                               np.float32))]
            builder.emit("Clip", [x, *bounds], [y])
        else:
            builder.emit(node.op_type, [x], [y], **attrs)


for _op, _version in VERSIONS.items():
    register(type(_op, (_Activation,), {"op_type": _op, "onnx_types": {_op: _version}}))

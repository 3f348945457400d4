"""Elementwise activations: Relu, Clip, LeakyRelu, Sigmoid, Tanh, Selu,
HardSigmoid, HardSwish, Elu, Softplus, Softsign, Neg, Abs, Exp.

Float math follows the ONNX definitions. Int8: a Relu or Clip after a Conv,
Dense, Add or Sub is fused into it as a clamp; every other int8 activation
runs a 256-entry lookup table (attribute ``lut``) built by the quantizer:
TFLite Micro's integer kernel evaluated on all 256 inputs where TFLM has one
(Logistic, Tanh, LeakyRelu, HardSwish), else the float function below.
"""

from __future__ import annotations

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
}


def float_function(op_type: str, attrs: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    """The float function of an activation node (used to build int8 tables)."""
    fn = FUNCTIONS[op_type]
    return lambda x: fn(np.asarray(x, np.float64), attrs)


class _Activation(Op):
    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        attrs = {k: float(v) for k, v in ctx.attrs(onnx_node).items()}
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
        attrs = {k: v for k, v in node.attrs.items() if k in ("alpha", "beta", "gamma")}
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


def _make(op: str) -> type[_Activation]:
    cls = type(op, (_Activation,), {"op_type": op, "onnx_types": (op,)})
    return register(cls)


Relu = _make("Relu")
Clip = _make("Clip")
LeakyRelu = _make("LeakyRelu")
Sigmoid = _make("Sigmoid")
Tanh = _make("Tanh")
Selu = _make("Selu")
HardSigmoid = _make("HardSigmoid")
HardSwish = _make("HardSwish")
Elu = _make("Elu")
Softplus = _make("Softplus")
Softsign = _make("Softsign")
Neg = _make("Neg")
Abs = _make("Abs")
Exp = _make("Exp")

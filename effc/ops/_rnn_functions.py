"""ONNX's recurrent activations (LSTM, GRU, RNN ``activations``) and each layer's
defaults: shared by the op (ops/rnn.py) and its importer (ops/_rnn_import.py)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

F = Callable[[np.ndarray], np.ndarray]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


#: ONNX's recurrent activations: (function of x, alpha, beta; default alpha, beta).
ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray, float, float], np.ndarray],
                             float | None, float | None]] = {
    "Sigmoid": (lambda x, a, b: _sigmoid(x), None, None),
    "Tanh": (lambda x, a, b: np.tanh(x), None, None),
    "Relu": (lambda x, a, b: np.maximum(x, 0.0), None, None),
    "Affine": (lambda x, a, b: a * x + b, 1.0, 0.0),
    "LeakyRelu": (lambda x, a, b: np.where(x >= 0, x, a * x), 0.01, None),
    "ThresholdedRelu": (lambda x, a, b: np.where(x > a, x, 0.0), 1.0, None),
    "ScaledTanh": (lambda x, a, b: a * np.tanh(b * x), 1.0, 1.0),
    "HardSigmoid": (lambda x, a, b: np.clip(a * x + b, 0.0, 1.0), 0.2, 0.5),
    "Elu": (lambda x, a, b: np.where(x >= 0, x, a * np.expm1(np.minimum(x, 0.0))), 1.0, None),
    "Softsign": (lambda x, a, b: x / (1.0 + np.abs(x)), None, None),
    "Softplus": (lambda x, a, b: np.logaddexp(0.0, x), None, None),
}
DEFAULTS = {"LSTM": ("Sigmoid", "Tanh", "Tanh"), "GRU": ("Sigmoid", "Tanh"), "RNN": ("Tanh",)}


def activation_functions(attrs: dict) -> list[F]:
    """The node's activations with their alpha/beta (consumed in order by those that
    take them, as onnxruntime does)."""
    alphas = list(attrs.get("activation_alpha", []))
    betas = list(attrs.get("activation_beta", []))
    out = []
    for name in attrs["activations"]:
        fn, alpha, beta = ACTIVATIONS[name]
        a = alphas.pop(0) if alpha is not None and alphas else alpha
        b = betas.pop(0) if beta is not None and betas else beta
        out.append(lambda x, fn=fn, a=a, b=b: fn(x, a, b))
    return out

"""Recurrent layers: LSTM, GRU and RNN, one direction each, batch-major.

IR form (the importer, ops/_rnn_import.py, splits a bidirectional layer into a
forward and a reverse node and handles ONNX's layouts):

* LSTM: x [N, T, I], w [4, H, I], r [4, H, H], b [4, H] (input and recurrent
  biases summed), h0 [N, H], c0 [N, H], optional peepholes p [3, H]; gates in
  TFLite's order (input, forget, cell, output; peepholes input, forget, output);
  outputs y [N, T, H], h [N, H], c [N, H].
* GRU: x, w [3, H, I], r [3, H, H], wb [3, H], rb [3, H], h0; gates (update,
  reset, hidden) as ONNX; outputs y [N, T, H], h [N, H].
* RNN: x, w [1, H, I], r [1, H, H], b [1, H], h0; outputs y, h.

Attributes: ``reverse`` (walk the sequence backwards), ``clip`` (bound of the
gate pre-activations, 0 for none), ``activations`` and ``activation_alpha`` /
``activation_beta`` (ONNX's names and defaults), ``input_forget`` (LSTM),
``linear_before_reset`` (GRU), ``seq_lens`` (per batch row, steps past it give
zeros and keep the state). Float math follows the ONNX definitions; int8 LSTM
follows TFLite Micro's integer UNIDIRECTIONAL_SEQUENCE_LSTM and int8 GRU is
effc's own exact scheme (effc/quant/lstm.py, effc/quant/gru.py).
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register
from effc.ops._rnn_functions import activation_functions


def _steps(node: Node, length: int) -> list[int]:
    return list(range(length - 1, -1, -1)) if node.attrs.get("reverse") else list(range(length))


def _alive(node: Node, t: int, batch: int, length: int) -> np.ndarray:
    """[N, 1]: which batch rows are inside their sequence at step ``t``."""
    lens = node.attrs.get("seq_lens") or [length] * batch
    return (t < np.asarray(lens))[:, None]


def _clip(x: np.ndarray, attrs: dict) -> np.ndarray:
    c = attrs.get("clip", 0.0)
    return np.clip(x, -c, c) if c else x


class _Recurrent(Op):
    def macs(self, node: Node, graph: Graph) -> int:
        x = graph.tensors[node.inputs[0]].shape
        w, r = (graph.tensors[n].shape for n in node.inputs[1:3])
        return x[0] * x[1] * (int(np.prod(w)) + int(np.prod(r)))

    def to_onnx(self, node, graph, builder) -> None:
        from effc.ops._rnn_export import export_recurrent

        export_recurrent(node, graph, builder)

    def infer(self, node: Node, graph: Graph):
        n, t, _ = graph.tensors[node.inputs[0]].shape
        h = graph.tensors[node.inputs[2]].shape[-1]
        dtype = graph.tensors[node.inputs[0]].dtype
        states = {"LSTM": 2, "GRU": 1, "RNN": 1}[node.op_type]
        return [((n, t, h), dtype)] + [((n, h), dtype)] * states


@register
class LSTM(_Recurrent):
    op_type = "LSTM"
    onnx_types = {"LSTM": 22}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        from effc.ops._rnn_import import import_recurrent

        import_recurrent(ctx, onnx_node)

    def run_float(self, node, graph, xs):
        return lstm_float(node, xs)[:3]

    def run_int(self, node, graph, xs):
        from effc.quant.lstm import lstm_int8

        return lstm_int8(xs, node.attrs)


def lstm_float(node: Node, xs: list[np.ndarray]) -> list:
    """y, h, c and the largest |cell state| of any step (for the int16 cell scale)."""
    x, w, r, b, h, c = (v.astype(np.float64) for v in xs[:6])
    p = xs[6].astype(np.float64) if len(xs) > 6 else np.zeros((3, w.shape[1]))
    f, g, act_h = activation_functions(node.attrs)
    ys = np.zeros((x.shape[0], x.shape[1], w.shape[1]))
    peak = float(np.abs(c).max(initial=0.0))
    for t in _steps(node, x.shape[1]):
        z = np.einsum("ni,ghi->gnh", x[:, t], w) + np.einsum("nk,ghk->gnh", h, r) + b[:, None]
        i = f(_clip(z[0] + p[0] * c, node.attrs))
        forget = 1.0 - i if node.attrs.get("input_forget") else \
            f(_clip(z[1] + p[1] * c, node.attrs))
        cell = forget * c + i * g(_clip(z[2], node.attrs))
        o = f(_clip(z[3] + p[2] * cell, node.attrs))
        hidden = o * act_h(cell)
        alive = _alive(node, t, x.shape[0], x.shape[1])
        c, h = np.where(alive, cell, c), np.where(alive, hidden, h)
        ys[:, t] = np.where(alive, hidden, 0.0)
        peak = max(peak, float(np.abs(c).max()))
    return [ys.astype(np.float32), h.astype(np.float32), c.astype(np.float32), peak]


@register
class GRU(_Recurrent):
    op_type = "GRU"
    onnx_types = {"GRU": 22}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        from effc.ops._rnn_import import import_recurrent

        import_recurrent(ctx, onnx_node)

    def run_float(self, node, graph, xs):
        x, w, r, wb, rb, h = (v.astype(np.float64) for v in xs[:6])
        f, g = activation_functions(node.attrs)
        ys = np.zeros((x.shape[0], x.shape[1], w.shape[1]))
        for t in _steps(node, x.shape[1]):
            zx = np.einsum("ni,ghi->gnh", x[:, t], w) + wb[:, None]
            zh = np.einsum("nk,ghk->gnh", h, r) + rb[:, None]
            update = f(_clip(zx[0] + zh[0], node.attrs))
            reset = f(_clip(zx[1] + zh[1], node.attrs))
            if node.attrs.get("linear_before_reset"):
                candidate = zx[2] + reset * zh[2]
            else:
                candidate = zx[2] + (reset * h) @ r[2].T + rb[2]
            hidden = (1.0 - update) * g(_clip(candidate, node.attrs)) + update * h
            alive = _alive(node, t, x.shape[0], x.shape[1])
            h = np.where(alive, hidden, h)
            ys[:, t] = np.where(alive, hidden, 0.0)
        return [ys.astype(np.float32), h.astype(np.float32)]

    def run_int(self, node, graph, xs):
        from effc.quant.gru import gru_int8

        return gru_int8(xs, node.attrs)


@register
class RNN(_Recurrent):
    op_type = "RNN"
    onnx_types = {"RNN": 22}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        from effc.ops._rnn_import import import_recurrent

        import_recurrent(ctx, onnx_node)

    def run_float(self, node, graph, xs):
        x, w, r, b, h = (v.astype(np.float64) for v in xs[:5])
        (f,) = activation_functions(node.attrs)
        ys = np.zeros((x.shape[0], x.shape[1], w.shape[1]))
        for t in _steps(node, x.shape[1]):
            hidden = f(_clip(x[:, t] @ w[0].T + h @ r[0].T + b[0], node.attrs))
            alive = _alive(node, t, x.shape[0], x.shape[1])
            h = np.where(alive, hidden, h)
            ys[:, t] = np.where(alive, hidden, 0.0)
        return [ys.astype(np.float32), h.astype(np.float32)]

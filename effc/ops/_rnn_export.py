"""effc's recurrent nodes back to ONNX: one-direction LSTM/GRU/RNN, time-major.

The IR's per-gate weights return to ONNX's gate order and stacked shapes, the
combined LSTM/RNN bias becomes ONNX's input bias (recurrent bias 0). The layer is
written with ``layout=0`` (onnxruntime runs no other): the batch-major input is
transposed to [T, N, I] and the [T, 1, N, H] / [1, N, H] outputs back to the IR's
[N, T, H] / [N, H].
"""

from __future__ import annotations

import numpy as np

#: IR gate order -> ONNX's (LSTM i, f, c, o -> i, o, f, c; peepholes i, f, o -> i, o, f).
LSTM_TO_ONNX, PEEPHOLES_TO_ONNX = [0, 3, 1, 2], [0, 2, 1]


def export_recurrent(node, graph, builder) -> None:
    a = node.attrs
    op = node.op_type
    value = [builder.value(n) for n in node.inputs[1:]]
    w, r = value[0], value[1]
    gates, hidden = w.shape[0], w.shape[1]
    batch = graph.tensors[node.inputs[0]].shape[0]
    if op == "LSTM":
        w, r, bias = w[LSTM_TO_ONNX], r[LSTM_TO_ONNX], value[2][LSTM_TO_ONNX]
        biases = np.concatenate([bias.reshape(-1), np.zeros(gates * hidden, np.float32)])
        h0, extra = value[3], value[4:]
    elif op == "GRU":
        biases = np.concatenate([value[2].reshape(-1), value[3].reshape(-1)])
        h0, extra = value[4], []
    else:
        biases = np.concatenate([value[2].reshape(-1), np.zeros(hidden, np.float32)])
        h0, extra = value[3], []
    lens = a.get("seq_lens")
    x = builder.fresh(node.inputs[0] + "_tnc")
    builder.emit("Transpose", [builder.float_input(node.inputs[0])], [x], perm=[1, 0, 2])
    inputs = [x,
              builder.initializer("W", w.reshape(1, gates * hidden, -1).astype(np.float32)),
              builder.initializer("R", r.reshape(1, gates * hidden, hidden).astype(np.float32)),
              builder.initializer("B", biases.reshape(1, -1).astype(np.float32)),
              builder.initializer("lens", np.array(lens, np.int32)) if lens else "",
              builder.initializer("h0", h0.reshape(1, batch, hidden).astype(np.float32))]
    if op == "LSTM":
        inputs.append(builder.initializer("c0", extra[0].reshape(1, batch, hidden)
                                          .astype(np.float32)))
        if len(extra) > 1:
            inputs.append(builder.initializer("P", extra[1][PEEPHOLES_TO_ONNX].reshape(1, -1)
                                              .astype(np.float32)))
    attrs = {"hidden_size": hidden, "activations": a["activations"],
             "direction": "reverse" if a.get("reverse") else "forward",
             "activation_alpha": a.get("activation_alpha") or None,
             "activation_beta": a.get("activation_beta") or None,
             "clip": a.get("clip") or None,
             "input_forget": a.get("input_forget") or None,
             "linear_before_reset": a.get("linear_before_reset") or None}
    raw = [builder.fresh(o + "_onnx") for o in node.outputs]
    builder.emit(op, inputs, raw, **attrs)
    y = builder.fresh(node.outputs[0] + "_ntdh")
    builder.emit("Transpose", [raw[0]], [y], perm=[2, 0, 1, 3])
    raw[0] = y
    shapes = [[batch, -1, hidden]] + [[batch, hidden]] * (len(node.outputs) - 1)
    for src, out, shape in zip(raw, node.outputs, shapes, strict=True):
        builder.emit("Reshape", [src, builder.initializer("shape", np.array(shape, np.int64))],
                     [builder.output_name(out)])

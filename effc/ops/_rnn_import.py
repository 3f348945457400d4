"""ONNX LSTM, GRU and RNN -> effc's one-direction, batch-major recurrent nodes.

A bidirectional layer becomes a forward and a reverse node whose outputs are
concatenated; ONNX's time-major layout (``layout=0``: X [T, N, I], Y [T, D, N, H],
Y_h [D, N, H]) and batch-major layout (``layout=1``: X [N, T, I], Y [N, T, D, H],
Y_h [N, D, H]) are rebuilt from the nodes' [N, T, H] and [N, H] outputs with
Reshape, Concat and Transpose. Weights are reordered per gate (LSTM to TFLite's
input, forget, cell, output; peepholes input, forget, output), missing biases
and initial states become zeros, and only the outputs the model reads are built.
"""

from __future__ import annotations

import numpy as np

from effc.ops._rnn_functions import ACTIVATIONS, DEFAULTS

#: ONNX gate order -> the IR's (LSTM: i, o, f, c -> i, f, c, o; peepholes i, o, f -> i, f, o).
LSTM_GATES, LSTM_PEEPHOLES = [0, 2, 3, 1], [0, 2, 1]
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def _const(ctx, onnx_node, index: int, what: str) -> np.ndarray | None:
    if len(onnx_node.input) > index and onnx_node.input[index]:
        return ctx.require_const(onnx_node.input[index], what).astype(np.float32)
    return None


def _attrs(ctx, onnx_node, op: str, directions: int) -> list[dict]:
    """Per direction: the IR attributes."""
    attrs = ctx.attrs(onnx_node)
    names = list(attrs.get("activations") or [])
    per_dir = len(DEFAULTS[op])
    if not names:
        names = list(DEFAULTS[op]) * directions
    if len(names) != per_dir * directions or any(n not in ACTIVATIONS for n in names):
        raise ctx.error(f"activations {names}", f"give {per_dir} ONNX activation names per "
                        f"direction from {sorted(ACTIVATIONS)}")
    alphas = list(attrs.get("activation_alpha") or [])
    betas = list(attrs.get("activation_beta") or [])
    out = []
    for d in range(directions):
        own = names[d * per_dir:(d + 1) * per_dir]
        entry: dict = {"activations": own, "reverse": int(
            attrs.get("direction", "forward") == "reverse" or d == 1),
            "clip": float(attrs.get("clip", 0.0))}
        # alpha/beta are consumed in order by the activations that take them
        entry["activation_alpha"] = [alphas.pop(0) for n in own
                                     if ACTIVATIONS[n][1] is not None and alphas]
        entry["activation_beta"] = [betas.pop(0) for n in own
                                    if ACTIVATIONS[n][2] is not None and betas]
        if op == "LSTM":
            entry["input_forget"] = int(attrs.get("input_forget", 0))
        if op == "GRU":
            entry["linear_before_reset"] = int(attrs.get("linear_before_reset", 0))
        out.append(entry)
    return out


def import_recurrent(ctx, onnx_node) -> None:
    op = onnx_node.op_type
    attrs = ctx.attrs(onnx_node)
    layout = int(attrs.get("layout", 0))
    direction = attrs.get("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise ctx.error(f"direction '{direction}'", "use forward, reverse or bidirectional")
    directions = 2 if direction == "bidirectional" else 1
    x = onnx_node.input[0]
    shape = ctx.shape(x)
    if len(shape) != 3:
        raise ctx.error(f"an input of rank {len(shape)}", "give X as [T, N, I] or [N, T, I]")
    steps, batch = (shape[1], shape[0]) if layout else (shape[0], shape[1])
    w = ctx.require_const(onnx_node.input[1], "W").astype(np.float32)
    r = ctx.require_const(onnx_node.input[2], "R").astype(np.float32)
    hidden = r.shape[-1]
    gates = GATES[op]
    b = _const(ctx, onnx_node, 3, "B")
    b = np.zeros((directions, 2 * gates * hidden), np.float32) if b is None else b
    seq_lens = _const(ctx, onnx_node, 4, "sequence_lens")
    h0 = _const(ctx, onnx_node, 5, "initial_h")
    c0 = _const(ctx, onnx_node, 6, "initial_c") if op == "LSTM" else None
    peep = _const(ctx, onnx_node, 7, "P") if op == "LSTM" else None
    if layout and h0 is not None:
        h0 = np.swapaxes(h0, 0, 1)
    if layout and c0 is not None:
        c0 = np.swapaxes(c0, 0, 1)
    x_bm = ctx.transpose(x, [0, 1, 2] if layout else [1, 0, 2])  # [N, T, I]
    per_dir = _attrs(ctx, onnx_node, op, directions)
    outs = []
    for d in range(directions):
        a = per_dir[d]
        if seq_lens is not None:
            lens = [int(v) for v in seq_lens.reshape(-1)]
            if any(not 0 < v <= steps for v in lens):
                raise ctx.error(f"sequence_lens {lens} for {steps} steps",
                                "give lengths between 1 and the sequence length")
            if a["reverse"] and any(v != steps for v in lens):
                raise ctx.error("a reverse direction over sequences shorter than the input",
                                "pad every sequence to the full length")
            a["seq_lens"] = lens
        wd = w[d].reshape(gates, hidden, -1)
        rd = r[d].reshape(gates, hidden, hidden)
        wb, rb = b[d].reshape(2, gates, hidden)
        h_init = np.zeros((batch, hidden), np.float32) if h0 is None else h0[d]
        name = f"{onnx_node.name or op}_{'reverse' if a['reverse'] else 'forward'}"
        if op == "LSTM":
            inputs = [wd[LSTM_GATES], rd[LSTM_GATES], (wb + rb)[LSTM_GATES], h_init,
                      np.zeros((batch, hidden), np.float32) if c0 is None else c0[d]]
            if peep is not None and np.any(peep[d]):
                inputs.append(peep[d].reshape(3, hidden)[LSTM_PEEPHOLES])
        elif op == "GRU":
            inputs = [wd, rd, wb, rb, h_init]
        else:
            inputs = [wd, rd, wb + rb, h_init]
        names = [ctx.constant(f"{name}_{i}", np.ascontiguousarray(v, np.float32))
                 for i, v in enumerate(inputs)]
        results = [ctx.fresh(f"{name}_y"), ctx.fresh(f"{name}_h")]
        if op == "LSTM":
            results.append(ctx.fresh(f"{name}_c"))
        ctx.add_node(op, [x_bm, *names], results, a, name=ctx.graph.unique_name(name))
        outs.append(results)
    _assemble(ctx, onnx_node, outs, layout, steps, batch, hidden)


def _assemble(ctx, onnx_node, outs: list[list[str]], layout: int, steps: int, batch: int,
              hidden: int) -> None:
    """ONNX's Y, Y_h (and Y_c) from the per-direction [N, T, H] and [N, H] values."""
    directions = len(outs)
    wanted = [o if o in ctx.used else "" for o in onnx_node.output]
    if len(wanted) > 0 and wanted[0]:
        parts = [ctx.reshape(o[0], [batch, steps, 1, hidden]) for o in outs]
        joined = _concat(ctx, parts, 2, f"{wanted[0]}_dirs")  # [N, T, D, H]
        ctx.transpose(joined, [0, 1, 2, 3] if layout else [1, 2, 0, 3], dst=wanted[0])
    for k, out in enumerate(wanted[1:], start=1):
        if not out:
            continue
        shape = [batch, 1, hidden] if layout else [1, batch, hidden]
        if directions == 1:
            ctx.reshape(outs[0][k], shape, dst=out)
        else:
            parts = [ctx.reshape(o[k], shape) for o in outs]
            _concat(ctx, parts, 1 if layout else 0, out, dst=out)


def _concat(ctx, parts: list[str], axis: int, base: str, dst: str | None = None) -> str:
    if len(parts) == 1 and dst is None:
        return parts[0]
    dst = dst or ctx.fresh(base)
    ctx.add_node("Concat", parts, [dst], {"axis": axis},
                 name=ctx.graph.unique_name(f"{ctx.node_name}_concat"))
    return dst

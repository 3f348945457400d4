"""The prune pass's data side: running a float graph on calibration data in
batches, and the least-squares reconstruction of the layers whose input
channels were removed (He et al., ICCV 2017; Luo et al., ThiNet, ICCV 2017).
The contract and the refit's formula are in effc/passes/prune.py and
docs/pruning.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from effc.ir import Graph, Node
from effc.ops import get_op
from effc.ops._window import as_2d, as_2d_params, output_spatial, pad_spatial, windows

#: Ridge term of the least-squares refit, relative to the mean diagonal of A^T A.
RIDGE = 1e-3
#: Samples per chunk when running or im2col-ing calibration data.
CHUNK = 32


# --------------------------------------------------------------- running


def batch_axis_kept(graph: Graph, node: Node) -> bool:
    return graph.tensors[node.outputs[0]].shape[:1] == graph.tensors[node.inputs[0]].shape[:1]


def _batchable(graph: Graph) -> bool:
    return all(batch_axis_kept(graph, n) for n in graph.nodes if n.op_type == "Reshape")


def _exec(graph: Graph, node: Node, values: dict[str, np.ndarray], batch: int) -> list[np.ndarray]:
    """Run ``node`` on batched values, ``batch`` samples at a time."""
    op = get_op(node.op_type, node)
    acts = [i for i in node.inputs if i and graph.const(i) is None]
    n = values[acts[0]].shape[0] if acts else 1
    outs: list[list[np.ndarray]] = [[] for _ in node.outputs]
    for start in range(0, n, batch):
        xs = [graph.const(i) if graph.const(i) is not None else values[i][start:start + batch]
              for i in node.inputs if i]
        if node.op_type == "Reshape" and batch_axis_kept(graph, node):
            ys = [xs[0].reshape((xs[0].shape[0], *node.attrs["shape"][1:]))]
        else:
            ys = op.run_float(node, graph, xs)
        for bucket, y in zip(outs, ys, strict=True):
            bucket.append(y)
    return [np.concatenate(b) for b in outs]


def run_batched(graph: Graph, x: np.ndarray,
                on_value: Callable[[str, np.ndarray], None] | None = None) -> list[np.ndarray]:
    """The graph outputs on all samples of ``x`` (float reference math)."""
    batch = CHUNK if _batchable(graph) else graph.tensors[graph.inputs[0]].shape[0]
    values = {graph.inputs[0]: x}
    if on_value is not None:
        on_value(graph.inputs[0], x)
    last_use = {name: i for i, n in enumerate(graph.nodes) for name in n.inputs}
    for i, node in enumerate(graph.nodes):
        for name, y in zip(node.outputs, _exec(graph, node, values, batch), strict=True):
            values[name] = y
            if on_value is not None:
                on_value(name, y)
        for name in node.inputs:
            if last_use.get(name) == i and name not in graph.outputs:
                values.pop(name, None)
    return [values[o] for o in graph.outputs]


def output_error(reference: list[np.ndarray], got: list[np.ndarray]) -> dict[str, float]:
    ref = np.concatenate([r.reshape(-1) for r in reference]).astype(np.float64)
    out = np.concatenate([g.reshape(-1) for g in got]).astype(np.float64)
    norm = float(np.linalg.norm(ref))
    return {"relative_l2": float(np.linalg.norm(out - ref) / max(norm, 1e-30)),
            "max_abs": float(np.max(np.abs(out - ref)))}


# --------------------------------------------------------------- reconstruction


def _pre_activation(node: Node) -> Node:
    attrs = {k: v for k, v in node.attrs.items() if k not in ("activation_min", "activation_max")}
    return Node(node.op_type, node.name, list(node.inputs), list(node.outputs), attrs)


def _design(node: Node, x: np.ndarray) -> np.ndarray:
    """Rows of the layer's linear map: im2col for Conv (OHWI order), features for Dense."""
    if node.op_type == "Dense":
        return x.reshape(-1, x.shape[-1]).astype(np.float64)
    a = node.attrs
    k2, s2, d2, p2 = as_2d_params(a["kernel_shape"], a["strides"], a["dilations"], a["pads"])
    x2 = as_2d(x)
    out_hw = output_spatial(x2.shape[1:3], k2, s2, d2, p2)
    win = windows(pad_spatial(x2.astype(np.float64), p2), k2, s2, d2, out_hw)
    return win.reshape(-1, int(np.prod(win.shape[3:])))


def _refit(node: Node, x: np.ndarray, y: np.ndarray, prior: np.ndarray,
           ridge: float) -> np.ndarray:
    """Least squares theta = [W^T; b] with A theta ~ y, A = [rows of x, 1].

    Ridge toward ``prior`` (the pruned layer's own weights and bias):
    (A^T A + lambda I) theta = A^T y + lambda prior, so a layer with few rows
    (a Dense after global pooling sees one row per sample) stays near its
    weights instead of interpolating the calibration set.
    """
    gram = np.zeros((prior.shape[0], prior.shape[0]))
    rhs = np.zeros(prior.shape)
    rows = 0
    for start in range(0, x.shape[0], CHUNK):
        a = _design(node, x[start:start + CHUNK])
        a = np.hstack([a, np.ones((a.shape[0], 1))])
        gram += a.T @ a
        rhs += a.T @ y[start:start + CHUNK].reshape(a.shape[0], -1).astype(np.float64)
        rows += a.shape[0]
    d = prior.shape[0]
    scale = max(float(np.trace(gram)) / d, 1e-12)
    lam = ridge * scale * max(1.0, d / rows) ** 2
    gram[np.arange(d), np.arange(d)] += lam
    rhs += lam * prior
    try:
        return np.linalg.solve(gram, rhs)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(gram, rhs, rcond=None)[0]


def reconstruct_layers(original: Graph, pruned: Graph, targets: dict[str, np.ndarray],
                       data: np.ndarray, ridge: float | None = None) -> list[dict[str, Any]]:
    """Refit the layers in ``targets`` in ``pruned`` (in place); returns per-layer fit errors.

    ``pruned`` is ``apply_keep(original, ...)`` (same nodes, same order);
    ``targets`` maps a layer name to the mask of its output channels that were kept.
    """
    ridge = RIDGE if ridge is None else ridge
    batch = CHUNK if _batchable(original) and _batchable(pruned) else \
        original.tensors[original.inputs[0]].shape[0]
    vo: dict[str, np.ndarray] = {original.inputs[0]: data}
    vp: dict[str, np.ndarray] = {pruned.inputs[0]: data}
    last_use = {name: i for i, n in enumerate(original.nodes) for name in n.inputs}
    report = []
    for i, (node_o, node_p) in enumerate(zip(original.nodes, pruned.nodes, strict=True)):
        assert node_o.name == node_p.name
        if node_o.name in targets:
            y_ref = _exec(original, _pre_activation(node_o), vo, batch)[0][..., targets[node_o.name]]
            before = _exec(pruned, _pre_activation(node_p), vp, batch)[0]
            w0 = pruned.const(node_p.inputs[1]).astype(np.float64)
            shape = w0.shape
            b0 = pruned.const(node_p.inputs[2]) if len(node_p.inputs) > 2 else np.zeros(shape[0])
            prior = np.vstack([w0.reshape(shape[0], -1).T, np.asarray(b0, np.float64)[None]])
            theta = _refit(node_p, vp[node_p.inputs[0]], y_ref, prior, ridge)
            node_p.inputs[1] = pruned.add_constant(node_p.name + "_w_lsq",
                                                   theta[:-1].T.reshape(shape).astype(np.float32)).name
            bias = pruned.add_constant(node_p.name + "_b_lsq", theta[-1].astype(np.float32)).name
            if len(node_p.inputs) > 2:
                node_p.inputs[2] = bias
            else:
                node_p.inputs.append(bias)
            after = _exec(pruned, _pre_activation(node_p), vp, batch)[0]
            norm = max(float(np.linalg.norm(y_ref)), 1e-30)
            report.append({"layer": node_p.name,
                           "rows": int(np.prod(y_ref.shape[:-1])),
                           "unknowns": int(np.prod(shape[1:])) + 1,
                           "relative_error_before": float(np.linalg.norm(before - y_ref) / norm),
                           "relative_error_after": float(np.linalg.norm(after - y_ref) / norm)})
        for name, y in zip(node_o.outputs, _exec(original, node_o, vo, batch), strict=True):
            vo[name] = y
        for name, y in zip(node_p.outputs, _exec(pruned, node_p, vp, batch), strict=True):
            vp[name] = y
        for name in node_o.inputs:
            if last_use.get(name) == i and name not in original.outputs:
                vo.pop(name, None)
                vp.pop(name, None)
    pruned.prune_unused()
    pruned.validate()
    return report

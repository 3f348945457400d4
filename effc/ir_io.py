"""Save and load IR graphs (graph.json + weights.npz) inside a compiled OUTDIR."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from effc.arrays import READ_ERRORS, member, open_arrays
from effc.errors import EffcError
from effc.ir import Graph, Node, QuantParams, Tensor
from effc.ops import validate


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz archive (np.load reads it) with fixed timestamps: the same arrays
    always give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            entry = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(entry, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)
    return buffer.getvalue()


def graph_files(graph: Graph) -> dict[str, bytes]:
    """``graph.json`` and ``weights.npz``: the IR as files (name -> content)."""
    weights = {}
    tensors = []
    for tensor in graph.tensors.values():
        entry: dict[str, Any] = {"name": tensor.name, "shape": list(tensor.shape),
                                 "dtype": tensor.dtype, "layout": tensor.layout}
        if tensor.quant is not None:
            entry["quant"] = tensor.quant.to_json()
        if tensor.data is not None:
            key = f"t{len(weights)}"
            weights[key] = tensor.data
            entry["data"] = key
        tensors.append(entry)
    doc = {
        "name": graph.name,
        "inputs": graph.inputs,
        "outputs": graph.outputs,
        "tensors": tensors,
        "nodes": [{"op_type": n.op_type, "name": n.name, "inputs": n.inputs,
                   "outputs": n.outputs, "attrs": _plain(n.attrs)} for n in graph.nodes],
    }
    return {"graph.json": json.dumps(doc).encode(), "weights.npz": _npz(weights)}


def load_graph(folder: Path) -> Graph:
    """The IR saved by ``graph_files``; a missing, corrupt or truncated file is one line."""
    try:
        doc = json.loads((folder / "graph.json").read_text())
        weights = open_arrays(folder / "weights.npz", "compiled weights")
        graph = Graph(name=doc["name"], inputs=doc["inputs"], outputs=doc["outputs"])
        for entry in doc["tensors"]:
            quant = None
            if "quant" in entry:
                q = entry["quant"]
                quant = QuantParams(np.array(q["scale"]), np.array(q["zero_point"]), q["axis"])
            data = member(weights, entry["data"], f"'{folder}'") if "data" in entry else None
            graph.add_tensor(Tensor(entry["name"], tuple(entry["shape"]), entry["dtype"],
                                    entry["layout"], data, quant))
        graph.nodes = [Node(n["op_type"], n["name"], n["inputs"], n["outputs"], n["attrs"])
                       for n in doc["nodes"]]
        validate(graph)
    except (*READ_ERRORS, KeyError, TypeError, AttributeError, EffcError):
        raise EffcError(f"'{folder}' holds no readable compiled graph (missing, corrupt or "
                        "truncated); run 'effc compile' again") from None
    return graph

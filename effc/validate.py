"""``effc validate``: the float model against the compiled one on real data (like
X-CUBE-AI's validate): top-1 agreement, accuracy when labels are given, and per output
the L2 relative error, cosine similarity and SQNR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from effc.arrays import member, open_arrays
from effc.compiler import CompiledModel
from effc.errors import EffcError
from effc.frontend.importer import load
from effc.reference.interpreter import run_batches

INPUT_KEYS = ("x", "inputs", "x_test")
LABEL_KEYS = ("y", "labels", "y_test")


def load_data(path: str | Path, input_names: list[str], inputs_key: str | None = None,
              labels_key: str | None = None) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """The samples (one array per model input, samples on axis 0) and the labels.

    A .npy holds one input's samples; an .npz holds arrays named like the inputs or
    ``inputs_key`` (else x, inputs or x_test) and the labels as ``labels_key`` (else y,
    labels or y_test, when present)."""
    p = Path(path)
    if not p.is_file():
        raise EffcError(f"data file '{path}' does not exist; give --data FILE.npz (or .npy)")
    value = open_arrays(p, "data file")
    what = f"data file '{path}'"
    if not isinstance(value, np.lib.npyio.NpzFile):
        if len(input_names) != 1:
            raise EffcError(f"the model has {len(input_names)} inputs; give an .npz with one "
                            "array per input, named like it")
        return {input_names[0]: np.asarray(value)}, None
    keys = list(value.keys())
    if all(n in keys for n in input_names):
        feeds = {n: member(value, n, what) for n in input_names}
    else:
        key = inputs_key or next((k for k in INPUT_KEYS if k in keys), None)
        if key is None or key not in keys or len(input_names) != 1:
            raise EffcError(f"{what} holds {', '.join(keys)}; name the samples with "
                            "--inputs-key KEY (or store them as 'x')")
        feeds = {input_names[0]: member(value, key, what)}
    label = labels_key or next((k for k in LABEL_KEYS if k in keys), None)
    if labels_key is not None and labels_key not in keys:
        raise EffcError(f"{what} has no array '{labels_key}'; it holds {', '.join(keys)}")
    labels = member(value, label, what).reshape(-1) if label else None
    return feeds, labels


def _metrics(y: np.ndarray, ref: np.ndarray, labels: np.ndarray | None) -> dict[str, Any]:
    y = y.astype(np.float64)
    ref = ref.astype(np.float64)
    err = y - ref
    ref_norm = float(np.linalg.norm(ref))
    out: dict[str, Any] = {
        "values": int(ref.size),
        "l2_relative_error": float(np.linalg.norm(err) / ref_norm) if ref_norm else None,
        "cosine": float(np.dot(y.ravel(), ref.ravel()) /
                        (np.linalg.norm(y) * ref_norm)) if ref_norm and np.linalg.norm(y)
        else None,
        "sqnr_db": float(10 * np.log10(np.sum(ref ** 2) / np.sum(err ** 2)))
        if np.sum(err ** 2) else float("inf"),
        "max_abs_error": float(np.abs(err).max()),
    }
    if ref.ndim >= 2 and ref.shape[-1] > 1:
        rows = ref.reshape(ref.shape[0], -1)
        got = y.reshape(y.shape[0], -1)
        out["top1_agreement"] = float(np.mean(rows.argmax(1) == got.argmax(1)))
        if labels is not None:
            if labels.shape[0] != rows.shape[0]:
                raise EffcError(f"{labels.shape[0]} labels for {rows.shape[0]} samples; give "
                                "one label per sample")
            out["accuracy_float"] = float(np.mean(rows.argmax(1) == labels))
            out["accuracy_compiled"] = float(np.mean(got.argmax(1) == labels))
    return out


def _dequantized(values: np.ndarray, port: dict[str, Any]) -> np.ndarray:
    if port["dtype"] == "int8" and port.get("scale") is not None:
        return (values.astype(np.float64) - port["zero_point"]) * port["scale"]
    return values.astype(np.float64)


def _quantized(values: np.ndarray, port: dict[str, Any]) -> np.ndarray:
    if port["dtype"] == "int8" and values.dtype != np.int8:
        q = np.round(values.astype(np.float64) / port["scale"]) + port["zero_point"]
        return np.clip(q, -128, 127).astype(np.int8)
    return values


def validate(model: str | Path, outdir: str | Path, data: str | Path, engine: str = "host",
             inputs_key: str | None = None, labels_key: str | None = None,
             limit: int | None = None) -> dict[str, Any]:
    """Run the float ``model`` (effc's float reference) and the compiled OUTDIR on
    ``engine`` over the data; the metrics per output (dequantized int8 outputs)."""
    compiled = CompiledModel.open(outdir)
    ports_in = (compiled.manifest.get("c") or {}).get("inputs")
    ports_out = (compiled.manifest.get("c") or {}).get("outputs")
    float_graph = load(model)
    feeds, labels = load_data(data, list(float_graph.inputs), inputs_key, labels_key)
    count = min(v.shape[0] for v in feeds.values())
    if limit is not None:
        count = min(count, limit)
        labels = labels[:count] if labels is not None else None
    feeds = {k: np.ascontiguousarray(v[:count]) for k, v in feeds.items()}
    reference = run_batches(float_graph, {k: v.astype(np.float32) for k, v in feeds.items()})
    compiled_in = {}
    for k, v in feeds.items():
        port = next((p for p in ports_in or [] if p["name"] == k), None)
        compiled_in[k] = _quantized(v, port) if port else v.astype(np.float32)
    if len(compiled_in) != len(compiled.graph.inputs) or set(compiled_in) != set(
            compiled.graph.inputs):
        raise EffcError(f"'{outdir}' was compiled from a model with inputs "
                        f"{', '.join(compiled.graph.inputs)}, not {', '.join(feeds)}; give the "
                        "model it was compiled from")
    result = compiled.run(engine, compiled_in)
    outputs = {}
    for n, name in zip(float_graph.outputs, compiled.graph.outputs, strict=False):
        port = next((p for p in ports_out or [] if p["name"] == name), {"dtype": "float32"})
        got = _dequantized(result.values[name], port)
        ref = np.asarray(reference[n])
        if got.shape != ref.shape:
            got = got.reshape(ref.shape)
        outputs[name] = _metrics(got, ref, labels)
    return {"samples": count, "engine": engine, "outputs": outputs}

"""The compile-time self-check: the generated code, built here, against the reference.

``effc compile --board`` (``compile_model`` with a board) runs the target's
check engine (the C target: the library built for the host, the same cached
build ``--engine host`` then loads; the HLS target: the C simulation) on up to
``SAMPLES`` calibration samples, or on ``SAMPLES`` seeded random inputs when
there are none (QDQ and float models). An int8 core must match the integer
reference bit for bit; a float core must stay within ``FLOAT_RTOL`` of the
float reference, measured against the largest reference magnitude (float32 C
with its own summation order and expf/tanhf against numpy's float64 math:
digits, KWS and the hls4ml models stay below 1e-5); a float ArgMax/ArgMin index
may differ where its two scores are that close (``near_ties``). A target whose project
has its own testbench gets the same inputs and the reference's outputs as
test vectors (``write_vectors``).

On a mismatch the compile fails with one line naming the first layer whose
output differs, where the engine can trace every layer (the host build
defined ``EFFC_HOST_TRACE``, so a hook gets every layer's output, which is
compared with the reference's intermediate values, ``run_graph(..., keep=True)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from effc.artifact import Artifact
from effc.codegen import Vectors, split_core
from effc.engines import Engine, get_engine
from effc.errors import EffcError
from effc.ir import Graph
from effc.outdir import OutDir
from effc.reference import run_batches, run_graph
from effc.reference.interpreter import inference_count, inference_feeds

SAMPLES = 8
SEED = 0
FLOAT_RTOL = 1e-4


def _input_quant(compiled: Artifact, name: str):
    """The quantization of the int8 value a float input is quantized into, if any."""
    graph = compiled.graph
    consumers = graph.consumers(name)
    if len(consumers) == 1 and consumers[0].op_type == "QuantizeLinear":
        return graph.tensors[consumers[0].outputs[0]].quant
    return None


def _index_bound(graph: Graph, name: str) -> int:
    """The indices an index input may hold are in [-bound, bound): the smallest table
    a Gather reads with it."""
    dims = [graph.tensors[n.inputs[0]].shape[n.attrs["axis"]] for n in graph.nodes
            if n.op_type == "Gather" and n.inputs[1] == name]
    return min(dims, default=1)


def verification_inputs(compiled: Artifact, calib: Any
                        ) -> tuple[dict[str, np.ndarray], str]:
    """Up to SAMPLES calibration samples, else SAMPLES seeded random inputs covering
    each input's int8 range (or standard normal for a float model)."""
    graph = compiled.graph
    tensors = [graph.tensors[name] for name in graph.inputs]
    if calib is not None and not (isinstance(calib, str) and calib == "random") and \
            all(t.dtype != "int8" for t in tensors):
        from effc.passes.quantize import load_calibration

        data = load_calibration(calib, graph)
        count = min(inference_count(graph, data), SAMPLES)
        if count:
            return ({t.name: data[t.name][:count * t.shape[0]] for t in tensors},
                    f"{count} calibration samples")
    rng = np.random.default_rng(SEED)
    feeds = {}
    for tensor in tensors:
        shape = (SAMPLES * tensor.shape[0], *tensor.shape[1:])
        quant = _input_quant(compiled, tensor.name)
        if tensor.dtype == "int8":
            feeds[tensor.name] = rng.integers(-128, 128, shape).astype(np.int8)
        elif tensor.dtype != "float32":  # indices: every valid one, negative ones too
            dim = _index_bound(graph, tensor.name)
            feeds[tensor.name] = rng.integers(-dim, dim, shape).astype(tensor.dtype)
        elif quant is not None:
            q = rng.integers(-128, 128, shape).astype(np.float32)
            feeds[tensor.name] = ((q - np.float32(quant.zero_point))
                                  * np.float32(quant.scale)).astype(np.float32)
        else:
            feeds[tensor.name] = rng.standard_normal(shape).astype(np.float32)
    return feeds, f"{SAMPLES} random inputs (seed {SEED})"


def _float_close(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Elementwise: within FLOAT_RTOL of the reference's largest finite magnitude; a NaN
    (log of a negative sum) or an infinity agrees only with the same value."""
    got, ref = got.astype(np.float64), ref.astype(np.float64)
    finite = np.isfinite(ref)
    bound = FLOAT_RTOL * max(1.0, float(np.abs(ref[finite]).max(initial=0.0)))
    same = (got == ref) | (np.isnan(got) & np.isnan(ref))
    return same | (np.abs(got - ref) <= bound)


def _differs(got: np.ndarray, ref: np.ndarray, exact: bool) -> np.ndarray:
    return (got != ref) if exact else ~_float_close(got, ref)


#: Ops that keep their input's values in the same flat order (an index output after them
#: still names the same scores).
_FLAT_VIEWS = ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity")


def near_ties(graph: Graph, feeds: dict[str, np.ndarray], name: str, got: np.ndarray,
              ref: np.ndarray) -> np.ndarray:
    """Where a float ArgMax/ArgMin output ``name`` (or a reshaped view of one) differs
    between ``got`` and ``ref`` (stacked over the inferences of ``feeds``) only by
    picking between two scores within FLOAT_RTOL of each other: a near tie, which
    float32 C and numpy's float64 math break differently (a sigmoid saturates to 1.0 a
    little earlier in expf). A boolean mask, all False for any other output; the scores
    are the reference's."""
    mask = np.zeros(ref.shape, bool)
    node = graph.producer(name)
    while node is not None and node.op_type in _FLAT_VIEWS:
        node = graph.producer(node.inputs[0])
    if node is None or node.op_type not in ("ArgMax", "ArgMin") or \
            graph.tensors[node.inputs[0]].dtype != "float32":
        return mask
    rows = graph.tensors[name].shape[0]
    picked = tuple(graph.tensors[node.outputs[0]].shape)
    keepdims = bool(node.attrs.get("keepdims", 1))
    for i in range(inference_count(graph, feeds)):
        scores = run_graph(graph, inference_feeds(graph, feeds, i), keep=True)[node.inputs[0]]
        scores = np.asarray(scores, np.float64)
        axis = int(node.attrs.get("axis", 0)) % scores.ndim
        chunk = slice(i * rows, (i + 1) * rows)
        picks = [np.asarray(v[chunk]).reshape(picked) for v in (got, ref)]
        if not keepdims:
            picks = [np.expand_dims(p, axis) for p in picks]
        size = scores.shape[axis]
        g, r = (np.take_along_axis(scores, np.clip(p, 0, size - 1).astype(np.intp), axis)
                for p in picks)
        finite = scores[np.isfinite(scores)]
        bound = FLOAT_RTOL * max(1.0, float(np.abs(finite).max(initial=0.0)))
        tie = (picks[0] >= 0) & (picks[0] < size) & (np.abs(g - r) <= bound)
        mask[chunk] = (tie if keepdims else np.squeeze(tie, axis)).reshape(mask[chunk].shape)
    return mask


def _differing(graph: Graph, feeds: dict[str, np.ndarray], name: str, got: np.ndarray,
               ref: np.ndarray, exact: bool) -> np.ndarray:
    """Where ``got`` differs from the reference ``ref`` of tensor ``name`` (stacked over the
    inferences of ``feeds``), as the self-check counts it: bit for bit, or beyond the float
    tolerance except where a float ArgMax/ArgMin broke a near tie the other way."""
    differs = _differs(got, ref, exact)
    if not exact and differs.any():
        differs &= ~near_ties(graph, feeds, name, got, ref)
    return differs


def first_differing_layer(compiled: Artifact, feeds: dict[str, np.ndarray], exact: bool,
                          engine: str = "host") -> tuple[dict[str, Any], int, int] | None:
    """(manifest layer, differing values, layer size) of the first layer whose output
    on ``engine`` (one that traces, the host) differs from the reference on one
    inference's ``feeds``; None when every layer agrees. A float ArgMax/ArgMin layer
    that only broke near ties the other way (``near_ties``) agrees, as in the check."""
    trace = get_engine(engine).trace
    assert trace is not None
    values = run_graph(compiled.graph, feeds, keep=True)
    layers = {layer["index"]: layer for layer in compiled.manifest["c"]["layers"]}
    for index, raw in trace(compiled, feeds):
        layer = layers[index]
        ref = np.asarray(values[layer["output"]])
        got = np.frombuffer(raw, dtype=ref.dtype).reshape(ref.shape)
        count = int(np.count_nonzero(_differing(compiled.graph, feeds, layer["output"], got,
                                                 ref, exact)))
        if count:
            return layer, count, ref.size
    return None


def write_vectors(compiled: Artifact, calib: Any, vectors: Vectors, section: dict[str, Any],
                  out: OutDir) -> None:
    """The self-check's inputs and, for each inference, every tensor of the integer
    reference, handed to the target's ``vectors`` (its project's test vectors)."""
    graph = compiled.graph
    feeds, _ = verification_inputs(compiled, calib)
    values = [run_graph(graph, inference_feeds(graph, feeds, i), keep=True)
              for i in range(inference_count(graph, feeds))]
    vectors(section, out, values)


def _where(compiled: Artifact, engine: Engine, feeds: dict[str, np.ndarray], exact: bool
           ) -> str:
    """Where an inference first differs: the layer, if the engine traces every layer."""
    if engine.trace is None:
        return f"the {engine.name} engine does not trace single layers"
    found = first_differing_layer(compiled, feeds, exact, engine.name)
    if found is None:
        return "every layer agrees, so the float interface (quantize/dequantize) differs"
    layer, count, layer_size = found
    return (f"the first differing layer is {layer['index']} '{layer['node']}' "
            f"({layer['op']}, kernel {layer['kernel']}): {count} of {layer_size} values")


def verify_build(compiled: Artifact, calib: Any = None, engine_name: str = "host"
                 ) -> dict[str, Any]:
    """Run the self-check on ``engine_name`` (the target's check engine); return its
    manifest entry or raise the one-line EffcError."""
    graph = compiled.graph
    engine = get_engine(engine_name)
    label = engine.label or engine.name
    # an int8 core is compared bit for bit whatever its index ports (an embedding's ids)
    split = split_core(graph)
    exact = any(graph.tensors[p.core].dtype == "int8" for p in split.inputs + split.outputs)
    feeds, source = verification_inputs(compiled, calib)
    ref = run_batches(graph, feeds)
    got = engine.run(compiled, feeds, False).values
    differs = {n: _differing(graph, feeds, n, got[n], ref[n], exact) for n in ref}
    differing = sum(int(np.count_nonzero(d)) for d in differs.values())
    size = sum(int(v.size) for v in ref.values())
    what = "integer reference" if exact else "float reference"
    result = {"engine": engine.name, "checked": label, "inputs": source,
              "samples": inference_count(graph, feeds), "compared_with": what,
              "criterion": "bit-exact" if exact else
              f"|{engine.name} - reference| <= {FLOAT_RTOL:g} * max(1, max |reference|)",
              "differing_values": differing, "output_values": size}
    if differing == 0:
        return result
    # the inference that produced the first difference, in the first differing output
    name = next(n for n in ref if differs[n].any())
    rows = np.nonzero(differs[name])[0]
    chunk = int(rows[0]) // graph.tensors[name].shape[0]
    where = _where(compiled, engine, inference_feeds(graph, feeds, chunk), exact)
    raise EffcError(f"self-check failed: the {label} of the generated code differs from the "
                    f"{what}; {where} (sample {chunk}; {differing} of {size} output values "
                    "differ); this is an effc bug: please report it with the model, or compile "
                    "with --no-verify")

"""The compile-time self-check: the generated C, built for the host, against the reference.

``effc compile --board`` (``compile_model`` with a board) builds the generated
library for the host (the same cached build ``--engine host`` then loads) and
runs it on up to ``SAMPLES`` calibration samples, or on ``SAMPLES`` seeded
random inputs when there are none (QDQ and float models). An int8 core must
match the integer reference bit for bit; a float core must stay within
``FLOAT_RTOL`` of the float reference, measured against the largest reference
magnitude (float32 C with its own summation order and expf/tanhf against
numpy's float64 math: digits, KWS and the hls4ml models stay below 1e-5).

On a mismatch the compile fails with one line naming the first layer whose
output differs: the host build defined ``EFFC_HOST_TRACE``, so a hook gets
every layer's output, which is compared with the reference's intermediate
values (``run_graph(..., keep=True)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from effc.artifact import Artifact
from effc.engines import get_engine
from effc.errors import EffcError
from effc.ir import Graph
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
    """Elementwise: within FLOAT_RTOL of the reference's largest magnitude."""
    bound = FLOAT_RTOL * max(1.0, float(np.abs(ref.astype(np.float64)).max(initial=0.0)))
    return np.abs(got.astype(np.float64) - ref.astype(np.float64)) <= bound


def _differs(got: np.ndarray, ref: np.ndarray, exact: bool) -> np.ndarray:
    return (got != ref) if exact else ~_float_close(got, ref)


def first_differing_layer(compiled: Artifact, feeds: dict[str, np.ndarray], exact: bool
                          ) -> tuple[dict[str, Any], int, int] | None:
    """(manifest layer, differing values, layer size) of the first layer whose host
    output differs from the reference on one inference's ``feeds``; None when every
    layer agrees."""
    trace = get_engine("host").trace
    assert trace is not None
    values = run_graph(compiled.graph, feeds, keep=True)
    layers = {layer["index"]: layer for layer in compiled.manifest["c"]["layers"]}
    for index, raw in trace(compiled, feeds):
        layer = layers[index]
        ref = np.asarray(values[layer["output"]])
        got = np.frombuffer(raw, dtype=ref.dtype).reshape(ref.shape)
        count = int(np.count_nonzero(_differs(got, ref, exact)))
        if count:
            return layer, count, ref.size
    return None


def verify_host(compiled: Artifact, calib: Any = None) -> dict[str, Any]:
    """Run the self-check; return its manifest entry or raise the one-line EffcError."""
    graph = compiled.graph
    rtl = "rtl" in compiled.manifest
    engine = "verilator" if rtl else "host"
    exact = rtl or compiled.manifest["c"]["core_dtype"] == "int8"
    feeds, source = verification_inputs(compiled, calib)
    ref = run_batches(graph, feeds)
    got = get_engine(engine).run(compiled, feeds, False).values
    differing = sum(int(np.count_nonzero(_differs(got[n], ref[n], exact))) for n in ref)
    size = sum(int(v.size) for v in ref.values())
    what = "integer reference" if exact else "float reference"
    result = {"engine": engine, "inputs": source, "samples": inference_count(graph, feeds),
              "compared_with": what,
              "criterion": "bit-exact" if exact else
              f"|host - reference| <= {FLOAT_RTOL:g} * max(1, max |reference|)",
              "differing_values": differing, "output_values": size}
    if differing == 0:
        return result
    if rtl:
        raise EffcError(f"self-check failed: the Verilator simulation of the accelerator "
                        f"differs from the integer reference in {differing} of {size} output "
                        "values; this is an effc bug: please report it with the model, or "
                        "compile with --no-verify")
    # the inference that produced the first difference, in the first differing output
    name = next(n for n in ref if np.any(_differs(got[n], ref[n], exact)))
    rows = np.nonzero(_differs(got[name], ref[name], exact))[0]
    chunk = int(rows[0]) // graph.tensors[name].shape[0]
    found = first_differing_layer(compiled, inference_feeds(graph, feeds, chunk), exact)
    where = "every layer agrees, so the float interface (quantize/dequantize) differs"
    if found is not None:
        layer, count, layer_size = found
        where = (f"the first differing layer is {layer['index']} '{layer['node']}' "
                 f"({layer['op']}, kernel {layer['kernel']}): {count} of {layer_size} values")
    raise EffcError(f"self-check failed: the host build of the generated C differs from the "
                    f"{what}; {where} (sample {chunk}; {differing} of {size} output values "
                    "differ); this is an effc bug: please report it with the model, or compile "
                    "with --no-verify")

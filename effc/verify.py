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

from typing import TYPE_CHECKING, Any

import numpy as np

from effc.errors import EffcError
from effc.reference import run_graph, run_samples

if TYPE_CHECKING:
    from effc.compiler import CompiledModel

SAMPLES = 8
SEED = 0
FLOAT_RTOL = 1e-4


def _input_quant(compiled: CompiledModel):
    """The quantization of the int8 value a float input is quantized into, if any."""
    graph = compiled.graph
    first = graph.nodes[0] if graph.nodes else None
    if first is not None and first.op_type == "QuantizeLinear" and \
            first.inputs[0] == graph.inputs[0]:
        return graph.tensors[first.outputs[0]].quant
    return None


def verification_inputs(compiled: CompiledModel, calib: Any) -> tuple[np.ndarray, str]:
    """Up to SAMPLES calibration samples, else SAMPLES seeded random inputs covering
    the input's int8 range (or standard normal for a float model)."""
    graph = compiled.graph
    tensor = graph.tensors[graph.inputs[0]]
    batch = tensor.shape[0]
    if calib is not None and not (isinstance(calib, str) and calib == "random") and \
            tensor.dtype == "float32":
        from effc.passes.quantize import load_calibration

        data = load_calibration(calib, graph)
        rows = min(data.shape[0], SAMPLES * batch) // batch * batch
        if rows:
            return data[:rows], f"{rows // batch} calibration samples"
    rng = np.random.default_rng(SEED)
    shape = (SAMPLES * batch, *tensor.shape[1:])
    quant = _input_quant(compiled)
    if tensor.dtype == "int8":
        x = rng.integers(-128, 128, shape).astype(np.int8)
    elif quant is not None:
        q = rng.integers(-128, 128, shape).astype(np.float32)
        x = ((q - np.float32(quant.zero_point)) * np.float32(quant.scale)).astype(np.float32)
    else:
        x = rng.standard_normal(shape).astype(np.float32)
    return x, f"{SAMPLES} random inputs (seed {SEED})"


def _float_close(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Elementwise: within FLOAT_RTOL of the reference's largest magnitude."""
    bound = FLOAT_RTOL * max(1.0, float(np.abs(ref.astype(np.float64)).max(initial=0.0)))
    return np.abs(got.astype(np.float64) - ref.astype(np.float64)) <= bound


def _differing(got: np.ndarray, ref: np.ndarray, exact: bool) -> int:
    if exact:
        return int(np.count_nonzero(got != ref))
    return int(np.count_nonzero(~_float_close(got, ref)))


def first_differing_layer(compiled: CompiledModel, sample: np.ndarray, exact: bool
                          ) -> tuple[dict[str, Any], int, int] | None:
    """(manifest layer, differing values, layer size) of the first layer whose host
    output differs from the reference on ``sample``; None when every layer agrees."""
    from effc.engines.native import trace_host

    graph = compiled.graph
    values = run_graph(graph, {graph.inputs[0]: sample}, keep=True)
    layers = {layer["index"]: layer for layer in compiled.manifest["c"]["layers"]}
    for index, raw in trace_host(compiled, sample):
        layer = layers[index]
        ref = np.asarray(values[layer["output"]])
        got = np.frombuffer(raw, dtype=ref.dtype).reshape(ref.shape)
        count = _differing(got, ref, exact)
        if count:
            return layer, count, ref.size
    return None


def verify_host(compiled: CompiledModel, calib: Any = None) -> dict[str, Any]:
    """Run the self-check; return its manifest entry or raise the one-line EffcError."""
    from effc.engines.native import run_host

    exact = compiled.manifest["c"]["core_dtype"] == "int8"
    x, source = verification_inputs(compiled, calib)
    ref = run_samples(compiled.graph, x)
    got = run_host(compiled, x).outputs
    differing = _differing(got, ref, exact)
    what = "integer reference" if exact else "float reference"
    result = {"engine": "host", "inputs": source, "samples": x.shape[0],
              "compared_with": what,
              "criterion": "bit-exact" if exact else
              f"|host - reference| <= {FLOAT_RTOL:g} * max(1, max |reference|)",
              "differing_values": differing, "output_values": int(ref.size)}
    if differing == 0:
        return result
    graph = compiled.graph
    batch, out_rows = (graph.tensors[t[0]].shape[0] for t in (graph.inputs, graph.outputs))
    rows = np.nonzero((got != ref) if exact else ~_float_close(got, ref))[0]
    chunk = int(rows[0]) // out_rows  # the inference that produced the first difference
    found = first_differing_layer(compiled, x[chunk * batch:(chunk + 1) * batch], exact)
    where = "every layer agrees, so the float interface (quantize/dequantize) differs"
    if found is not None:
        layer, count, size = found
        where = (f"the first differing layer is {layer['index']} '{layer['node']}' "
                 f"({layer['op']}, kernel {layer['kernel']}): {count} of {size} values")
    raise EffcError(f"self-check failed: the host build of the generated C differs from the "
                    f"{what}; {where} (sample {chunk}; {differing} of {ref.size} output values "
                    "differ); this is an effc bug: please report it with the model, or compile "
                    "with --no-verify")

"""Post-training int8 quantization of a float model, and the QDQ import path.

Contract: ``quantize_graph`` expects channels-last float IR with BatchNorm
folded. For a QDQ model it keeps exactly the model's scales and zero points;
for a float model it calibrates every activation on the user's samples
(Jacob et al., CVPR 2018; per-channel symmetric weights as in Krishnamoorthi,
arXiv:1806.08342). It guarantees an integer graph (see ``lower_int8``) that
keeps the ONNX interface: a float input is quantized on entry and a float
output dequantized on exit. It returns that graph and a report: per layer the
SQNR of the int8 output against float, and the weight and activation ranges.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from effc.arrays import member, open_arrays
from effc.errors import EffcError
from effc.ir import Graph, Node, QuantParams, Tensor
from effc.ops.rnn import lstm_float
from effc.passes.calibrate import Observer, calibrate_range, choose_quant, parse_calibrators
from effc.passes.fuse_activation import fuse_activation
from effc.passes.layout import optimize_layout
from effc.passes.lower_int8 import keeps_scale, lower_int8
from effc.passes.lower_int8_core import (
    FIXED_OUTPUT,
    INTERNAL_OUTPUTS,
    POOLS,
    TIED_OUTPUTS,
)
from effc.passes.qdq_import import annotate_qdq
from effc.reference import run_graph
from effc.reference.interpreter import inference_count, inference_feeds

#: Calibration samples used for the SQNR report.
REPORT_SAMPLES = 64


Calibration = str | np.ndarray | Mapping[str, np.ndarray]
RANDOM_INFERENCES = 32


def load_calibration(calib: Calibration, graph: Graph) -> dict[str, np.ndarray]:
    """Calibration samples per model input: ``[k * shape[0], *shape[1:]]`` float32 each.

    ``calib`` is an array (one-input model), a mapping {input: array}, "random",
    or a file: ``FILE.npy``, ``FILE.npz`` (arrays named like the inputs, or its
    only array), ``FILE.npz:ARRAY`` (one-input model).
    """
    if isinstance(calib, str) and calib == "random":
        sys.stderr.write(
            "effc: WARNING: --calib random calibrates on random noise; the int8 model's "
            "accuracy is meaningless. Give real samples with --calib FILE.npy\n")
        rng = np.random.default_rng(0)
        return {n: rng.standard_normal((RANDOM_INFERENCES * graph.tensors[n].shape[0],
                                        *graph.tensors[n].shape[1:])).astype(np.float32)
                for n in graph.inputs}
    if isinstance(calib, str):
        calib = _calibration_file(calib, graph)
    if isinstance(calib, Mapping):
        missing = [n for n in graph.inputs if n not in calib]
        if missing:
            raise EffcError(f"calibration data holds arrays {sorted(calib)}, not the model "
                            f"inputs {missing}; name one array after each input")
        arrays = {n: np.asarray(calib[n]) for n in graph.inputs}
    elif len(graph.inputs) == 1:
        arrays = {graph.inputs[0]: np.asarray(calib)}
    else:
        raise EffcError(f"the model has {len(graph.inputs)} inputs {list(graph.inputs)}; give "
                        "calibration data as an .npz with one array per input name")
    for name, data in arrays.items():
        _check_samples(graph, name, data)
        if graph.tensors[name].dtype != "float32":
            arrays[name] = data.astype(graph.tensors[name].dtype)
    inference_count(graph, arrays)  # a whole number of inferences, the same for all
    return arrays


def _calibration_file(calib: str, graph: Graph) -> Calibration:
    path, key = Path(calib), None
    if not path.is_file() and ":" in calib:  # FILE.npz:ARRAY picks one array
        head, _, key = calib.rpartition(":")
        path = Path(head)
    if not path.is_file():
        raise EffcError(f"calibration file '{calib}' does not exist; give a .npy/.npz of "
                        "samples on axis 0")
    data = open_arrays(path, "calibration file")
    if not isinstance(data, np.lib.npyio.NpzFile):
        if key is not None:
            raise EffcError(f"--calib {calib}: '{path}' is a .npy file with one array; drop "
                            f"':{key}'")
        return data
    keys = list(data.keys())
    if key is None and all(n in keys for n in graph.inputs):
        return {n: member(data, n, f"calibration file '{path}'") for n in graph.inputs}
    if key is None and len(keys) == 1:
        key = keys[0]
    if key not in keys:
        raise EffcError(f"calibration file '{path}' holds arrays {keys}; pick one with "
                        f"--calib {path}:ARRAY, or name one array after each model input")
    return member(data, key, f"calibration file '{path}'")


def _check_samples(graph: Graph, name: str, data: np.ndarray) -> None:
    tensor = graph.tensors[name]
    expected = tuple(tensor.shape[1:])
    if data.ndim != len(tensor.shape) or tuple(data.shape[1:]) != expected:
        raise EffcError(f"calibration data has shape {list(data.shape)}; the model input "
                        f"'{name}' needs [N, {', '.join(map(str, expected))}]")
    if tensor.dtype != "float32":  # an index input (token ids of an embedding lookup)
        if data.dtype.kind not in "iu":
            raise EffcError(f"calibration data for '{name}' has dtype {data.dtype}; the model "
                            f"input holds {tensor.dtype} indices: save the samples as "
                            f"{tensor.dtype}")
    elif data.dtype != np.float32:
        raise EffcError(f"calibration data has dtype {data.dtype}; the model input is "
                        f"float32: save the samples as float32")
    if data.shape[0] == 0:
        raise EffcError("calibration data holds no samples")
    if not np.isfinite(data).all():
        rows = (~np.isfinite(data)).reshape(len(data), -1).any(axis=1)
        bad = [int(i) for i in np.nonzero(rows)[0][:5]]
        raise EffcError(f"calibration data holds NaN or infinite values (samples {bad}); "
                        "remove or fix those samples")


def _observe(graph: Graph, data: dict[str, np.ndarray]) -> Observer:
    """Every input and node output over all calibration inferences (the model's
    own batch at a time)."""
    observer = Observer()

    def record(node: Node, ys: list[np.ndarray]) -> None:
        if node.op_type == "MaxPool":
            _floor_padding_only_windows(ys[0], observer.lo.get(node.inputs[0], 0.0))
        for out, y in zip(node.outputs, ys, strict=True):
            if y.dtype == np.float32:
                observer.add(out, y)

    lstms = [n for n in graph.nodes if n.op_type == "LSTM"]
    for i in range(inference_count(graph, data)):
        feeds = inference_feeds(graph, data, i)
        for name, value in feeds.items():
            observer.add(name, value)
        values = run_graph(graph, feeds, observer=record, keep=bool(lstms))
        for node in lstms:  # the int16 cell state's range: its largest value over the steps
            xs = [graph.const(n) if graph.const(n) is not None else values[n]
                  for n in node.inputs if n]
            peak = lstm_float(node, xs)[3]
            observer.extra[node.name] = max(observer.extra.get(node.name, 0.0), peak)
    return observer


def _floor_padding_only_windows(y: np.ndarray, input_lo: float) -> None:
    """A MaxPool window over padding only gives the lowest float (-FLT_MAX, as
    onnxruntime); the int8 pool keeps its input's scale and gives -128 there, the bottom
    of the input's range. Calibration observes that value instead (in place, so the nodes
    after it see it too): -FLT_MAX is a marker, not data, and would stretch every range
    downstream (a Concat's) beyond what int8 scales can hold."""
    y[y == np.finfo(np.float32).min] = min(0.0, input_lo)


def _annotate(graph: Graph, observer: Observer, spec: str) -> dict[str, tuple[float, float]]:
    default, overrides = parse_calibrators(spec)
    known = set(graph.tensors)
    for name in overrides:
        if name not in known:
            raise EffcError(f"--calibrator names tensor '{name}', which the model does not "
                            "have; see 'effc inspect' for names")
    ranges: dict[str, tuple[float, float]] = {}
    for node in graph.nodes:
        if node.name in observer.extra:
            node.attrs["cell_peak"] = observer.extra[node.name]
    targets = [*graph.inputs, *(o for n in graph.nodes for o in n.outputs)]
    producers = {o: (n, i) for n in graph.nodes for i, o in enumerate(n.outputs)}
    for name in targets:
        node, index = producers.get(name, (None, 0))
        tensor = graph.tensors[name]
        if tensor.dtype != "float32" or (node is not None and index in INTERNAL_OUTPUTS.get(
                node.op_type, ())):
            continue  # indices, and states the integer lowering quantizes itself
        if node is not None and node.op_type in FIXED_OUTPUT:
            scale, zp = FIXED_OUTPUT[node.op_type]
            tensor.quant = QuantParams(np.float32(scale), np.int32(zp))
            continue
        if node is not None and (keeps_scale(graph, node) or node.op_type in POOLS):
            tensor.quant = graph.tensors[node.inputs[0]].quant
            continue
        if node is not None and index in TIED_OUTPUTS.get(node.op_type, {}):
            tensor.quant = graph.tensors[node.outputs[TIED_OUTPUTS[node.op_type][index]]].quant
            continue
        lo, hi = calibrate_range(observer, name, overrides.get(name, default))
        ranges[name] = (lo, hi)
        tensor.quant = choose_quant(lo, hi, name)
        if node is not None and node.op_type in ("Add", "Sub"):
            tensor.quant = _sum_representable(graph, node, lo, hi, tensor.quant)
    return ranges


def _sum_representable(graph: Graph, node: Node, lo: float, hi: float,
                       quant: QuantParams) -> QuantParams:
    """TFLite's int8 ADD/SUB scale both inputs by 2^20 / (2 max(s1, s2)) and need the
    output's multiplier below 1: an output range below 2^-19 of the inputs' (a
    difference of two nearly equal large values) is widened to the smallest that
    works (effc's choice; TFLite's converter would fail)."""
    scales = []
    for name in node.inputs:
        t = graph.tensors[name]
        q = t.quant if t.quant is not None or t.data is None else choose_quant(
            float(t.data.min()), float(t.data.max()))
        if q is None:
            return quant
        scales.append(float(np.max(q.scale)))
    floor = 2.0 * max(scales) / (1 << 20) * (1.0 + 2.0 ** -16)
    if float(quant.scale) >= floor:
        return quant
    scale = np.float32(floor)
    return QuantParams(scale, np.int32(np.clip(np.round(-128 - min(lo, 0.0) / float(scale)),
                                               -128, 127)))


def _add_boundaries(graph: Graph) -> dict[str, str]:
    """Quantize every float input on entry and dequantize the outputs on exit.

    Returns {int8 tensor name: float tensor name} for the renamed outputs.
    """
    renamed = {}
    for name in graph.inputs:
        src = graph.tensors[name]
        if src.dtype != "float32":
            continue  # an index input (an embedding lookup's token ids) enters as it is
        inner = graph.unique_name(name + "_int8")
        graph.add_tensor(Tensor(inner, src.shape, "float32", src.layout, quant=src.quant))
        graph.replace_uses(name, inner)
        src.quant = None
        graph.nodes.insert(0, Node("QuantizeLinear", graph.unique_name("quantize_input"),
                                   [name], [inner]))
    for out in list(graph.outputs):
        tensor = graph.tensors[out]
        if tensor.dtype != "float32":
            continue  # an index output (ArgMax) leaves the model as it is
        inner = graph.unique_name(out + "_int8")
        graph.rename_tensor(out, inner)
        renamed[inner] = out
        graph.add_tensor(Tensor(out, tensor.shape, "float32", tensor.layout))
        graph.nodes.append(Node("DequantizeLinear", graph.unique_name("dequantize_output"),
                                [inner], [out]))
        graph.outputs[graph.outputs.index(inner)] = out
    return renamed


def _sqnr_db(ref: np.ndarray, got: np.ndarray) -> float:
    noise = float(np.sum((ref.astype(np.float64) - got) ** 2))
    signal = float(np.sum(ref.astype(np.float64) ** 2))
    if noise == 0:
        return 99.0  # exact (reported as >= 99 dB; JSON has no infinity)
    return min(99.0, 10.0 * np.log10(max(signal, 1e-30) / noise))


def _report(float_graph: Graph, int_graph: Graph, data: dict[str, np.ndarray],
            ranges: dict[str, tuple[float, float]], renamed: dict[str, str]
            ) -> list[dict[str, Any]]:
    from effc.quant.int8 import dequantize

    float_vals: dict[str, list[np.ndarray]] = {}
    int_vals: dict[str, list[np.ndarray]] = {}
    for i in range(min(REPORT_SAMPLES, inference_count(float_graph, data))):
        feeds = inference_feeds(float_graph, data, i)
        for store, graph in ((float_vals, float_graph), (int_vals, int_graph)):
            for key, value in run_graph(graph, feeds, keep=True).items():
                store.setdefault(key, []).append(value)
    layers = []
    for node in int_graph.nodes:
        tensor = int_graph.tensors[node.outputs[0]]
        out = renamed.get(node.outputs[0], node.outputs[0])
        if out not in float_vals or tensor.quant is None or tensor.dtype != "int8":
            continue
        ref = np.concatenate(float_vals[out])
        got = dequantize(np.concatenate(int_vals[tensor.name]), float(tensor.quant.scale),
                         int(tensor.quant.zero_point))
        entry: dict[str, Any] = {"name": node.name, "op": node.op_type,
                                 "sqnr_db": round(_sqnr_db(ref, got), 2)}
        if out in ranges:
            entry["activation_range"] = [round(v, 6) for v in ranges[out]]
        if node.op_type in ("Conv", "ConvTranspose", "Dense"):
            w = float_graph.const(_float_weight(float_graph, node.name))
            if w is not None:
                entry["weight_range"] = [round(float(w.min()), 6), round(float(w.max()), 6)]
        layers.append(entry)
    return layers


def _float_weight(graph: Graph, node_name: str) -> str:
    for node in graph.nodes:
        if node.name == node_name and len(node.inputs) > 1:
            return node.inputs[1]
    return ""


def quantize_graph(graph: Graph, options: Any) -> tuple[Graph, dict[str, Any]]:
    graph = fuse_activation(graph)
    has_qdq = any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in graph.nodes)
    if has_qdq:
        graph = optimize_layout(annotate_qdq(graph))
        return lower_int8(graph, options.weight_quant), {
            "source": "QDQ model (scales and zero points as given)"}
    if options.calib is None:
        raise EffcError("int8 quantization of a float model needs calibration samples: give "
                        "--calib FILE.npy (samples on axis 0), or --quantize none")
    data = load_calibration(options.calib, graph)
    float_graph = graph.clone()
    observer = _observe(graph, data)
    ranges = _annotate(graph, observer, options.calibrator or "minmax")
    renamed = _add_boundaries(graph)
    graph.toposort()
    int_graph = lower_int8(graph, options.weight_quant)
    layers = _report(float_graph, int_graph, data, ranges, renamed)
    source = "random noise (--calib random)" if isinstance(options.calib, str) and \
        options.calib == "random" else f"{inference_count(graph, data)} samples"
    return int_graph, {"calibration": source, "calibrator": options.calibrator or "minmax",
                       "weights": options.weight_quant, "layers": layers}

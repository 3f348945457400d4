"""Loading ONNX files safely: parse, refuse unsafe external data, fix the batch.

Everything a user can get wrong here ends in an EffcError with one line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from google.protobuf.message import DecodeError

from effc.errors import EffcError

#: Opsets of the default ONNX domain the importer understands.
MIN_OPSET, MAX_OPSET = 6, 28
#: Largest single tensor accepted (elements); bigger than any MCU/FPGA target.
MAX_TENSOR_ELEMENTS = 64 * 1024 * 1024
#: A leading input dimension above this (or symbolic) is a batch we fix to 1.
HUGE_BATCH = 4096


def parse_input_shapes(specs: list[str] | None) -> dict[str, tuple[int, ...]]:
    """Parse ``NAME=1x49x10x1`` overrides."""
    shapes: dict[str, tuple[int, ...]] = {}
    for spec in specs or []:
        name, sep, dims = spec.rpartition("=")
        try:
            shape = tuple(int(d) for d in dims.lower().split("x"))
        except ValueError:
            shape = ()
        if not sep or not name or not shape or any(d <= 0 for d in shape):
            raise EffcError(
                f"bad --input-shape '{spec}'; write NAME=DxDxD with positive "
                "integers, e.g. input_1=1x49x10x1"
            )
        shapes[name] = shape
    return shapes


def _names_are_text(model: onnx.ModelProto) -> bool:
    graph = model.graph
    names: list[object] = [graph.name]
    for node in graph.node:
        names += [node.name, node.op_type, node.domain, *node.input, *node.output]
        names += [a.name for a in node.attribute]
    for value in [*graph.input, *graph.output, *graph.value_info]:
        names.append(value.name)
        names += [d.dim_param for d in value.type.tensor_type.shape.dim]
    names += [t.name for t in graph.initializer]
    return all(isinstance(n, str) for n in names)


def _check_external_data(model: onnx.ModelProto, folder: Path) -> None:
    root = folder.resolve()
    for tensor in _all_tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        target = (root / location).resolve()
        if Path(location).is_absolute() or not target.is_relative_to(root):
            raise EffcError(
                f"tensor '{tensor.name}' points at external data '{location}' outside "
                "the model's folder; refusing it (move the data next to the model)"
            )
        if not target.is_file():
            raise EffcError(
                f"external data file '{location}' of tensor '{tensor.name}' is missing; "
                "copy it next to the model"
            )


def _all_tensors(model: onnx.ModelProto) -> list[onnx.TensorProto]:
    """Every tensor of the model, those of subgraphs (If, Loop, Scan bodies) included."""
    tensors: list[onnx.TensorProto] = []
    graphs = [model.graph]
    while graphs:
        graph = graphs.pop()
        tensors += list(graph.initializer)
        tensors += [s.values for s in graph.sparse_initializer]
        for node in graph.node:
            for attr in node.attribute:
                tensors += [attr.t] if attr.HasField("t") else []
                tensors += list(attr.tensors)
                graphs += [attr.g] if attr.HasField("g") else []
                graphs += list(attr.graphs)
    return tensors


def _check_sizes(model: onnx.ModelProto) -> None:
    for tensor in _all_tensors(model):
        elements = int(np.prod(tensor.dims, dtype=np.float64)) if tensor.dims else 1
        if any(d < 0 for d in tensor.dims) or elements > MAX_TENSOR_ELEMENTS:
            raise EffcError(
                f"tensor '{tensor.name}' has {elements} elements (dims {list(tensor.dims)}), "
                f"over the limit of {MAX_TENSOR_ELEMENTS}; this model is too large for an "
                "embedded target or corrupt"
            )


def _fix_input_shapes(
    model: onnx.ModelProto, overrides: dict[str, tuple[int, ...]]
) -> None:
    initializers = {t.name for t in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    known = {i.name for i in graph_inputs}
    for name in overrides:
        if name not in known:
            raise EffcError(
                f"--input-shape names '{name}', which is not a model input; "
                f"inputs are {sorted(known)}"
            )
    for value in graph_inputs:
        tensor_type = value.type.tensor_type
        dims = tensor_type.shape.dim
        if not tensor_type.HasField("shape") or not dims:
            raise EffcError(f"input '{value.name}' is a scalar (or has no shape); effc runs "
                            "batches of samples: export the model with an input of shape "
                            "[1, ...]")
        if value.name in overrides:
            shape = overrides[value.name]
            if len(shape) != len(dims):
                raise EffcError(
                    f"--input-shape {value.name} has rank {len(shape)} but the model "
                    f"input has rank {len(dims)}"
                )
        else:
            shape = []
            for axis, dim in enumerate(dims):
                fixed = dim.HasField("dim_value") and 0 < dim.dim_value
                if axis == 0 and (not fixed or dim.dim_value > HUGE_BATCH):
                    shape.append(1)
                elif fixed:
                    shape.append(dim.dim_value)
                else:
                    raise EffcError(
                        f"input '{value.name}' has a symbolic dimension {axis} "
                        f"('{dim.dim_param}'); give it with --input-shape "
                        f"{value.name}=..."
                    )
        for dim, size in zip(dims, shape, strict=True):
            dim.Clear()
            dim.dim_value = int(size)
    # Output and intermediate shapes are recomputed from the fixed inputs.
    del model.graph.value_info[:]
    for value in model.graph.output:
        for dim in value.type.tensor_type.shape.dim:
            dim.Clear()


def load_onnx(
    path: str | Path, input_shapes: dict[str, tuple[int, ...]] | None = None
) -> onnx.ModelProto:
    """Read, validate and shape-infer an ONNX file. Raises EffcError."""
    path = Path(path)
    if not path.is_file():
        raise EffcError(f"model file '{path}' does not exist; check the path")
    data = path.read_bytes()
    if not data:
        raise EffcError(f"model file '{path}' is empty; re-export the model")
    try:
        model = onnx.ModelProto()
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError):
        raise EffcError(
            f"'{path}' is not a valid ONNX file (truncated or another format); "
            "re-export it with onnx"
        ) from None
    return prepare_model(model, path.parent, input_shapes, f"'{path}'")


def prepare_model(
    model: onnx.ModelProto,
    folder: Path | None,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    what: str = "the model",
) -> onnx.ModelProto:
    """Validate a parsed model, fix its input shapes and infer the rest. External data
    must lie under ``folder`` (None: a model in memory, whose external data is refused).
    ``what`` names the model in errors. Raises EffcError."""
    if not _names_are_text(model):
        raise EffcError(f"{what} holds names that are not valid UTF-8 text; the file is "
                        "corrupt, re-export it")
    if not model.graph.node and not model.graph.output:
        raise EffcError(f"{what} holds no ONNX graph; is it really an .onnx file?")
    opset = next(
        (o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None
    )
    if opset is None or not MIN_OPSET <= opset <= MAX_OPSET:
        raise EffcError(
            f"{what} uses ONNX opset {opset}; effc supports opsets {MIN_OPSET} to "
            f"{MAX_OPSET}: convert it with onnx.version_converter"
        )
    external = any(t.data_location == onnx.TensorProto.EXTERNAL for t in _all_tensors(model))
    if external and folder is None:
        raise EffcError(f"{what} refers to external data; load it into the model first "
                        "(onnx.load_external_data_for_model) or load the file")
    if folder is not None:
        _check_external_data(model, folder)
    _check_sizes(model)
    if external and folder is not None:
        from onnx.external_data_helper import load_external_data_for_model

        try:
            load_external_data_for_model(model, str(folder))
        except (ValueError, OSError) as exc:
            detail = " ".join(str(exc).split())[:200]
            raise EffcError(f"{what}: external data cannot be read ({detail}); re-export "
                            "the model with its data file") from None
    _fix_input_shapes(model, input_shapes or {})
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # ValidationError, and decode errors on corrupt strings
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EffcError(f"{what} fails the ONNX checker: {first}") from None
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:  # onnx raises several types here
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise EffcError(
            f"{what} has inconsistent shapes: {first[:300]}; fix the model or "
            "--input-shape"
        ) from None
    return model

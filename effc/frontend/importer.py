"""ONNX -> effc IR.

Constant subgraphs are evaluated with ``onnx.reference`` first; every other
node is translated by the ``from_onnx`` of the op registered for its type.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator

from effc.errors import EffcError
from effc.frontend.context import ONNX_DTYPES, ImportContext
from effc.frontend.loader import MAX_TENSOR_ELEMENTS, load_onnx, prepare_model
from effc.ir import Graph, QuantParams, Tensor
from effc.names import c_identifier
from effc.ops import onnx_importer, supported_onnx_ops
from effc.ops.quantize_linear import int8_values, int8_zero_point


def _evaluate(node: onnx.NodeProto, values: dict[str, np.ndarray], opset: int) -> list[np.ndarray]:
    if node.op_type == "DequantizeLinear":
        hint = _dequant_hint(node, values)
        q = int8_values(values[node.input[0]]).astype(np.float32)
        scale, zero_point = hint.scale, hint.zero_point.astype(np.float32)
        if hint.axis is not None:
            shape = [1] * q.ndim
            shape[hint.axis] = -1
            scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
        return [((q - zero_point) * scale).astype(np.float32)]
    inputs = [
        onnx.helper.make_tensor_value_info(n, onnx.TensorProto.UNDEFINED, None)
        for n in node.input
        if n
    ]
    outputs = [
        onnx.helper.make_tensor_value_info(n, onnx.TensorProto.UNDEFINED, None)
        for n in node.output
    ]
    graph = onnx.helper.make_graph([node], "fold", inputs, outputs)
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)])
    try:
        return list(ReferenceEvaluator(model).run(None, {n: values[n] for n in node.input if n}))
    except Exception as exc:
        raise EffcError(
            f"node '{node.name}' ({node.op_type}) on constants could not be evaluated "
            f"({type(exc).__name__}); simplify the model with onnxsim"
        ) from None


def _dtype(elem_type: int, what: str) -> str:
    if elem_type not in ONNX_DTYPES:
        name = onnx.TensorProto.DataType.Name(elem_type)
        raise EffcError(f"{what} has element type {name}; effc supports float32 and int8")
    return ONNX_DTYPES[elem_type]


#: The element types of a model's inputs and outputs: float32, int8 (effc's integer
#: interface) and integer indices (an embedding's input, an ArgMax output).
INTERFACE_DTYPES = ("float32", "int8", "int64", "int32")


def _check_interface(name: str, dtype: str, kind: str) -> None:
    if dtype == "uint8":
        raise EffcError(f"the model {kind} '{name}' is uint8; give the model a float {kind} "
                        "(QuantizeLinear/DequantizeLinear inside) or an int8 one; effc's integer "
                        "interface is int8")
    if dtype not in INTERFACE_DTYPES:
        raise EffcError(f"the model {kind} '{name}' has element type {dtype}; effc's model "
                        f"{kind}s are float32, int8 or integer indices")


def import_model(model: onnx.ModelProto, name: str = "model") -> Graph:
    """Translate a loaded, shape-inferred ONNX model into an IR graph."""
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    graph = Graph(name=name)
    consts: dict[str, np.ndarray] = {}
    hints: dict[str, QuantParams] = {}
    for init in model.graph.initializer:
        consts[init.name] = numpy_helper.to_array(init)
    initializer_names = set(consts)
    for value in model.graph.input:
        if value.name in initializer_names:
            continue
        tensor_type = value.type.tensor_type
        shape = tuple(d.dim_value for d in tensor_type.shape.dim)
        dtype = _dtype(tensor_type.elem_type, f"input '{value.name}'")
        _check_interface(value.name, dtype, "input")
        graph.add_tensor(Tensor(value.name, shape, dtype))
        graph.inputs.append(value.name)

    ctx = ImportContext(graph, opset)
    ctx.used = {o.name for o in model.graph.output} | {i for n in model.graph.node
                                                       for i in n.input if i}
    ctx.elem_types = {v.name: v.type.tensor_type.elem_type for v in
                      [*model.graph.input, *model.graph.value_info, *model.graph.output]}
    ctx.elem_types |= {t.name: t.data_type for t in model.graph.initializer}
    supported = supported_onnx_ops()
    for node in model.graph.node:
        # A node whose inputs are all constant is evaluated now (constant folding);
        # a folded DequantizeLinear keeps its quantization as a hint on the result.
        standard = node.domain in ("", "ai.onnx")
        key = node.op_type if standard else f"{node.domain}.{node.op_type}"
        if not standard and onnx_importer(key) is None:
            raise EffcError(
                f"node '{node.name}' uses op {key} from a custom domain; effc supports the "
                f"standard ONNX ops and onnxruntime's QOperator ops: {', '.join(supported)}"
            )
        static = _static_shape_value(node, graph)
        if static is not None:  # shapes are static: Shape and Size are constants
            consts[node.output[0]] = static
            continue
        if all(i in consts for i in node.input if i):
            results = _evaluate(node, consts, opset)
            for out, value in zip(node.output, results, strict=False):
                value = np.asarray(value)
                if value.size > MAX_TENSOR_ELEMENTS:
                    raise EffcError(
                        f"constant '{out}' has {value.size} elements, over the limit; "
                        "this model is too large for an embedded target"
                    )
                consts[out] = value
            if node.op_type == "DequantizeLinear":
                hints[node.output[0]] = _dequant_hint(node, consts)
            continue
        for name in node.input:
            if name in consts and name not in graph.tensors:
                value = consts[name]
                if value.dtype == np.float64:
                    value = value.astype(np.float32)
                graph.add_tensor(Tensor(name, tuple(value.shape), str(value.dtype),
                                        data=value, quant=hints.get(name)))
        importer = onnx_importer(key)
        if importer is None:
            raise EffcError(
                f"op {node.op_type} (node '{node.name}') is not supported; "
                f"supported ops: {', '.join(supported)}"
            )
        ctx.node = node
        ctx.version = _checked_version(node, key, opset, importer.onnx_types[key])
        _check_integer_inputs(ctx, node, importer)
        importer.from_onnx(ctx, node)
        for out in node.output:  # outputs nothing reads may stay unbuilt
            if out and out in ctx.used and out not in graph.tensors:
                raise EffcError(f"node '{node.name}' output '{out}' was not produced")
    for value in model.graph.output:
        if value.name in consts and value.name not in graph.tensors:
            raise EffcError(
                f"output '{value.name}' is a constant; effc compiles models whose "
                "outputs depend on their inputs"
            )
        _check_interface(value.name, _dtype(value.type.tensor_type.elem_type,
                                            f"output '{value.name}'"), "output")
        graph.outputs.append(value.name)
    graph.prune_unused()
    graph.validate()
    return graph


def _static_shape_value(node: onnx.NodeProto, graph: Graph) -> np.ndarray | None:
    """The value of a Shape or Size of an activation (effc's shapes are static)."""
    if node.op_type not in ("Shape", "Size") or node.domain not in ("", "ai.onnx"):
        return None
    tensor = graph.tensors.get(node.input[0])
    if tensor is None:
        return None
    if node.op_type == "Size":
        return np.array(tensor.size, np.int64)
    attrs = {a.name: a.i for a in node.attribute}
    rank = len(tensor.shape)
    start, end = attrs.get("start", 0), attrs.get("end", rank)
    start, end = (min(max(v + rank if v < 0 else v, 0), rank) for v in (start, end))
    return np.array(tensor.shape[start:end], np.int64)


def _checked_version(node: onnx.NodeProto, key: str, opset: int, read: int) -> int:
    """The version of ``node``'s op that the model's opset selects; refused when it is
    newer than the newest version whose semantics effc implements."""
    if node.domain not in ("", "ai.onnx"):
        return read
    since = onnx.defs.get_schema(node.op_type, opset, "").since_version
    if since > read:
        raise EffcError(
            f"node '{node.name}' ({node.op_type}): opset {opset} selects {node.op_type} version "
            f"{since}, whose semantics effc does not implement (it implements versions up to "
            f"{read}); convert the model to an older opset with onnx.version_converter")
    return since


def _check_integer_inputs(ctx: ImportContext, node: onnx.NodeProto, importer: type) -> None:
    """An op that computes (not one that only moves values) on an ONNX integer tensor
    would have integer semantics (wrapping, truncating division) that effc does not
    implement: effc computes float32, or int8 that quantization parameters give a meaning."""
    if importer.moves_values or node.op_type in INTEGER_OPS or node.domain not in ("", "ai.onnx"):
        return
    for name in node.input:
        tensor = ctx.graph.tensors.get(name) if name else None
        if tensor is not None and not tensor.is_constant and tensor.dtype != "float32":
            raise ctx.error(f"{tensor.dtype} input '{name}' (ONNX integer arithmetic)",
                            "effc computes in float32, or in int8 quantized with "
                            "QuantizeLinear/DequantizeLinear")


#: Ops defined on integer inputs that effc imports (quantized models' own ops).
INTEGER_OPS = {"DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger",
               "MatMulInteger", "Cast"}


def _dequant_hint(node: onnx.NodeProto, consts: dict[str, np.ndarray]) -> QuantParams:
    """The quantization of a constant DequantizeLinear, in effc's int8 domain."""
    scale = consts[node.input[1]]
    zero_point = consts[node.input[2]] if len(node.input) > 2 and node.input[2] else 0
    if consts[node.input[0]].dtype == np.uint8:
        zero_point = int8_zero_point(np.asarray(zero_point, np.uint8))
    axis = None
    if np.ndim(scale) > 0 and np.size(scale) > 1:
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        axis %= np.ndim(consts[node.input[0]])
    return QuantParams(np.asarray(scale), np.asarray(zero_point), axis).check(
        f"node '{node.name}' ({node.op_type})")


def load(
    path: str | Path,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    simplify: bool = True,
) -> Graph:
    """Load an ONNX file into a simplified, channels-last IR graph."""
    return _imported(load_onnx(path, input_shapes), _model_name(path), simplify, f"'{path}'")


def load_model(
    model: onnx.ModelProto,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    name: str = "model",
    simplify: bool = True,
) -> Graph:
    """``load`` for a model already in memory (external data must be loaded)."""
    prepared = prepare_model(onnx.ModelProto.FromString(model.SerializeToString()),
                             None, input_shapes)
    return _imported(prepared, c_identifier(name, fallback="model"), simplify, "the model")


def _imported(model: onnx.ModelProto, name: str, simplify: bool, what: str) -> Graph:
    from effc.passes.pipeline import frontend_pipeline

    try:
        graph = import_model(model, name=name)
        if simplify:
            graph = frontend_pipeline(graph)
    except EffcError:
        raise
    except (ValueError, IndexError, KeyError, TypeError, ZeroDivisionError) as exc:
        # A model that passed the checker but whose contents contradict
        # themselves (for example attributes that do not fit the shapes).
        detail = " ".join(str(exc).split())[:200]
        raise EffcError(f"{what} is malformed ({type(exc).__name__}: {detail}); re-export "
                        "the model") from None
    return graph


def _model_name(path: str | Path) -> str:
    """The model file's stem as a C symbol prefix (ASCII, lower case, clear of
    effc's own names: ``modèle.onnx`` -> ``modele``, ``effc_nn.onnx`` -> ``m_effc_nn``)."""
    return c_identifier(Path(path).stem.lower(), fallback="model")

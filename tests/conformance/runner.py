"""Run one backend test case through effc's float reference and classify the result.

The case's first input (and every float input of an op that combines activations)
stays a model input; every other input (weights, shapes, axes, indices, scales)
becomes an initializer holding the data set's value, as in a real exported model
(effc compiles models with fixed weights). Outputs are compared the way onnx's own
backend runner does: same dtype and shape, ``assert_allclose`` with the case's
rtol/atol.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

from effc.errors import EffcError
from effc.frontend.importer import load_model
from effc.reference import run_graph
from tests.conformance.cases import Case, DataSet

#: Ops whose float inputs are all activations (they combine two or more values).
ACTIVATION_OPERANDS = {
    "Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "Sum", "Mean", "MatMul", "Concat",
    "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Where", "And", "Or", "Xor",
    "Mod", "BitShift", "Expand",
}

PASS, WRONG, ERROR, REFUSED = "pass", "wrong", "error", "refused"


@dataclass
class Outcome:
    status: str  # PASS, WRONG (ran, differs), ERROR (crashed), REFUSED (EffcError)
    detail: str = ""


def _graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """The inputs a data set feeds (IR < 4 also lists the initializers as inputs)."""
    initializers = {t.name for t in model.graph.initializer}
    return [v for v in model.graph.input if v.name not in initializers]


def _runtime_inputs(case: Case, model: onnx.ModelProto) -> list[bool]:
    """Which fed inputs stay model inputs (the others become initializers)."""
    flags = []
    for i, value in enumerate(_graph_inputs(model)):
        is_float = value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        if case.suite != "node":
            flags.append(True)  # stored models: the weights are initializers already
        else:  # a node case (or a function's expansion) follows the op it tests
            flags.append(i == 0 or (is_float and case.ops[0] in ACTIVATION_OPERANDS))
    return flags


def fed_inputs(case: Case) -> list[onnx.ValueInfoProto]:
    """The inputs that stay model inputs when ``case`` runs."""
    return [v for v, live in zip(_graph_inputs(case.model), _runtime_inputs(case, case.model),
                                 strict=True) if live]


def feeds_of(case: Case, inputs: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The values fed to the model inputs (the other inputs become initializers)."""
    runtime = _runtime_inputs(case, case.model)
    return {v.name: np.asarray(x) for v, live, x in
            zip(_graph_inputs(case.model), runtime, inputs, strict=False) if live}


def _with_initializers(model: onnx.ModelProto, runtime: list[bool], inputs: list[np.ndarray]
                       ) -> onnx.ModelProto:
    model = onnx.ModelProto.FromString(model.SerializeToString())
    constant = {}
    for value, live, data in zip(_graph_inputs(model), runtime, inputs, strict=False):
        if not live:
            constant[value.name] = data
            model.graph.initializer.append(numpy_helper.from_array(np.asarray(data), value.name))
    if model.ir_version >= 4:  # before IR 4 every initializer is also a graph input
        keep = [v for v in model.graph.input if v.name not in constant]
        del model.graph.input[:]
        model.graph.input.extend(keep)
    return model


def _compare(got: np.ndarray, want: np.ndarray, case: Case, name: str) -> str:
    got = np.asarray(got)
    if got.dtype != want.dtype:
        return f"output {name}: dtype {got.dtype}, expected {want.dtype}"
    if got.shape != want.shape:
        return f"output {name}: shape {list(got.shape)}, expected {list(want.shape)}"
    try:
        np.testing.assert_allclose(got, want, rtol=case.rtol, atol=case.atol)
    except AssertionError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if "Max" in line]
        return f"output {name}: " + "; ".join(lines)
    return ""


def tensor_only(model: onnx.ModelProto) -> bool:
    """Do the graph's inputs and outputs all hold tensors (no sequence, optional, map)?"""
    values = [*model.graph.input, *model.graph.output]
    return all(v.type.WhichOneof("value") == "tensor_type" for v in values)


def run_data_set(case: Case, data: DataSet) -> Outcome:
    inputs, outputs = data
    if not tensor_only(case.model):
        return Outcome(REFUSED, "sequence, optional or map values")
    runtime = _runtime_inputs(case, case.model)
    model = _with_initializers(case.model, runtime, inputs)
    feeds = feeds_of(case, inputs)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            graph = load_model(model, {k: tuple(v.shape) for k, v in feeds.items()}, case.name)
            got = run_graph(graph, feeds)
    except EffcError as exc:
        return Outcome(REFUSED, str(exc))
    except Exception as exc:  # a crash is an effc bug, never a refusal
        return Outcome(ERROR, f"{type(exc).__name__}: {exc}"[:300])
    names = [o.name for o in case.model.graph.output]
    for name, want in zip(names, outputs, strict=False):
        if name not in got:
            return Outcome(ERROR, f"output {name} is missing (outputs {sorted(got)})")
        problem = _compare(got[name], np.asarray(want), case, name)
        if problem:
            return Outcome(WRONG, problem)
    return Outcome(PASS)


def run_case(case: Case) -> Outcome:
    """The first data set that does not pass decides; else PASS."""
    for data in case.data_sets:
        outcome = run_data_set(case, data)
        if outcome.status != PASS:
            return outcome
    return Outcome(PASS)

"""onnx's own backend tests through effc's float reference (issue 17).

Every case of the node suite (``collect_testcases``, each at its own opset, up to
the newest the installed onnx defines) and of the stored pytorch-converted and
pytorch-operator models runs through ``load_model`` and ``run_graph``; its
outputs must match onnx's within the case's tolerances. A case is in scope unless
``tests/conformance/scope.py`` says why not (an op effc does not import, a rule
such as float16 data, or a listed refusal): every case in scope must pass, and a
listed refusal that passes must be unlisted. Run with ``-s`` for the pass rate
per op::

    .venv/bin/python -m pytest tests/test_onnx_conformance.py -s
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from effc.frontend.importer import load_model
from effc.frontend.loader import MAX_OPSET, MIN_OPSET
from effc.ops import onnx_importer, supported_onnx_ops
from effc.reference import run_graph
from tests.conformance.report import OUT_OF_SCOPE, per_op, results, table
from tests.conformance.runner import ERROR, PASS, REFUSED, WRONG
from tests.conformance.scope import UNSUPPORTED_OPS, case_reason


def test_every_case_in_scope_passes() -> None:
    failures = [f"{key}: {outcome.status}: {outcome.detail}"
                for key, (case, outcome) in results().items()
                if outcome.status in (WRONG, ERROR)
                or (outcome.status == REFUSED and not case_reason(case))]
    assert not failures, f"{len(failures)} cases failed:\n" + "\n".join(failures)


def test_listed_refusals_are_still_refused() -> None:
    stale = [key for key, (case, outcome) in results().items()
             if case_reason(case) and outcome.status == PASS]
    assert not stale, "listed in tests/conformance/scope.py CASES but passing now: " + \
        ", ".join(stale)


def test_every_listed_refusal_is_used() -> None:
    """Each CASES pattern names at least one case that runs and is refused (one that a
    rule or an unsupported op already puts out of scope would be a second reason)."""
    import fnmatch

    from tests.conformance.scope import CASES

    unused = [pattern for pattern in CASES
              if not any(fnmatch.fnmatchcase(key, pattern) and outcome.status == REFUSED
                         for key, (_, outcome) in results().items())]
    assert not unused, f"tests/conformance/scope.py CASES never used: {unused}"


def test_every_unsupported_op_has_a_reason() -> None:
    supported = set(supported_onnx_ops())
    missing = sorted({n.op_type for case, _ in results().values()
                      for n in case.model.graph.node} - supported - set(UNSUPPORTED_OPS))
    assert not missing, f"ops without a reason in scope.UNSUPPORTED_OPS: {missing}"
    imported = sorted(set(UNSUPPORTED_OPS) & supported)
    assert not imported, f"ops listed as unsupported that effc imports: {imported}"


def test_pass_rate_per_op(capsys: pytest.CaptureFixture[str]) -> None:
    """The report (printed with -s): every supported op's cases pass or are out of scope."""
    tallies = per_op()
    ops = [op for op in tallies if onnx_importer(op) is not None or op == "Constant"]
    with capsys.disabled():
        print("\nonnx backend tests through effc's float reference (passed of in scope):")
        print(table(ops))
        statuses = [o.status for _, o in results().values()]
        print(f"{len(statuses)} cases: {statuses.count(PASS)} passed, "
              f"{statuses.count(OUT_OF_SCOPE)} out of scope before running, "
              f"{statuses.count(REFUSED)} refused on purpose")
    assert all(not tallies[op].other for op in ops)


@pytest.mark.parametrize("opset", range(MIN_OPSET, MAX_OPSET + 1))
def test_every_opset_up_to_the_newest_loads(opset: int) -> None:
    """A small CNN saved at each opset loads and matches onnx's reference evaluator."""
    assert MAX_OPSET == onnx.defs.onnx_opset_version()
    rng = np.random.default_rng(opset)
    w = numpy_helper.from_array(rng.standard_normal((4, 2, 3, 3)).astype(np.float32), "w")
    fc = numpy_helper.from_array(rng.standard_normal((4 * 3 * 3, 5)).astype(np.float32), "fc")
    bias = numpy_helper.from_array(rng.standard_normal((1, 5)).astype(np.float32), "bias")
    shape = numpy_helper.from_array(np.array([1, -1], np.int64), "shape")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Reshape", ["p", "shape"], ["f"]),
             helper.make_node("Gemm", ["f", "fc", "bias"], ["g"]),
             helper.make_node("Softmax", ["g"], ["y"], axis=1)]
    graph = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("x", 1, [1, 2, 6, 6])],
                              [helper.make_tensor_value_info("y", 1, [1, 5])], [w, fc, bias, shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 4 if opset < 11 else 10
    x = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
    expected = ReferenceEvaluator(model).run(None, {"x": x})[0]
    got = run_graph(load_model(model), {"x": x})["y"]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_every_imported_op_has_read_its_newest_version() -> None:
    """When onnx adds a version of an op effc imports, the importer refuses it until
    someone reads the new semantics and raises the op's ``onnx_types`` entry."""
    stale = []
    for op in supported_onnx_ops():
        importer = onnx_importer(op)
        if importer is None or "." in op:
            continue
        newest = onnx.defs.get_schema(op, MAX_OPSET).since_version
        if importer.onnx_types[op] != newest:
            stale.append(f"{op}: reads up to {importer.onnx_types[op]}, onnx has {newest}")
    assert not stale, stale


def test_pass_rates_file_is_current() -> None:
    """docs/ops-conformance.json (the conformance column of docs/ops.md) holds the pass
    rates as they are now."""
    from tests.conformance.report import RATES, rates_json

    assert RATES.is_file() and RATES.read_text() == rates_json(), (
        "docs/ops-conformance.json is stale; regenerate it: .venv/bin/python -m "
        "tests.conformance.report, then .venv/bin/python -m effc.opsupport --write docs/ops.md")


def test_a_version_newer_than_the_importer_read_is_refused(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """An op version whose semantics the importer has not read (as when onnx adds one)
    is refused in one line naming the op, the version and the opset."""
    from effc.errors import EffcError

    monkeypatch.setitem(onnx_importer("Relu").onnx_types, "Relu", 6)
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", 1, [1, 4])],
                              [helper.make_tensor_value_info("y", 1, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    with pytest.raises(EffcError, match=r"\(Relu\): opset 22 selects Relu version 14, whose "
                       r"semantics effc does not implement \(it implements versions up to 6\)"
                       ) as info:
        load_model(model)
    assert "\n" not in str(info.value)
    model.opset_import[0].version = 13  # Relu 13 is still refused, Relu 6 loads
    with pytest.raises(EffcError, match="selects Relu version 13"):
        load_model(model)
    model.opset_import[0].version = 12
    model.ir_version = 7
    assert load_model(model) is not None


def test_ops_doc_covers_every_registered_target() -> None:
    """docs/ops.md fills a column per target from its ``accepts``: a target that registers
    must get its column in effc/opsupport.py first."""
    from effc.codegen import _targets
    from effc.opsupport import COLUMNS

    unknown = sorted(set(_targets()) - set(COLUMNS))
    assert not unknown, (f"targets {unknown} registered: fill their column in "
                         "effc/opsupport.py (COLUMNS, stages()) and regenerate docs/ops.md")

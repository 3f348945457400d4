"""Property: mutated models either load or fail with the one-line error (exit 2)."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import onnx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from effc.cli import main
from tests.conftest import EXAMPLES

SEED = (EXAMPLES / "digits" / "digits_cnn.onnx").read_bytes()


def _outcome(data: bytes, folder: Path) -> None:
    path = folder / "mutant.onnx"
    path.write_bytes(data)
    err, out = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(out):
        code = main(["inspect", str(path), "--json"])
    assert code in (0, 2)
    if code == 2:
        lines = err.getvalue().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("effc: error: "), err.getvalue()


def _mutate_structure(model: onnx.ModelProto, choice: int, value: int) -> None:
    graph = model.graph
    if choice == 0 and graph.initializer:
        t = graph.initializer[value % len(graph.initializer)]
        if t.dims:
            t.dims[value % len(t.dims)] = (value % 7) - 1
    elif choice == 1:
        dims = graph.input[0].type.tensor_type.shape.dim
        if dims:
            dims[value % len(dims)].dim_value = (value % 9) - 1
    elif choice == 2 and graph.node:
        node = graph.node[value % len(graph.node)]
        for attr in node.attribute:
            if attr.ints:
                attr.ints[value % len(attr.ints)] = (value % 11) - 3
            elif attr.type == onnx.AttributeProto.INT:
                attr.i = (value % 11) - 3
    elif choice == 3 and graph.node:
        node = graph.node[value % len(graph.node)]
        if node.input:
            node.input[value % len(node.input)] = "no_such_tensor"
    elif choice == 4 and graph.node:
        graph.node[value % len(graph.node)].op_type = ["Conv", "Relu", "Gemm", "Foo", "MaxPool",
                                                       "Reshape"][value % 6]
    elif choice == 5:
        del graph.node[value % max(1, len(graph.node))]


FAST = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@FAST
@given(cut=st.integers(min_value=0, max_value=len(SEED) - 1))
def test_truncated_bytes(tmp_path_factory, cut: int) -> None:
    _outcome(SEED[:cut], tmp_path_factory.mktemp("t"))


@FAST
@given(flips=st.lists(st.tuples(st.integers(0, len(SEED) - 1), st.integers(1, 255)),
                      min_size=1, max_size=8))
def test_flipped_bytes(tmp_path_factory, flips: list[tuple[int, int]]) -> None:
    data = bytearray(SEED)
    for pos, mask in flips:
        data[pos] ^= mask
    _outcome(bytes(data), tmp_path_factory.mktemp("f"))


@FAST
@given(edits=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 10_000)), min_size=1,
                      max_size=3))
def test_wrong_dims_and_fields(tmp_path_factory, edits: list[tuple[int, int]]) -> None:
    model = onnx.load_from_string(SEED)
    for choice, value in edits:
        _mutate_structure(model, choice, value)
    _outcome(model.SerializeToString(), tmp_path_factory.mktemp("s"))


# ------------------------------------------- hostile names, paths and numbers


def _cli(args: list[str]) -> tuple[int, str]:
    err, out = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(out):
        code = main(args)
    if code == 2:
        lines = err.getvalue().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("effc: error: "), err.getvalue()
    return code, err.getvalue()


def _two_layer(node_names: tuple[str, str], graph_name: str = "g",
               tensor: str = "t", weight: np.ndarray | None = None) -> onnx.ModelProto:
    w = weight if weight is not None else np.linspace(-1, 1, 8, dtype=np.float32).reshape(1, 8)
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "w"], [tensor], name=node_names[0]),
         helper.make_node("Relu", [tensor], ["y"], name=node_names[1])], graph_name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])],
        [numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _code(model: onnx.ModelProto, folder: Path) -> str:
    """The generated model.c with its comments removed."""
    from effc.codegen.c.emit import generate_c
    from effc.frontend.importer import load

    onnx.save(model, folder / "m.onnx")
    files, _ = generate_c(load(folder / "m.onnx"), "m")
    for data in files.values():
        assert data.isascii()
    return re.sub(r"/\*.*?\*/", "", files["m.c"].decode(), flags=re.S)


NAMES = st.text(st.characters(codec="utf-8"), max_size=40)


@FAST
@given(a=NAMES, b=NAMES, graph_name=NAMES.filter(bool))
def test_node_names_never_change_the_code(tmp_path_factory, a: str, b: str,
                                          graph_name: str) -> None:
    folder = tmp_path_factory.mktemp("n")
    baseline = _code(_two_layer(("n0", "n1")), folder)
    assert _code(_two_layer((a, b + "_"), graph_name), folder) == baseline


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@example(tensor="0", folder="\n")  # a newline once reached the assembler's .file line
@given(tensor=NAMES.filter(lambda t: t not in ("", "x", "y", "w")),
       folder=st.text(st.characters(codec="utf-8", exclude_characters="/\0"), min_size=1,
                      max_size=20).filter(lambda f: f not in (".", "..")))
def test_hostile_tensor_names_and_outdir_paths_run(tmp_path_factory, tensor: str,
                                                   folder: str) -> None:
    from effc.compiler import CompiledModel
    from effc.engines.host import run_host
    from effc.reference import run_samples

    work = tmp_path_factory.mktemp("p")
    onnx.save(_two_layer(("a", "b"), tensor=tensor), work / "m.onnx")
    try:
        (work / folder).mkdir()
        (work / folder).rmdir()
    except OSError:
        return  # a name this file system does not take
    code, err = _cli(["compile", str(work / "m.onnx"), "-o", str(work / folder), "--board"])
    assert code == 0, err
    compiled = CompiledModel.open(work / folder)
    x = np.linspace(-3, 3, 16, dtype=np.float32).reshape(2, 8)
    np.testing.assert_allclose(run_host(compiled, x).outputs, run_samples(compiled.graph, x))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=8,
                       max_size=8))
def test_hostile_weights_compile_or_fail_in_one_line(tmp_path_factory,
                                                     values: list[float]) -> None:
    work = tmp_path_factory.mktemp("w")
    weight = np.asarray(values, np.float32).reshape(1, 8)
    onnx.save(_two_layer(("a", "b"), weight=weight), work / "m.onnx")
    code, _ = _cli(["compile", str(work / "m.onnx"), "-o", str(work / "out")])
    assert code == (0 if np.isfinite(weight).all() else 2)

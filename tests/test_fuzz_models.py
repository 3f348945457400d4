"""Property: mutated models either load or fail with the one-line error (exit 2)."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import onnx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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

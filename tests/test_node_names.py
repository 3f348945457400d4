"""Node names are model text, not keys: colliding or duplicated names compile correctly.

Regressions: BatchNormalization folding named its new nodes ``<bn>_mul`` and
``<bn>_add`` without checking, and the C emitter keyed its calls by node name,
so a model with its own Add called ``bn_add`` (or two nodes sharing a name)
compiled one layer as a copy of another.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import helper

from effc.errors import EffcError
from effc.frontend.importer import load
from effc.ir import Node
from effc.reference import run_samples
from tests.small_models import (
    FLOAT_ATOL,
    FLOAT_RTOL,
    check_engines,
    check_int8,
    make_model,
    onnxruntime_outputs,
    tensor,
    weights,
)


def _x(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, (6, *shape[1:])).astype(np.float32)


def test_user_node_named_like_the_batchnorm_unfold(tmp_path: Path) -> None:
    c = 8
    nodes = [
        helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], ["bn_out"],
                         name="bn"),
        helper.make_node("Add", ["bn_out", "k"], ["a"], name="bn_add"),
        helper.make_node("Mul", ["a", "k2"], ["y"], name="bn_mul"),
    ]
    inits = [tensor("g", weights(1, c) + 1), tensor("b", weights(2, c)),
             tensor("m", weights(3, c)), tensor("v", np.abs(weights(4, c)) + 0.5),
             tensor("k", weights(5, 1, c)), tensor("k2", weights(6, 1, c))]
    path = make_model(tmp_path / "m.onnx", nodes, {"x": [1, c]}, {"y": None}, inits)
    check_engines(path, tmp_path, _x(0, (1, c)))


def test_duplicate_node_names(tmp_path: Path) -> None:
    """onnx's checker accepts repeated node names (onnxruntime does not)."""
    def model(path: Path, names: list[str]) -> Path:
        nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], name=names[0], pads=[1, 1, 1, 1]),
                 helper.make_node("Relu", ["a"], ["r"], name=names[1]),
                 helper.make_node("Conv", ["r", "w2"], ["y"], name=names[2])]
        inits = [tensor("w1", weights(7, 4, 2, 3, 3)), tensor("w2", weights(8, 3, 4, 1, 1))]
        return make_model(path, nodes, {"x": [1, 2, 5, 5]}, {"y": None}, inits)

    repeated = model(tmp_path / "repeated.onnx", ["layer"] * 3)
    distinct = model(tmp_path / "distinct.onnx", ["l0", "l1", "l2"])
    graph = load(repeated)
    assert len({n.name for n in graph.nodes}) == len(graph.nodes)
    x = _x(1, (1, 2, 5, 5))
    np.testing.assert_allclose(run_samples(graph, x), onnxruntime_outputs(distinct, x),
                               rtol=FLOAT_RTOL, atol=FLOAT_ATOL)
    for granularity in ("per-tensor", "per-channel"):
        check_int8(repeated, tmp_path / granularity, x, weight_quant=granularity)


def test_validate_refuses_duplicate_node_names(tmp_path: Path) -> None:
    path = make_model(tmp_path / "m.onnx", [helper.make_node("Relu", ["x"], ["y"])],
                      {"x": [1, 4]}, {"y": None})
    graph = load(path)
    graph.nodes.append(Node("Relu", graph.nodes[0].name, ["y"], ["z"]))
    with pytest.raises(EffcError, match="two nodes are named"):
        graph.validate()

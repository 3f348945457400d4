"""The static memory planner: no live buffers overlap, aliases and in-place are sound."""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node, Tensor
from effc.passes.memory import plan_memory


def _chain(n: int, size: int) -> Graph:
    g = Graph("chain", inputs=["t0"], outputs=[f"t{n}"])
    for i in range(n + 1):
        g.add_tensor(Tensor(f"t{i}", (1, size), "int8"))
    for i in range(n):
        g.nodes.append(Node("Relu", f"n{i}", [f"t{i}"], [f"t{i + 1}"]))
    return g


def _overlaps(plan, graph: Graph) -> list[tuple[str, str]]:
    """Pairs of arena buffers live at the same node whose byte ranges intersect."""
    spans = {}
    for i, node in enumerate(graph.nodes):
        for name in [*node.inputs, *node.outputs]:
            root = plan.root(name)
            if root in plan.offsets:
                first, last = spans.get(root, (i, i))
                spans[root] = (min(first, i), max(last, i))
    bad = []
    names = sorted(spans)
    for a in names:
        for b in names:
            if a >= b:
                continue
            (fa, la), (fb, lb) = spans[a], spans[b]
            if la < fb or lb < fa:
                continue
            sa, sb = graph.tensors[a].nbytes, graph.tensors[b].nbytes
            oa, ob = plan.offsets[a], plan.offsets[b]
            if oa < ob + sb and ob < oa + sa and not (oa == ob and (la == fb or lb == fa)):
                bad.append((a, b))
    return bad


def test_chain_reuses_two_buffers() -> None:
    g = _chain(6, 100)
    plan = plan_memory(g, {"t0", "t6"}, lambda n: 0, lambda n: False)
    assert plan.arena_bytes == 2 * 112  # two 16-aligned buffers ping-pong
    assert plan.lower_bound_bytes == plan.arena_bytes
    assert plan.activations_lower_bound_bytes == plan.lower_bound_bytes  # no scratch
    assert plan.scratch_peak_bytes == 0
    assert not _overlaps(plan, g)


def test_scratch_is_reported_apart_from_the_activations() -> None:
    g = _chain(6, 100)
    plan = plan_memory(g, {"t0", "t6"}, lambda n: 40 if n.name == "n2" else 0,
                       lambda n: False)
    assert plan.scratch_peak_bytes == 48  # 16-aligned
    assert plan.activations_lower_bound_bytes == 2 * 112
    assert plan.lower_bound_bytes == 2 * 112 + 48
    assert plan.activations_lower_bound_bytes <= plan.lower_bound_bytes <= plan.arena_bytes


def test_inplace_chain_needs_one_buffer() -> None:
    g = _chain(6, 100)
    plan = plan_memory(g, {"t0", "t6"}, lambda n: 0, lambda n: True)
    assert plan.arena_bytes == 112
    assert len(plan.inplace_nodes) == 4  # t1 -> t2 -> ... -> t5 share one buffer


def test_scratch_is_live_only_during_its_node() -> None:
    g = _chain(3, 64)
    plan = plan_memory(g, {"t0", "t3"}, lambda n: 32 if n.name == "n1" else 0, lambda n: False)
    assert 1 in plan.scratch_offsets  # node n1
    assert plan.arena_bytes == 64 + 64 + 32


def test_reshape_aliases_input() -> None:
    g = _chain(2, 64)
    g.add_tensor(Tensor("r", (1, 64), "int8"))
    g.nodes.insert(1, Node("Reshape", "rs", ["t1"], ["r"], {"shape": [1, 64]}))
    g.nodes[2].inputs = ["r"]
    plan = plan_memory(g, {"t0", "t2"}, lambda n: 0, lambda n: False)
    assert plan.root("r") == "t1"


def test_residual_keeps_skip_branch_alive() -> None:
    g = Graph("res", inputs=["x"], outputs=["y"])
    for name in ("x", "a", "b", "c", "y"):
        g.add_tensor(Tensor(name, (1, 256), "int8"))
    g.nodes = [Node("Relu", "n0", ["x"], ["a"]), Node("Relu", "n1", ["a"], ["b"]),
               Node("Relu", "n2", ["b"], ["c"]), Node("Add", "n3", ["a", "c"], ["y"])]
    plan = plan_memory(g, {"x", "y"}, lambda n: 0, lambda n: True)
    assert not _overlaps(plan, g)
    assert plan.offsets["a"] != plan.offsets["c"]
    assert np.isfinite(plan.arena_bytes)

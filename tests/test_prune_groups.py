"""Channel dependency groups: one test per rule on tiny hand-built IR graphs.

Every rewrite is also checked against an oracle: removing channels must compute
exactly what the unpruned graph computes when its consumers' input weights at
those channels are zero (``zero_consumer_inputs``), and ``estimate_macs``
must equal the summarized MACs of the rewritten graph.
"""

from __future__ import annotations

import numpy as np
import pytest

from effc.ir import Graph, Node, Tensor
from effc.ops import get_op
from effc.passes.prune import run_batched
from effc.passes.prune_groups import (
    ChannelAnalysis,
    Group,
    analyze_channels,
    apply_keep,
    estimate_macs,
    zero_consumer_inputs,
)
from effc.summary import summarize
from tests.conftest import assert_close

RNG = np.random.default_rng(7)


class Net:
    """A tiny channels-last IR graph, built node by node with shapes inferred."""

    def __init__(self, shape: tuple[int, ...] = (1, 6, 6, 3)) -> None:
        self.g = Graph("tiny")
        self.g.add_tensor(Tensor("x", shape, layout="NHWC"))
        self.g.inputs = ["x"]

    def node(self, op: str, inputs: list[str], attrs: dict | None = None, name: str = "") -> str:
        name = name or f"{op.lower()}{len(self.g.nodes)}"
        node = Node(op, name, inputs, [name + "_y"], attrs or {})
        self.g.nodes.append(node)
        ((shape, dtype),) = get_op(op).infer(node, self.g)
        self.g.add_tensor(Tensor(node.outputs[0], shape, dtype))
        return node.outputs[0]

    def const(self, name: str, data: np.ndarray) -> str:
        return self.g.add_constant(name, np.asarray(data, np.float32)).name

    def channels(self, x: str) -> int:
        return self.g.tensors[x].shape[-1]

    def conv(self, x: str, cout: int, name: str, k: int = 3, group: int = 1) -> str:
        cin = self.channels(x)
        w = self.const(name + "_w", RNG.standard_normal((cout, k, k, cin // group)))
        b = self.const(name + "_b", RNG.standard_normal(cout))
        attrs = {"kernel_shape": [k, k], "strides": [1, 1], "dilations": [1, 1],
                 "pads": [k // 2] * 4, "group": group}
        return self.node("Conv", [x, w, b], attrs, name)

    def dense(self, x: str, out: int, name: str) -> str:
        w = self.const(name + "_w", RNG.standard_normal((out, self.channels(x))))
        return self.node("Dense", [x, w, self.const(name + "_b", RNG.standard_normal(out))],
                         name=name)

    def bn(self, x: str, name: str) -> str:
        c = self.channels(x)
        params = [RNG.uniform(0.5, 2, c), RNG.normal(0, 0.5, c), RNG.normal(0, 0.5, c),
                  RNG.uniform(0.5, 2, c)]
        names = [self.const(f"{name}_{i}", p) for i, p in enumerate(params)]
        return self.node("BatchNormalization", [x, *names], {"epsilon": 1e-3}, name)

    def relu(self, x: str) -> str:
        return self.node("Relu", [x])

    def head(self, x: str, classes: int = 3) -> str:
        """GlobalAveragePool -> Reshape [1, C] -> Dense -> graph output."""
        pooled = self.node("GlobalAveragePool", [x])
        flat = self.node("Reshape", [pooled], {"shape": [1, self.channels(x)]})
        return self.dense(flat, classes, "fc")

    def finish(self, *outputs: str) -> Graph:
        self.g.outputs = list(outputs)
        self.g.validate()
        return self.g


def _group(analysis: ChannelAnalysis, producer: str) -> Group:
    group = analysis.group_of(producer)
    assert group is not None, producer
    return group


def _remove(analysis: ChannelAnalysis, producer: str, channels: list[int]) -> np.ndarray:
    """Keep mask removing the units of ``producer``'s output channels ``channels``."""
    node_out = producer + "_y"
    keep = np.ones(analysis.num_units, dtype=bool)
    keep[analysis.maps[node_out][channels]] = False
    return keep


def _check(graph: Graph, analysis: ChannelAnalysis, keep: np.ndarray) -> Graph:
    pruned = apply_keep(graph, analysis, keep)
    x = RNG.standard_normal((4, *graph.tensors["x"].shape[1:])).astype(np.float32)
    got = run_batched(pruned, x)
    expected = run_batched(zero_consumer_inputs(graph, analysis, keep), x)
    for y, ref in zip(got, expected, strict=True):
        assert_close(y, ref)
    assert estimate_macs(graph, analysis, keep) == summarize(pruned)["macs"]
    return pruned


def _w(graph: Graph, node: str) -> np.ndarray:
    n = next(n for n in graph.nodes if n.name == node)
    return graph.const(n.inputs[1])


def test_residual_add_ties_all_branches() -> None:
    net = Net()
    a = net.relu(net.conv("x", 8, "c1"))
    b = net.conv(a, 8, "c2")
    s = net.relu(net.node("Add", [a, b], name="add"))
    graph = net.finish(net.head(net.conv(s, 4, "c3")))
    analysis = analyze_channels(graph)
    group = _group(analysis, "c1")
    assert group is _group(analysis, "c2")  # one group across both branches
    assert group.producers == ["c1", "c2"] and group.consumers == ["c2", "c3"]
    assert "add" in group.passthrough and group.prunable and group.size == 8
    pruned = _check(graph, analysis, _remove(analysis, "c1", [1, 5]))
    keep = [0, 2, 3, 4, 6, 7]
    np.testing.assert_array_equal(_w(pruned, "c1"), _w(graph, "c1")[keep])
    np.testing.assert_array_equal(_w(pruned, "c2"), _w(graph, "c2")[keep][..., keep])
    np.testing.assert_array_equal(_w(pruned, "c3"), _w(graph, "c3")[..., keep])
    assert pruned.tensors["add_y"].shape == (1, 6, 6, 6)


def test_concat_maps_channel_offsets() -> None:
    net = Net()
    a, b = net.conv("x", 4, "ca"), net.conv("x", 6, "cb")
    cat = net.node("Concat", [a, b], {"axis": 3}, "cat")
    graph = net.finish(net.head(net.conv(cat, 5, "c3")))
    analysis = analyze_channels(graph)
    ga, gb = _group(analysis, "ca"), _group(analysis, "cb")
    assert ga is not gb and ga.consumers == gb.consumers == ["c3"]
    keep = _remove(analysis, "ca", [1]) & _remove(analysis, "cb", [2])
    pruned = _check(graph, analysis, keep)
    positions = [p for p in range(10) if p not in (1, 4 + 2)]  # cb's channel 2 is at 4 + 2
    np.testing.assert_array_equal(_w(pruned, "c3"), _w(graph, "c3")[..., positions])
    assert pruned.tensors["cat_y"].shape[-1] == 8


@pytest.mark.parametrize("multiplier", [1, 2])
def test_depthwise_passes_channels_through(multiplier: int) -> None:
    net = Net()
    a = net.relu(net.conv("x", 6, "c1"))
    d = net.relu(net.conv(a, 6 * multiplier, "dw", group=6))
    graph = net.finish(net.head(net.conv(d, 4, "c2")))
    analysis = analyze_channels(graph)
    group = _group(analysis, "c1")
    assert group.producers == ["c1", "dw"] and group.consumers == ["dw", "c2"]
    assert group.size == 6  # the depthwise adds no channels of its own
    pruned = _check(graph, analysis, _remove(analysis, "c1", [0, 3]))
    rows = [o for o in range(6 * multiplier) if o // multiplier not in (0, 3)]
    dw = next(n for n in pruned.nodes if n.name == "dw")
    assert dw.attrs["group"] == 4
    np.testing.assert_array_equal(_w(pruned, "dw"), _w(graph, "dw")[rows])
    np.testing.assert_array_equal(pruned.const(dw.inputs[2]), graph.const("dw_b")[rows])


def test_flatten_into_dense_maps_row_blocks() -> None:
    net = Net((1, 4, 4, 3))
    c = net.relu(net.conv("x", 5, "c1"))
    pooled = net.node("MaxPool", [c], {"kernel_shape": [2, 2], "strides": [2, 2],
                                       "dilations": [1, 1], "pads": [0, 0, 0, 0]})
    flat = net.node("Reshape", [pooled], {"shape": [1, 20]}, "flatten")
    graph = net.finish(net.dense(flat, 3, "fc"))
    analysis = analyze_channels(graph)
    assert _group(analysis, "c1").consumers == ["fc"]
    np.testing.assert_array_equal(analysis.maps["flatten_y"] - analysis.maps["flatten_y"][0],
                                  np.tile(np.arange(5), 4))  # feature (h*W+w)*C + c -> c
    pruned = _check(graph, analysis, _remove(analysis, "c1", [2]))
    features = [f for f in range(20) if f % 5 != 2]
    np.testing.assert_array_equal(_w(pruned, "fc"), _w(graph, "fc")[:, features])
    flatten = next(n for n in pruned.nodes if n.name == "flatten")
    assert flatten.attrs["shape"] == [1, 16]


def test_batchnorm_is_sliced_with_its_conv() -> None:
    net = Net()
    a = net.relu(net.bn(net.conv("x", 6, "c1"), "bn"))
    graph = net.finish(net.head(net.conv(a, 4, "c2")))
    analysis = analyze_channels(graph)
    assert "bn" in _group(analysis, "c1").passthrough
    pruned = _check(graph, analysis, _remove(analysis, "c1", [0, 4, 5]))
    bn = next(n for n in pruned.nodes if n.name == "bn")
    for i in range(1, 5):
        np.testing.assert_array_equal(pruned.const(bn.inputs[i]), graph.const(f"bn_{i - 1}")[[1, 2, 3]])


def test_graph_inputs_and_outputs_are_never_pruned() -> None:
    net = Net()
    a = net.relu(net.conv("x", 4, "c1"))
    b = net.conv(a, 5, "c2")
    c = net.node("Add", ["x", net.conv(b, 3, "c3")], name="add_input")  # ties c3 to the input
    graph = net.finish(c, b, net.head(a))
    analysis = analyze_channels(graph)
    assert _group(analysis, "c1").prunable
    g2 = _group(analysis, "c2")
    assert not g2.prunable and "channels reach graph output 'c2_y'" in g2.reasons
    g3 = _group(analysis, "c3")
    assert not g3.prunable and "channels come from graph input 'x'" in g3.reasons
    assert not _group(analysis, "fc").prunable
    keep = np.ones(analysis.num_units, dtype=bool)
    keep[_group(analysis, "c1").units[:2]] = False
    pruned = _check(graph, analysis, keep)
    assert [pruned.tensors[o].shape for o in pruned.outputs] == \
        [graph.tensors[o].shape for o in graph.outputs]


def test_grouped_conv_is_left_out_with_a_reason() -> None:
    net = Net()
    a = net.conv("x", 8, "c1")
    g = net.conv(a, 8, "grouped", group=2)
    graph = net.finish(net.head(net.conv(g, 4, "c3")))
    analysis = analyze_channels(graph)
    for name in ("c1", "grouped"):
        group = _group(analysis, name)
        assert not group.prunable and "group=2" in group.reasons[0]
    assert _group(analysis, "c3").prunable

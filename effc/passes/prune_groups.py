"""Channel dependency groups for structured pruning (DepGraph-style analysis).

Contract: expects a float, channels-last IR graph as the frontend leaves it
(BatchNormalization may still be present; Conv/Dense/Add may carry fused
``activation_min``/``activation_max``). ``analyze_channels`` does not change
the graph. It gives every activation tensor a *map*: for each position of its
last (channel) axis, the id of the pruning *unit* that position belongs to.
A unit is a set of channel slices that must be removed together; a *group* is
a connected set of units with its producers (ops whose output channels are
removed), consumers (ops whose input channels are removed) and pass-through
ops. ``apply_keep`` removes every position of every unit marked False and
guarantees a valid graph with all shapes, weights, biases, BatchNorm
parameters, per-channel constants and Reshape targets updated. Removing a
unit is exactly equivalent to zeroing the consumers' input weights at its
positions.

Rules (Fang et al., "DepGraph: Towards Any Structural Pruning", CVPR 2023):
Conv (group 1) and Dense create fresh channels and consume their input's;
a depthwise Conv (group == C_in) passes channels through (output channel o
belongs to input channel o // multiplier) with its own weights and bias
sliced; Add/Sub/Mul tie all same-width inputs (residual branches form one
group); Concat on the channel axis concatenates the maps (offsets), on other
axes it ties its inputs; a Reshape that keeps channel order (Flatten into a
Dense: feature (h*W + w)*C + c belongs to channel c) repeats the map; pools,
Pad, BatchNormalization and elementwise activations pass channels through.
Channels that come from a graph input or reach a graph output, non-depthwise
grouped Convs, channel-axis Softmax, and ops not listed here are not pruned;
the group records why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.ops import get_op

#: Ops whose output channel i is input channel i (first input).
PASS_THROUGH = {
    "Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "Selu", "HardSigmoid", "HardSwish",
    "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
}
_BINARY = {"Add", "Sub", "Mul"}


@dataclass
class Group:
    """Units that are pruned together, and the ops that slice them."""

    id: int
    units: np.ndarray  # unit ids (indices into ChannelAnalysis.unit_group)
    sources: list[str]
    producers: list[str] = field(default_factory=list)
    consumers: list[str] = field(default_factory=list)
    passthrough: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def prunable(self) -> bool:
        return not self.reasons

    @property
    def size(self) -> int:
        return len(self.units)

    @property
    def members(self) -> list[str]:
        return list(dict.fromkeys(self.producers + self.consumers + self.passthrough))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "channels": self.size, "producers": self.producers,
                "consumers": self.consumers, "passthrough": self.passthrough,
                "prunable": self.prunable, "reason": "; ".join(self.reasons) or None}


@dataclass
class ChannelAnalysis:
    """Result of ``analyze_channels``."""

    maps: dict[str, np.ndarray]  # activation tensor -> unit id per channel position
    groups: list[Group]
    unit_group: np.ndarray  # unit id -> group id
    order: list[int]  # indices into graph.nodes, in topological order
    linear: list[dict[str, Any]]  # Conv/Dense MAC terms, see estimate_macs

    @property
    def num_units(self) -> int:
        return len(self.unit_group)

    def group_of(self, node_name: str) -> Group | None:
        """The group whose output channels ``node_name`` produces (None if none)."""
        for group in self.groups:
            if node_name in group.producers:
                return group
        return None


# ------------------------------------------------------------------ analysis


class _Builder:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.parent: list[int] = []
        self.atom_source: list[int] = []
        self.sources: list[str] = []
        self.reasons: dict[int, list[str]] = {}
        self.maps: dict[str, np.ndarray] = {}

    def new(self, source: str, n: int, reason: str | None = None) -> np.ndarray:
        start = len(self.parent)
        index = len(self.sources)
        self.sources.append(source)
        self.parent.extend(range(start, start + n))
        self.atom_source.extend([index] * n)
        atoms = np.arange(start, start + n, dtype=np.int64)
        if reason:
            self.fix(atoms, reason)
        return atoms

    def find(self, a: int) -> int:
        root = a
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[a] != root:
            self.parent[a], a = root, self.parent[a]
        return root

    def union(self, xs: np.ndarray, ys: np.ndarray) -> None:
        for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
            rx, ry = self.find(x), self.find(y)
            if rx != ry:
                self.parent[ry] = rx

    def fix(self, atoms: np.ndarray, reason: str) -> None:
        for a in atoms.tolist():
            reasons = self.reasons.setdefault(a, [])
            if reason not in reasons:
                reasons.append(reason)

    def act(self, name: str) -> bool:
        tensor = self.graph.tensors.get(name) if name else None
        return tensor is not None and not tensor.is_constant

    def block(self, node: Node, reason: str) -> None:
        for name in node.inputs:
            if name in self.maps:
                self.fix(self.maps[name], reason)
        for out in node.outputs:
            self.maps[out] = self.new(node.name, _channels(self.graph, out), reason)

    def visit(self, node: Node) -> None:
        g, op, out = self.graph, node.op_type, node.outputs[0]
        x = node.inputs[0] if node.inputs else ""
        if op in ("Conv", "Dense"):
            cin = g.tensors[x].shape[-1]
            cout = g.tensors[node.inputs[1]].shape[0]
            group = int(node.attrs.get("group", 1))
            if group == 1:
                self.maps[out] = self.new(node.name, cout)
            elif group == cin and cout % cin == 0:
                self.maps[out] = np.repeat(self.maps[x], cout // cin)
            else:
                self.block(node, f"grouped Conv '{node.name}' (group={group}) is not pruned: only "
                                 "group=1 and depthwise convolutions are")
        elif op in PASS_THROUGH:
            self.maps[out] = self.maps[x]
        elif op == "Pad":
            rank = len(g.tensors[x].shape)
            pads = node.attrs["pads"]
            if pads[rank - 1] or pads[2 * rank - 1]:
                self.block(node, f"Pad '{node.name}' pads the channel axis")
            else:
                self.maps[out] = self.maps[x]
        elif op in _BINARY:
            self._binary(node)
        elif op == "Concat":
            self._concat(node)
        elif op == "Reshape":
            self._reshape(node)
        elif op == "Transpose":
            perm = node.attrs["perm"]
            if perm[-1] == len(perm) - 1:
                self.maps[out] = self.maps[x]
            else:
                self.block(node, f"Transpose '{node.name}' moves the channel axis")
        elif op == "Softmax":
            rank = len(g.tensors[x].shape)
            if node.attrs["axis"] % rank == rank - 1:
                self.block(node, f"Softmax '{node.name}' normalizes over the channels")
            else:
                self.maps[out] = self.maps[x]
        else:
            self.block(node, f"op {op} ('{node.name}') is not handled by channel pruning")

    def _binary(self, node: Node) -> None:
        g, out = self.graph, node.outputs[0]
        width = _channels(g, out)
        full = [i for i in node.inputs if self.act(i) and _channels(g, i) == width]
        for i in node.inputs:
            if self.act(i) or width == 1:
                continue
            shape = g.tensors[i].shape
            if shape and shape[-1] not in (1, width):
                self.block(node, f"{node.op_type} '{node.name}' has a constant of shape {shape}")
                return
        if not full:
            self.block(node, f"{node.op_type} '{node.name}' takes its channels from a constant")
            return
        for other in full[1:]:
            self.union(self.maps[full[0]], self.maps[other])
        self.maps[out] = self.maps[full[0]]

    def _concat(self, node: Node) -> None:
        g, out = self.graph, node.outputs[0]
        rank = len(g.tensors[out].shape)
        parts = []
        for i in node.inputs:
            if i not in self.maps:
                self.maps[i] = self.new(f"constant '{i}'", _channels(g, i),
                                        f"Concat '{node.name}' joins a constant")
            parts.append(self.maps[i])
        if node.attrs["axis"] % rank == rank - 1:
            self.maps[out] = np.concatenate(parts)
        else:
            for part in parts[1:]:
                self.union(parts[0], part)
            self.maps[out] = parts[0]

    def _reshape(self, node: Node) -> None:
        g, x, out = self.graph, node.inputs[0], node.outputs[0]
        src, dst = g.tensors[x].shape, g.tensors[out].shape
        channel = np.broadcast_to(np.arange(src[-1]), src).reshape(dst)
        rows = channel.reshape(-1, dst[-1]) if dst else channel.reshape(1, -1)
        if dst and (rows == rows[0]).all():
            self.maps[out] = self.maps[x][rows[0]]
        else:
            self.block(node, f"Reshape '{node.name}' {list(src)} -> {list(dst)} mixes channels "
                             "with other axes")


def _channels(graph: Graph, name: str) -> int:
    shape = graph.tensors[name].shape
    return int(shape[-1]) if shape else 1


def topological_nodes(graph: Graph) -> list[Node]:
    """The nodes in topological order (the graph itself is not reordered)."""
    view = Graph(graph.name, list(graph.nodes), graph.tensors, graph.inputs, graph.outputs)
    view.toposort()
    return view.nodes


def analyze_channels(graph: Graph) -> ChannelAnalysis:
    """Dependency groups of ``graph`` (see the module docstring); the graph is unchanged."""
    if any(t.dtype != "float32" for t in graph.activations()):
        raise EffcError("channel pruning works on float models; prune before quantizing "
                        "(the model has non-float activations)")
    nodes = topological_nodes(graph)
    b = _Builder(graph)
    for name in graph.inputs:
        b.maps[name] = b.new(f"<input {name}>", _channels(graph, name),
                             f"channels come from graph input '{name}'")
    for node in nodes:
        b.visit(node)
    for name in graph.outputs:
        if name in b.maps:
            b.fix(b.maps[name], f"channels reach graph output '{name}'")

    # Units: union-find classes of atoms, numbered in order of first appearance.
    roots = np.array([b.find(a) for a in range(len(b.parent))], dtype=np.int64)
    _, first, atom_unit = np.unique(roots, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    atom_unit = order[atom_unit]
    n_units = len(first)
    unit_reasons: dict[int, list[str]] = {}
    for atom, reasons in b.reasons.items():
        bucket = unit_reasons.setdefault(int(atom_unit[atom]), [])
        bucket.extend(r for r in reasons if r not in bucket)
    # Groups: sources connected through shared units.
    src_parent = list(range(len(b.sources)))

    def src_find(s: int) -> int:
        while src_parent[s] != s:
            src_parent[s] = src_parent[src_parent[s]]
            s = src_parent[s]
        return s

    unit_source = np.full(n_units, -1, dtype=np.int64)
    for atom, source in enumerate(b.atom_source):
        u = atom_unit[atom]
        if unit_source[u] < 0:
            unit_source[u] = source
        else:
            ra, rb = src_find(int(unit_source[u])), src_find(source)
            if ra != rb:
                src_parent[rb] = ra
    group_ids: dict[int, int] = {}
    unit_group = np.empty(n_units, dtype=np.int64)
    for u in range(n_units):
        unit_group[u] = group_ids.setdefault(src_find(int(unit_source[u])), len(group_ids))
    groups = [Group(i, np.flatnonzero(unit_group == i), []) for i in range(len(group_ids))]
    for source_index, source in enumerate(b.sources):
        gid = group_ids.get(src_find(source_index))
        if gid is not None and source not in groups[gid].sources:
            groups[gid].sources.append(source)
    for u, reasons in unit_reasons.items():
        bucket = groups[unit_group[u]].reasons
        bucket.extend(r for r in reasons if r not in bucket)
    maps = {name: atom_unit[atoms] for name, atoms in b.maps.items()}
    index = {id(n): i for i, n in enumerate(graph.nodes)}
    analysis = ChannelAnalysis(maps, groups, unit_group, [index[id(n)] for n in nodes], [])
    _assign_roles(graph, nodes, analysis)
    return analysis


def _groups_of(analysis: ChannelAnalysis, tensor: str) -> list[int]:
    if tensor not in analysis.maps:
        return []
    return list(dict.fromkeys(analysis.unit_group[analysis.maps[tensor]].tolist()))


def _assign_roles(graph: Graph, nodes: list[Node], analysis: ChannelAnalysis) -> None:
    def add(gid: int, role: str, name: str) -> None:
        bucket = getattr(analysis.groups[gid], role)
        if name not in bucket:
            bucket.append(name)

    for node in nodes:
        x, out = (node.inputs[0] if node.inputs else ""), node.outputs[0]
        if node.op_type in ("Conv", "Dense"):
            # a depthwise Conv reads and writes the same groups: it is both
            for gid in _groups_of(analysis, x):
                add(gid, "consumers", node.name)
            for gid in _groups_of(analysis, out):
                add(gid, "producers", node.name)
            term = {"node": node.name, "input": x, "output": out,
                    "macs": int(get_op(node.op_type, node).macs(node, graph)),
                    "by_input": int(node.attrs.get("group", 1)) == 1}
            analysis.linear.append(term)
            continue
        for name in [*node.inputs, *node.outputs]:
            if name and not graph.tensors[name].is_constant:
                for gid in _groups_of(analysis, name):
                    add(gid, "passthrough", node.name)


# ------------------------------------------------------------------ costs


def estimate_macs(graph: Graph, analysis: ChannelAnalysis, keep: np.ndarray) -> int:
    """MACs after removing the units where ``keep`` is False (exact, no graph rewrite)."""
    total = 0
    for term in analysis.linear:
        out_all = len(analysis.maps[term["output"]])
        out_kept = int(keep[analysis.maps[term["output"]]].sum())
        macs = term["macs"] // out_all * out_kept
        if term["by_input"]:
            in_all = len(analysis.maps[term["input"]])
            macs = macs // in_all * int(keep[analysis.maps[term["input"]]].sum())
        total += macs
    return total


# ------------------------------------------------------------------ rewrite


def _replace_const(graph: Graph, node: Node, index: int, data: np.ndarray) -> None:
    old = node.inputs[index]
    node.inputs[index] = graph.add_constant(old + "_pruned", data.astype(np.float32)).name


def apply_keep(graph: Graph, analysis: ChannelAnalysis, keep: np.ndarray) -> Graph:
    """A copy of ``graph`` without the units where ``keep`` is False (shapes updated)."""
    keep = np.asarray(keep, dtype=bool)
    if keep.shape != (analysis.num_units,):
        raise ValueError(f"keep has shape {keep.shape}, expected ({analysis.num_units},)")
    out_graph = graph.clone()
    nodes = [out_graph.nodes[i] for i in analysis.order]

    def mask(tensor: str) -> np.ndarray:
        return keep[analysis.maps[tensor]]

    for node in nodes:
        op = node.op_type
        if op in ("Conv", "Dense"):
            x, out = node.inputs[0], node.outputs[0]
            m_in, m_out = mask(x), mask(out)
            if m_in.all() and m_out.all():
                continue
            w = out_graph.const(node.inputs[1])
            assert w is not None
            group = int(node.attrs.get("group", 1))
            w = w[m_out]
            if group == 1:
                w = w[..., m_in]
            else:
                node.attrs = {**node.attrs, "group": int(m_in.sum())}
            _replace_const(out_graph, node, 1, w)
            if len(node.inputs) > 2 and node.inputs[2]:
                _replace_const(out_graph, node, 2, out_graph.const(node.inputs[2])[m_out])
        elif op == "BatchNormalization":
            m = mask(node.inputs[0])
            if not m.all():
                for i in range(1, 5):
                    _replace_const(out_graph, node, i, out_graph.const(node.inputs[i])[m])
        elif op in _BINARY:
            m = mask(node.outputs[0])
            if m.all():
                continue
            for i, name in enumerate(node.inputs):
                data = out_graph.const(name)
                if data is not None and data.ndim and data.shape[-1] == len(m) > 1:
                    _replace_const(out_graph, node, i, data[..., m])
        elif op == "Reshape":
            m = mask(node.outputs[0])
            if not m.all():
                node.attrs = {**node.attrs, "shape": [*node.attrs["shape"][:-1], int(m.sum())]}
    from effc.passes.layout import set_output_shapes

    for node in nodes:
        set_output_shapes(out_graph, node)
    out_graph.prune_unused()
    out_graph.validate()
    return out_graph


def zero_consumer_inputs(graph: Graph, analysis: ChannelAnalysis, keep: np.ndarray) -> Graph:
    """A copy of ``graph`` whose consumers ignore the removed units (weights zeroed).

    ``apply_keep`` must compute the same function; tests use this as the oracle.
    """
    out_graph = graph.clone()
    for node in out_graph.nodes:
        if node.op_type in ("Conv", "Dense") and int(node.attrs.get("group", 1)) == 1:
            m = keep[analysis.maps[node.inputs[0]]]
            if not m.all():
                w = out_graph.const(node.inputs[1]).copy()
                w[..., ~m] = 0.0
                _replace_const(out_graph, node, 1, w)
    return out_graph

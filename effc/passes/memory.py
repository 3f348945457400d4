"""Static memory planning: one arena for every activation and scratch buffer.

Contract: expects a topologically ordered IR graph, the set of tensors that
live outside the arena (the caller's input and output buffers), the scratch
bytes each node's kernel needs, and which nodes may write their output over
their input. Guarantees a plan in which every arena buffer has an offset,
buffers whose lifetimes overlap never overlap in memory (except an in-place
output, which starts exactly at its input), Reshape outputs alias their
input, and every offset is aligned. It reports the arena size next to the
lower bound for layer-by-layer execution: the maximum over nodes of the bytes
live at once, with and without the kernels' scratch (and the largest scratch).

Placement is greedy by size (the "greedy by size" planner of TFLite Micro,
after Pisarchyk and Lee, "Efficient Memory Management for Deep Neural Net
Inference", 2020); in-place execution of elementwise ops, depthwise and
pointwise convolutions follows TinyEngine (Lin et al., NeurIPS 2020).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from effc.ir import Graph, Node

ALIGN = 16
ALIAS_OPS = ("Reshape",)


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


BufferKey = str | tuple[str, int]  # a tensor name, or ("scratch", node index)


@dataclass
class Buffer:
    name: BufferKey
    size: int
    first: int  # index of the node that writes it (-1: before the first node)
    last: int  # index of the last node that reads it
    offset: int = -1
    inplace_of: BufferKey | None = None  # shares its start with this buffer


@dataclass
class MemoryPlan:
    offsets: dict[str, int] = field(default_factory=dict)  # tensor name -> arena offset
    scratch_offsets: dict[int, int] = field(default_factory=dict)  # node index -> offset
    aliases: dict[str, str] = field(default_factory=dict)  # tensor -> tensor it views
    external: set[str] = field(default_factory=set)
    arena_bytes: int = 0
    lower_bound_bytes: int = 0  # activations and kernel scratch live at once
    activations_lower_bound_bytes: int = 0  # the same without scratch
    scratch_peak_bytes: int = 0  # the largest kernel scratch (16-aligned)
    inplace_nodes: list[str] = field(default_factory=list)
    #: Every arena buffer: tensor (or "scratch"), node (scratch), offset, bytes, first and
    #: last node index using it (-1: a graph input, len(nodes): an output).
    buffers: list[dict[str, Any]] = field(default_factory=list)

    def root(self, name: str) -> str:
        while name in self.aliases:
            name = self.aliases[name]
        return name

    def to_json(self) -> dict:
        return {"arena_bytes": self.arena_bytes, "lower_bound_bytes": self.lower_bound_bytes,
                "activations_lower_bound_bytes": self.activations_lower_bound_bytes,
                "scratch_peak_bytes": self.scratch_peak_bytes,
                "inplace_nodes": self.inplace_nodes, "offsets": self.offsets,
                "scratch_offsets": self.scratch_offsets}


def plan_memory(
    graph: Graph,
    external: set[str],
    scratch_bytes: Callable[[Node], int],
    inplace_ok: Callable[[Node], bool],
) -> MemoryPlan:
    plan = MemoryPlan(external=set(external))
    # A Reshape output views its input (no copy). Reading the caller's input
    # through a view is fine; a value whose only use is a Reshape into the
    # caller's output buffer is written there directly.
    for node in graph.nodes:
        if node.op_type in ALIAS_OPS:
            src, dst = node.inputs[0], node.outputs[0]
            if dst not in external:
                plan.aliases[dst] = src
            elif src not in external and len(graph.consumers(src)) == 1 and \
                    src not in graph.inputs:
                plan.aliases[src] = dst
    buffers: dict[BufferKey, Buffer] = {}
    for i, node in enumerate(graph.nodes):
        for out in node.outputs:
            root = plan.root(out)
            if root in external or graph.tensors[root].is_constant:
                continue
            if root not in buffers:
                first = -1 if root in graph.inputs else i
                buffers[root] = Buffer(root, _align(graph.tensors[root].nbytes), first, i)
        for name in node.inputs:
            if not name:
                continue
            root = plan.root(name)
            if root in buffers:
                buffers[root].last = max(buffers[root].last, i)
        scratch = scratch_bytes(node)
        if scratch:
            key = ("scratch", i)
            buffers[key] = Buffer(key, _align(scratch), i, i)
    for name in graph.outputs:
        root = plan.root(name)
        if root in buffers:
            buffers[root].last = len(graph.nodes)
    # In place: the output starts at its input when the input dies here.
    for i, node in enumerate(graph.nodes):
        if node.op_type in ALIAS_OPS or not inplace_ok(node):
            continue
        src, dst = plan.root(node.inputs[0]), plan.root(node.outputs[0])
        if src in buffers and dst in buffers and buffers[src].last == i and \
                buffers[dst].size <= buffers[src].size and src != dst:
            buffers[dst].inplace_of = src
            plan.inplace_nodes.append(node.name)
    _place(buffers)
    for buf in buffers.values():
        if isinstance(buf.name, tuple):
            plan.scratch_offsets[buf.name[1]] = buf.offset
        else:
            plan.offsets[buf.name] = buf.offset
        plan.buffers.append({"tensor": buf.name if isinstance(buf.name, str) else "scratch",
                             "node": buf.name[1] if isinstance(buf.name, tuple) else None,
                             "offset": buf.offset, "bytes": buf.size, "first": buf.first,
                             "last": buf.last, "inplace_of": buf.inplace_of})
    plan.arena_bytes = max((b.offset + b.size for b in buffers.values()), default=0)
    plan.lower_bound_bytes = _lower_bound(buffers, len(graph.nodes))
    activations = {k: b for k, b in buffers.items() if not isinstance(k, tuple)}
    plan.activations_lower_bound_bytes = _lower_bound(activations, len(graph.nodes))
    plan.scratch_peak_bytes = max((b.size for k, b in buffers.items() if isinstance(k, tuple)),
                                  default=0)
    return plan


def _group(buffers: dict[BufferKey, Buffer]) -> list[list[Buffer]]:
    """Chains of in-place buffers are placed as one block."""
    chains: dict[BufferKey, list[Buffer]] = {}
    for buf in buffers.values():
        head = buf
        while head.inplace_of is not None:
            head = buffers[head.inplace_of]
        chains.setdefault(head.name, []).append(buf)
    return list(chains.values())


def _place(buffers: dict[BufferKey, Buffer]) -> None:
    blocks = _group(buffers)
    placed: list[tuple[int, int, int, int]] = []  # offset, size, first, last
    for block in sorted(blocks, key=lambda b: (-max(x.size for x in b), b[0].first)):
        size = max(x.size for x in block)
        first = min(x.first for x in block)
        last = max(x.last for x in block)
        conflicts = sorted((o, s) for o, s, f, la in placed if not (la < first or f > last))
        offset = 0
        for o, s in conflicts:
            if offset + size <= o:
                break
            offset = max(offset, o + s)
        for buf in block:
            buf.offset = offset
        placed.append((offset, size, first, last))


def _lower_bound(buffers: dict[BufferKey, Buffer], n_nodes: int) -> int:
    """Max over nodes of the bytes that must be live while it runs (in place counted once)."""
    best = 0
    blocks = _group(buffers)
    for i in range(-1, n_nodes + 1):
        live = 0
        for block in blocks:
            sizes = [b.size for b in block if b.first <= i <= b.last]
            if sizes:
                live += max(sizes)
        best = max(best, live)
    return best

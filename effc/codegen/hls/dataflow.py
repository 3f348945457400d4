"""The dataflow of the HLS target: ports, streams, fan-out, width conversion, FIFO depths.

The int8 core of the graph (between its float boundary nodes, as the C
backend splits it) becomes one process network: every layer reads its
operands from streams and writes one stream. Python decides all of it here:

* a Reshape changes no value order, so its output is the same stream;
* a value read by several layers (or a layer and an output port) is copied by
  a chain of ``duplicate`` processes, one output per reader;
* where a producer's beat width differs from what the reader takes, a
  ``convert_width`` process (two, through the least common multiple, when
  neither width divides the other) sits between them;
* FIFO depths: 2 beats, except on the branches of a fork that meet again (a
  residual Add, a Concat, a broadcast gate): there the shorter branch must hold
  what the longer one takes in before its first output reaches the join. That
  lead is counted in rows (N x the first spatial axis) through each layer's
  ``rows_needed``, maximized over the join's output rows, plus one row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from effc.codegen import split_core
from effc.codegen.hls import estimate as est
from effc.codegen.hls.estimate import Resources
from effc.codegen.hls.layers import Emission, Fold, Layer, Process, tensor_rows
from effc.codegen.hls.layers_misc import make_layer
from effc.ir import Graph, QuantParams

Edge = tuple[int, int]  # (layer index, operand slot), or (-1, output port index)
DEFAULT_DEPTH = 2


@dataclass
class Stream:
    name: str
    lanes: int
    beats: int  # per inference
    dtype: str = "int8"
    depth: int = DEFAULT_DEPTH
    port: bool = False  # an argument of the top function (no FIFO of its own)

    @property
    def bits(self) -> int:
        return self.lanes * (32 if self.dtype == "int32" else 8)


@dataclass
class Port:
    """One AXI-Stream port of the top function."""

    name: str  # the graph's interface tensor
    core: str  # the int8 tensor the accelerator reads or writes
    param: str  # in0, out0, ...
    shape: list[int]
    lanes: int
    converted: bool  # a float interface value quantized/dequantized by the host
    quant: QuantParams | None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


@dataclass
class Array:
    symbol: str
    ctype: str
    values: np.ndarray
    layer: int
    partition: tuple[tuple[str, int, int], ...] = ()


@dataclass
class Plan:
    """Everything but the layers' own processes, for one choice of foldings."""

    streams: dict[str, Stream]
    plumbing: dict[str, list[Process]]  # after the producer of each root tensor
    edge_stream: dict[Edge, str]
    producer_stream: dict[str, str]
    inputs: list[Port]
    outputs: list[Port]

    def resources(self) -> Resources:
        """FIFOs (every stream but the ports), converters and duplicators."""
        total = Resources()
        for s in self.streams.values():
            if not s.port:
                total += est.fifo(s.bits, s.depth)
        for processes in self.plumbing.values():
            total += Resources(lut=len(processes) * est.PROCESS_LUT)
        return total


@dataclass
class Design:
    plan: Plan
    processes: list[tuple[int | None, Process]] = field(default_factory=list)
    arrays: list[Array] = field(default_factory=list)


class Dataflow:
    """The core of an int8 graph as layers and the tensors between them."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.split = split_core(graph)
        self.alias: dict[str, str] = {}
        self.layers: list[Layer] = []
        self.producer: dict[str, int] = {}
        for node in self.split.nodes:
            if node.op_type == "Reshape":
                self.alias[node.outputs[0]] = self.root(node.inputs[0])
                continue
            layer = make_layer(len(self.layers), node, graph)
            self.producer[layer.output] = layer.index
            self.layers.append(layer)
        self.consumers: dict[str, list[Edge]] = {}
        for layer in self.layers:
            for slot, name in enumerate(layer.inputs):
                self.consumers.setdefault(self.root(name), []).append((layer.index, slot))
        for i, port in enumerate(self.split.outputs):
            self.consumers.setdefault(self.root(port.core), []).append((-1, i))

    def root(self, name: str) -> str:
        return self.alias.get(name, name)

    # -- streams ---------------------------------------------------------------------------
    def plan(self, folds: list[Fold]) -> Plan:
        streams: dict[str, Stream] = {}
        plumbing: dict[str, list[Process]] = {}
        edge_stream: dict[Edge, str] = {}
        producer_stream: dict[str, str] = {}
        first_stream: dict[Edge, str] = {}

        def new(lanes: int, size: int, port: str | None = None) -> str:
            name = port or f"s{len(streams)}"
            streams[name] = Stream(name, lanes, size // lanes, port=port is not None)
            return name

        def wants(edge: Edge) -> tuple[int, str | None]:
            """The lanes an edge reads and, for an output port, its stream name."""
            layer, slot = edge
            if layer < 0:
                return out_lanes[slot], self.split.outputs[slot].param
            return self.layers[layer].in_lanes(folds[layer], slot), None

        def convert(source: str, lanes: int, size: int, target: str | None, out: list[Process]
                    ) -> str:
            have = streams[source].lanes
            steps = [lanes] if lanes % have == 0 or have % lanes == 0 else \
                [have * lanes // math.gcd(have, lanes), lanes]
            for i, step in enumerate(steps):
                name = new(step, size, target if i == len(steps) - 1 else None)
                out.append(Process("convert_width", {
                    "COUNT": size, "IN_LANES": have, "OUT_LANES": step,
                    "RATIO": max(have, step) // min(have, step)}, [source], [name]))
                source, have = name, step
            return source

        def deliver(source: str, edge: Edge, size: int, out: list[Process]) -> None:
            lanes, port = wants(edge)
            if streams[source].lanes == lanes and port is None:
                edge_stream[edge] = source
            else:
                edge_stream[edge] = convert(source, lanes, size, port, out)

        def producer_lanes(root: str) -> int:
            if root in self.producer:
                return self.layers[self.producer[root]].out_lanes(folds[self.producer[root]])
            readers = [e for e in self.consumers.get(root, []) if e[0] >= 0]
            return wants(readers[0])[0] if readers else 1  # an input port: its first reader's

        out_lanes = {i: producer_lanes(self.root(p.core)) for i, p in enumerate(self.split.outputs)}
        roots = [self.root(p.core) for p in self.split.inputs] + [layer.output
                                                                   for layer in self.layers]
        in_ports = {self.root(p.core): p.param for p in self.split.inputs}
        for root in roots:
            edges = self.consumers.get(root, [])
            size = self.graph.tensors[root].size
            lanes = producer_lanes(root)
            out: list[Process] = []
            single = edges[0] if len(edges) == 1 else None
            if single is not None and root not in in_ports and wants(single)[0] == lanes:
                name = new(lanes, size, wants(single)[1])  # write the consumer's stream
                edge_stream[single] = name
                producer_stream[root] = name
            else:
                source = new(lanes, size, in_ports.get(root))
                producer_stream[root] = source
                for i, edge in enumerate(edges):
                    if i < len(edges) - 1:  # a duplicate per reader but the last
                        mine, rest = new(lanes, size), new(lanes, size)
                        out.append(Process("duplicate", {"BEATS": size // lanes, "LANES": lanes},
                                           [source], [mine, rest]))
                        first_stream[edge] = mine
                        deliver(mine, edge, size, out)
                        source = rest
                    else:
                        first_stream[edge] = source
                        deliver(source, edge, size, out)
            plumbing[root] = out
        self._size_fifos(streams, first_stream)
        inputs = [self._port(p, streams[p.param].lanes) for p in self.split.inputs]
        outputs = [self._port(p, streams[p.param].lanes) for p in self.split.outputs]
        return Plan(streams, plumbing, edge_stream, producer_stream, inputs, outputs)

    def _port(self, port, lanes: int) -> Port:
        tensor = self.graph.tensors[port.core]
        outer = self.graph.tensors[port.name]
        return Port(port.name, port.core, port.param, list(outer.shape), lanes, port.converted,
                    tensor.quant)

    # -- FIFO depths -------------------------------------------------------------------------
    def _size_fifos(self, streams: dict[str, Stream], first_stream: dict[Edge, str]) -> None:
        """Deepen the FIFO at the start of each branch of a fork that meets again."""
        rows_of = {name: tensor_rows(self.graph.tensors[name].shape)
                   for name in self.graph.tensors}

        @cache
        def needs(root: str, rows: int) -> tuple[tuple[tuple[str, Edge], int], ...]:
            """Rows of every forked tensor upstream (by fork and edge) read before
            ``rows`` rows of ``root`` exist."""
            found: dict[tuple[str, Edge], int] = {}
            if root not in self.producer:
                return ()
            layer = self.layers[self.producer[root]]
            for slot, name in enumerate(layer.inputs):
                found_rows = layer.rows_needed(slot, rows)
                for key, value in edge_needs(layer.index, slot, name, found_rows):
                    found[key] = max(found.get(key, 0), value)
            return tuple(found.items())

        def edge_needs(index: int, slot: int, name: str, rows: int
                       ) -> list[tuple[tuple[str, Edge], int]]:
            root = self.root(name)
            if rows_of[name] != rows_of[root]:  # a reshape across rows: all of it
                rows = rows_of[root] if rows else 0
            result = list(needs(root, rows))
            if len(self.consumers.get(root, [])) > 1:
                result.append(((root, (index, slot)), rows))
            return result

        for join in self.layers:
            if len(join.inputs) < 2:
                continue
            lead: dict[tuple[str, Edge], int] = {}
            by_fork: dict[str, set[Edge]] = {}
            whole: dict[str, set[Edge]] = {}
            per_row: list[dict[tuple[str, Edge], int]] = []
            for rows in range(1, rows_of[join.output] + 1):
                seen: dict[tuple[str, Edge], int] = {}
                for slot, name in enumerate(join.inputs):
                    for (fork, edge), value in edge_needs(join.index, slot, name,
                                                          join.rows_needed(slot, rows)):
                        seen[(fork, edge)] = max(seen.get((fork, edge), 0), value)
                        by_fork.setdefault(fork, set()).add(edge)
                        if join.reads_whole_first(slot):
                            whole.setdefault(fork, set()).add(edge)
                per_row.append(seen)
            for seen in per_row:
                for (fork, edge), value in seen.items():
                    peak = max(v for (f, _), v in seen.items() if f == fork)
                    lead[(fork, edge)] = max(lead.get((fork, edge), 0), peak - value)
            for fork, edges in by_fork.items():
                if len(edges) < 2:
                    continue
                row_size = self.graph.tensors[fork].size // rows_of[fork]
                for edge in edges:
                    rows = rows_of[fork] if whole.get(fork, set()) - {edge} else \
                        lead.get((fork, edge), 0)
                    stream = streams[first_stream[edge]]
                    beats = math.ceil((min(rows + 1, rows_of[fork])) * row_size / stream.lanes)
                    stream.depth = max(stream.depth, beats + DEFAULT_DEPTH)

    # -- the whole design -------------------------------------------------------------------
    def design(self, folds: list[Fold], namer) -> Design:
        plan = self.plan(folds)
        design = Design(plan)
        emission = _Emission(design, namer)
        for port in self.split.inputs:
            design.processes += [(None, p) for p in plan.plumbing[self.root(port.core)]]
        for layer, fold in zip(self.layers, folds, strict=True):
            emission.layer = layer.index
            ins = [plan.edge_stream[(layer.index, slot)] for slot in range(len(layer.inputs))]
            layer.emit(fold, emission, ins, plan.producer_stream[layer.output])
            design.processes += [(None, p) for p in plan.plumbing[layer.output]]
        return design


class _Emission(Emission):
    def __init__(self, design: Design, namer) -> None:
        self.design = design
        self.namer = namer
        self.layer = 0
        self.count = 0

    def stream(self, lanes: int, beats: int, dtype: str = "int8") -> str:
        name = f"l{self.layer}_{self.count}"
        self.count += 1
        self.design.plan.streams[name] = Stream(name, lanes, beats, dtype)
        return name

    def array(self, what: str, values: np.ndarray, ctype: str,
              partition: tuple[tuple[str, int, int], ...] = ()) -> str:
        symbol = self.namer.unique(f"{what}_{self.layer}", prefix="k_")
        self.design.arrays.append(Array(symbol, ctype, values, self.layer, partition))
        return symbol

    def process(self, template: str, config: dict[str, int], inputs: list[str],
                outputs: list[str], arrays: list[str] | None = None) -> None:
        self.design.processes.append((self.layer, Process(template, config, inputs, outputs,
                                                          arrays or [])))

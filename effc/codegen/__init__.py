"""Targets: peer code generators, one subpackage each, registered by name.

A target's ``target.py`` calls ``register_target(Target(...))``. Its ``emit(graph,
board, out, **options)`` writes the target's sources into OUTDIR, builds them through
``effc.toolchain`` and returns its manifest section. ``effc compile --target``
picks one; the default is the target for the board's kind. The driver finds
targets here by name and never imports a target's modules. What every target
shares lives here too: ``split_core``, the integer core between the float boundary.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from effc.boards import Board
from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.outdir import OutDir

#: Fits a float graph to a board by pruning (``--prune-fit-board``): given the board and
#: the compile options, the (flash, RAM) budget and ``graph -> (flash, RAM)`` once compiled.
Fit = Callable[[Board, Any], tuple[tuple[int, int], Callable[[Graph], tuple[int, int]]]]


#: Writes the test vectors of a project with its own testbench: the target's manifest
#: section, OUTDIR, and for each of the self-check's inferences every tensor's value
#: in the integer reference (``run_graph(..., keep=True)``).
Vectors = Callable[[dict[str, Any], OutDir, list[dict[str, np.ndarray]]], None]

#: Compile options only some targets take: the CompileOptions field and its flag.
TARGET_OPTIONS = {"fps": "--fps", "optimize": "--optimize", "arena": "--arena",
                  "export": "--export", "flash_budget": "--flash-budget"}


@dataclass(frozen=True)
class Target:
    """``emit(graph, board, out, **options)`` writes the sources (``options``: the
    TARGET_OPTIONS fields the target names in ``options``) and returns its manifest
    section (a ``summary_line`` and a ``report`` with its ``report_title``, if it has
    them, go to the compile's output and report.md). ``check(board, **options)``
    refuses, before any work, what the target cannot do. ``check_engine`` runs the
    self-check; ``default`` makes it the default target of its board kind;
    ``vectors`` writes the self-check's inputs and the reference's outputs into the
    project (also with ``--no-verify``)."""

    name: str
    board_kind: str  # the kind of board it compiles for (effc.boards.KINDS)
    description: str
    emit: Callable[..., dict[str, Any]]  # (graph, board, out, **options) -> manifest section
    fit: Fit | None = None
    options: tuple[str, ...] = ()  # the TARGET_OPTIONS it takes; emit gets them as keywords
    check: Callable[..., None] | None = None
    check_engine: str = "host"
    default: bool = False  # the default target of its board kind (else the first by name)
    vectors: Vectors | None = None
    #: ``accepts(op_type, int8)``: does the target generate code for a node of ``op_type``
    #: computing in int8 (else in float)? The same predicate its code generation refuses
    #: a node with (in one line); docs/ops.md's columns are written from it.
    accepts: Callable[[str, bool], bool] = lambda op_type, int8: False


#: Targets still to come, by name: (board kind, what they emit). ``--target`` names them,
#: and choosing one is refused in one line until its package registers it.
PLANNED: dict[str, tuple[str, str]] = {}

_TARGETS: dict[str, Target] = {}


def register_target(target: Target) -> Target:
    _TARGETS[target.name] = target
    return target


@functools.cache
def _targets() -> dict[str, Target]:
    """Every target: each subpackage's ``target`` module registers one when imported."""
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            importlib.import_module(f"{__name__}.{info.name}.target")
    return _TARGETS


def targets() -> dict[str, Target]:
    """The registered targets by name."""
    return dict(_targets())


def target_names() -> list[str]:
    """Every target ``--target`` accepts (the planned ones are refused when chosen)."""
    return sorted({*_targets(), *PLANNED})


def get_target(board: Board, name: str | None = None) -> Target:
    """The target ``name`` for ``board``, by default the one for the board's kind."""
    targets = _targets()
    if name is None:
        name = next((t.name for t in sorted(targets.values(), key=lambda t: not t.default)
                     if t.board_kind == board.kind), None)
    if name is None:
        planned = [n for n, (kind, _) in sorted(PLANNED.items()) if kind == board.kind]
        raise EffcError(f"board '{board.name}' is an {board.kind.upper()} board, and its "
                        f"targets ({', '.join(planned)}) are not available yet; compile for "
                        "an MCU board (see 'effc boards')")
    if name in PLANNED and name not in targets:
        what = PLANNED[name][1]
        raise EffcError(f"target '{name}' ({what} for {PLANNED[name][0].upper()} boards) is "
                        f"not available yet; choose one of {', '.join(sorted(targets))}")
    target = targets.get(name)
    if target is None:
        raise EffcError(f"unknown target '{name}'; choose one of {', '.join(target_names())}")
    if target.board_kind != board.kind:
        raise EffcError(f"the {name} target compiles for {target.board_kind.upper()} boards; "
                        f"'{board.name}' is an {board.kind.upper()} board (see 'effc boards')")
    return target


def check_target_options(target: Target | None, board: Board | None, options: Any
                         ) -> dict[str, Any]:
    """The TARGET_OPTIONS ``target`` takes, from ``options`` (CompileOptions), checked
    by the target with the board; an option set for a target that does not take it is
    refused in one line."""
    for key, flag in TARGET_OPTIONS.items():
        if getattr(options, key) is None or (target is not None and key in target.options):
            continue
        taker = next(t for t in _targets().values() if key in t.options)
        kind = taker.board_kind.upper()
        if target is None:
            raise EffcError(f"{flag} is an option of the {taker.name} target: add --board NAME "
                            f"(an {kind} board, see 'effc boards')")
        raise EffcError(f"{flag} is an option of the {taker.name} target, not of the "
                        f"{target.name} target; drop it, or compile for an {kind} board with "
                        f"--target {taker.name}")
    if target is None:
        return {}
    chosen = {key: getattr(options, key) for key in target.options}
    if target.check is not None:
        target.check(board, **chosen)
    return chosen


# -- what every target shares: the integer core between the float boundary ----------------


@dataclass
class Port:
    """One input or output of the generated code."""

    name: str  # the graph's interface tensor
    core: str  # the int8 (or float, where nothing converts) tensor the core reads or writes
    param: str  # its parameter or port name: in, out, or in0, in1, ... for several
    converted: bool  # a boundary QuantizeLinear / DequantizeLinear between the two


@dataclass
class CoreSplit:
    """The integer core of a graph between its float boundary nodes."""

    nodes: list[Node]
    inputs: list[Port]
    outputs: list[Port]

    @property
    def float_wrapper(self) -> bool:
        return any(p.converted for p in self.inputs + self.outputs)

    def port_of(self, core: str) -> Port | None:
        return next((p for p in self.inputs + self.outputs if p.core == core), None)


def _param(kind: str, index: int, count: int) -> str:
    return kind if count == 1 else f"{kind}{index}"


def split_core(graph: Graph) -> CoreSplit:
    """Each float input quantized by its only consumer, and each output dequantized
    from an int8 value, is converted at the boundary (the C target's
    ``<name>_run_float``, the host around an HLS accelerator); the core takes the
    int8 (or float, where nothing converts) values."""
    boundary: set[int] = set()
    used: set[str] = set()
    inputs, outputs = [], []
    for i, name in enumerate(graph.inputs):
        consumers = graph.consumers(name)
        q = consumers[0] if len(consumers) == 1 else None
        converted = (q is not None and q.op_type == "QuantizeLinear"
                     and q.outputs[0] not in graph.outputs)
        core = q.outputs[0] if converted and q is not None else name
        if converted and q is not None:
            boundary.add(id(q))
        used.add(core)
        inputs.append(Port(name, core, _param("in", i, len(graph.inputs)), converted))
    for i, name in enumerate(graph.outputs):
        dq = graph.producer(name)
        converted = (dq is not None and dq.op_type == "DequantizeLinear"
                     and dq.inputs[0] not in used and dq.inputs[0] not in graph.inputs
                     and dq.inputs[0] not in graph.outputs)
        core = dq.inputs[0] if converted and dq is not None else name
        if converted and dq is not None:
            boundary.add(id(dq))
        used.add(core)
        outputs.append(Port(name, core, _param("out", i, len(graph.outputs)), converted))
    return CoreSplit([n for n in graph.nodes if id(n) not in boundary], inputs, outputs)


def broadcast(out_shape: tuple[int, ...], *in_shapes: tuple[int, ...]) -> dict[str, Any]:
    """effc_broadcast: output dims (4, outermost first) and per-input element strides."""
    if len(out_shape) > 4:
        raise EffcError(f"broadcast over {len(out_shape)} dimensions; effc's targets handle 4")
    dims = [1] * (4 - len(out_shape)) + list(out_shape)
    strides = []
    for shape in in_shapes:
        full = [1] * (4 - len(shape)) + list(shape)
        step, s = 1, [0] * 4
        for axis in range(3, -1, -1):
            s[axis] = 0 if full[axis] == 1 and dims[axis] != 1 else step
            step *= full[axis]
        strides.append(s)
    return {"dims": dims, "in1_strides": strides[0], "in2_strides": strides[1]}

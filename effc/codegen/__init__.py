"""Targets: peer code generators, one subpackage each, registered by name.

A target's ``target.py`` calls ``register_target(Target(...))``. Its ``emit(graph,
board, out)`` writes the target's sources into OUTDIR, builds them through
``effc.toolchain`` and returns its manifest section. ``effc compile --target``
picks one; the default is the target for the board's kind. The driver finds
targets here by name and never imports a target's modules.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from effc.boards import Board
from effc.errors import EffcError
from effc.ir import Graph
from effc.outdir import OutDir

#: Fits a float graph to a board by pruning (``--prune-fit-board``): given the board and
#: the compile options, the (flash, RAM) budget and ``graph -> (flash, RAM)`` once compiled.
Fit = Callable[[Board, Any], tuple[tuple[int, int], Callable[[Graph], tuple[int, int]]]]


@dataclass(frozen=True)
class Target:
    name: str
    board_kind: str  # the kind of board it compiles for (effc.boards.KINDS)
    description: str
    emit: Callable[[Graph, Board, OutDir], dict[str, Any]]
    fit: Fit | None = None


#: Targets still to come, by name: (board kind, what they emit). ``--target`` names them,
#: and choosing one is refused in one line until its package registers it.
PLANNED = {"hls": ("fpga", "HLS C++")}

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


def target_names() -> list[str]:
    """Every target ``--target`` accepts (the planned ones are refused when chosen)."""
    return sorted({*_targets(), *PLANNED})


def get_target(board: Board, name: str | None = None) -> Target:
    """The target ``name`` for ``board``, by default the one for the board's kind."""
    targets = _targets()
    if name is None:
        name = next((t.name for t in targets.values() if t.board_kind == board.kind), None)
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

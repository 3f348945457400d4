"""``effc compile --board``: the C library, the board checks and the firmware."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from effc.codegen.c.emit import generate_c
from effc.ir import Graph


def emit_c_project(graph: Graph, outdir: Path, board_name: str, name: str) -> dict[str, Any]:
    from effc.firmware.boards import load_board

    board = load_board(board_name)
    facts = generate_c(graph, outdir / "c", name)
    facts["board"] = board.name
    from effc.firmware.build import build_for_board

    facts.update(build_for_board(board, outdir, facts))
    return facts

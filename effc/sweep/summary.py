"""The sweep's summary: Pareto frontiers (accuracy against cycles, flash and RAM), the
table, the plot, and the best point that fits a board's budget."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from effc.boards import McuBoard, load_board
from effc.errors import EffcError

#: Each cost the frontier weighs accuracy against: record key -> label.
COSTS = {"cycles": "cycles", "flash_bytes": "flash (B)", "ram_bytes": "RAM (B)"}
PLOT = "frontier.png"


def frontier(records: list[dict[str, Any]], cost: str) -> list[dict[str, Any]]:
    """The points no other beats: none has at least their accuracy at no more ``cost``
    with one of the two strictly better (points with equal figures are all on it).
    Ordered by cost, then grid order."""
    order = {id(r): i for i, r in enumerate(records)}
    points = [r for r in records if r.get("status") == "ok" and r.get(cost) is not None]
    points.sort(key=lambda r: (r[cost], -r["accuracy"], order[id(r)]))
    front: list[dict[str, Any]] = []
    for r in points:
        last = front[-1] if front else None
        if last is None or r["accuracy"] > last["accuracy"] or \
                (r["accuracy"] == last["accuracy"] and r[cost] == last[cost]):
            front.append(r)
    return front


def fits(record: dict[str, Any], board: McuBoard) -> bool:
    """The point's flash and RAM (static RAM plus the stack it used) within the board's."""
    return (record.get("status") == "ok" and record.get("flash_bytes") is not None
            and record.get("ram_bytes") is not None
            and record["flash_bytes"] <= board.flash.size and record["ram_bytes"] <= board.ram.size)


def best_fit(records: list[dict[str, Any]], board_name: str) -> dict[str, Any] | None:
    """The most accurate point that fits ``board_name`` (then the fewest cycles, the
    least flash, the first in the grid)."""
    board = load_board(board_name)
    if not isinstance(board, McuBoard):
        raise EffcError(f"--budget-board {board_name} is an FPGA board; give an MCU board "
                        "(its flash and RAM are the budget; see 'effc boards')")
    fitting = [(i, r) for i, r in enumerate(records) if fits(r, board)]
    if not fitting:
        return None
    return min(fitting, key=lambda ir: (-ir[1]["accuracy"], ir[1].get("cycles") or 0,
                                        ir[1]["flash_bytes"], ir[0]))[1]


def compile_command(model: str, calib: str | None, args: list[str], outdir: str) -> str:
    """The ``effc compile`` command that reproduces a point."""
    calib_args = ["--calib", calib] if calib else []
    return shlex.join(["effc", "compile", model, "-o", outdir, *calib_args, *args])


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:,}"


def print_table(records: list[dict[str, Any]], swept: list[str], title: str) -> None:
    """Every point: its swept options, accuracy, cycles, flash, RAM, and the frontiers
    it is on (c: cycles, f: flash, r: RAM)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    marks = {key: "".join(letter for letter, cost in zip("cfr", COSTS, strict=True)
                          if key in {r["key"] for r in frontier(records, cost)})
             for key in (r["key"] for r in records)}
    table = Table(title=escape(title))
    for col in (*swept, "accuracy", "instructions", "cycles", "flash B", "RAM B", "Pareto"):
        table.add_column(escape(col), justify="left" if col in swept or col == "Pareto"
                         else "right")
    for r in records:
        options = dict(r["options"])
        cells = [escape(str(options.get(k, ""))) for k in swept]
        if r.get("status") != "ok":
            table.add_row(*cells, "failed", escape(r.get("error", "")[:60]), "", "", "", "")
            continue
        table.add_row(*cells, f"{100 * r['accuracy']:.2f}%", _num(r.get("instructions")),
                      _num(r.get("cycles")), _num(r.get("flash_bytes")),
                      _num(r.get("ram_bytes")), marks[r["key"]])
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    console.print(table)


def plot(records: list[dict[str, Any]], path: Path, title: str) -> Path:
    """Accuracy against cycles, flash and RAM: every point, the frontier joined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(COSTS), figsize=(5 * len(COSTS), 4), squeeze=False)
    for ax, (cost, label) in zip(axes[0], COSTS.items(), strict=True):
        ok = [r for r in records if r.get("status") == "ok" and r.get(cost) is not None]
        ax.scatter([r[cost] for r in ok], [100 * r["accuracy"] for r in ok], s=18,
                   color="0.6", label="points")
        front = frontier(records, cost)
        ax.plot([r[cost] for r in front], [100 * r["accuracy"] for r in front], "o-",
                color="C0", drawstyle="steps-post", label="Pareto frontier")
        ax.set_xlabel(label)
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

"""Target boards, one TOML file each in ``effc/boards/`` (package data).

A board names its CPU and the gcc flags for it, its FPU, flash and RAM
regions, UART address, the stack reserved by the linker script and, for
boards that QEMU models, the ``-machine``/``-cpu`` pair (real boards without
a QEMU model say ``qemu = false``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from effc.errors import EffcError

BOARDS_DIR = Path(__file__).resolve().parents[1] / "boards"
DEFAULT_BOARD = "mps2-an386"


@dataclass(frozen=True)
class MemoryRegion:
    origin: int
    size: int

    @property
    def end(self) -> int:
        return self.origin + self.size


@dataclass(frozen=True)
class QemuTarget:
    machine: str
    cpu: str


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    cpu: str
    fpu: str | None  # None: no FPU ("auto": implied by -mcpu)
    dsp: bool
    cflags: tuple[str, ...]
    flash: MemoryRegion
    ram: MemoryRegion
    uart: int | None
    stack_size: int
    qemu: QemuTarget | None  # None: hardware only
    default: bool = False

    @property
    def runs_in_qemu(self) -> bool:
        return self.qemu is not None

    def describe(self) -> str:
        """One line for ``effc boards``."""
        where = f"qemu {self.qemu.machine}" if self.qemu else "hardware only"
        mark = "  (default)" if self.default else ""
        return (f"{self.name:<18} {self.cpu:<11} flash {_kib(self.flash.size):>7} "
                f"@0x{self.flash.origin:08X}  RAM {_kib(self.ram.size):>7} "
                f"@0x{self.ram.origin:08X}  {where}{mark}")


def _kib(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n // 1024} KiB"


def _region(data: dict[str, Any], key: str, path: Path) -> MemoryRegion:
    reg = data.get(key)
    if not isinstance(reg, dict) or not {"origin", "size"} <= reg.keys():
        raise EffcError(f"{path}: [{key}] needs integer 'origin' and 'size'")
    return MemoryRegion(int(reg["origin"]), int(reg["size"]))


def _parse(path: Path) -> Board:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EffcError(f"cannot read board file {path}: {exc}") from exc
    missing = [k for k in ("name", "cpu", "cflags") if k not in data]
    if missing:
        raise EffcError(f"{path}: missing {', '.join(missing)}")
    if data["name"] != path.stem:
        raise EffcError(f"{path}: name '{data['name']}' must match the file name")
    q = data.get("qemu", False)
    if q is not False and not (isinstance(q, dict) and {"machine", "cpu"} <= q.keys()):
        raise EffcError(f"{path}: 'qemu' is either false or a table with machine and cpu")
    fpu = data.get("fpu", "none")
    return Board(
        name=data["name"],
        description=data.get("description", data["name"]),
        cpu=data["cpu"],
        fpu=None if fpu == "none" else str(fpu),
        dsp=bool(data.get("dsp", False)),
        cflags=tuple(str(f) for f in data["cflags"]),
        flash=_region(data, "flash", path),
        ram=_region(data, "ram", path),
        uart=int(data["uart"]) if "uart" in data else None,
        stack_size=int(data.get("stack_size", 0x4000)),
        qemu=QemuTarget(q["machine"], q["cpu"]) if q else None,
        default=bool(data.get("default", False)),
    )


@lru_cache(maxsize=1)
def _all_boards() -> dict[str, Board]:
    if not BOARDS_DIR.is_dir():
        raise EffcError(f"board folder {BOARDS_DIR} is missing; reinstall effc from its source")
    return {p.stem: _parse(p) for p in sorted(BOARDS_DIR.glob("*.toml"))}


def list_boards() -> list[Board]:
    """Every known board, default first, then by name."""
    return sorted(_all_boards().values(), key=lambda b: (not b.default, b.name))


def load_board(name: str | None = None) -> Board:
    """The board called ``name`` (the default board for None)."""
    boards = _all_boards()
    key = DEFAULT_BOARD if name is None else name
    if key not in boards:
        known = ", ".join(b.name for b in list_boards())
        raise EffcError(f"unknown board '{name}'; known boards: {known} (see 'effc boards')")
    return boards[key]


def qemu_boards() -> list[Board]:
    return [b for b in list_boards() if b.runs_in_qemu]

"""Boards: one TOML file each in ``effc/boards/`` (package data), or the user's own.

Every board has a name, a kind and a clock. An MCU board (``kind = "mcu"``)
names its core and the gcc flags for it, its FPU, flash and RAM regions, UART
address, the stack reserved by the linker script and, for boards that QEMU
models, the ``-machine``/``-cpu`` pair (real boards without a QEMU model say
``qemu = false``). An FPGA board (``kind = "fpga"``) names its part and family
and, in ``[resources]``, its budgets: LUTs, flip-flops, DSP blocks, block RAMs
(``bram36``: 36 Kb blocks of AMD parts; ``ebr``: the 4 Kb blocks of iCE40) and,
where the part has them, ``spram`` (iCE40, 256 Kb) and ``uram`` (UltraRAM, 288 Kb).

``--board NAME`` picks a packaged board, ``--board FILE.toml`` reads the user's
own file through the same checks: every mistake is one line naming the file
and the field.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from effc.errors import EffcError

BOARDS_DIR = Path(__file__).resolve().parent
DEFAULT_BOARD = "mps2-an386"
KINDS = ("mcu", "fpga")


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


@dataclass(frozen=True, kw_only=True)
class Board:
    """What every board has; ``source`` is its TOML file."""

    kind: ClassVar[str]
    name: str
    description: str
    clock_mhz: float
    source: Path
    default: bool = False


@dataclass(frozen=True)
class HardwareTarget:
    """How a real board is set up and flashed (a board file's ``[hardware]`` table)."""

    soc: str  # the harness's clock and UART set-up: one of SOCS
    pyocd_target: str  # pyocd's target type, e.g. stm32l4r5zitx
    openocd_config: str | None = None  # flash with openocd -f CONFIG instead of pyocd
    uart_baud: int = 115200


#: The SoCs whose clock tree and console UART the board harness sets up
#: (effc/firmware/effc_soc.c).
SOCS = ("stm32l4r5", "stm32f746")


@dataclass(frozen=True, kw_only=True)
class McuBoard(Board):
    kind: ClassVar[str] = "mcu"
    cpu: str
    fpu: str | None  # None: no FPU ("auto": implied by -mcpu)
    dsp: bool
    cflags: tuple[str, ...]
    flash: MemoryRegion
    ram: MemoryRegion
    uart: int | None
    stack_size: int
    qemu: QemuTarget | None  # None: hardware only
    hardware: HardwareTarget | None = None  # None: no real-board harness or flashing
    flash_wait_states: int = 0  # the cycle model's (docs/cycle-model.md)

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


@dataclass(frozen=True, kw_only=True)
class FpgaBoard(Board):
    kind: ClassVar[str] = "fpga"
    part: str
    family: str
    lut: int
    ff: int
    dsp: int
    bram36: int = 0  # 36 Kb block RAMs (AMD)
    ebr: int = 0  # 4 Kb embedded block RAMs (iCE40)
    spram: int = 0  # 256 Kb single-port RAMs (iCE40 UltraPlus)
    uram: int = 0  # 288 Kb UltraRAMs (UltraScale+)

    def describe(self) -> str:
        """One line for ``effc boards``."""
        memory = " + ".join(f"{count} {label}" for count, label in (
            (self.bram36, "BRAM36"), (self.ebr, "EBR"), (self.spram, "SPRAM"),
            (self.uram, "URAM")) if count)
        return (f"{self.name:<18} {self.part:<21} {self.lut:>7,} LUT {self.ff:>7,} FF "
                f"{self.dsp:>5,} DSP  {memory}  {self.clock_mhz:g} MHz")


def _kib(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n // 1024} KiB"


# -- reading and checking a board file -----------------------------------------------


class _Fields:
    """The fields of one table of a board file; every mistake is one line naming the
    file and the field."""

    def __init__(self, data: dict[str, Any], path: Path, prefix: str = "") -> None:
        self.data, self.path, self.prefix, self.seen = data, path, prefix, set()

    def error(self, key: str, problem: str) -> EffcError:
        return EffcError(f"board file {self.path}: field '{self.prefix}{key}' {problem}; fix "
                         f"it (the files in {BOARDS_DIR} are examples)")

    def get(self, key: str, kind: type | tuple[type, ...], what: str, default: Any = ...,
            check: Any = None) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if default is ...:
                raise self.error(key, f"is missing ({what})")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        fits = isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool))
        if not fits or (check is not None and not check(value)):
            raise self.error(key, f"must be {what}, not {value!r}")
        return value

    def count(self, key: str, default: Any = ...) -> int:
        return self.get(key, int, "a whole number >= 0", default, lambda v: v >= 0)

    def region(self, key: str) -> MemoryRegion:
        table = _Fields(self.get(key, dict, "a table with integer origin and size"), self.path,
                        f"{key}.")
        region = MemoryRegion(table.count("origin"), table.get(
            "size", int, "a positive whole number", check=lambda v: v > 0))
        table.done()
        return region

    def done(self) -> None:
        extra = sorted(set(self.data) - self.seen)
        if extra:
            raise self.error(extra[0], f"is not a board field (known: {', '.join(sorted(self.seen))})")


def _common(f: _Fields) -> dict[str, Any]:
    name = f.get("name", str, "the board's name", check=lambda v: v.strip() == v != "")
    return {"name": name, "description": f.get("description", str, "text", name),
            "clock_mhz": f.get("clock_mhz", (int, float), "the clock in MHz, a positive number",
                               check=lambda v: v > 0),
            "default": f.get("default", bool, "true or false", False)}


def _mcu(f: _Fields, common: dict[str, Any], path: Path) -> McuBoard:
    q = f.get("qemu", (bool, dict), "false or a table with machine and cpu", False,
              lambda v: v is False or isinstance(v, dict))
    qemu = None
    if q:
        table = _Fields(q, path, "qemu.")
        qemu = QemuTarget(table.get("machine", str, "a qemu-system-arm -machine name"),
                          table.get("cpu", str, "a qemu-system-arm -cpu name"))
        table.done()
    fpu = f.get("fpu", str, "an -mfpu name, auto or none", "none")
    uart = f.count("uart", None)
    hw = f.get("hardware", dict, "a table with soc and pyocd_target", None)
    hardware = None
    if hw is not None:
        table = _Fields(hw, path, "hardware.")
        hardware = HardwareTarget(
            table.get("soc", str, f"one of {', '.join(SOCS)}", check=lambda v: v in SOCS),
            table.get("pyocd_target", str, "a pyocd target type (pyocd list --targets)"),
            table.get("openocd_config", str, "an openocd -f config file", None),
            table.get("uart_baud", int, "a positive baud rate", 115200, lambda v: v > 0))
        table.done()
    return McuBoard(
        **common, source=path,
        cpu=f.get("cpu", str, "an -mcpu name such as cortex-m4"),
        fpu=None if fpu == "none" else fpu,
        dsp=f.get("dsp", bool, "true or false", False),
        cflags=tuple(f.get("cflags", list, "a list of gcc flags (strings)",
                           check=lambda v: all(isinstance(x, str) for x in v))),
        flash=f.region("flash"), ram=f.region("ram"), uart=uart,
        stack_size=f.get("stack_size", int, "a positive whole number", 0x4000, lambda v: v > 0),
        qemu=qemu, hardware=hardware,
        flash_wait_states=f.get("flash_wait_states", int, "a whole number >= 0", 0,
                                lambda v: v >= 0))


def _fpga(f: _Fields, common: dict[str, Any], path: Path) -> FpgaBoard:
    part = f.get("part", str, "the part number, e.g. xc7z020clg400-1")
    family = f.get("family", str, "the device family, e.g. zynq7 or ice40up")
    res = _Fields(f.get("resources", dict, "a table of the part's budgets"), path, "resources.")
    budgets = {key: res.get(key, int, "a positive whole number", check=lambda v: v > 0)
               for key in ("lut", "ff", "dsp")}
    memory = {key: res.count(key, 0) for key in ("bram36", "ebr", "spram", "uram")}
    res.done()
    if not memory["bram36"] + memory["ebr"]:
        raise res.error("bram36", "is missing (give bram36, the 36 Kb blocks, or ebr, the 4 Kb "
                                  "blocks of iCE40)")
    return FpgaBoard(**common, source=path, part=part, family=family, **budgets, **memory)


def parse_board(path: Path) -> Board:
    """The board described by the TOML file ``path``."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EffcError(f"cannot read board file {path}: {exc}") from None
    f = _Fields(data, path)
    kind = f.get("kind", str, "mcu or fpga", check=lambda v: v in KINDS)
    board = (_mcu if kind == "mcu" else _fpga)(f, _common(f), path)
    f.done()
    return board


@lru_cache(maxsize=1)
def _all_boards() -> dict[str, Board]:
    if not BOARDS_DIR.is_dir():
        raise EffcError(f"board folder {BOARDS_DIR} is missing; reinstall effc from its source")
    boards = {}
    for path in sorted(BOARDS_DIR.glob("*.toml")):
        board = boards[path.stem] = parse_board(path)
        if board.name != path.stem:
            raise EffcError(f"board file {path}: field 'name' must be the file's name "
                            f"'{path.stem}', not '{board.name}'")
    return boards


def list_boards(kind: str | None = None) -> list[Board]:
    """The packaged boards (of one kind): MCU boards first, the default first, then by name."""
    return sorted((b for b in _all_boards().values() if kind in (None, b.kind)),
                  key=lambda b: (KINDS.index(b.kind), not b.default, b.name))


def is_board_file(name: str) -> bool:
    """Does ``--board`` name a file (a path or a .toml name) rather than a packaged board?"""
    return name.endswith(".toml") or "/" in name or "\\" in name


def load_board(name: str | None = None) -> Board:
    """The packaged board called ``name`` (the default board for None), or the board
    file at the path ``name``."""
    if name is not None and is_board_file(name):
        path = Path(name)
        if not path.is_file():
            raise EffcError(f"board file '{name}' does not exist; give the path of a .toml "
                            "board file or a board name (see 'effc boards')")
        return parse_board(path)
    boards = _all_boards()
    key = DEFAULT_BOARD if name is None else name
    if key not in boards:
        known = ", ".join(b.name for b in list_boards())
        raise EffcError(f"unknown board '{name}'; known boards: {known} (see 'effc boards'), "
                        "or give the path of your own .toml board file")
    return boards[key]


def qemu_boards() -> list[McuBoard]:
    return [b for b in list_boards("mcu") if isinstance(b, McuBoard) and b.runs_in_qemu]

"""Firmware builds: a model folder, effc's startup code and harness, linked for one MCU board.

``build_firmware`` compiles a model folder (``effc_model.h`` + C files, see
``effc/firmware/effc_firmware.h`` for the contract) with ``effc/runtime_c/``, the
effc startup code and the semihosting harness with arm-none-eabi-gcc, for one
board; ``outdir_firmware`` builds a compiled OUTDIR's firmware from its own
copies of the sources. Failures raise :class:`ToolchainError` (an
:class:`~effc.errors.EffcError`) with a one-line message.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from effc.boards import Board, McuBoard, MemoryRegion, load_board
from effc.errors import EffcError
from effc.outdir import OutDir
from effc.toolchain.host import RUNTIME_DIR, cache_dir

FIRMWARE_DIR = Path(__file__).resolve().parents[1] / "firmware"
FIRMWARE_SOURCES = ("startup.c", "harness.c", "minilibc.c")
#: Where a compiled OUTDIR keeps its copy of the startup code and harness.
FIRMWARE_SRC = "firmware/src"
FIRMWARE_FILES = (*FIRMWARE_SOURCES, "effc_firmware.h", "effc_semihost.h")
#: The real-board harness (clock, console UART, DWT cycles; no semihosting).
BOARD_SOURCES = ("startup.c", "board_harness.c", "effc_soc.c", "minilibc.c")
BOARD_FILES = ("board_harness.c", "effc_soc.c", "effc_board.h")
#: Where a compiled OUTDIR keeps the real-board image.
BOARD_FIRMWARE = "firmware-board"
#: The generated entry point binding a model to the harness (with effc_model.h).
GLUE_SOURCE = "effc_model_entry.c"
COMMON_CFLAGS = ("-std=c99", "-O2", "-ffreestanding", "-ffunction-sections",
                 "-fdata-sections", "-Wall", "-Wextra", "-Werror", "-g")
APT_HINT = "install it with scripts/setup.sh (apt-get install gcc-arm-none-eabi qemu-system-arm)"


class ToolchainError(EffcError):
    """A build failed or a tool is missing (the CLI exits with 2)."""


class ToolMissingError(ToolchainError):
    pass


class FirmwareBuildError(ToolchainError):
    pass


@dataclass(frozen=True)
class Firmware:
    """A built firmware: its files and its memory figures (bytes)."""

    board: McuBoard
    elf: Path
    bin: Path
    hex: Path
    map: Path
    flash_bytes: int  # .isr_vector + .text + .rodata + .ARM.* + .data
    ram_bytes: int  # .data + .bss (static RAM, without the stack)
    stack_reserved: int  # the .stack section
    profile: bool = False


def find_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissingError(f"'{name}' was not found on PATH; {APT_HINT}")
    return path


def mcu_board(board: Board | str | None) -> McuBoard:
    """``board`` (or the board of that name), which must be an MCU board."""
    b = board if isinstance(board, Board) else load_board(board)
    if not isinstance(b, McuBoard):
        raise ToolchainError(f"board '{b.name}' is an FPGA board; firmware builds and QEMU runs "
                             "need an MCU board (see 'effc boards')")
    return b


def linker_script(board: McuBoard, stack_size: int | None = None) -> str:
    """The board's linker script (rendered from ``linker.ld.j2``)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(FIRMWARE_DIR),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.globals["hex"] = lambda v: f"0x{int(v):08X}"
    return env.get_template("linker.ld.j2").render(
        board=board, stack_size=stack_size or board.stack_size)


def run_tool(cmd: list[str], what: str, log: list[str] | None = None,
             cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          cwd=cwd)
    if log is not None:
        log.append(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        errors = [ln for ln in detail if re.search(r"error:|undefined reference|overflowed",
                                                   ln)] or detail or ["(no output)"]
        raise FirmwareBuildError(f"{what} failed: {errors[0].strip()}")
    return proc.stdout


def _section_sizes(elf: Path) -> dict[str, int]:
    out = run_tool([find_tool("arm-none-eabi-size"), "-A", "-d", str(elf)], "arm-none-eabi-size")
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def _write_file(folder: Path) -> Callable[[str, bytes], Path]:
    def write(name: str, data: bytes) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        return folder / name

    return write


FIRMWARE_OUTPUTS = ("firmware.elf", "firmware.bin", "firmware.hex", "firmware.map",
                    "firmware.ld", "build.log")


def build_firmware(model_c_dir: str | Path, board: Board | str | None, out_dir: str | Path,
                   *, profile: bool = False, stack_size: int | None = None,
                   extra_cflags: tuple[str, ...] = (), runtime: bool = True,
                   model_sources: list[str] | None = None, firmware_src: Path = FIRMWARE_DIR,
                   place: Callable[[str, bytes], Path] | None = None,
                   harness: tuple[str, ...] = FIRMWARE_SOURCES,
                   generated: dict[str, bytes] | None = None,
                   source_cflags: Mapping[str, Sequence[str]] | None = None) -> Firmware:
    """Compile a model folder into ``out_dir/firmware.{elf,bin,hex,map}``.

    ``profile`` defines EFFC_PROFILE (the model's EFFC_LAYER(i) markers
    become calls); ``runtime`` links every ``effc/runtime_c/*.c``; ``model_sources``
    names the model folder's .c files (default: all of them); ``firmware_src``
    holds the startup code and harness (a compiled OUTDIR has its own copy);
    ``harness`` names its sources (the real-board harness: ``BOARD_SOURCES``) and
    ``generated`` adds files beside them (the board harness's compiled-in inputs);
    ``source_cflags`` adds flags for single sources, by file name, after the others
    (a --flash-budget image's size-compiled sources, ``c.firmware_source_cflags``).

    The build runs on copies of the sources in a private temporary folder, by
    relative paths (and ``-ffile-prefix-map`` for that folder), so the image,
    map and log are byte-identical wherever the sources live, whatever their
    folder is called; ``place(name, data)`` stores each output
    (default: a plain write into ``out_dir``).
    """
    b = mcu_board(board)
    model_dir, out = Path(model_c_dir).absolute(), Path(out_dir)
    firmware_src = firmware_src.absolute()
    if not any((d / "effc_model.h").is_file() for d in (model_dir, firmware_src)):
        raise FirmwareBuildError(f"{model_dir} has no effc_model.h; it must define "
                                 "EFFC_MODEL_INPUT_SIZE and EFFC_MODEL_OUTPUT_SIZE")
    names = model_sources if model_sources is not None else \
        sorted(p.name for p in model_dir.glob("*.c"))
    if not names:
        raise FirmwareBuildError(f"{model_dir} has no .c file defining model_run()")
    # A compiled OUTDIR keeps the glue (effc_model.h, effc_model_entry.c) with the harness.
    glue = [GLUE_SOURCE] if (firmware_src / GLUE_SOURCE).is_file() else []
    groups = {"firmware": (firmware_src, [*harness, *glue]),
              "model": (model_dir, names)}
    if runtime:
        groups["runtime"] = (RUNTIME_DIR, sorted(p.name for p in RUNTIME_DIR.glob("*.c")))
    gcc = find_tool("arm-none-eabi-gcc")
    objcopy = find_tool("arm-none-eabi-objcopy")
    place = place or _write_file(out)
    log: list[str] = []
    with tempfile.TemporaryDirectory(prefix="effc-fw-") as tmp:
        work = Path(tmp)
        for group, (folder, _) in groups.items():  # the sources, by relative path only
            (work / group).mkdir()
            for src in folder.iterdir():
                if src.suffix in (".c", ".h") and src.is_file():
                    (work / group / src.name).write_bytes(src.read_bytes())
        for name, data in (generated or {}).items():
            (work / "firmware" / name).write_bytes(data)
        cflags = [*b.cflags, *COMMON_CFLAGS, *(["-DEFFC_PROFILE"] if profile else []),
                  *extra_cflags, f"-ffile-prefix-map={work}=.",
                  *(f"-I../../{group}" for group in groups)]
        try:
            objects = []
            for group, (_, files) in groups.items():
                (work / "obj" / group).mkdir(parents=True)
                objects += _compile_cached(gcc, cflags, group, files, work, b.name, log,
                                           source_cflags or {})
            (work / "firmware.ld").write_text(linker_script(b, stack_size))
            run_tool([gcc, *b.cflags, *objects, "-nostdlib", "-T", "firmware.ld",
                       "-Wl,--gc-sections", "-Wl,-Map=firmware.map", "-o", "firmware.elf",
                       "-lgcc"], f"arm-none-eabi-gcc (link) for {b.name}", log, cwd=work)
            run_tool([objcopy, "-O", "binary", "firmware.elf", "firmware.bin"], "objcopy",
                      cwd=work)
            run_tool([objcopy, "-O", "ihex", "firmware.elf", "firmware.hex"], "objcopy",
                      cwd=work)
        except FirmwareBuildError as exc:
            where = place("build.log", _log_text(log, work))
            raise FirmwareBuildError(f"{exc}; full log in {where}") from None
        s = _section_sizes(work / "firmware.elf")
        (work / "build.log").write_bytes(_log_text(log, work))
        paths = {name: place(name, (work / name).read_bytes()) for name in FIRMWARE_OUTPUTS}
    flash = sum(v for k, v in s.items()
                if k in (".isr_vector", ".text", ".rodata", ".data") or k.startswith(".ARM.ex"))
    return Firmware(b, paths["firmware.elf"], paths["firmware.bin"], paths["firmware.hex"],
                    paths["firmware.map"], flash, s.get(".data", 0) + s.get(".bss", 0),
                    s.get(".stack", 0), profile)


def _compile_cached(gcc: str, cflags: list[str], group: str, files: list[str], work: Path,
                    board: str, log: list[str],
                    source_cflags: Mapping[str, Sequence[str]]) -> list[str]:
    """``gcc -c ../../<group>/<file>`` in ``obj/<group>``, each object taken from effc's
    object cache (the runtime compiles once per board and flags; the prefix map
    makes an object the same wherever it was built) and placed where the link
    expects it. ``source_cflags[file]`` follows the common flags for that file."""
    from effc.toolchain.objcache import compile_objects, compiler_output, first_error

    def flags(source: Path) -> list[str]:
        return [*cflags, *source_cflags.get(source.name, ())]

    def command(source: Path) -> str:  # as logged, whether the object was cached or not
        return " ".join([gcc, *flags(source), "-c", str(source)])

    def fail(source: Path, cmd: list[str], output: str) -> FirmwareBuildError:
        log.append(command(source) + "\n" + output)
        return FirmwareBuildError(f"arm-none-eabi-gcc for {board} failed: {first_error(output)}")

    sources = [Path(f"../../{group}/{f}") for f in files]
    cached: dict[Path, Path] = {}
    for extra in dict.fromkeys(tuple(source_cflags.get(f, ())) for f in files):
        part = [s for s in sources if tuple(source_cflags.get(s.name, ())) == extra]
        cached.update(zip(part, compile_objects(gcc, part, [*cflags, *extra],
                                                cache_dir() / "objects", fail,
                                                cwd=work / "obj" / group), strict=True))
    names = []
    for source in sources:
        log.append(command(source) + "\n" + compiler_output(cached[source]))
        names.append(f"obj/{group}/{source.stem}.o")
        shutil.copyfile(cached[source], work / names[-1])
    return names


def _log_text(log: list[str], work: Path) -> bytes:
    """The build commands and messages, without the temporary folder's name."""
    return "\n".join(log).replace(str(work), ".").encode()


def _roomy(board: McuBoard) -> McuBoard:
    """The board with 256 MiB regions at the same origins: the image links whatever
    its size, byte-identical to the real board's when it fits."""
    big = 256 * 1024 * 1024
    return dataclasses.replace(board, flash=MemoryRegion(board.flash.origin, big),
                               ram=MemoryRegion(board.ram.origin, big))


def outdir_firmware(board: McuBoard, out: OutDir, c: dict[str, Any],
                    profile: bool = False) -> Firmware:
    """Build (or rebuild) the firmware of a compiled OUTDIR from its own copies of
    the model, runtime, startup and harness sources (the folder can move)."""
    target = "firmware-profile" if profile else "firmware"
    src = out.path(FIRMWARE_SRC)
    old_glue = (out.path(c["folder"]) / GLUE_SOURCE).is_file()  # an OUTDIR from before the glue moved
    return build_firmware(out.path(c["folder"]), _roomy(board), out.path(target),
                          profile=profile, runtime=False,
                          model_sources=[*c["sources"], *([GLUE_SOURCE] if old_glue else [])],
                          firmware_src=src if src.is_dir() else FIRMWARE_DIR,
                          extra_cflags=tuple(c.get("firmware_cflags", ())),
                          source_cflags=c.get("firmware_source_cflags"),
                          place=lambda name, data: out.write(f"{target}/{name}", data))


def board_inputs_header(samples: list[bytes], input_size: int) -> bytes:
    """effc_board_inputs.h: the samples the board harness runs, compiled in."""
    rows = []
    for sample in samples:
        assert len(sample) == input_size
        rows.append("    {" + ", ".join(str(b - 256 if b > 127 else b) for b in sample) + "},")
    return ("/* effc_board_inputs.h - the samples the board harness runs (generated). */\n"
            "#include <stdint.h>\n"
            f"#define EFFC_BOARD_SAMPLES {len(samples)}u\n"
            f"static const int8_t effc_board_inputs[{len(samples)}][{input_size}] "
            "__attribute__((aligned(8))) = {\n" + "\n".join(rows) + "\n};\n").encode()


def board_firmware(board: McuBoard, out: OutDir, c: dict[str, Any],
                   samples: list[bytes], measure: bool = False,
                   folder: str = BOARD_FIRMWARE) -> Firmware:
    """The real-board image of a compiled OUTDIR (``OUTDIR/firmware-board``, or
    ``folder``): the board harness with ``samples`` compiled in, linked at the board's
    real flash and RAM sizes, so the linker's region overflow checks fire. ``measure``
    links it with roomy regions instead, to learn its size whatever it is (the fit
    check)."""
    hw = board.hardware
    if hw is None:
        raise ToolchainError(f"board '{board.name}' has no [hardware] table (soc, "
                             "pyocd_target); add one to build an image for the real board")
    src = out.path(FIRMWARE_SRC)
    clock = round(board.clock_mhz * 1_000_000)
    flags = (f"-DEFFC_SOC_{hw.soc.upper()}", f"-DEFFC_CLOCK_HZ={clock}u",
             f"-DEFFC_UART_BAUD={hw.uart_baud}u")
    old_glue = (out.path(c["folder"]) / GLUE_SOURCE).is_file()
    return build_firmware(out.path(c["folder"]), _roomy(board) if measure else board,
                          out.path(folder),
                          runtime=False, extra_cflags=(*flags, *c.get("firmware_cflags", ())),
                          model_sources=[*c["sources"], *([GLUE_SOURCE] if old_glue else [])],
                          firmware_src=src, harness=BOARD_SOURCES,
                          source_cflags=c.get("firmware_source_cflags"),
                          generated={"effc_board_inputs.h": board_inputs_header(
                              samples, c["input_bytes"])},
                          place=lambda name, data: out.write(f"{folder}/{name}", data))

"""Build a generated model into Cortex-M firmware and run it under QEMU.

``build_firmware`` compiles the model folder (``effc_model.h`` + C files, see
``effc/firmware/effc_firmware.h`` for the contract) with ``effc/runtime_c/``, the
effc startup code and the semihosting harness, for one board.
``run_qemu`` runs that firmware on one or more input samples and returns the
outputs, exact instruction counts (a TCG plugin watching the harness's
markers), per-layer counts when asked, and the stack high-water mark.

Failures raise :class:`QemuError` (an :class:`~effc.errors.EffcError`) with a
one-line message saying what happened and what to do.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from effc.codegen.c.hostlib import RUNTIME_DIR, build_shared, cache_dir
from effc.errors import EffcError
from effc.firmware.boards import Board, load_board

FIRMWARE_DIR = Path(__file__).resolve().parents[1] / "firmware"
FIRMWARE_SOURCES = ("startup.c", "harness.c", "minilibc.c")
PLUGIN_SOURCE = FIRMWARE_DIR / "qemu_count_plugin.c"
COMMON_CFLAGS = ("-std=c99", "-O2", "-ffreestanding", "-ffunction-sections",
                 "-fdata-sections", "-Wall", "-Wextra", "-Werror", "-g")
EXIT_MODEL_ERROR, EXIT_INPUT_ERROR, EXIT_OUTPUT_ERROR, EXIT_HARDFAULT = 2, 3, 4, 125
APT_HINT = "install it with scripts/setup.sh (apt-get install gcc-arm-none-eabi qemu-system-arm)"


class QemuError(EffcError):
    """A firmware build or a QEMU run failed (the CLI exits with 2)."""


class ToolMissingError(QemuError):
    pass


class FirmwareBuildError(QemuError):
    pass


class FirmwareCrashError(QemuError):
    pass


class FirmwareTimeoutError(QemuError):
    pass


@dataclass(frozen=True)
class Firmware:
    """A built firmware: its files and its memory figures (bytes)."""

    board: Board
    elf: Path
    bin: Path
    hex: Path
    map: Path
    flash_bytes: int  # .isr_vector + .text + .rodata + .ARM.* + .data
    ram_bytes: int  # .data + .bss (static RAM, without the stack)
    stack_reserved: int  # the .stack section
    profile: bool = False


@dataclass
class QemuRun:
    """Result of ``run_qemu``. Counts are exact guest instructions, not cycles."""

    outputs: bytes  # all samples' outputs, concatenated
    samples: int
    exit_code: int
    instructions: int | None = None  # first sample's inference
    instructions_per_sample: list[int] = field(default_factory=list)
    per_layer_instructions: dict[int, int] = field(default_factory=dict)  # first sample
    # with pcs=True, first sample: segment -> address -> (executions, taken)
    pc_counts: dict[int, dict[int, tuple[int, int]]] = field(default_factory=dict)
    stack_bytes: int | None = None  # high-water mark, whole run
    log: str = ""  # the firmware's semihosting text


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissingError(f"'{name}' was not found on PATH; {APT_HINT}")
    return path


def _board(board: Board | str | None) -> Board:
    return board if isinstance(board, Board) else load_board(board)


def linker_script(board: Board, stack_size: int | None = None) -> str:
    """The board's linker script (rendered from ``linker.ld.j2``)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(FIRMWARE_DIR),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.globals["hex"] = lambda v: f"0x{int(v):08X}"
    return env.get_template("linker.ld.j2").render(
        board=board, stack_size=stack_size or board.stack_size)


def _run_tool(cmd: list[str], what: str, log: list[str] | None = None,
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
    out = _run_tool([_tool("arm-none-eabi-size"), "-A", "-d", str(elf)], "arm-none-eabi-size")
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
                   place: Callable[[str, bytes], Path] | None = None) -> Firmware:
    """Compile a model folder into ``out_dir/firmware.{elf,bin,hex,map}``.

    ``profile`` defines EFFC_PROFILE (the model's EFFC_LAYER(i) markers
    become calls); ``runtime`` links every ``effc/runtime_c/*.c``; ``model_sources``
    names the model folder's .c files (default: all of them); ``firmware_src``
    holds the startup code and harness (a compiled OUTDIR has its own copy).

    The build runs on copies of the sources in a private temporary folder, by
    relative paths (and ``-ffile-prefix-map`` for that folder), so the image,
    map and log are byte-identical wherever the sources live, whatever their
    folder is called; ``place(name, data)`` stores each output
    (default: a plain write into ``out_dir``).
    """
    b = _board(board)
    model_dir, out = Path(model_c_dir).absolute(), Path(out_dir)
    if not (model_dir / "effc_model.h").is_file():
        raise FirmwareBuildError(f"{model_dir} has no effc_model.h; it must define "
                                 "EFFC_MODEL_INPUT_SIZE and EFFC_MODEL_OUTPUT_SIZE")
    names = model_sources if model_sources is not None else \
        sorted(p.name for p in model_dir.glob("*.c"))
    if not names:
        raise FirmwareBuildError(f"{model_dir} has no .c file defining model_run()")
    groups = {"firmware": (firmware_src.absolute(), list(FIRMWARE_SOURCES)),
              "model": (model_dir, names)}
    if runtime:
        groups["runtime"] = (RUNTIME_DIR, sorted(p.name for p in RUNTIME_DIR.glob("*.c")))
    gcc = _tool("arm-none-eabi-gcc")
    objcopy = _tool("arm-none-eabi-objcopy")
    place = place or _write_file(out)
    log: list[str] = []
    with tempfile.TemporaryDirectory(prefix="effc-fw-") as tmp:
        work = Path(tmp)
        for group, (folder, _) in groups.items():  # the sources, by relative path only
            (work / group).mkdir()
            for src in folder.iterdir():
                if src.suffix in (".c", ".h") and src.is_file():
                    (work / group / src.name).write_bytes(src.read_bytes())
        cflags = [*b.cflags, *COMMON_CFLAGS, *(["-DEFFC_PROFILE"] if profile else []),
                  *extra_cflags, f"-ffile-prefix-map={work}=.",
                  *(f"-I../../{group}" for group in groups)]
        try:
            objects = []
            for group, (_, files) in groups.items():
                (work / "obj" / group).mkdir(parents=True)
                objects += _compile_cached(gcc, cflags, group, files, work, b.name, log)
            (work / "firmware.ld").write_text(linker_script(b, stack_size))
            _run_tool([gcc, *b.cflags, *objects, "-nostdlib", "-T", "firmware.ld",
                       "-Wl,--gc-sections", "-Wl,-Map=firmware.map", "-o", "firmware.elf",
                       "-lgcc"], f"arm-none-eabi-gcc (link) for {b.name}", log, cwd=work)
            _run_tool([objcopy, "-O", "binary", "firmware.elf", "firmware.bin"], "objcopy",
                      cwd=work)
            _run_tool([objcopy, "-O", "ihex", "firmware.elf", "firmware.hex"], "objcopy",
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
                    board: str, log: list[str]) -> list[str]:
    """``gcc -c ../../<group>/<file>`` in ``obj/<group>``, each object taken from effc's
    object cache (the runtime compiles once per board and flags; the prefix map
    makes an object the same wherever it was built) and placed where the link
    expects it."""
    from effc.codegen.c.objcache import compile_objects, compiler_output, first_error

    def command(source: Path) -> str:  # as logged, whether the object was cached or not
        return " ".join([gcc, *cflags, "-c", str(source)])

    def fail(source: Path, cmd: list[str], output: str) -> FirmwareBuildError:
        log.append(command(source) + "\n" + output)
        return FirmwareBuildError(f"arm-none-eabi-gcc for {board} failed: {first_error(output)}")

    sources = [Path(f"../../{group}/{f}") for f in files]
    cached = compile_objects(gcc, sources, cflags, cache_dir() / "objects", fail,
                             cwd=work / "obj" / group)
    names = []
    for source, obj in zip(sources, cached, strict=True):
        log.append(command(source) + "\n" + compiler_output(obj))
        names.append(f"obj/{group}/{source.stem}.o")
        shutil.copyfile(obj, work / names[-1])
    return names


def _log_text(log: list[str], work: Path) -> bytes:
    """The build commands and messages, without the temporary folder's name."""
    return "\n".join(log).replace(str(work), ".").encode()


# ----------------------------------------------------------------- plugin


def count_plugin() -> Path:
    """The instruction-count plugin, built once per source version."""
    return build_shared([PLUGIN_SOURCE], ["-O2", "-Wall"], "qemu-count")


def marker_addresses(elf: Path) -> dict[str, int]:
    """Addresses of the harness's marker functions (Thumb bit cleared)."""
    out = _run_tool([_tool("arm-none-eabi-nm"), str(elf)], "arm-none-eabi-nm")
    want = {"effc_bench_start", "effc_bench_stop", "effc_layer_marker"}
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] in want:
            found[parts[2]] = int(parts[0], 16) & ~1
    if not {"effc_bench_start", "effc_bench_stop"} <= found.keys():
        raise QemuError(f"{elf} has no effc_bench_start/stop markers; build it with "
                        "effc.engines.qemu.build_firmware")
    return found


# -------------------------------------------------------------------- run


def _parse_counts(text: str) -> tuple[dict[int, int], dict[int, dict[int, int]]]:
    regions: dict[int, int] = {}
    segments: dict[int, dict[int, int]] = {}
    for m in re.finditer(r"^effc-region (\d+) (\d+)$", text, re.M):
        regions[int(m[1])] = int(m[2])
    for m in re.finditer(r"^effc-segment (\d+) (\d+) (\d+)$", text, re.M):
        segments.setdefault(int(m[1]), {})[int(m[2])] = int(m[3])
    return regions, segments


def _parse_pcs(text: str) -> dict[int, dict[int, tuple[int, int]]]:
    pcs: dict[int, dict[int, tuple[int, int]]] = {}
    for m in re.finditer(r"^effc-pc (\d+) ([0-9a-f]+) (\d+) (\d+)$", text, re.M):
        pcs.setdefault(int(m[1]), {})[int(m[2], 16)] = (int(m[3]), int(m[4]))
    return pcs


def _layers(log: str) -> list[int]:
    m = re.search(r"^EFFC sample 0 layers ([-\d,.]+)$", log, re.M)
    return [int(v) for v in m[1].split(",") if v != "..."] if m else []


def _per_layer(segments: dict[int, int], layer_ids: list[int]) -> dict[int, int]:
    per: dict[int, int] = {}
    if segments.get(0):
        per[-1] = segments[0]  # before the first marker
    for k, layer in enumerate(layer_ids, start=1):
        if k in segments:
            per[layer] = per.get(layer, 0) + segments[k]
    return per


def _fail_message(code: int, log: str, b: Board) -> QemuError:
    last = [ln for ln in log.splitlines() if ln.strip()]
    tail = last[-1].strip() if last else "(no output)"
    if code == EXIT_HARDFAULT and "stack" in tail:
        return FirmwareCrashError(f"the firmware overflowed its stack on {b.name} ({tail}); "
                                  "rebuild with a larger stack_size")
    if code == EXIT_HARDFAULT:
        return FirmwareCrashError(f"the firmware crashed on {b.name} ({tail}); look up the pc "
                                  "in firmware.map (or addr2line -e firmware.elf)")
    if code == EXIT_MODEL_ERROR:
        return QemuError(f"model_run returned an error on {b.name}; check the model's "
                         "kernel arguments and scratch sizes")
    if code in (EXIT_INPUT_ERROR, EXIT_OUTPUT_ERROR):
        return QemuError(f"the firmware could not exchange files with QEMU ({tail}); check "
                         "the input size against EFFC_MODEL_INPUT_SIZE")
    return QemuError(f"qemu-system-arm exited with status {code} on {b.name}: {tail}")


def run_qemu(elf: str | Path, board: Board | str | None, input_bytes: bytes,
             output_size: int, *, count: bool = True, profile: bool = False,
             pcs: bool = False, timeout: float = 60.0) -> QemuRun:
    """Run a firmware on ``input_bytes`` (one or more samples) under QEMU.

    ``output_size`` is one sample's output size in bytes; ``count`` loads
    the counting plugin; ``profile`` also splits counts at layer markers
    (the firmware must have been built with ``profile=True``); ``pcs`` also
    counts each instruction address of the first sample (and its taken
    branches), per segment.
    """
    b = _board(board)
    elf = Path(elf).resolve()
    if b.qemu is None:
        names = ", ".join(x.name for x in _qemu_boards())
        raise QemuError(f"board '{b.name}' has no QEMU model; run it on hardware or pick "
                        f"one of {names}")
    if not elf.is_file():
        raise QemuError(f"firmware {elf} does not exist; build it with build_firmware()")
    if not input_bytes:
        raise QemuError("no input bytes to run; give at least one sample")
    qemu = _tool("qemu-system-arm")
    with tempfile.TemporaryDirectory(prefix="effc-qemu-") as tmp:
        work = Path(tmp)
        (work / "input.bin").write_bytes(input_bytes)
        cmd = [qemu, "-machine", b.qemu.machine, "-cpu", b.qemu.cpu, "-nographic",
               "-monitor", "none", "-serial", "null",
               "-semihosting-config",
               "enable=on,target=native,arg=firmware,arg=input.bin,arg=output.bin",
               "-kernel", str(elf)]
        log_file = work / "plugin.log"
        if count or profile or pcs:
            marks = marker_addresses(elf)
            args = (f"start={marks['effc_bench_start']:#x},"
                    f"stop={marks['effc_bench_stop']:#x}")
            if profile and "effc_layer_marker" in marks:
                args += f",layer={marks['effc_layer_marker']:#x}"
            if pcs:
                args += ",pcs=1"
            cmd += ["-plugin", f"{count_plugin()},{args}", "-d", "plugin",
                    "-D", str(log_file)]
        try:
            proc = subprocess.run(cmd, cwd=work, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise FirmwareTimeoutError(
                f"the firmware did not finish within {timeout:g} s on {b.name} (a hang, or "
                "a long run: raise timeout=)") from exc
        log = proc.stderr
        if proc.returncode != 0:
            raise _fail_message(proc.returncode, log, b)
        out_path = work / "output.bin"
        outputs = out_path.read_bytes() if out_path.exists() else b""
        samples = len(outputs) // output_size if output_size > 0 else 0
        if output_size <= 0 or len(outputs) % output_size != 0 or samples == 0:
            raise QemuError(f"the firmware wrote {len(outputs)} output bytes, not a multiple "
                            f"of output_size={output_size}; check EFFC_MODEL_OUTPUT_SIZE")
        result = QemuRun(outputs, samples, proc.returncode, log=log)
        m = re.search(r"^EFFC done samples=(\d+) stack_bytes=(\d+)$", log, re.M)
        if m:
            result.stack_bytes = int(m[2])
        if count or profile or pcs:
            if not log_file.exists():
                raise QemuError("the QEMU counting plugin produced no log; check that "
                                "qemu-system-arm supports -plugin (TCG plugins)")
            regions, segments = _parse_counts(log_file.read_text())
            result.instructions_per_sample = [regions[i] for i in sorted(regions)]
            result.instructions = result.instructions_per_sample[0] if regions else None
            if profile:
                result.per_layer_instructions = _per_layer(segments.get(0, {}), _layers(log))
            if pcs:
                result.pc_counts = _parse_pcs(log_file.read_text())
        return result


def _qemu_boards() -> list[Board]:
    from effc.firmware.boards import qemu_boards

    return qemu_boards()

"""The QEMU engine: a compiled model's firmware under qemu-system-arm.

``run_qemu`` runs a firmware (``effc.toolchain.firmware``) on one or more input samples and returns the
outputs, exact instruction counts (a TCG plugin watching the harness's
markers), per-layer counts when asked, and the stack high-water mark.

Failures raise :class:`QemuError` (an :class:`~effc.errors.EffcError`) with a
one-line message saying what happened and what to do.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from effc.artifact import Artifact, entry_ports, pack, packed_bytes, unpack
from effc.boards import Board, McuBoard, qemu_boards
from effc.engines import Engine, EngineResult, register_engine
from effc.errors import EffcError
from effc.outdir import OutDir
from effc.progress import step
from effc.reference.interpreter import Feeds, as_feeds, inference_count, inference_feeds
from effc.toolchain.cycles import core_timing, cycles_by_segment, disassemble
from effc.toolchain.firmware import FIRMWARE_DIR, find_tool, mcu_board, outdir_firmware, run_tool
from effc.toolchain.host import build_shared

PLUGIN_SOURCE = FIRMWARE_DIR / "qemu_count_plugin.c"
EXIT_MODEL_ERROR, EXIT_INPUT_ERROR, EXIT_OUTPUT_ERROR, EXIT_HARDFAULT = 2, 3, 4, 125


class QemuError(EffcError):
    """A QEMU run failed (the CLI exits with 2)."""


class FirmwareCrashError(QemuError):
    pass


class FirmwareTimeoutError(QemuError):
    pass


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


# ----------------------------------------------------------------- plugin


def count_plugin() -> Path:
    """The instruction-count plugin, built once per source version."""
    return build_shared([PLUGIN_SOURCE], ["-O2", "-Wall"], "qemu-count")


def marker_addresses(elf: Path) -> dict[str, int]:
    """Addresses of the harness's marker functions (Thumb bit cleared)."""
    out = run_tool([find_tool("arm-none-eabi-nm"), str(elf)], "arm-none-eabi-nm")
    want = {"effc_bench_start", "effc_bench_stop", "effc_layer_marker"}
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] in want:
            found[parts[2]] = int(parts[0], 16) & ~1
    if not {"effc_bench_start", "effc_bench_stop"} <= found.keys():
        raise QemuError(f"{elf} has no effc_bench_start/stop markers; build it with "
                        "effc.toolchain.firmware.build_firmware")
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


def _fail_message(code: int, log: str, b: McuBoard) -> QemuError:
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
    b = mcu_board(board)
    elf = Path(elf).resolve()
    if b.qemu is None:
        names = ", ".join(x.name for x in qemu_boards())
        raise QemuError(f"board '{b.name}' has no QEMU model; run it on hardware or pick "
                        f"one of {names}")
    if not elf.is_file():
        raise QemuError(f"firmware {elf} does not exist; build it with build_firmware()")
    if not input_bytes:
        raise QemuError("no input bytes to run; give at least one sample")
    qemu = find_tool("qemu-system-arm")
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


# ----------------------------------------------------------------- engine


#: Wall-time allowance: QEMU with the counting plugin runs at least ~50 M guest
#: instructions per second here, and no effc kernel needs 40 instructions per MAC.
#: A hang therefore ends in a clear timeout error instead of waiting forever.
SECONDS_FIXED, SECONDS_PER_SAMPLE, INSTRUCTIONS_PER_MAC_BOUND, GUEST_IPS = 30.0, 1.0, 40, 50e6


def timeout_for(samples: int, macs: int) -> float:
    per_sample = SECONDS_PER_SAMPLE + macs * INSTRUCTIONS_PER_MAC_BOUND / GUEST_IPS
    return SECONDS_FIXED + samples * per_sample


def run_qemu_model(compiled: Artifact, x: Feeds, profile: bool = False) -> EngineResult:
    """The ``qemu`` engine: the OUTDIR's firmware (rebuilt with layer markers for
    ``profile``) on every inference in ``x``, with exact instruction counts."""
    manifest = compiled.manifest
    if "firmware" not in manifest:
        board = manifest.get("board")
        raise EffcError(f"'{compiled.folder}' has no firmware"
                        + (f" (board {board} has no QEMU model)" if board else "")
                        + "; compile with --board mps2-an386 (or another QEMU board)")
    board = mcu_board(compiled.board())
    graph = compiled.graph
    feeds = as_feeds(graph, x)
    count = inference_count(graph, feeds)
    inputs, outputs = entry_ports(compiled)
    elf = compiled.folder / manifest["firmware"]["elf"]
    if profile:
        elf = outdir_firmware(board, OutDir.existing(compiled.folder), manifest["c"], profile=True).elf
    data = b"".join(pack(inputs, inference_feeds(graph, feeds, i)) for i in range(count))
    with step(f"running {count} inference(s) under QEMU ({board.name})"):
        run = run_qemu(elf, board, data, packed_bytes(outputs), count=True, profile=profile,
                       pcs=True, timeout=timeout_for(count, manifest["summary"]["macs"]))
    cycles = _cycles(elf, board, run, profile)
    values = unpack(outputs, run.outputs, run.samples)
    fw = manifest["firmware"]
    macs = manifest["summary"]["macs"]
    metrics = {
        "board": board.name,
        "instructions": run.instructions,
        "instructions_per_mac": round(run.instructions / macs, 4) if run.instructions and
        macs else None,
        "flash_bytes": fw["flash_bytes"],
        "ram_bytes": fw["ram_bytes"],
        "arena_bytes": manifest["memory"]["arena_bytes"],
        "arena_lower_bound_bytes": manifest["memory"]["lower_bound_bytes"],
        "activations_lower_bound_bytes": manifest["memory"].get(
            "activations_lower_bound_bytes"),
        "scratch_peak_bytes": manifest["memory"].get("scratch_peak_bytes"),
        "stack_bytes": run.stack_bytes,
        "macs": macs,
        "cycles_estimate": cycles.get(-2),
        "cycle_model": {"core": board.cpu, "flash_wait_states": board.flash_wait_states,
                        "doc": "docs/cycle-model.md"},
    }
    if profile:
        metrics["per_layer_instructions"] = {
            str(k): v for k, v in sorted(run.per_layer_instructions.items())}
        macs = {layer["name"]: layer["macs"] for layer in manifest["summary"]["layers"]}
        names = {layer["index"]: layer for layer in manifest["c"]["layers"]}
        metrics["profile"] = [
            {"index": k, "op": names[k]["op"] if k in names else "(entry/exit)",
             "node": names[k]["node"] if k in names else "", "kernel":
             names[k]["kernel"] if k in names else "", "instructions": v,
             "macs": macs.get(names[k]["node"], 0) if k in names else 0,
             "cycles_estimate": cycles.get(k)}
            for k, v in sorted(run.per_layer_instructions.items())]
    metrics["inferences"] = run.samples
    return EngineResult(values, "qemu", metrics)


def _cycles(elf: Path, board: McuBoard, run: QemuRun, profile: bool) -> dict[int, int]:
    """Estimated core cycles of the first inference (key -2) and, with ``profile``,
    of each layer (by layer index, as per_layer_instructions): effc.toolchain.cycles."""
    if not run.pc_counts:
        return {}
    core = core_timing(board.cpu)
    insns = disassemble(elf, core)
    segments = cycles_by_segment(run.pc_counts, insns, core, board.flash_wait_states)
    out = {-2: sum(segments.values())}
    if profile:
        out |= _per_layer(segments, _layers(run.log))
    return out


register_engine(Engine("qemu", run_qemu_model))

"""The board engine: a compiled OUTDIR's inferences on an attached board, through a debug
probe (pyocd's Python API), with the cycles the core's DWT counter measured.

Per batch of inferences the engine builds the board image with the inputs compiled in
(``OUTDIR/firmware-board-run``, effc/firmware/board_harness.c), programs it, resets the
core halted, clears the results block's magic word (a previous run's block survives a
reset until the startup code zeroes .bss), lets the core run, polls the block until the
harness has written its magic word (last, after every sample), and reads the statuses,
DWT cycle counts and outputs back from RAM. The console UART prints the same lines for a
person at a terminal; the engine does not need it. ``EFFC_PROBE`` picks one probe of
several (its unique ID, or part of it, as ``pyocd list`` prints it).

Never run on silicon yet: the protocol is tested against a simulated target
(tests/test_board_engine.py), the no-probe path for real.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from effc.artifact import Artifact, c_library, entry_ports, pack, unpack
from effc.boards import McuBoard
from effc.engines import Engine, EngineResult, register_engine
from effc.errors import EffcError
from effc.outdir import OutDir
from effc.progress import step
from effc.reference.interpreter import Feeds, as_feeds, inference_count, inference_feeds
from effc.toolchain.firmware import board_firmware, find_tool, mcu_board, run_tool
from effc.toolchain.flash import ProbeLink, connect_pyocd, probe_failure

RESULTS_SYMBOL = "effc_board_results"
RESULTS_MAGIC = 0xEFFCD0E5
HEADER = struct.Struct("<5I")  # magic, done, samples, output size, clock in Hz
RUN_FOLDER = "firmware-board-run"
#: At most this many inferences per image; fewer when the board's flash or RAM is short.
BATCH_LIMIT = 256
#: A hang ends in a one-line error: no effc kernel needs this many cycles per MAC.
CYCLES_PER_MAC_BOUND, SECONDS_FIXED = 200, 10.0
POLL_SECONDS = 0.05


class BoardRunError(EffcError):
    """A run on the board failed (the CLI exits with 2)."""


@dataclass(frozen=True)
class ResultsLayout:
    """Where the harness's results block lies in RAM, for ``samples`` inferences of
    ``output_size`` bytes each: the header, status[n], cycles[n], out[n][output_size]."""

    address: int
    samples: int
    output_size: int

    @property
    def size(self) -> int:
        return HEADER.size + 8 * self.samples + self.samples * self.output_size


@dataclass
class BoardRun:
    """What one image's run left in RAM."""

    outputs: bytes  # every sample's output, concatenated
    cycles: list[int]
    clock_hz: int


def results_layout(elf: Path, samples: int, output_size: int) -> ResultsLayout:
    """The results block's address, from the image's symbols; its size must be what
    ``samples`` and ``output_size`` give (else the image is not the harness we know)."""
    out = run_tool([find_tool("arm-none-eabi-nm"), "-S", str(elf)], "arm-none-eabi-nm")
    layout = None
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == RESULTS_SYMBOL:
            layout = ResultsLayout(int(parts[0], 16), samples, output_size)
            if int(parts[1], 16) != layout.size:
                raise BoardRunError(f"{elf}: {RESULTS_SYMBOL} has {int(parts[1], 16)} bytes, "
                                    f"not {layout.size}; compile the model again")
    if layout is None:
        raise BoardRunError(f"{elf} has no {RESULTS_SYMBOL}; compile the model again with "
                            "this effc (its board harness writes the results to RAM)")
    return layout


def run_on_target(target: Any, layout: ResultsLayout, board: str, timeout: float,
                  poll: float = POLL_SECONDS,
                  clock: Callable[[], float] = time.monotonic) -> BoardRun:
    """Reset ``target`` (a pyocd target, already programmed), run it until the harness has
    written every sample's results, and read them back."""
    from pyocd.core.target import Target

    target.reset_and_halt()
    target.write32(layout.address, 0)  # a previous run's magic, until .bss is zeroed
    target.resume()
    deadline = clock() + timeout
    while target.read32(layout.address) != RESULTS_MAGIC:
        state = target.get_state()
        if state in (Target.State.HALTED, Target.State.LOCKUP):
            pc = target.read_core_register("pc")
            done = target.read32(layout.address + 4)
            raise BoardRunError(f"the core stopped on {board} at pc 0x{pc:08X} after {done} of "
                                f"{layout.samples} samples (a fault, or a bkpt); look the pc "
                                f"up in {RUN_FOLDER}/firmware.map")
        if clock() > deadline:
            done = target.read32(layout.address + 4)
            raise BoardRunError(f"the board did not finish within {timeout:g} s: {done} of "
                                f"{layout.samples} samples done; watch its UART (the harness "
                                "prints each sample) or reset it and try again")
        time.sleep(poll)
    block = bytes(target.read_memory_block8(layout.address, layout.size))
    _, done, samples, output_size, clock_hz = HEADER.unpack_from(block)
    if (done, samples, output_size) != (layout.samples,) * 2 + (layout.output_size,):
        raise BoardRunError(f"the results block on {board} says {done} of {samples} samples "
                            f"of {output_size} bytes, not {layout.samples} of "
                            f"{layout.output_size}; the board runs another image: try again")
    n = layout.samples
    status = struct.unpack_from(f"<{n}i", block, HEADER.size)  # the entry's int
    cycles = list(struct.unpack_from(f"<{n}I", block, HEADER.size + 4 * n))
    failed = [i for i, s in enumerate(status) if s != 0]
    if failed:
        raise BoardRunError(f"the model returned {status[failed[0]]} on {board} for sample "
                            f"{failed[0]}; run the same input on --engine host to compare")
    return BoardRun(block[HEADER.size + 8 * n:], cycles, clock_hz)


def batch_size(board: McuBoard, image: dict[str, Any], input_bytes: int,
               output_bytes: int) -> int:
    """How many inferences one image holds: the compiled image (one sample in it) plus
    the others' inputs in flash and their results in RAM, with 1 KiB left on each."""
    flash_free = board.flash.size - image["flash_bytes"] - 1024
    ram_free = board.ram.size - image["ram_bytes"] - image["stack_reserved"] - 1024
    fits = min(flash_free // max(input_bytes, 1), ram_free // (8 + output_bytes)) + 1
    return max(1, min(BATCH_LIMIT, fits))


def run_board(compiled: Artifact, x: Feeds, profile: bool = False, *,
              connect: Callable[..., ProbeLink] = connect_pyocd,
              batch_limit: int | None = None, poll: float = POLL_SECONDS) -> EngineResult:
    """The ``board`` engine: every inference in ``x`` on the attached board (through
    ``connect``: pyocd, or a simulated target in the tests)."""
    if profile:
        raise BoardRunError("--profile counts instructions per layer under QEMU (--engine "
                            "qemu); the board engine measures whole inferences (DWT cycles)")
    board = mcu_board(compiled.board())
    hw = board.hardware
    if hw is None:
        raise BoardRunError(f"board '{board.name}' has no [hardware] table, so effc cannot run "
                            "on it; use --engine qemu, or compile for a board with one "
                            "(e.g. --board nucleo-l4r5zi)")
    image = compiled.manifest.get("board_firmware")
    if not image:
        raise BoardRunError(f"'{compiled.folder}' holds no board image; compile it again with "
                            f"--board {board.name}")
    c = c_library(compiled)
    graph = compiled.graph
    feeds = as_feeds(graph, x)
    count = inference_count(graph, feeds)
    inputs, outputs = entry_ports(compiled)
    samples = [pack(inputs, inference_feeds(graph, feeds, i)) for i in range(count)]
    out_bytes = c["output_bytes"]  # EFFC_MODEL_OUTPUT_SIZE, as packed_bytes(outputs)
    per_image = min(batch_limit or BATCH_LIMIT,
                    batch_size(board, image, c["input_bytes"], out_bytes))
    macs = compiled.manifest["summary"]["macs"]
    hz = board.clock_mhz * 1e6
    assert compiled.folder is not None
    out = OutDir.existing(compiled.folder)
    link = connect(board, hw.pyocd_target, os.environ.get("EFFC_PROBE") or None,
                   choose="EFFC_PROBE=ID")  # before building: no probe fails at once
    data, cycles, clock_hz = b"", [], 0
    try:
        with link:
            for start in range(0, count, per_image):
                batch = samples[start:start + per_image]
                fw = board_firmware(board, out, c, batch, folder=RUN_FOLDER)
                layout = results_layout(fw.elf, len(batch), out_bytes)
                timeout = SECONDS_FIXED + len(batch) * (0.01 + macs * CYCLES_PER_MAC_BOUND / hz)
                with step(f"running inferences {start}..{start + len(batch) - 1} of {count} "
                          f"on {board.name} (probe {link.unique_id})"):
                    link.program(fw.bin, board.flash.origin)
                    run = run_on_target(link.target, layout, board.name, timeout, poll)
                data += run.outputs
                cycles += run.cycles
                clock_hz = run.clock_hz or int(hz)
    except EffcError:
        raise
    except Exception as exc:
        raise probe_failure(board, hw.pyocd_target, link, exc, "run on") from None
    values = unpack(outputs, data, count)
    metrics = {
        "board": board.name,
        "probe": link.unique_id,
        "clock_hz": clock_hz,
        "cycles": cycles[0],  # the first inference's, as the qemu engine's instructions
        "cycles_per_inference": cycles,
        "cycles_min": min(cycles),
        "cycles_max": max(cycles),
        "cycles_per_mac": round(cycles[0] / macs, 4) if macs else None,
        "macs": macs,
        "flash_bytes": image["flash_bytes"],
        "ram_bytes": image["ram_bytes"],
        "arena_bytes": compiled.manifest["memory"]["arena_bytes"],
        "inferences": count,
    }
    return EngineResult(values, "board", metrics)


def _run(compiled: Artifact, x: Feeds, profile: bool) -> EngineResult:
    return run_board(compiled, x, profile)


register_engine(Engine("board", _run, label="the attached board"))

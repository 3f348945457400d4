"""effc run --engine board: the probe protocol against a simulated target, and the no-probe
path for real (one line, exit 2, within 10 s). No board is attached here.

The simulated target is programmed with the real image: when it "runs", it reads the
inputs compiled into that image (effc_board_inputs in firmware.bin), computes them with
the host build of the same C library, and writes the results block where the image's
symbol table puts it, as the harness would; until its startup code has run, RAM keeps a
previous run's block (with a valid magic word)."""

from __future__ import annotations

import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyocd.core.target import Target

from effc.artifact import entry_ports, pack, unpack
from effc.compiler import CompiledModel
from effc.engines import get_engine
from effc.engines.board import RESULTS_MAGIC, RESULTS_SYMBOL, BoardRunError, run_board
from tests.c_models import compiled, tflm_vectors
from tests.conftest_c import require_tool

pytestmark = pytest.mark.qemu  # arm-none-eabi-gcc


@pytest.fixture(scope="module")
def nucleo(tmp_path_factory) -> CompiledModel:
    return compiled(tmp_path_factory, "kws_ref_model", "nucleo-l4r5zi")


def _symbols(elf: Path) -> dict[str, tuple[int, int]]:
    out = subprocess.run([require_tool("arm-none-eabi-nm"), "-S", str(elf)],
                         capture_output=True, text=True, check=True).stdout
    return {p[3]: (int(p[0], 16), int(p[1], 16)) for p in map(str.split, out.splitlines())
            if len(p) == 4}


class FakeTarget:
    """A board's flash and RAM behind pyocd's target calls. ``mode``: "run" (finishes
    after a few polls), "hang", "fault" (halts), "error" (status -1 on sample 1)."""

    def __init__(self, model: CompiledModel, mode: str) -> None:
        board = model.board()
        self.model, self.mode = model, mode
        self.flash_origin = board.flash.origin
        self.ram_origin, self.ram = board.ram.origin, bytearray(board.ram.size)
        self.image = b""
        self.symbols: dict[str, tuple[int, int]] = {}
        self.state, self.reads, self.log = Target.State.HALTED, 0, []

    def flash(self, image: Path) -> None:
        self.image = image.read_bytes()
        self.symbols = _symbols(image.with_name("firmware.elf"))
        address, size = self.symbols[RESULTS_SYMBOL]
        stale = struct.pack("<5I", RESULTS_MAGIC, 1, 1, 1, 1)  # a previous run's block
        self.poke(address, stale + bytes(size - len(stale)))

    def poke(self, address: int, data: bytes) -> None:
        offset = address - self.ram_origin
        assert 0 <= offset and offset + len(data) <= len(self.ram), hex(address)
        self.ram[offset:offset + len(data)] = data

    # pyocd's target calls
    def reset_and_halt(self) -> None:
        self.state, self.reads = Target.State.HALTED, 0
        self.log.append("reset_and_halt")

    def write32(self, address: int, value: int) -> None:
        assert self.state == Target.State.HALTED
        self.poke(address, struct.pack("<I", value))

    def resume(self) -> None:
        self.state = Target.State.RUNNING
        self.log.append("resume")

    def get_state(self) -> Target.State:
        return self.state

    def read_core_register(self, name: str) -> int:
        assert name == "pc"
        return 0x08000F00

    def read32(self, address: int) -> int:
        if self.state == Target.State.RUNNING:
            self._step()
        offset = address - self.ram_origin
        return struct.unpack_from("<I", self.ram, offset)[0]

    def read_memory_block8(self, address: int, size: int) -> list[int]:
        offset = address - self.ram_origin
        return list(self.ram[offset:offset + size])

    def _step(self) -> None:
        """The core runs on while the host polls: the startup code zeroes .bss at the
        second read, the harness finishes at the fourth."""
        self.reads += 1
        address, size = self.symbols[RESULTS_SYMBOL]
        if self.reads == 2:
            self.poke(address, bytes(size))
        if self.reads == 3 and self.mode == "fault":
            self.state = Target.State.HALTED
        if self.reads == 4 and self.mode in ("run", "error"):
            self.poke(address, self._results())
            self.state = Target.State.SLEEPING

    def _results(self) -> bytes:
        c = self.model.manifest["c"]
        at, size = self.symbols["effc_board_inputs"]
        n = size // c["input_bytes"]
        raw = self.image[at - self.flash_origin:at - self.flash_origin + size]
        inputs, outputs = entry_ports(self.model)
        feeds = unpack(inputs, raw, n)
        values = self.model.run("host", feeds).values
        out = b"".join(pack(outputs, {k: v[i:i + 1] for k, v in values.items()})
                       for i in range(n))
        status = [-1 if self.mode == "error" and i == 1 else 0 for i in range(n)]
        cycles = [100_000 + 7 * i + len(self.log) for i in range(n)]
        return (struct.pack("<5I", RESULTS_MAGIC, n, n, c["output_bytes"], 120_000_000)
                + struct.pack(f"<{n}i", *status) + struct.pack(f"<{n}I", *cycles) + out)


class FakeLink:
    def __init__(self, target: FakeTarget) -> None:
        self.target, self.unique_id, self.programmed = target, "FAKE0001", []

    def program(self, image: Path, address: int) -> None:
        self.programmed.append((image.name, address))
        self.target.flash(image)

    def __enter__(self) -> FakeLink:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def _connect(link: FakeLink) -> Any:
    def connect(board: Any, target: str, probe: str | None, choose: str) -> FakeLink:
        assert (board.name, target, choose) == ("nucleo-l4r5zi", "stm32l4r5zitx",
                                               "EFFC_PROBE=ID")
        return link

    return connect


def test_the_engine_reads_outputs_and_dwt_cycles_from_the_target(nucleo) -> None:
    x, expected = tflm_vectors("kws_ref_model")
    link = FakeLink(FakeTarget(nucleo, "run"))
    result = run_board(nucleo, x[:5], connect=_connect(link), batch_limit=2, poll=0)
    assert np.array_equal(result.outputs, expected[:5])  # bit-exact with TFLite Micro
    # three images (2 + 2 + 1 inferences), each at the start of flash, each reset halted
    # with the stale block's magic cleared before the core ran
    assert link.programmed == [("firmware.bin", 0x08000000)] * 3
    assert link.target.log == ["reset_and_halt", "resume"] * 3
    m = result.metrics
    cycles = [100_000 + 7 * i + 2 * (k + 1) for k, b in enumerate((2, 2, 1)) for i in range(b)]
    assert m["cycles_per_inference"] == cycles and m["cycles"] == cycles[0]
    assert (m["board"], m["probe"], m["clock_hz"], m["inferences"]) == \
        ("nucleo-l4r5zi", "FAKE0001", 120_000_000, 5)
    assert (nucleo.folder / "firmware-board-run" / "firmware.elf").is_file()


@pytest.mark.parametrize("mode, message", [
    ("hang", "the board did not finish within 0.22 s: 0 of 2 samples done"),
    ("fault", "the core stopped on nucleo-l4r5zi at pc 0x08000F00 after 0 of 2 samples"),
    ("error", "the model returned -1 on nucleo-l4r5zi for sample 1"),
])
def test_the_engine_reports_a_failed_run_in_one_line(nucleo, mode, message, monkeypatch
                                                      ) -> None:
    import effc.engines.board as board

    monkeypatch.setattr(board, "SECONDS_FIXED", 0.2)
    monkeypatch.setattr(board, "CYCLES_PER_MAC_BOUND", 0)
    x, _ = tflm_vectors("kws_ref_model")
    link = FakeLink(FakeTarget(nucleo, mode))
    with pytest.raises(BoardRunError) as err:
        run_board(nucleo, x[:2], connect=_connect(link), poll=0.01)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_engine_refuses_profile_and_boards_without_hardware(nucleo, tmp_path_factory
                                                                 ) -> None:
    x, _ = tflm_vectors("kws_ref_model")
    with pytest.raises(BoardRunError, match="--profile counts instructions per layer under"):
        get_engine("board").run(nucleo, x[:1], True)
    qemu = compiled(tmp_path_factory, "kws_ref_model")
    with pytest.raises(BoardRunError, match="board 'mps2-an386' has no \\[hardware\\] table"):
        get_engine("board").run(qemu, x[:1], False)


def test_run_on_the_board_without_a_probe_fails_in_one_line_within_10_s(nucleo, tmp_path
                                                                         ) -> None:
    x, _ = tflm_vectors("kws_ref_model")
    np.save(tmp_path / "x.npy", x[:2])
    start = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "effc.cli", "run", str(nucleo.folder),
                        "--engine", "board", "--input", str(tmp_path / "x.npy"),
                        "--output", str(tmp_path / "y.npy")],
                       capture_output=True, text=True, timeout=30)
    elapsed = time.monotonic() - start
    print(f"{elapsed:.1f} s: {r.stderr.strip()}")
    assert r.returncode == 2 and elapsed < 10
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "no debug probe found: pyocd searched USB for" in lines[0]
    assert "stlink" in lines[0] and "EFFC_PROBE=ID" in lines[0]
    assert not (tmp_path / "y.npy").exists()

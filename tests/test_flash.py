"""The real-board image and effc flash: dry run, fit checks, the linker's own overflow
check, and the no-probe failure (one line, exit 2, within 10 s). No hardware is attached
here: writing to a board is not tested."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import time

import pytest

from effc.boards import MemoryRegion, parse_board
from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.outdir import OutDir
from effc.toolchain.firmware import FirmwareBuildError, board_firmware
from tests.c_models import model_path
from tests.conftest_c import require_tool

pytestmark = pytest.mark.qemu  # arm-none-eabi-gcc


@pytest.fixture(scope="module")
def nucleo(tmp_path_factory) -> CompiledModel:
    out = tmp_path_factory.mktemp("flash") / "kws"
    return compile_model(model_path("kws_ref_model"), out,
                         CompileOptions(board="nucleo-l4r5zi", name="kws"))


def _effc(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "effc.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_board_image_has_the_harness_and_real_sizes(nucleo: CompiledModel) -> None:
    section = nucleo.manifest["board_firmware"]
    elf = nucleo.folder / section["elf"]
    script = (elf.parent / "firmware.ld").read_text()
    assert "LENGTH = 0x00200000" in script and "LENGTH = 0x000A0000" in script
    nm = subprocess.run([require_tool("arm-none-eabi-nm"), str(elf)], capture_output=True,
                        text=True, check=True).stdout
    names = {ln.split()[-1] for ln in nm.splitlines()}
    assert {"effc_soc_init", "effc_uart_putc", "kws_run", "effc_board_inputs"} <= names
    assert "effc_bench_start" not in names  # the semihosting harness is not in it
    dump = subprocess.run([require_tool("arm-none-eabi-objdump"), "-d", str(elf)],
                          capture_output=True, text=True, check=True).stdout
    for word in ("e0001000", "e000e000", "40008000"):  # DWT, the SCS (DEMCR), LPUART1
        assert word in dump, word


def test_flash_dry_run_prints_image_address_and_size(nucleo: CompiledModel) -> None:
    r = _effc("flash", str(nucleo.folder), "--dry-run")
    assert r.returncode == 0, r.stderr
    print(r.stdout.strip())
    size = (nucleo.folder / nucleo.manifest["board_firmware"]["bin"]).stat().st_size
    assert "firmware-board/firmware.bin -> nucleo-l4r5zi flash at 0x08000000" in r.stdout
    assert f"{size:,} bytes of 2,097,152" in r.stdout
    assert "pyocd (target stm32l4r5zitx); nothing written" in r.stdout


def test_flash_without_a_probe_fails_in_one_line_within_10_s(nucleo: CompiledModel) -> None:
    start = time.monotonic()
    r = _effc("flash", str(nucleo.folder), timeout=30)
    elapsed = time.monotonic() - start
    print(f"{elapsed:.1f} s: {r.stderr.strip()}")
    assert r.returncode == 2
    assert elapsed < 10
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "no debug probe found: pyocd searched USB for" in lines[0]
    assert "stlink" in lines[0] and "cmsisdap" in lines[0]


def test_flash_checks_the_fit_and_the_board(nucleo: CompiledModel, tmp_path) -> None:
    small = tmp_path / "kws"
    shutil.copytree(nucleo.folder, small)
    board = small / "board.toml"
    board.write_text(board.read_text().replace("size = 0x00200000", "size = 0x4000"))
    r = _effc("flash", str(small), "--dry-run")
    assert r.returncode == 2
    assert "does not fit nucleo-l4r5zi's flash (16,384 bytes)" in r.stderr
    r = _effc("flash", str(nucleo.folder), "--dry-run", "--board", "stm32f746g-disco")
    assert r.returncode == 2 and "compiled for nucleo-l4r5zi, not stm32f746g-disco" in r.stderr


def test_qemu_board_is_not_flashed(tmp_path) -> None:
    out = compile_model(model_path("ad01_int8"), tmp_path / "ad",
                        CompileOptions(board="mps2-an386"))
    r = _effc("flash", str(out.folder), "--dry-run")
    assert r.returncode == 2 and "has no [hardware] table" in r.stderr


def test_the_board_linker_script_refuses_an_image_too_large(nucleo: CompiledModel) -> None:
    board = parse_board(nucleo.folder / "board.toml")
    tiny = dataclasses.replace(board, flash=MemoryRegion(board.flash.origin, 0x4000))
    c = nucleo.manifest["c"]
    with pytest.raises(FirmwareBuildError, match="region `FLASH' overflowed"):
        board_firmware(tiny, OutDir.existing(nucleo.folder), c, [bytes(c["input_bytes"])])

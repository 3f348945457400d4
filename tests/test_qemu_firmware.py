"""Boards, firmware builds and the QEMU engine, end to end.

A tiny hand-written model (one int8 dense layer through runtime_c) runs under
QEMU; its outputs must equal the host build's and the int8 reference, the
instruction count must be identical run to run, and the failure modes (crash,
hang, stack overflow, bad board, missing tool) must give one-line errors.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from effc.boards import DEFAULT_BOARD, list_boards, load_board, qemu_boards
from effc.errors import EffcError
from effc.quant import int8 as q8
from tests.conftest_c import RUNTIME_C, _c_array, rand_i8, rand_quant, require_tool

FIN, FOUT = 40, 10


def _dense_model(folder: Path, body: str = "") -> dict[str, np.ndarray]:
    """A model folder: one per-channel dense layer 40 -> 10 (or a custom body)."""
    rng = np.random.default_rng(3)
    w = rand_i8(rng, (FOUT, FIN), -127, 127)
    m, s = rand_quant(rng, FOUT, 0.0015)
    b = rng.integers(-3000, 3000, FOUT).astype(np.int32)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "effc_model.h").write_text(
        f"#define EFFC_MODEL_INPUT_SIZE {FIN}\n#define EFFC_MODEL_OUTPUT_SIZE {FOUT}\n")
    arrays = "".join(_c_array(k, v) for k, v in (("W", w), ("M", m), ("S", s), ("B", b)))
    body = body or f"""
    static int32_t scratch[256];
    const effc_dense_params p = {{.input_zero_point = 5, .output_zero_point = -7,
                                  .activation_min = -128, .activation_max = 127}};
    const effc_per_channel_quant q = {{M, S, NULL}};
    const effc_dense_dims d = {{1, {FIN}, {FOUT}}};
    effc_scratch sc = {{scratch, sizeof scratch}};
    EFFC_LAYER(7);
    return effc_dense_per_channel_s8(&sc, &p, &q, &d, in, W, B, out);"""
    (folder / "model.c").write_text(f"""#include <stdint.h>
#include "effc_firmware.h"
#include "effc_model.h"
#include "effc_nn.h"
#define EFFC_ALIGN4 __attribute__((aligned(4), unused))
{arrays}
int model_run(const int8_t *in, int8_t *out)
{{{body}
}}
""")
    return {"w": w, "m": m, "s": s, "b": b}


def _reference(arr: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    return q8.dense_int8(x.reshape(-1, FIN), arr["w"], arr["b"], input_zero_point=5,
                         output_zero_point=-7, multiplier=arr["m"], shift=arr["s"])


def _host_outputs(folder: Path, x: np.ndarray) -> np.ndarray:
    import cffi

    so = folder / "host.so"
    firmware = Path(__file__).resolve().parents[1] / "effc" / "firmware"
    subprocess.run(["gcc", "-std=c99", "-O2", "-shared", "-fPIC", f"-I{folder}",
                    f"-I{RUNTIME_C}", f"-I{firmware}", str(folder / "model.c"),
                    *map(str, sorted(RUNTIME_C.glob("*.c"))), "-o", str(so)], check=True)
    ffi = cffi.FFI()
    ffi.cdef("int model_run(const int8_t *in, int8_t *out);")
    lib = ffi.dlopen(str(so))
    rows = []
    for sample in x.reshape(-1, FIN):
        y = np.zeros(FOUT, np.int8)
        s = np.ascontiguousarray(sample)
        assert lib.model_run(ffi.from_buffer("int8_t[]", s), ffi.from_buffer("int8_t[]", y)) == 0
        rows.append(y)
    return np.stack(rows)


# ------------------------------------------------------------------- boards


def test_boards_load_and_describe() -> None:
    boards = {b.name: b for b in list_boards()}
    assert {"mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547", "stm32f746g-disco",
            "nucleo-l4r5zi"} <= boards.keys()
    assert load_board().name == DEFAULT_BOARD and load_board(None).default
    an547 = load_board("mps3-an547")
    assert an547.qemu and an547.qemu.cpu == "cortex-m55" and an547.flash.origin == 0x10000000
    disco = boards["stm32f746g-disco"]
    assert disco.qemu is None and disco.flash.origin == 0x08000000
    assert disco.flash.size == 1 << 20 and disco.ram.size == 320 * 1024
    nucleo = boards["nucleo-l4r5zi"]
    assert (nucleo.flash.size, nucleo.ram.size, nucleo.fpu) == (2 << 20, 640 * 1024,
                                                                  "fpv4-sp-d16")
    assert all(b.runs_in_qemu for b in qemu_boards())
    assert "hardware only" in disco.describe() and "(default)" in boards[DEFAULT_BOARD].describe()


def test_unknown_board_names_the_known_ones() -> None:
    with pytest.raises(EffcError, match=r"unknown board 'nope'.*mps2-an386.*nucleo-l4r5zi"):
        load_board("nope")


@pytest.mark.parametrize("board", [b.name for b in list_boards("mcu")])
def test_firmware_builds_for_every_board(board: str, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    from effc.toolchain.firmware import build_firmware

    _dense_model(tmp_path / "m")
    fw = build_firmware(tmp_path / "m", board, tmp_path / "fw", extra_cflags=("-Werror",))
    assert fw.elf.is_file() and fw.bin.stat().st_size > 0 and fw.hex.is_file()
    b = load_board(board)
    assert 0 < fw.flash_bytes < b.flash.size and fw.stack_reserved == b.stack_size
    assert fw.ram_bytes + fw.stack_reserved <= b.ram.size
    assert f"ORIGIN = 0x{b.flash.origin:08X}" in (tmp_path / "fw" / "firmware.ld").read_text()


# --------------------------------------------------------------------- runs


@pytest.mark.parametrize("board", ["mps2-an386", "mps3-an547"])
def test_dense_model_end_to_end(board: str, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    from effc.engines.qemu import run_qemu
    from effc.toolchain.firmware import build_firmware

    arr = _dense_model(tmp_path / "m")
    x = rand_i8(np.random.default_rng(11), (3, FIN))  # three samples in one run
    fw = build_firmware(tmp_path / "m", board, tmp_path / "fw", profile=True)
    run = run_qemu(fw.elf, board, x.tobytes(), FOUT, profile=True)
    y = np.frombuffer(run.outputs, np.int8).reshape(3, FOUT)
    np.testing.assert_array_equal(y, _reference(arr, x))
    np.testing.assert_array_equal(y, _host_outputs(tmp_path / "m", x))
    assert run.samples == 3 and run.exit_code == 0
    assert run.instructions and len(run.instructions_per_sample) == 3
    assert len(set(run.instructions_per_sample)) == 1  # data-independent kernel
    assert FIN * FOUT < run.instructions < 10 * FIN * FOUT  # plausible for 400 MACs
    assert set(run.per_layer_instructions) <= {-1, 7} and run.per_layer_instructions[7] > 0
    assert sum(run.per_layer_instructions.values()) == run.instructions
    assert run.stack_bytes is not None and 64 < run.stack_bytes < 4096
    again = run_qemu(fw.elf, board, x.tobytes(), FOUT)
    assert again.instructions_per_sample == run.instructions_per_sample
    assert again.outputs == run.outputs and again.per_layer_instructions == {}


def _run_body(tmp_path: Path, body: str, board: str = "mps2-an386", timeout: float = 20):
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    from effc.engines.qemu import run_qemu
    from effc.toolchain.firmware import build_firmware

    _dense_model(tmp_path / "m", body)
    fw = build_firmware(tmp_path / "m", board, tmp_path / "fw")
    return run_qemu(fw.elf, board, bytes(FIN), FOUT, timeout=timeout)


FAULT = "\n    (void)in; *(volatile int32_t *)0xF0000000u = 1; out[0] = 0; return 0;"
HANG = "\n    (void)in; (void)out; for (;;) { __asm__ volatile(\"\"); }"
DEEP = """
    volatile int8_t big[300000];
    big[0] = in[0]; big[299999] = in[1]; out[0] = big[0]; return 0;"""


@pytest.mark.parametrize("board", ["mps2-an386", "mps2-an505"])
def test_crash_is_a_one_line_error(board: str, tmp_path: Path) -> None:
    from effc.engines.qemu import FirmwareCrashError

    with pytest.raises(FirmwareCrashError, match=r"crashed on .*hardfault.*pc=") as exc:
        _run_body(tmp_path, FAULT, board)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("board", ["mps2-an386", "mps3-an547"])
def test_stack_overflow_faults(board: str, tmp_path: Path) -> None:
    from effc.engines.qemu import FirmwareCrashError

    with pytest.raises(FirmwareCrashError, match="stack"):
        _run_body(tmp_path, DEEP, board)


def test_hang_times_out(tmp_path: Path) -> None:
    from effc.engines.qemu import FirmwareTimeoutError

    with pytest.raises(FirmwareTimeoutError, match="did not finish within 3 s"):
        _run_body(tmp_path, HANG, timeout=3)


def test_model_error_and_bad_input(tmp_path: Path) -> None:
    from effc.engines.qemu import QemuError, run_qemu
    from effc.toolchain.firmware import build_firmware

    with pytest.raises(QemuError, match="model_run returned an error"):
        _run_body(tmp_path, "\n    (void)in; (void)out; return 3;")
    fw = build_firmware(tmp_path / "m", "mps2-an386", tmp_path / "fw2")
    with pytest.raises(QemuError, match="EFFC_MODEL_INPUT_SIZE"):
        run_qemu(fw.elf, "mps2-an386", bytes(FIN + 1), FOUT, count=False)
    with pytest.raises(QemuError, match="has no QEMU model"):
        run_qemu(fw.elf, "stm32f746g-disco", bytes(FIN), FOUT)


def test_missing_tool_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from effc.toolchain.firmware import ToolMissingError, build_firmware

    _dense_model(tmp_path / "m")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolMissingError, match=r"'arm-none-eabi-gcc' was not found.*setup.sh"):
        build_firmware(tmp_path / "m", "mps2-an386", tmp_path / "fw")


def test_build_error_points_at_the_log(tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    from effc.toolchain.firmware import FirmwareBuildError, build_firmware

    _dense_model(tmp_path / "m", "\n    return undefined_symbol_here;")
    with pytest.raises(FirmwareBuildError, match=r"undefined_symbol_here.*build\.log"):
        build_firmware(tmp_path / "m", "mps2-an386", tmp_path / "fw")

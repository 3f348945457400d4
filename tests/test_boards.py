"""Boards of both kinds, a user's own board file, and the targets and engines by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from effc.boards import BOARDS_DIR, FpgaBoard, McuBoard, list_boards, load_board
from effc.codegen import get_target, target_names
from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.engines import engine_names, get_engine
from effc.errors import EffcError
from tests.conftest_c import require_tool
from tests.test_cli_errors import DIGITS, assert_one_line_error, effc

#: ``effc boards`` printed exactly these lines before FPGA boards existed.
MCU_LINES = """\
mps2-an386         cortex-m4   flash   4 MiB @0x00000000  RAM   4 MiB @0x20000000  qemu mps2-an386  (default)
mps2-an500         cortex-m7   flash   4 MiB @0x00000000  RAM   4 MiB @0x20000000  qemu mps2-an500
mps2-an505         cortex-m33  flash   4 MiB @0x10000000  RAM   4 MiB @0x38000000  qemu mps2-an505
mps3-an547         cortex-m55  flash 512 KiB @0x10000000  RAM 512 KiB @0x30000000  qemu mps3-an547
nucleo-l4r5zi      cortex-m4   flash   2 MiB @0x08000000  RAM 640 KiB @0x20000000  hardware only
stm32f746g-disco   cortex-m7   flash   1 MiB @0x08000000  RAM 320 KiB @0x20000000  hardware only
"""

FPGA = {  # part, family, LUT, FF, DSP, 36 Kb BRAM, 4 Kb EBR, SPRAM, URAM, clock MHz
    "pynq-z2": ("xc7z020clg400-1", "zynq7", 53200, 106400, 220, 140, 0, 0, 0, 100),
    "arty-a7-35t": ("xc7a35ticsg324-1L", "artix7", 20800, 41600, 90, 50, 0, 0, 0, 100),
    "zcu104": ("xczu7ev-ffvc1156-2-e", "zynquplus", 230400, 460800, 1728, 312, 0, 0, 96, 100),
    "icebreaker": ("iCE40UP5K-SG48", "ice40up", 5280, 5280, 8, 0, 30, 4, 0, 12),
}


def test_effc_boards_lists_mcu_boards_as_before_then_fpga_boards() -> None:
    result = effc("boards")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "\n".join(lines[:6]) + "\n" == MCU_LINES
    assert [line.split()[0] for line in lines[6:]] == sorted(FPGA)
    for line in lines[6:]:
        part, *_ = FPGA[line.split()[0]]
        assert part in line and "LUT" in line and "DSP" in line and "MHz" in line


@pytest.mark.parametrize("name", sorted(FPGA))
def test_fpga_boards_carry_their_budgets(name: str) -> None:
    board = load_board(name)
    assert isinstance(board, FpgaBoard) and board.kind == "fpga"
    assert (board.part, board.family, board.lut, board.ff, board.dsp, board.bram36, board.ebr,
            board.spram, board.uram, board.clock_mhz) == FPGA[name]


def test_every_mcu_board_has_a_clock_and_its_kind() -> None:
    boards = list_boards("mcu")
    assert len(boards) == 6 and all(isinstance(b, McuBoard) for b in boards)
    assert {b.name: b.clock_mhz for b in boards} == {
        "mps2-an386": 25, "mps2-an500": 25, "mps2-an505": 20, "mps3-an547": 32,
        "nucleo-l4r5zi": 120, "stm32f746g-disco": 216}


# -- a user's board file ------------------------------------------------------------------


def _board_file(tmp_path: Path, base: str, edits: dict[str, str], name: str = "mine") -> Path:
    """``base``'s packaged file with ``edits`` (old text -> new text) applied."""
    text = (BOARDS_DIR / f"{base}.toml").read_text()
    for old, new in {f'name = "{base}"': f'name = "{name}"', **edits}.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_a_users_board_file_loads_by_path(tmp_path: Path) -> None:
    path = _board_file(tmp_path, "nucleo-l4r5zi", {"size = 0x00200000": "size = 0x00080000"})
    board = load_board(str(path))
    assert isinstance(board, McuBoard) and board.name == "mine" and board.source == path
    assert board.flash.size == 512 * 1024 and board.ram.size == 640 * 1024 and board.qemu is None


BAD_FIELDS = [  # (base board, edits, the field the error names, words of the problem)
    ("mps2-an386", {'kind = "mcu"\n': ""}, "kind", "is missing"),
    ("mps2-an386", {'kind = "mcu"': 'kind = "gpu"'}, "kind", "must be mcu or fpga"),
    ("mps2-an386", {"clock_mhz = 25": 'clock_mhz = "fast"'}, "clock_mhz", "positive number"),
    ("mps2-an386", {"clock_mhz = 25": "clock_mhz = 0"}, "clock_mhz", "positive number"),
    ("mps2-an386", {"size = 0x00400000": "size = -1"}, "flash.size", "positive whole"),
    ("mps2-an386", {"origin = 0x00000000": 'origin = "zero"'}, "flash.origin", "whole number"),
    ("mps2-an386", {"[qemu]\nmachine": "[qemu]\nmachin"}, "qemu.machine", "is missing"),
    ("mps2-an386", {"dsp = true": "dsp = 1"}, "dsp", "true or false"),
    ("mps2-an386", {'cflags = ["-mcpu=cortex-m4"': "cflags = [4"}, "cflags", "strings"),
    ("mps2-an386", {"stack_size = 0x8000": "stack_size = 0x8000\nflahs = 1"}, "flahs",
     "is not a board field"),
    ("nucleo-l4r5zi", {"qemu = false": "qemu = true"}, "qemu", "false or a table"),
    ("pynq-z2", {"lut = 53200\n": ""}, "resources.lut", "is missing"),
    ("pynq-z2", {"dsp = 220": "dsp = true"}, "resources.dsp", "positive whole"),
    ("pynq-z2", {"bram36 = 140": "bram36 = 0"}, "resources.bram36", "is missing"),
    ("pynq-z2", {"bram36 = 140": "bram36 = 140\nluts = 3"}, "resources.luts",
     "is not a board field"),
    ("icebreaker", {'part = "iCE40UP5K-SG48"\n': ""}, "part", "is missing"),
]


@pytest.mark.parametrize(("base", "edits", "field", "problem"), BAD_FIELDS,
                         ids=[f"{b}-{f}" for b, _, f, _ in BAD_FIELDS])
def test_a_bad_board_field_is_one_line_naming_the_file_and_the_field(
        tmp_path: Path, base: str, edits: dict[str, str], field: str, problem: str) -> None:
    path = _board_file(tmp_path, base, edits)
    with pytest.raises(EffcError) as info:
        load_board(str(path))
    message = str(info.value)
    assert f"board file {path}: field '{field}' " in message and problem in message
    assert "\n" not in message


def test_board_file_mistakes_through_the_cli(tmp_path: Path) -> None:
    path = _board_file(tmp_path, "mps2-an386", {"clock_mhz = 25": 'clock_mhz = "fast"'})
    assert_one_line_error(effc("compile", str(DIGITS), "-o", str(tmp_path / "out"),
                               "--board", str(path)), str(path), "'clock_mhz'")
    (tmp_path / "broken.toml").write_text("name = [\n")
    assert_one_line_error(effc("compile", str(DIGITS), "-o", str(tmp_path / "out"),
                               "--board", str(tmp_path / "broken.toml")), "cannot read board file")
    assert_one_line_error(effc("compile", str(DIGITS), "-o", str(tmp_path / "out"),
                               "--board", "./no-such-board.toml"), "does not exist")
    assert not (tmp_path / "out").exists()


@pytest.mark.qemu
def test_a_users_board_file_compiles_and_runs_under_qemu_from_a_moved_outdir(
        tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    path = _board_file(tmp_path, "mps2-an386", {"default = true\n": "",
                                                "size = 0x00400000": "size = 0x00100000"})
    data = np.load(DIGITS.parent / "digits_data.npz")
    compiled = compile_model(DIGITS, tmp_path / "out", CompileOptions(
        calib=data["x_calib"], board=str(path)))
    m = compiled.manifest
    assert (m["board"], m["board_kind"], m["target"]) == ("mine", "mcu", "c")
    assert m["fit"]["flash_limit"] == 1 << 20
    assert (tmp_path / "out" / "board.toml").read_bytes() == path.read_bytes()
    path.unlink()  # the OUTDIR carries its own copy
    shutil.move(tmp_path / "out", tmp_path / "moved")
    moved = CompiledModel.open(tmp_path / "moved")
    x = data["x_test"][:3]
    result = moved.run("qemu", x)
    assert result.metrics["board"] == "mine"
    assert np.array_equal(result.outputs, moved.run("reference", x).outputs)


# -- targets and engines by name ------------------------------------------------------------


def test_targets_and_engines_are_registered_by_name() -> None:
    assert target_names() == ["c", "hls", "rtl"]
    assert engine_names() == ["reference", "board", "hls", "host", "icarus", "qemu", "verilator"]
    assert get_target(load_board("mps2-an386")).name == "c"
    assert get_target(load_board("pynq-z2")).name == "rtl"  # hls with --target hls
    assert get_engine("reference").runs_models and get_engine("host").trace is not None
    with pytest.raises(EffcError, match=r"unknown engine 'nope'; choose reference, board, hls, "
                                        r"host, icarus, qemu or verilator"):
        get_engine("nope")


def test_an_fpga_board_takes_the_rtl_target(tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    assert_one_line_error(effc("compile", str(DIGITS), "-o", out, "--board", "icebreaker",
                               "--target", "c"),
                          "the c target compiles for MCU boards", "'icebreaker' is an FPGA")
    assert_one_line_error(effc("compile", str(DIGITS), "-o", out, "--board", "mps2-an386",
                               "--target", "hls"),
                          "the hls target compiles for FPGA boards", "'mps2-an386' is an MCU")
    assert not Path(out).exists()
    # the default target of an FPGA board is the RTL accelerator, which runs int8 models
    assert_one_line_error(effc("compile", str(DIGITS), "-o", out, "--board", "pynq-z2"),
                          "the RTL accelerator runs int8 models", "--calib")
    assert not (Path(out) / "effc.json").exists()


def test_a_target_needs_a_board(tmp_path: Path) -> None:
    assert_one_line_error(effc("compile", str(DIGITS), "-o", str(tmp_path / "out"),
                               "--target", "c"), "--target c needs a board")


def test_the_rtl_target_needs_an_fpga_board(tmp_path: Path) -> None:
    assert_one_line_error(effc("compile", str(DIGITS), "-o", str(tmp_path / "out"),
                               "--board", "mps2-an386", "--target", "rtl"),
                          "the rtl target compiles for FPGA boards", "'mps2-an386' is an MCU")

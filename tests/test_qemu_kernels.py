"""The runtime_c kernel cases on Cortex-M under QEMU: the DSP bodies (and the
portable ones built for Arm) must be bit-identical with the host results."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from effc.codegen.c.kernel_set import SIZE_CFLAGS, SIZE_SOURCES
from tests import test_runtime_c as t8
from tests import test_runtime_c_float as tf
from tests.case_edits import floored, one_shift
from tests.conftest_c import (
    RUN_ALL_C,
    Case,
    require_tool,
    results_bytes,
    run_host,
    split_results,
    write_driver,
)

TARGETS = [  # (board, extra cflags)
    ("mps2-an386", ()),               # Cortex-M4: DSP bodies
    ("mps2-an386", ("-DEFFC_NO_DSP",)),  # Cortex-M4: portable bodies
    # Cortex-M4 with every optional variant left out (effc/codegen/c/kernel_set.py):
    # the wide, clamping, 3x3 and depthwise walk cases take the general C paths, same bytes
    ("mps2-an386", ("-DEFFC_OMIT_WIDE2=1", "-DEFFC_OMIT_WIDE4=1", "-DEFFC_OMIT_CLAMP=1",
                    "-DEFFC_OMIT_CONV3X3=1", "-DEFFC_OMIT_DW_S2=1", "-DEFFC_OMIT_DW_NARROW=1",
                    "-DEFFC_OMIT_DW_S1=1", "-DEFFC_OMIT_CONV_COLUMNS=1", "-DEFFC_OMIT_PAIRS2=1")),
    # Cortex-M4 as --optimize size builds it: -Os picks the shorter loops (the
    # depthwise walk's two-step passes), the general stride-1 walk runs the
    # narrow planes too; size builds widen no filter, but a user's own -Os build of
    # a speed library links the wide layouts' loops (2-byte function alignment:
    # every computed entry must still land, effc_mm_2x4_wide's ADR)
    ("mps2-an386", ("-Os", "-DEFFC_OMIT_DW_NARROW=1")),
    # Cortex-M4 as the speed builds of models with WIDE2 layers (kernel_set.py): the
    # two-channel loop tests its sentinel every 16 groups and runs the pointwise quads
    # itself (widening each)
    ("mps2-an386", ("-DEFFC_MM_2X4_UNROLL=16", "-DEFFC_MM_2X4_QUADS=1")),
    # ... and as those whose WIDE2 layers all have k <= 64: no loop test, and the longer
    # k of the cases (72, 136) take the C path
    ("mps2-an386", ("-DEFFC_MM_2X4_ONE_PASS=1", "-DEFFC_MM_2X4_UNROLL=16",
                    "-DEFFC_MM_2X4_QUADS=1")),
    # Cortex-M4 as --flash-budget builds it: the wide loops without the one-column
    # two-pair loop and the column images (their layers take effc_mm_2x1_wide and im2col),
    # the depthwise body without its speed-only extras (EFFC_DW_SPEED: the narrow walk in
    # one copy, every column, two LDRs a row), the setup and light ops compiled for size as
    # the lean and compact forms compile them (_size_units)
    ("mps2-an386", ("-DEFFC_OMIT_PAIRS2=1", "-DEFFC_OMIT_CONV_COLUMNS=1",
                    "-DEFFC_DW_COMPACT=1")),
    # Cortex-M4 as the --flash-budget builds whose two-channel layers are EFFC_FILTER_PAIR8
    # (kernel_set.packed_defines): the WIDE2 loops read int8 pair words (the 2x4 loop, the
    # one-column 2x1 and two-pair loops, the quads widened doubled in C), and the one-pass
    # stack loop that widens its own quads; the WIDE2 cases take the C path there
    ("mps2-an386", ("-DEFFC_WIDE2_PACKED=1",)),
    ("mps2-an386", ("-DEFFC_WIDE2_PACKED=1", "-DEFFC_MM_2X4_ONE_PASS=1",
                    "-DEFFC_MM_2X4_UNROLL=16", "-DEFFC_MM_2X4_QUADS=1", "-DEFFC_OMIT_PAIRS2=1",
                    "-DEFFC_OMIT_CONV_COLUMNS=1", "-DEFFC_DW_COMPACT=1")),
    ("mps2-an500", ()),               # Cortex-M7
    ("mps2-an505", ()),               # Cortex-M33
    ("mps3-an547", ()),               # Cortex-M55 (MVE auto-vectorized portable code)
]


def write_kernel_model(cases: list[Case], folder: Path) -> int:
    """A firmware model whose model_run runs every case; returns its output size."""
    size = results_bytes(cases)
    model = RUN_ALL_C + """
int model_run(const int8_t *in, int8_t *out)
{
    (void)in;
    effc_test_run_all((unsigned char *)out);
    return 0;
}
"""
    write_driver(cases, folder, model)
    (folder / "effc_model.h").write_text(
        f"#define EFFC_MODEL_INPUT_SIZE 4\n#define EFFC_MODEL_OUTPUT_SIZE {size}\n")
    return size


@pytest.mark.parametrize(("board", "flags"), TARGETS,
                         ids=[b + ("" if not f else "-portable" if f[0] == "-DEFFC_NO_DSP"
                                   else "-packed-one-pass" if f[0] == "-DEFFC_WIDE2_PACKED=1"
                                   and len(f) > 1
                                   else "-packed" if f[0] == "-DEFFC_WIDE2_PACKED=1"
                                   else "-Os" if f[0] == "-Os"
                                   else "-unroll16" if f[0] == "-DEFFC_MM_2X4_UNROLL=16"
                                   else "-one-pass" if f[0] == "-DEFFC_MM_2X4_ONE_PASS=1"
                                   else "-budget" if f[0] == "-DEFFC_OMIT_PAIRS2=1"
                                   else "-omitted") for b, f in TARGETS])
def test_kernels_bit_identical_on_cortex_m(board: str, flags: tuple[str, ...],
                                           tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    cases = t8.CASES + tf.CASES
    # two firmwares: the whole table's arrays and calls outgrow the 512 KiB
    # flash of the smallest boards (mps3-an547's ITCM)
    results = _run_on(board, cases, flags, tmp_path, 2)
    host = t8.host_results() + tf.host_results()
    for case, (rc, used, y), (_, used0, y0) in zip(cases, results, host, strict=True):
        assert rc == 0, f"{case.name}: kernel returned {rc} on {board}"
        assert used == used0, f"{case.name}: scratch size differs from the host's"
        np.testing.assert_array_equal(y.view(np.uint8), y0.view(np.uint8),
                                      err_msg=f"{case.name} on {board} {flags}")


#: the firmware defines of models whose WIDE2 / depthwise / int8-row layers all floor at
#: their output zero point (kernel_set.relu_defines), over the builds those loops come in:
#: the Cortex-M4 DSP bodies' four build kinds and the Cortex-M55 Helium bodies
RELU = ("-DEFFC_WIDE2_RELU=1", "-DEFFC_DW_RELU=1", "-DEFFC_S8_RELU=1")
RELU_BUILDS = {"O2": ("mps2-an386", ()), "Os": ("mps2-an386", ("-Os", "-DEFFC_OMIT_DW_NARROW=1")),
               "one-pass": ("mps2-an386", ("-DEFFC_MM_2X4_ONE_PASS=1", "-DEFFC_MM_2X4_UNROLL=16",
                                           "-DEFFC_MM_2X4_QUADS=1")),
               "budget": ("mps2-an386", ("-DEFFC_OMIT_PAIRS2=1", "-DEFFC_OMIT_CONV_COLUMNS=1",
                                         "-DEFFC_DW_COMPACT=1")),
               "helium": ("mps3-an547", ())}


def _size_units(flags: tuple[str, ...]) -> dict[str, list[str]]:
    """The lean and compact forms' size-compiled sources (kernel_set.SIZE_SOURCES) for the
    builds with the --flash-budget defines, as those forms' firmware compiles them."""
    return {s: list(SIZE_CFLAGS) for s in SIZE_SOURCES} if "-DEFFC_DW_COMPACT=1" in flags \
        else {}


def _run_on(board: str, cases: list[Case], flags: tuple[str, ...], folder: Path,
            parts: int) -> list[tuple[int, int, np.ndarray]]:
    from effc.engines.qemu import run_qemu
    from effc.toolchain.firmware import build_firmware

    results = []
    for part in range(parts):  # one firmware each
        chunk = cases[len(cases) * part // parts:len(cases) * (part + 1) // parts]
        size = write_kernel_model(chunk, folder / f"model{part}")
        fw = build_firmware(folder / f"model{part}", board, folder / f"fw{part}",
                            extra_cflags=("-Werror", *flags), source_cflags=_size_units(flags))
        run = run_qemu(fw.elf, board, bytes(4), size, count=False, timeout=120)
        results += split_results(chunk, run.outputs, f"{board} {' '.join(flags)}".strip())
    return results


@pytest.mark.parametrize("build", list(RELU_BUILDS))
def test_relu_requantization_on_cortex_m(build: str, tmp_path: Path) -> None:
    """With EFFC_WIDE2_RELU, EFFC_DW_RELU and EFFC_S8_RELU, every conv, depthwise and
    dense case whose activation range starts at or above its output zero point
    (case_edits.floored) is bit-identical with the host's general requantization; and
    the unedited cases below it are not all, on the M4 at -O2 and on the M55 (the
    defines reach the loops: without them this test could not fail; 64 of them differ
    in the M4's -O2 build)."""
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    board, flags = RELU_BUILDS[build]
    control = build in ("O2", "helium")
    mac = [c for c in t8.CASES if c.kind in ("conv", "dw", "dense")]
    below = [c for c in mac if c.meta["act"][0] < c.meta["ozp"]]
    cases = [floored(c) for c in mac] + (below if control else [])
    results = _run_on(board, cases, (*flags, *RELU), tmp_path, 4 if control else 2)
    differ = []
    for case, (rc, used, y), (_, used0, y0) in zip(cases, results, run_host(cases),
                                                   strict=True):
        assert rc == 0 and used == used0, f"{case.name}: rc {rc}, scratch {used} vs {used0}"
        if case.name.endswith("+floored"):
            np.testing.assert_array_equal(y.view(np.uint8), y0.view(np.uint8),
                                          err_msg=f"{case.name} ({build} {RELU})")
        elif not np.array_equal(y.view(np.uint8), y0.view(np.uint8)):
            differ.append(case.name)
    if control:
        assert differ, "no case below its zero point changed: the RELU defines reach no loop"


#: the one-pass build of a model whose 16-group WIDE2 layers all store their columns 64
#: bytes apart (kernel_set.full_step_defines: KWS's pointwise layers)
FULL_STEP = ("-DEFFC_MM_2X4_ONE_PASS=1", "-DEFFC_MM_2X4_UNROLL=16", "-DEFFC_MM_2X4_QUADS=1",
             "-DEFFC_MM_2X4_FULL_STEP=64")
#: the --flash-budget compact form of a model whose PAIR8 layers all have 64 channels
#: (kernel_set.compact_step_defines): the unrolled loop stores every form at the step
COMPACT_STEP = ("-DEFFC_WIDE2_PACKED=1", "-DEFFC_MM_2X4_FULL_STEP=64")
#: per build: its flags, the filter layout its loops read, the first immediate STRH
FULL_STEP_BUILDS = {"stack": (FULL_STEP, "wide2", "[ip,#64]"),
                    "compact": (COMPACT_STEP, "pair8", "[r8,#64]")}
#: the matrix cases that reach the full form 64 bytes apart: (name, function, channel pairs
#: x four columns) -- four quads in place, three blocks of four strided pixels, clamped
FULL_STEP_TILES = (("conv1x1_k64_cout64_in_place_quads", "effc_mm_2x4_wide", 4 * 32),
                   ("conv1x1_strided_k64_cout64_clamp", "effc_mm_2x4_wide_clamp", 3 * 32))


@pytest.mark.parametrize("build", sorted(FULL_STEP_BUILDS))
def test_full_step_stores_on_cortex_m(tmp_path: Path, build: str) -> None:
    """With EFFC_MM_2X4_FULL_STEP=64 every WIDE2 matrix case (PAIR8 in the compact build)
    is bit-identical with the host: the 64-channel ones through the immediate stores (the
    first one, column 1's STRH at +64, runs once a channel pair x four columns: the quads
    in place, effc_mm_run's four strided columns), the others (steps 10 and 6, three
    columns left, an odd channel count, shorter k) through the loops that take them."""
    flags, layout, first_store = FULL_STEP_BUILDS[build]
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    from effc.engines.qemu import run_qemu
    from effc.toolchain import cycles
    from effc.toolchain.firmware import build_firmware
    from tests import matrix_cases

    names = {f"{c.name}+{layout}" for c in matrix_cases.int8_cases()}
    cases = [c for c in t8.CASES if c.name in names]
    assert len(cases) == len(names)
    size = write_kernel_model(cases, tmp_path / "model")
    fw = build_firmware(tmp_path / "model", "mps2-an386", tmp_path / "fw",
                        extra_cflags=("-Werror", *flags))
    run = run_qemu(fw.elf, "mps2-an386", bytes(4), size, pcs=True, timeout=120)
    results = split_results(cases, run.outputs, "full step")
    for case, (rc, used, y), (_, used0, y0) in zip(cases, results, run_host(cases),
                                                   strict=True):
        assert rc == 0 and used == used0, f"{case.name}: rc {rc}, scratch {used} vs {used0}"
        np.testing.assert_array_equal(y.view(np.uint8), y0.view(np.uint8),
                                      err_msg=f"{case.name} ({' '.join(flags)})")
    insns = cycles.disassemble(fw.elf)
    text = cycles.objdump_text(fw.elf)
    starts = sorted(a for _, a in cycles.functions(text))
    for function in ("effc_mm_2x4_wide", "effc_mm_2x4_wide_clamp"):
        lo = dict(cycles.functions(text))[function]
        hi = next((a for a in starts if a > lo), max(insns) + 4)  # the last one: to the end
        first = [a for a in range(lo, hi) if a in insns and insns[a].base == "strh"
                 and insns[a].operands.replace(" ", "").endswith(first_store)]
        assert len(first) == 1, f"{function}: {len(first)} STRHs at +64"
        ran = run.pc_counts[0].get(first[0], (0, 0))[0]
        assert ran == sum(t for _, f, t in FULL_STEP_TILES if f == function), function


def _narrow_dw(case: Case) -> bool:
    """A 3x3 stride-1 depthwise case on planes of at most 8 columns (the narrow walk's)."""
    f = case.arrays.get("filter")
    return (case.kind == "dw" and case.meta["strides"] == (1, 1) and case.meta["dil"] == (1, 1)
            and f is not None and f.shape[1:3] == (3, 3) and case.out_shape[2] + 2 <= 8)


def _walk_code(elf: Path) -> str:
    """effc_dw_walk_s1_narrow's disassembly."""
    import subprocess

    text = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], check=True,
                          capture_output=True, text=True).stdout
    start = text.index("<effc_dw_walk_s1_narrow>:")
    return text[start:text.index("\n\n", start)]


#: EFFC_DW_OUT_STRIDE's builds: the -O2 narrow walk (two copies of the column code) and the
#: flash budget's compact one; the row bytes of the KWS-shaped cases (40) and of the
#: narrow walk's row-count and padding cases (20)
STRIDE_BUILDS = {"O2-40": ((), 40), "O2-20": ((), 20),
                 "budget-40": (("-DEFFC_OMIT_PAIRS2=1", "-DEFFC_OMIT_CONV_COLUMNS=1",
                                "-DEFFC_DW_COMPACT=1"), 40)}


@pytest.mark.parametrize("build", list(STRIDE_BUILDS))
def test_dw_out_stride_on_cortex_m(build: str, tmp_path: Path) -> None:
    """With EFFC_DW_OUT_STRIDE=N every narrow depthwise case is bit-identical with the host:
    those of N output row bytes on the narrow walk's immediate stores (its code then holds
    them and no per-output LDRD from its frame: the define reaches the walk), the others
    on the C loop (effc_dw_walks); without the define the walk is today's."""
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    flags, n = STRIDE_BUILDS[build]
    cases = [c for c in t8.CASES if _narrow_dw(c)]
    assert sum(c.out_shape[2] * c.out_shape[3] == n for c in cases) >= 10
    on = (*flags, f"-DEFFC_DW_OUT_STRIDE={n}")
    host = {c.name: r for c, r in zip(t8.CASES, t8.host_results(), strict=True)}
    for case, (rc, used, y) in zip(cases, _run_on("mps2-an386", cases, on, tmp_path, 1),
                                   strict=True):
        _, used0, y0 = host[case.name]
        assert rc == 0 and used == used0, f"{case.name}: rc {rc}, scratch {used} vs {used0}"
        np.testing.assert_array_equal(y.view(np.uint8), y0.view(np.uint8),
                                      err_msg=f"{case.name} ({build})")
    code = _walk_code(tmp_path / "fw0" / "firmware.elf")
    store = rf"strb\.w\t\w+, \[fp, #{n}\]"
    assert re.search(store, code) and "ldr.w\tlr, [sp, #4]" in code
    assert not re.search(r"ldrd\t\w+, \w+, \[sp\]\n", code)
    # off: today's walk (the round and multiplier reloaded with one LDRD an output)
    (tmp_path / "off").mkdir()
    write_kernel_model(cases[:1], tmp_path / "off" / "model")
    from effc.toolchain.firmware import build_firmware

    fw = build_firmware(tmp_path / "off" / "model", "mps2-an386", tmp_path / "off" / "fw",
                        extra_cflags=("-Werror", *flags))
    off = _walk_code(fw.elf)
    assert re.search(r"ldrd\t\w+, \w+, \[sp\]\n", off) and not re.search(store, off)


def _walked_dw(case: Case) -> bool:
    """A 3x3 depthwise case at dilation 1 with prepared records (the DSP walks' geometry,
    either stride; the walks read records only)."""
    f = case.arrays.get("filter")
    return (case.kind == "dw" and case.meta["dil"] == (1, 1) and f is not None
            and f.shape[1:3] == (3, 3) and "rq" in case.arrays)


#: EFFC_DW_RQ_SHIFT's builds: K and the build's flags (with EFFC_DW_RELU). K = 7: shifts
#: 1..6 (d = 6 at s = 1); 23: the largest K, shifts 17..22; 10: KWS's, at -Os (the
#: general stride-1 walk on every plane) and as the flash budget builds (the compact
#: narrow walk)
SHIFT_BUILDS = {"O2-K7": (7, ()), "O2-K23": (23, ()),
                "Os-K10": (10, ("-Os", "-DEFFC_OMIT_DW_NARROW=1")),
                "budget-K10": (10, ("-DEFFC_OMIT_PAIRS2=1", "-DEFFC_OMIT_CONV_COLUMNS=1",
                                    "-DEFFC_DW_COMPACT=1"))}


def _instructions(cases: list[Case], flags: tuple[str, ...], folder: Path) -> int:
    """The instructions one firmware running every case executes under QEMU."""
    from effc.engines.qemu import run_qemu
    from effc.toolchain.firmware import build_firmware

    size = write_kernel_model(cases, folder / "model")
    fw = build_firmware(folder / "model", "mps2-an386", folder / "fw",
                        extra_cflags=("-Werror", *flags))
    run = run_qemu(fw.elf, "mps2-an386", bytes(4), size, count=True, timeout=120)
    assert run.instructions is not None
    return run.instructions


@pytest.mark.parametrize("build", list(SHIFT_BUILDS))
def test_dw_one_shift_on_cortex_m(build: str, tmp_path: Path) -> None:
    """With EFFC_DW_RQ_SHIFT=K (and EFFC_DW_RELU) every 3x3 depthwise case, floored, its
    channels' shifts at d = K - s from 1 to 6 (both bounds; every third case also d = 0
    and 7, which take the C loop) and its multipliers at their edges, is bit-identical
    with the host's general requantization. The define reaches the walks: the -O2 build
    runs fewer instructions with it than without (one ASR an output)."""
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    k, flags = SHIFT_BUILDS[build]
    cases = [floored(one_shift(c, k, outside=i % 3 == 0))
             for i, c in enumerate(c for c in t8.CASES if _walked_dw(c))]
    on = (*flags, "-DEFFC_DW_RELU=1", f"-DEFFC_DW_RQ_SHIFT={k}")
    for case, (rc, used, y), (_, used0, y0) in zip(
            cases, _run_on("mps2-an386", cases, on, tmp_path, 1), run_host(cases), strict=True):
        assert rc == 0 and used == used0, f"{case.name}: rc {rc}, scratch {used} vs {used0}"
        np.testing.assert_array_equal(y.view(np.uint8), y0.view(np.uint8),
                                      err_msg=f"{case.name} ({build})")
    if build == "O2-K7":
        inside = [c for c in cases if "outside" not in c.name]
        outputs = sum(int(np.prod(c.out_shape)) for c in inside)
        with_k = _instructions(inside, on, tmp_path / "on")
        without = _instructions(inside, (*flags, "-DEFFC_DW_RELU=1"), tmp_path / "off")
        assert without - with_k > outputs // 2, (with_k, without, outputs)

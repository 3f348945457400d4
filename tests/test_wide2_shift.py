"""The WIDE2 layers' one-shift requantization: effc_widen_filter_s8's EFFC_WIDE_SHIFTED
records for a firmware shift K (weights and bias word scaled by 2^d, d = K - s, round
R' = 2^(d-1) + R * 2^d) and the loops' SMMLA + SSAT asr #K under -DEFFC_WIDE2_RQ_SHIFT=K
(effc_mm_asm.h, EFFC_RQ_SHIFTED). Shifts put d at 1 and at its bound (7: a full-range
int8 weight * 2^(1+d) still fits int16), K from its least (2: every channel s = 1) to
SSAT's limit (31); the results equal the host's general (TFLite) requantization of the
same records, on the loops with the define and on the C path without it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests import test_runtime_c as t8
from tests.case_edits import floored
from tests.conftest_c import Case, edge_multipliers, require_tool, run_host, split_results
from tests.prepared_cases import channel_records, prepared, widen
from tests.test_qemu_kernels import write_kernel_model

#: d = K - s over a layer's channels: 1 (the least), 7 (the bound for full-range weights)
#: and between
DS = np.array([1, 7, 2, 5, 1, 3, 7, 4], np.int64)
#: the firmware shifts the kernel cases run with: the least, two between, SSAT's limit
KS = (2, 12, 23, 31)
#: the builds the WIDE2 loops come in: -O2's (effc_mm_2x4_wide, effc_mm_2x1_wide,
#: effc_mm_4x1_pairs) and the one-pass speed build's (the stack loop, effc_mm_quads_asm.c)
BUILDS = {"O2": (), "one-pass": ("-DEFFC_MM_2X4_ONE_PASS=1", "-DEFFC_MM_2X4_UNROLL=16",
                                 "-DEFFC_MM_2X4_QUADS=1")}
RELU = "-DEFFC_WIDE2_RELU=1"
GENERAL, SHIFTED, SCALE_AT = 0x100, 0x200, 11


def _rows(case: Case) -> np.ndarray:
    w = case.arrays["weights" if "weights" in case.arrays else "filter"]
    assert w is not None
    return w.reshape(w.shape[0], -1)


def shift_edges(case: Case, k: int) -> Case:
    """The floored case with per-channel shifts s = K - d (d over DS, at most K - 1) and
    multipliers at their edges (0, 2^30, 2^31 - 1, random)."""
    case = floored(case)
    n = _rows(case).shape[0]
    d = np.minimum(DS[np.arange(n) % DS.size], k - 1)
    a = dict(case.arrays)
    a["multiplier"] = edge_multipliers(np.random.default_rng(n + k), n)
    a["shift"] = (d - k).astype(np.int32)
    return replace(case, name=f"{case.name}+k{k}", arrays=a)


def shifted(case: Case, k: int) -> Case | None:
    """The case on WIDE2 records shifted for K, or None when a channel cannot take K."""
    wide = prepared(case, "wide2")
    rc, words = widen("wide2", _rows(case), wide.arrays["rq"], case.meta["ozp"],
                      case.meta["izp"], k)
    return None if rc != 0 else replace(wide, name=f"{case.name}+wide2",
                                        arrays={**wide.arrays, "wide": words})


def _mac_cases() -> list[Case]:
    """The int8 conv and dense cases the WIDE2 layout takes (not grouped, not Winograd)."""
    return [c for c in t8.CASES if c.kind in ("conv", "dense") and "+" not in c.name
            and "effc_grouped_conv_s8" not in c.call and "effc_winograd_s8" not in c.call]


def _cases(k: int) -> tuple[list[Case], list[Case]]:
    """The shifted WIDE2 cases of K and their references (the same records, int8 rows)."""
    pairs = [(shifted(e, k), prepared(e)) for e in (shift_edges(c, k) for c in _mac_cases())]
    kept = [(s, r) for s, r in pairs if s is not None]
    return [s for s, _ in kept], [r for _, r in kept]


def test_records_take_k_within_their_bounds() -> None:
    """The shifted records' words, and effc_widen_filter_s8's refusals at each bound."""
    rng = np.random.default_rng(7)
    w = rng.integers(-128, 128, (4, 16)).astype(np.int8)
    w[0, 0], w[1, 0] = 127, -128
    m = np.full(4, 1 << 30, np.int32)
    bias = np.array([1000, -1000, 5, 0], np.int32)

    def records(shift: list[int], b: np.ndarray = bias) -> np.ndarray:
        return channel_records(w, b, m, np.array(shift, np.int32), 3, -128)

    rc, words = widen("wide2", w, records([-5, -5, -11, -11]), -128, 3, 12)
    assert rc == 0
    block = 2 + 8 * 2  # bias words, 4 groups of (c0, c1) x 2 words
    for pair in range(2):
        at = pair * (block + 6)
        for j in range(2):
            c, s = 2 * pair + j, 5 if pair == 0 else 11
            d = 12 - s
            mult, rnd, word = words[at + block + 3 * j: at + block + 3 * j + 3]
            assert word & 0x3FF == SHIFTED | 12 and not word & GENERAL, hex(word)
            assert (word >> SCALE_AT) & 0x1F == 1 + d and np.int16(word >> 16) == -s
            assert mult == m[c] and words[at + j] == bias[c] << (1 + d)
            assert rnd == (1 << (d - 1)) + ((2 * -128 + 1) << 11)
        d0 = 12 - (5 if pair == 0 else 11)  # the pair's first weight word: (c0: w0, w2)
        assert np.int16(words[at + 2] & 0xFFFF) == int(w[2 * pair, 0]) << (1 + d0)
    # d = 7 keeps a full-range weight in int16 (127 * 256, -128 * 256), d = 8 does not
    assert widen("wide2", w, records([-5, -5, -5, -5]), -128, 3, 12)[0] == 0
    assert widen("wide2", w, records([-4, -5, -5, -5]), -128, 3, 12)[0] != 0
    # d >= 1: K above every s
    assert widen("wide2", w, records([-11, -5, -5, -5]), -128, 3, 11)[0] != 0
    # the accumulator * 2^(1+d) within int32: a bias of 2^23 at d = 7 is not
    big = np.array([(1 << 23) - 1, 0, 0, 0], np.int32)
    assert widen("wide2", w, records([-5, -11, -11, -11], big), -128, 3, 12)[0] != 0
    assert widen("wide2", w, records([-10, -11, -11, -11], big), -128, 3, 12)[0] == 0
    # R' within int32: 2 + 255 * 2^24 (zero point 127, K = 25, d = 2) is not, 2 + 2^24 is
    r127 = channel_records(w, bias, m, np.full(4, -23, np.int32), 3, 127)
    assert widen("wide2", w, r127, 127, 3, 25)[0] != 0
    assert widen("wide2", w, channel_records(w, bias, m, np.full(4, -23, np.int32), 3, 0), 0,
                  3, 25)[0] == 0
    # K = 31, SSAT's largest asr, with s = 30 (zero point 0)
    r0 = channel_records(w, bias, m, np.full(4, -30, np.int32), 3, 0)
    assert widen("wide2", w, r0, 0, 3, 31)[0] == 0
    # K outside SSAT's asr #1..31 (and K = 1: no d >= 1), or WIDE4 records
    assert widen("wide2", w, r0, 0, 3, 32)[0] != 0
    assert widen("wide2", w, records([-5, -5, -5, -5]), -128, 3, 1)[0] != 0
    assert widen("wide4", w, records([-5, -5, -5, -5]), -128, 3, 12)[0] != 0


def test_shifted_records_read_back_on_the_host() -> None:
    """The host's portable body decodes shifted records (scale bits, bias, TFLite shift):
    the same bytes as the int8 rows with those records, at every K."""
    for k in KS:
        cases, refs = _cases(k)
        # at K = 31 only the zero points near 0 keep R' within int32
        assert len(cases) >= (30 if k == 31 else 80), (k, len(cases))
        for case, (rc, _, y), (rc0, _, y0) in zip(cases, run_host(cases), run_host(refs),
                                                  strict=True):
            assert rc == rc0 == 0
            np.testing.assert_array_equal(y.view(np.uint8), y0.view(np.uint8),
                                          err_msg=case.name)


def _run(cases: list[Case], flags: tuple[str, ...], folder: Path
         ) -> tuple[list[tuple[int, int, np.ndarray]], int]:
    """Every case on one Cortex-M4 firmware: the results and the instructions they took."""
    from effc.engines.qemu import run_qemu
    from effc.toolchain.firmware import build_firmware

    size = write_kernel_model(cases, folder / "model")
    fw = build_firmware(folder / "model", "mps2-an386", folder / "fw",
                        extra_cflags=("-Werror", *flags))
    run = run_qemu(fw.elf, "mps2-an386", bytes(4), size, timeout=300)
    assert run.instructions is not None
    return split_results(cases, run.outputs, f"mps2-an386 {' '.join(flags)}"), run.instructions


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("build", list(BUILDS))
def test_shifted_loops_bit_exact_on_cortex_m(build: str, k: int, tmp_path: Path) -> None:
    """With -DEFFC_WIDE2_RQ_SHIFT=K the WIDE2 loops requantize the shifted records: every
    case equals the host's general requantization of its records; without the define
    (the records' own form still read by the C path) the same bytes, in more instructions
    (the define reaches the loops)."""
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    cases, refs = _cases(k)
    on, n_on = _run(cases, (*BUILDS[build], RELU, f"-DEFFC_WIDE2_RQ_SHIFT={k}"), tmp_path / "on")
    off, n_off = _run(cases, (*BUILDS[build], RELU), tmp_path / "off")
    for case, (rc, used, y), (rc1, used1, y1), (_, used0, y0) in zip(
            cases, on, off, run_host(refs), strict=True):
        assert rc == rc1 == 0 and used == used1 == used0, case.name
        np.testing.assert_array_equal(y.view(np.uint8), y0.view(np.uint8),
                                      err_msg=f"{case.name} ({build}, K = {k})")
        np.testing.assert_array_equal(y1.view(np.uint8), y0.view(np.uint8),
                                      err_msg=f"{case.name} ({build}, no define)")
    assert n_on < n_off, (n_on, n_off)

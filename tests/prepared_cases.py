"""Kernel cases with prepared requantization records and wide weight layouts.

The records and the wide layouts come from the runtime's own
``effc_prepare_channels_s8`` / ``effc_widen_filter_s8`` run on the host (the
code generator does the same), and are embedded in the case as constant
arrays, so the portable, DSP and Helium bodies all read what the generated
code would give them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tests.conftest_c import Case

LAYOUTS = {"s8": 0, "wide2": 1, "wide4": 2, "pair8": 3}


def _lib() -> tuple[object, object]:
    from effc.toolchain.host import runtime_library

    return runtime_library()


def channel_records(weights: np.ndarray, bias: np.ndarray | None, multiplier: np.ndarray,
                    shift: np.ndarray, izp: int, ozp: int) -> np.ndarray:
    """effc_prepare_channels_s8 for [n_out][k] weights: int32 [n_out + general, 2]."""
    ffi, lib = _lib()
    w = np.ascontiguousarray(weights.reshape(weights.shape[0], -1), np.int8)
    n, k = w.shape
    stride = 1 if multiplier.size == n else 0
    out = np.zeros((2 * n, 2), np.int32)
    b = None if bias is None else np.ascontiguousarray(bias, np.int32)
    m = np.ascontiguousarray(multiplier, np.int32)
    s = np.ascontiguousarray(shift, np.int32)
    used = lib.effc_prepare_channels_s8(
        ffi.from_buffer("int8_t[]", w), n, k,
        ffi.NULL if b is None else ffi.from_buffer("int32_t[]", b),
        ffi.from_buffer("int32_t[]", m), ffi.from_buffer("int32_t[]", s), stride, izp, ozp,
        ffi.cast("effc_channel_rq *", ffi.from_buffer("int32_t[]", out)))
    assert used >= n
    return out[:used].copy()


def widen(layout: str, weights: np.ndarray, records: np.ndarray, ozp: int, izp: int = 0,
          rq_shift: int = 0) -> tuple[int, np.ndarray]:
    """effc_widen_filter_s8's return code and the int32 words of a wide layout (rq_shift
    K > 0: WIDE2's shifted records)."""
    ffi, lib = _lib()
    w = np.ascontiguousarray(weights.reshape(weights.shape[0], -1), np.int8)
    n, k = w.shape
    words = np.zeros(int(lib.effc_filter_words(LAYOUTS[layout], n, k)), np.int32)
    rc = lib.effc_widen_filter_s8(
        LAYOUTS[layout], ffi.from_buffer("int8_t[]", w), n, k,
        ffi.cast("const effc_channel_rq *", ffi.from_buffer("int32_t[]", records)), izp, ozp,
        rq_shift, ffi.from_buffer("int32_t[]", words))
    return int(rc), words


def wide_filter(layout: str, weights: np.ndarray, records: np.ndarray, ozp: int, izp: int = 0,
                rq_shift: int = 0) -> np.ndarray:
    """effc_widen_filter_s8: the int32 words of a wide layout."""
    rc, words = widen(layout, weights, records, ozp, izp, rq_shift)
    assert rc == 0
    return words


def _weights_key(case: Case) -> str:
    return "weights" if "weights" in case.arrays else "filter"


def prepared(case: Case, layout: str = "s8") -> Case:
    """The same call with prepared records (and, for wide layouts, the wide
    filter in place of the int8 one). Dense per-tensor cases become per-channel
    calls on the records."""
    a, m = case.arrays, case.meta
    key = _weights_key(case)
    records = channel_records(a[key], a.get("bias"), a["multiplier"], a["shift"], m["izp"],
                              m["ozp"])
    arrays = {**a, "rq": records}
    structs = []
    for stype, var, fields in case.structs:
        if stype in ("effc_per_channel_quant", "effc_per_tensor_quant"):
            stype, fields = "effc_per_channel_quant", {
                "multiplier": "NULL", "shift": "NULL",
                "channels": "(const effc_channel_rq *)@rq"}
        elif stype in ("effc_conv_params", "effc_dense_params") and layout != "s8":
            fields = {**fields, ("filter_layout" if stype == "effc_conv_params"
                                 else "weights_layout"): LAYOUTS[layout]}
        structs.append((stype, var, fields))
    call = case.call.replace("effc_dense_s8(", "effc_dense_per_channel_s8(")
    if layout != "s8":
        arrays["wide"] = wide_filter(layout, a[key], records, m["ozp"])
        call = call.replace(f"@{key}", "@wide").replace("@bias", "NULL")
    return replace(case, name=f"{case.name}+{layout}" if layout != "s8" else f"{case.name}+rq",
                   arrays=arrays, structs=structs, call=call)


def prepared_variants(cases: list[Case]) -> list[Case]:
    """Every conv (not Winograd), depthwise and dense case with prepared records; conv and dense
    (not grouped, not depthwise) also with EFFC_FILTER_WIDE2 and EFFC_FILTER_PAIR8, and
    one-row dense with EFFC_FILTER_WIDE4."""
    out = []
    for case in cases:
        if case.kind not in ("conv", "dw", "dense") or "effc_winograd_s8" in case.call:
            continue  # Winograd reads the multiplier and shift arrays only
        out.append(prepared(case))
        grouped = "effc_grouped_conv_s8" in case.call
        if case.kind in ("conv", "dense") and not grouped:
            out.append(prepared(case, "wide2"))
            out.append(prepared(case, "pair8"))
        if case.kind == "dense" and case.arrays["input"].shape[0] == 1:
            out.append(prepared(case, "wide4"))
    return out

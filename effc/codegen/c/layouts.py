"""Weight layouts of the int8 convolutions and dense layers, chosen per layer
for the target, and the constants that go with them.

``--optimize speed`` (the default) gives a convolution (not grouped, not
depthwise) the EFFC_FILTER_WIDE2 layout and a one-row dense layer
EFFC_FILTER_WIDE4 (int16 weights with their requantization records, read by
the DSP bodies' widest loops) on cores that run the DSP bodies, as long as
the constants fit the board's flash (or the bytes ``--flash-budget`` leaves,
effc/codegen/c/target.py): layers are widened in order of MACs per extra byte
until the budget is spent. ``--optimize size`` keeps every weight
int8. The records and wide layouts are made by the runtime's own
``effc_prepare_channels_s8`` and ``effc_widen_filter_s8`` (host build), so
the generator and the kernels cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from effc.codegen.c.kernels import Call
from effc.errors import EffcError
from effc.toolchain.host import runtime_library

S8, WIDE2, WIDE4 = 0, 1, 2
OPTIMIZE = ("speed", "size")
DSP_CPUS = ("cortex-m4", "cortex-m7", "cortex-m33")  # the DSP bodies (the M55's Helium body reads int8)
CODE_RESERVE = 64 * 1024  # flash left for code when widening layers


@dataclass(frozen=True)
class CTarget:
    """What the generated library is for: the core and its flash, and the goal."""

    cpu: str
    flash_bytes: int
    optimize: str = "speed"
    # the most bytes widening may add to the constants (None: the board's flash less
    # CODE_RESERVE and the int8 constants); emit_c sets it to meet --flash-budget
    widen_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.optimize not in OPTIMIZE:
            raise EffcError(f"--optimize {self.optimize!r}: use speed or size")


def _rows(weights: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(weights.reshape(weights.shape[0], -1), np.int8)


def channel_records(weights: np.ndarray, bias: np.ndarray | None, multiplier: list[int],
                    shift: list[int], input_zero_point: int,
                    output_zero_point: int) -> np.ndarray:
    """The layer's effc_channel_rq records, int32 [n_out + general channels, 2]
    (the channels' records, then the general channels' extensions)."""
    ffi, lib = runtime_library()
    w = _rows(weights)
    n, k = w.shape
    m = np.ascontiguousarray(multiplier, np.int32)
    s = np.ascontiguousarray(shift, np.int32)
    b = None if bias is None else np.ascontiguousarray(bias, np.int32)
    out = np.zeros((2 * n, 2), np.int32)
    used = lib.effc_prepare_channels_s8(
        ffi.from_buffer("int8_t[]", w), n, k,
        ffi.NULL if b is None else ffi.from_buffer("int32_t[]", b),
        ffi.from_buffer("int32_t[]", m), ffi.from_buffer("int32_t[]", s),
        1 if m.size == n else 0, input_zero_point, output_zero_point,
        ffi.cast("effc_channel_rq *", ffi.from_buffer("int32_t[]", out)))
    if used < n:
        raise EffcError(f"effc_prepare_channels_s8 refused a layer of {n} x {k} weights")
    return out[:used].copy()


def wide_filter(layout: int, weights: np.ndarray, records: np.ndarray,
                output_zero_point: int) -> np.ndarray:
    """The int32 words of a wide layout, records included."""
    ffi, lib = runtime_library()
    w = _rows(weights)
    n, k = w.shape
    words = np.zeros(int(lib.effc_filter_words(layout, n, k)), np.int32)
    rc = lib.effc_widen_filter_s8(
        layout, ffi.from_buffer("int8_t[]", w), n, k,
        ffi.cast("const effc_channel_rq *", ffi.from_buffer("int32_t[]", records)),
        output_zero_point, ffi.from_buffer("int32_t[]", words))
    if rc != 0 or words.size == 0:
        raise EffcError(f"effc_widen_filter_s8 refused a layer of {n} x {k} weights")
    return words


def _candidate(call: Call) -> int:
    """The wide layout this call could take, or S8."""
    f = call.fields
    if call.macro == "conv_s8":
        return WIDE2
    if call.macro == "dense_s8":
        return WIDE4 if f["batches"] == 1 else WIDE2
    return S8


def _macs(call: Call) -> int:
    f = call.fields
    if call.macro == "dense_s8":
        return f["batches"] * f["in_features"] * f["out_features"]
    fd, od = f["filter_dims"], f["output_dims"]
    return od[0] * od[1] * od[2] * fd[0] * fd[1] * fd[2] * fd[3]


def wide_groups(k: int) -> int:
    """The groups of 4 values a WIDE2 layer's loops run (effc_mm_groups: k / 4 rounded up,
    then to even)."""
    g = (k + 3) // 4
    return g + (g & 1)


def weight_shape(call: Call) -> tuple[int, int]:
    """(n_out, k) of the call's weight rows."""
    f = call.fields
    if call.macro == "dense_s8":
        return f["out_features"], f["in_features"]
    fd = f["filter_dims"]
    return fd[0], fd[1] * fd[2] * fd[3]


def choose_layouts(calls: list[Call], target: CTarget | None, constant_bytes: int) -> int:
    """Sets ``fields["layout"]`` of every int8 conv and dense call; returns the bytes the
    wide layouts add to the constants."""
    for call in calls:
        if call.macro in ("conv_s8", "dense_s8"):
            call.fields["layout"] = S8
    if target is None or target.optimize != "speed" or target.cpu not in DSP_CPUS:
        return 0
    ffi, lib = runtime_library()
    record = int(ffi.sizeof("effc_channel_rq"))  # an int8 layer's bytes per channel record
    budget = target.flash_bytes - CODE_RESERVE - constant_bytes \
        if target.widen_bytes is None else target.widen_bytes
    options = []
    for call in calls:
        layout = _candidate(call)
        if layout == S8:
            continue
        n, k = weight_shape(call)
        extra = 4 * int(lib.effc_filter_words(layout, n, k)) - n * k - record * n
        options.append((_macs(call) / max(extra, 1), extra, layout, call))
    spent = 0
    for _, extra, layout, call in sorted(options, key=lambda o: -o[0]):
        if extra <= budget - spent:
            call.fields["layout"] = layout
            spent += extra
    return spent

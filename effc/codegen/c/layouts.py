"""Weight layouts of the int8 convolutions and dense layers, chosen per layer
for the target, and the constants that go with them.

``--optimize speed`` (the default) gives a convolution (not grouped, not
depthwise) the EFFC_FILTER_WIDE2 layout and a one-row dense layer
EFFC_FILTER_WIDE4 (int16 weights with their requantization records, read by
the DSP bodies' widest loops) on cores that run the DSP bodies, as long as
the constants fit the board's flash: layers are widened in order of MACs per
extra byte until the board's flash less a code reserve is spent. When not every
layer's wide layout fits, the two-channel layers take EFFC_FILTER_PAIR8 instead
(their int8 weights, two channels' interleaved byte by byte, read by the same loops
built with EFFC_WIDE2_PACKED: the int8 rows' flash and records', KWS's pointwise
layers 3 % more cycles than WIDE2). ``--flash-budget`` names the layers (PAIR8 for
the two-channel ones: effc/codegen/c/budget.py chooses them). ``--optimize size``
keeps every weight int8. The records and wide layouts are made by the runtime's own
``effc_prepare_channels_s8`` and ``effc_widen_filter_s8`` (host build), so
the generator and the kernels cannot disagree. A layer's records (``layer_records``)
are computed once for their content: wide_options and the emitter ask for them in
every generate_c call, and a --flash-budget compile calls generate_c once per image.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from effc.codegen.c.kernels import Call
from effc.errors import EffcError
from effc.ir import Tensor
from effc.toolchain.host import runtime_library

S8, WIDE2, WIDE4, PAIR8 = 0, 1, 2, 3
#: the two-channel layouts, read by the same loops (EFFC_WIDE2_PACKED picks which)
PAIRED = (WIDE2, PAIR8)
OPTIMIZE = ("speed", "size")
#: CTarget.form: a --flash-budget image's code forms, fastest first
FORMS = ("fast", "lean", "compact")
DSP_CPUS = ("cortex-m4", "cortex-m7", "cortex-m33")  # the DSP bodies (the M55's Helium body reads int8)
CODE_RESERVE = 64 * 1024  # flash left for code when widening layers
#: the constant arrays' alignment in flash (model.h.j2's default <NAME>_WEIGHTS_ALIGN)
WEIGHTS_ALIGN = 16
#: the layers whose records layer_records keeps (their weights are its cache keys)
RECORDS_KEPT = 1024


@dataclass(frozen=True)
class CTarget:
    """What the generated library is for: the core and its flash, and the goal."""

    cpu: str
    flash_bytes: int
    optimize: str = "speed"
    # the positions (in the model's calls) of the layers to widen, --flash-budget's
    # choice (budget.py; empty: the all-int8 image); None: in order of MACs per extra
    # byte while the constants fit the board's flash less CODE_RESERVE
    widen: frozenset[int] | None = None
    # the code form of a --flash-budget image (kernel_set.firmware_cflags and
    # firmware_source_cflags; target.py tries them in this order while one leaves layers
    # int8): "fast", a speed build's loops and extras; "lean", without the speed-only
    # extras, its setup and light ops compiled for size (kernel_set.SIZE_SOURCES);
    # "compact", also without the unrolled two-channel loop (8 groups a loop test, the
    # quads widened in C)
    form: str = "fast"

    def __post_init__(self) -> None:
        if self.optimize not in OPTIMIZE:
            raise EffcError(f"--optimize {self.optimize!r}: use speed or size")
        assert self.form in FORMS, self.form


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


def layer_records(call: Call, tensors: Mapping[str, Tensor]) -> np.ndarray:
    """The channel records of an int8 conv, grouped, depthwise or dense call (read-only).

    Kept by content, not by tensor name or identity: the key is every value the records
    depend on (the int8 weight rows, the int32 bias, the multipliers, the shifts and both
    zero points), so a graph that a pass rewrites, or a weight changed in place, can only
    miss the cache, never read another layer's records."""
    f = call.fields
    weights = tensors[call.weights[0]].data
    assert weights is not None  # a conv or dense layer's weights are constants
    bias = tensors[f["bias"]].data if f.get("bias") else None
    rows = _rows(weights)
    return _records(rows.tobytes(), rows.shape[0],
                    None if bias is None else np.ascontiguousarray(bias, np.int32).tobytes(),
                    tuple(int(v) for v in np.ravel(f["multiplier"])),
                    tuple(int(v) for v in np.ravel(f["shift"])),
                    int(f["input_zero_point"]), int(f["output_zero_point"]))


@functools.lru_cache(maxsize=RECORDS_KEPT)
def _records(rows: bytes, n_out: int, bias: bytes | None, multiplier: tuple[int, ...],
             shift: tuple[int, ...], input_zero_point: int,
             output_zero_point: int) -> np.ndarray:
    """channel_records of a layer given by value (layer_records' cache)."""
    weights = np.frombuffer(rows, np.int8).reshape(n_out, -1)
    records = channel_records(weights, None if bias is None else np.frombuffer(bias, np.int32),
                              list(multiplier), list(shift), input_zero_point,
                              output_zero_point)
    records.setflags(write=False)  # shared by every caller
    return records


def wide_filter(layout: int, weights: np.ndarray, records: np.ndarray, input_zero_point: int,
                output_zero_point: int, rq_shift: int = 0) -> np.ndarray:
    """The int32 words of a wide layout, records included (rq_shift K > 0: WIDE2's
    EFFC_WIDE_SHIFTED records for -DEFFC_WIDE2_RQ_SHIFT=K)."""
    words = _widen(layout, weights, records, input_zero_point, output_zero_point, rq_shift)
    if words is None:
        n, k = _rows(weights).shape
        raise EffcError(f"effc_widen_filter_s8 refused a layer of {n} x {k} weights")
    return words


def _widen(layout: int, weights: np.ndarray, records: np.ndarray, input_zero_point: int,
           output_zero_point: int, rq_shift: int) -> np.ndarray | None:
    """effc_widen_filter_s8's words, or None when it refuses the layer."""
    ffi, lib = runtime_library()
    w = _rows(weights)
    n, k = w.shape
    words = np.zeros(int(lib.effc_filter_words(layout, n, k)), np.int32)
    rc = lib.effc_widen_filter_s8(
        layout, ffi.from_buffer("int8_t[]", w), n, k,
        ffi.cast("const effc_channel_rq *", ffi.from_buffer("int32_t[]", records)),
        input_zero_point, output_zero_point, rq_shift, ffi.from_buffer("int32_t[]", words))
    return words if rc == 0 and words.size > 0 else None


#: effc_nn.h: a fast record's low bits are s - 1; EFFC_RQ_GENERAL marks a general one
RQ_S1_MASK, RQ_GENERAL = 0x7F, 0x80
#: the largest firmware shift SSAT's asr #K takes
RQ_SHIFT_MAX = 31


def rq_shift(calls: list[Call], tensors: Mapping[str, Tensor], target: CTarget | None) -> int:
    """The firmware shift K of the WIDE2 layers' EFFC_WIDE_SHIFTED records, or 0 (keep
    today's): the smallest K giving every fast channel d = K - s >= 1 (the least scaling),
    when every WIDE2 layer floors at its output zero point (the shifted requantization
    drops the ties' correction, as EFFC_WIDE2_RELU) and effc_widen_filter_s8 takes K for
    every layer (its weights * 2^(1+d) within int16, its accumulator * 2^(1+d) and the
    SMMLA sum within int32). A speed build's: a --flash-budget build keeps today's (its
    model of the image measures code per set of kernel flags, budget.py)."""
    wide = [c for c in calls if c.fields.get("layout") == WIDE2]
    if target is None or target.widen is not None or not wide or \
            not all(floors_at_zero_point(c) for c in wide):
        return 0
    s = 0
    for call in wide:
        words = layer_records(call, tensors)[:weight_shape(call)[0], 0]
        fast = words[(words & RQ_GENERAL) == 0]
        s = max(s, int((fast & RQ_S1_MASK).max(initial=-1)) + 1)
    k = s + 1
    if s == 0 or k > RQ_SHIFT_MAX:
        return 0
    for call in wide:
        f = call.fields
        if _widen(WIDE2, tensors[call.weights[0]].data, layer_records(call, tensors),
                  int(f["input_zero_point"]), int(f["output_zero_point"]), k) is None:
            return 0
    return k


def floors_at_zero_point(call: Call) -> bool:
    """The int8 call's activation range starts at or above its output zero point
    (ReLU's, and ReLU6's): an output whose accumulator is negative is then
    activation_min, whichever way the requantization rounds its ties."""
    f = call.fields
    lo, zp = f.get("activation_min"), f.get("output_zero_point")
    return isinstance(lo, int) and isinstance(zp, int) and lo >= zp


def _candidate(call: Call, packed: bool) -> int:
    """The wide layout this call could take, or S8 (``packed``: PAIR8 for WIDE2)."""
    f = call.fields
    pair = PAIR8 if packed else WIDE2
    if call.macro == "conv_s8":
        return pair
    if call.macro == "dense_s8":
        return WIDE4 if f["batches"] == 1 else pair
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


@dataclass(frozen=True)
class WideOption:
    """A layer --optimize speed may widen: its position in the model's calls, the wide
    layout, its MACs and the bytes widening adds to the flash's constant arrays (each
    at WEIGHTS_ALIGN: the wide array less the int8 rows, unless another layer shares
    them, and the int8 layer's channel records)."""

    position: int
    layout: int
    macs: int
    extra_bytes: int


def _aligned(nbytes: int) -> int:
    return -(-nbytes // WEIGHTS_ALIGN) * WEIGHTS_ALIGN


def wide_options(calls: list[Call], tensors: Mapping[str, Tensor],
                 packed: bool = False) -> list[WideOption]:
    """The layers that could take a wide layout, in call order (``packed``: the
    two-channel layers PAIR8 instead of WIDE2)."""
    _, lib = runtime_library()
    uses: dict[str, int] = {}
    for call in calls:
        for name in call.weights:
            uses[name] = uses.get(name, 0) + 1
    options = []
    for position, call in enumerate(calls):
        layout = _candidate(call, packed)
        if layout == S8:
            continue
        records = layer_records(call, tensors)
        n, k = weight_shape(call)
        rows = _aligned(n * k) if uses[call.weights[0]] == 1 else 0
        extra = _aligned(4 * int(lib.effc_filter_words(layout, n, k))) - rows - \
            _aligned(records.nbytes)
        options.append(WideOption(position, layout, _macs(call), extra))
    return options


def choose_layouts(calls: list[Call], target: CTarget | None, tensors: Mapping[str, Tensor],
                   constant_bytes: int) -> list[WideOption]:
    """Sets ``fields["layout"]`` of every int8 conv and dense call; returns the layers
    widened."""
    for call in calls:
        if call.macro in ("conv_s8", "dense_s8"):
            call.fields["layout"] = S8
    if target is None or target.optimize != "speed" or target.cpu not in DSP_CPUS:
        return []
    options = wide_options(calls, tensors, packed=target.widen is not None)
    if target.widen is not None:
        chosen = [o for o in options if o.position in target.widen]
    else:
        room = target.flash_bytes - CODE_RESERVE - constant_bytes
        if sum(o.extra_bytes for o in options) > room:  # pack rather than leave layers int8
            options = wide_options(calls, tensors, packed=True)
        chosen = []
        for o in sorted(options, key=lambda o: -o.macs / max(o.extra_bytes, 1)):
            if o.extra_bytes <= room:
                chosen.append(o)
                room -= o.extra_bytes
    for o in chosen:
        calls[o.position].fields["layout"] = o.layout
    return chosen

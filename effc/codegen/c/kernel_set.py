"""How a model's firmware is compiled: which of the runtime's optional kernel
variants it links, and at which optimization level.

The runtime has fast paths that only some layers reach: the int16 pre-widened
layouts' assembly loops (``effc_mm_2x4_wide*``; ``effc_mm_4x1_wide``), the
assembly loops' clamping variants (``*_clamp``, for an activation range
narrower than int8's), the 3x3 convolution's im2col (``effc_conv_3x3_s8``), the column images of
4-byte-row convolutions with WIDE2 filters (``effc_conv_rows4_columns``), the
depthwise stride-2 walk (``effc_dw_walk_s2``), and the stride-1 walks over
8-column planes (``effc_dw_walk_s1_narrow``) and over wider ones
(``effc_dw_walk_s1``; it also runs narrow planes, as --optimize size does). Their dispatch is a run-time
test, so ``--gc-sections`` keeps them all. From the model's calls, effc knows
which ones no layer reaches and builds the firmware with
``-DEFFC_OMIT_<variant>=1`` (``effc/runtime_c/effc_internal.h``): the dispatch
then never names them and the linker drops them. The defines only remove a fast path (a layer that still
reached one would take the general C loop and compute the same bytes), so a
conservative answer here costs flash, never correctness. The exported library
is left general; only the firmware image is specialized.

``relu_defines`` is the exception to "only remove a fast path": ``EFFC_WIDE2_RELU``,
``EFFC_DW_RELU`` and ``EFFC_S8_RELU`` shorten a loop family's requantization by one
instruction per output, which is exact only because every layer reaching that family
clamps at or above its output zero point (``floors_at_zero_point``), so there the
answer must be right, not merely conservative. So is ``rq_shift_defines``'
``EFFC_WIDE2_RQ_SHIFT`` (the WIDE2 loops' one-shift requantization of the records
``layouts.rq_shift`` shifted for it). ``dw_stride_defines`` (the narrow depthwise
walk's output row bytes as an immediate) and ``dw_shift_defines`` (one right shift for the
depthwise walks, on top of ``EFFC_DW_RELU``) fix a number the walks then assume; the
runtime sends a layer or channel that does not have it to the C loop, so they decide only
whether the define pays. So does ``full_step_defines`` (the two-channel loop's full form
storing its four columns S bytes apart, immediate offsets): columns spaced otherwise take
the one-column loops.

``--optimize size`` also compiles the firmware with ``-Os`` (after the common
``-O2``) on the cores whose kernel inner loops are assembly (``DSP_CPUS``): the
C around those loops and the harness get smaller (KWS: 45,768 -> 42,208 B for
0.9% more instructions, 3,556,262 -> 3,588,410). Where the inner loops are C
(the portable bodies, the Cortex-M55's Helium body) -O2 stays: -Os made the
portable bodies up to 1.8x slower. ``--optimize size`` (and every --flash-budget
image) also passes ``-fmerge-all-constants`` on every core: identical read-only objects
share one copy (the per-call dims and parameter structs of repeated layers; KWS: 39,896 ->
39,292 B). That gives up C's distinct addresses for distinct constants, which
no runtime kernel compares (their only pointer comparisons are input against
output, both in RAM).

The "lean" and "compact" forms of a ``--flash-budget`` image (``layouts.FORMS``: the
forms that give up speed for widened layers) on those cores also compile the runtime
sources that hold no assembly inner loop (``SIZE_SOURCES``: a layer's setup, the
dispatch and its C fallbacks, the im2col, the depthwise C side, pooling, softmax) with
``-Os`` (``firmware_source_cflags``, the manifest's ``c.firmware_source_cflags``). They
also leave ``__OPTIMIZE_SIZE__`` undefined: the depthwise headers lay out structures and
split work between C and assembly by that macro (effc_dw_internal.h), so those units keep
the -O2 units' variants and only the compiler's code changes; their own smaller variants
follow ``EFFC_SMALL_UNIT`` (effc_internal.h, set by ``-DEFFC_SIZE_UNIT=1``), which only a
unit's own static code tests (``tests/test_flash_budget.py`` pins both). The bytes go
to widened layers: KWS within 49,152 B packs all five convolutions (compact form, with
the merged constants 48,744 B, 3,667,290 estimated Cortex-M4 cycles) where the all-int8
image (48,204 B, 5,039,475 cycles) was all that fit before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeGuard

import numpy as np

from effc.codegen.c.kernels import Call
from effc.codegen.c.layouts import (
    DSP_CPUS,
    PAIR8,
    PAIRED,
    S8,
    WIDE2,
    WIDE4,
    CTarget,
    floors_at_zero_point,
    weight_shape,
    wide_groups,
)

INT8_MIN, INT8_MAX = -128, 127
#: EFFC_DW_NARROW_PW (effc_dw_internal.h): narrower 3x3 stride-1 depthwise planes get its width
DW_NARROW_PW = 8


def _clamps(fields: dict[str, Any]) -> bool:
    """The call (or a call fused into it) has an int8 activation range narrower than int8's."""
    for value in fields.values():
        nested = value if isinstance(value, list) else [value]
        if any(isinstance(v, dict) and _clamps(v) for v in nested):
            return True
    lo, hi = fields.get("activation_min"), fields.get("activation_max")
    return (isinstance(lo, int) and lo > INT8_MIN) or (isinstance(hi, int) and hi < INT8_MAX)


def firmware_defines(calls: Iterable[Call], size: bool = False) -> list[str]:
    """The -D flags that leave out the variants no call reaches (and, for
    ``--optimize size``, the narrow depthwise walk: the general one runs the
    same planes)."""
    calls = list(calls)
    layouts = {c.fields.get("layout") for c in calls}
    clamp = any(_clamps(c.fields) for c in calls)
    columns = any(_columns(c) for c in calls)
    conv3x3 = any(c.macro != "dw_conv_s8" and c.fields.get("kh") == c.fields.get("kw") == 3
                  for c in calls)
    dw_s2 = any(c.macro == "dw_conv_s8" and c.fields.get("stride_h") != 1 for c in calls)
    s1 = [c for c in calls if _dw_s1(c)]
    narrow = not size and any(_narrow(c) for c in s1)
    kept = {"WIDE2": bool(layouts & set(PAIRED)), "WIDE4": WIDE4 in layouts, "CLAMP": clamp,
            "CONV3X3": conv3x3, "CONV_COLUMNS": columns, "DW_S2": dw_s2, "DW_NARROW": narrow,
            "DW_S1": any(not (narrow and _narrow(c)) for c in s1)}
    return [f"-DEFFC_OMIT_{name}=1" for name, reached in kept.items() if not reached]


def _columns(call: Call) -> bool:
    """A convolution whose WIDE2 filter has 4-byte kernel rows (kernel width * C_in = 4,
    no dilation: KWS's first conv), which reads its patches from column images."""
    f = call.fields
    dims = f.get("filter_dims")
    return (call.macro == "conv_s8" and f.get("layout") in PAIRED and dims is not None
            and dims[2] * dims[3] == 4 and f.get("dilation_h") == f.get("dilation_w") == 1)


def _dw_s1(call: Call) -> bool:
    """A depthwise 3x3 call at stride and dilation 1 (the stride-1 walks')."""
    f = call.fields
    return (call.macro == "dw_conv_s8" and f.get("kh") == f.get("kw") == 3
            and f.get("stride_h") == f.get("stride_w") == 1
            and f.get("dilation_h") == f.get("dilation_w") == 1)


def _narrow(call: Call) -> bool:
    """Its planes are at most DW_NARROW_PW columns (output width + 2):
    effc_dw_walk_s1_narrow's, the others effc_dw_walk_s1's."""
    return call.fields["output_dims"][2] + 2 <= DW_NARROW_PW


def _budget_image(target: CTarget | None) -> TypeGuard[CTarget]:
    """The target is a --flash-budget image's (``CTarget.widen`` chosen by budget.py)."""
    return target is not None and target.widen is not None


#: the runtime sources the lean and compact forms of a --flash-budget image compile for
#: size, and how (module docstring)
SIZE_SOURCES = ("effc_conv_im2col.c", "effc_conv_s8.c", "effc_dense_s8.c",
                "effc_dw_conv_s8.c", "effc_dw_dsp.c", "effc_mm_dsp.c", "effc_pool_s8.c",
                "effc_softmax_s8.c")
SIZE_CFLAGS = ("-Os", "-U__OPTIMIZE_SIZE__", "-DEFFC_SIZE_UNIT=1")


def firmware_source_cflags(target: CTarget | None) -> dict[str, list[str]]:
    """The flags the firmware build adds for single sources (``c.firmware_source_cflags``):
    ``SIZE_CFLAGS`` for ``SIZE_SOURCES`` in the lean and compact forms of a --flash-budget
    image on ``DSP_CPUS``."""
    smaller = _budget_image(target) and target.form != "fast" and target.cpu in DSP_CPUS
    return {source: list(SIZE_CFLAGS) for source in SIZE_SOURCES} if smaller else {}


def firmware_cflags(calls: Iterable[Call], target: CTarget | None) -> list[str]:
    """The flags the firmware build adds for this model (``c.firmware_cflags``)."""
    calls = list(calls)
    size = target is not None and target.optimize == "size"
    smaller_c = size and target.cpu in DSP_CPUS
    # a flash budget's bytes go to widened layers, not to the speed-only extras: the
    # one-column two-pair loop, the column images (KWS at 52,000 B: 1 KB of code that
    # would cost the first conv its widening) and the depthwise body's (EFFC_DW_SPEED in
    # effc_dw_internal.h, 2.2 KB: KWS's all-int8 image would no longer fit 49,152 B)
    # (a budget image with PAIR8 layers in its "fast" form keeps them: CTarget.form)
    fast = target is not None and target.form == "fast" and \
        any(c.fields.get("layout") == PAIR8 for c in calls)
    budget = ["-DEFFC_OMIT_PAIRS2=1", "-DEFFC_OMIT_CONV_COLUMNS=1",
              "-DEFFC_DW_COMPACT=1"] if _budget_image(target) and not fast else []
    return [*dict.fromkeys([*firmware_defines(calls, size), *budget]), *relu_defines(calls),
            *rq_shift_defines(calls), *packed_defines(calls), *dw_stride_defines(calls, size),
            *dw_shift_defines(calls, size), *(["-Os"] if smaller_c else []),
            *(["-fmerge-all-constants"] if size or _budget_image(target) else []),
            *_unroll(calls, target)]


def _int8_rows(call: Call) -> bool:
    """The call can reach effc_mm_1x4_s8 (effc_mm_run over int8 filter rows): an int8
    convolution, or a dense layer of more than one row (one row takes effc_mm_row), whose
    filter keeps its int8 rows."""
    f = call.fields
    rows = call.macro in ("conv_s8", "grouped_conv_s8", "conv_add_s8") or \
        (call.macro == "dense_s8" and f.get("batches") != 1)
    return rows and f.get("layout", S8) == S8


def relu_defines(calls: Iterable[Call]) -> list[str]:
    """``-DEFFC_WIDE2_RELU=1`` when every WIDE2 layer floors at its zero point,
    ``-DEFFC_DW_RELU=1`` when every depthwise layer does, ``-DEFFC_S8_RELU=1`` when every
    layer that can reach the int8-row loop does (``_int8_rows``): those loops then requantize
    in three instructions instead of four (EFFC_RQ_RELU, effc_mm_asm.h; KWS: 8,000
    instructions and cycles a layer). Unlike the EFFC_OMIT defines these change a
    loop's arithmetic, exact only under that condition, so one layer that does not
    floor keeps its family's general form."""
    calls = list(calls)
    families = {"WIDE2": [c for c in calls if c.fields.get("layout") in PAIRED],
                "DW": [c for c in calls if c.macro == "dw_conv_s8"],
                "S8": [c for c in calls if _int8_rows(c)]}
    return [f"-DEFFC_{name}_RELU=1" for name, members in families.items()
            if members and all(floors_at_zero_point(c) for c in members)]


def rq_shift_defines(calls: Iterable[Call]) -> list[str]:
    """``-DEFFC_WIDE2_RQ_SHIFT=K`` when every WIDE2 layer's records are EFFC_WIDE_SHIFTED
    for the same K (layouts.rq_shift chose it: every WIDE2 layer floors at its zero point
    and takes K within its ranges) and floors at its zero point: the WIDE2 loops then
    requantize with SMMLA and SSAT asr #K from one LDRD (effc_mm_asm.h; KWS: 8 instructions
    and 10 cycles a 2x4 tile). Like relu_defines it changes arithmetic; a WIDE2 layer the
    define would not fit keeps every layer's records and loops as they were (and the C
    dispatch sends any record not of that K, or a layer that does not floor, to the C path)."""
    k = wide2_rq_shift(calls)
    return [f"-DEFFC_WIDE2_RQ_SHIFT={k}"] if k else []


def packed_defines(calls: Iterable[Call]) -> list[str]:
    """``-DEFFC_WIDE2_PACKED=1`` when the model's two-channel layers are EFFC_FILTER_PAIR8
    (a --flash-budget build's, layouts.py): the WIDE2 loops then read PAIR8 weights,
    each word split by SXTB16, from columns widened doubled (effc_mm_asm.h)."""
    return ["-DEFFC_WIDE2_PACKED=1"] if any(c.fields.get("layout") == PAIR8 for c in calls) \
        else []


def library_definitions(calls: Iterable[Call]) -> list[str]:
    """The preprocessor definitions (NAME=VALUE) every build of the runtime for this model
    needs to run at the firmware's speed, which its Makefile, CMakeLists.txt and exports
    carry: EFFC_WIDE2_RQ_SHIFT, because the model's WIDE2 records are scaled for it (a
    runtime built without it reads them exactly, on the C path: KWS ~48x the instructions),
    and EFFC_WIDE2_PACKED, because its WIDE2 loops read the model's PAIR8 layers (without
    it they too take the C path).
    The RELU and layout switches are firmware-only: the library stays general without them."""
    return [d.removeprefix("-D") for d in [*rq_shift_defines(calls), *packed_defines(calls)]]


def wide2_rq_shift(calls: Iterable[Call]) -> int:
    """rq_shift_defines' K, or 0."""
    wide = [c for c in calls if c.fields.get("layout") == WIDE2]
    shifts = {c.fields.get("rq_shift", 0) for c in wide}
    if len(shifts) != 1 or not all(floors_at_zero_point(c) for c in wide):
        return 0
    (k,) = shifts
    return int(k)


#: EFFC_DW_OUT_STRIDE's bound (effc_dw_internal.h): the narrow walk's STRB.W takes the row
#: bytes and its ADDW twice them as 12-bit immediates
DW_OUT_STRIDE_MAX = 2047


def dw_stride_defines(calls: Iterable[Call], size: bool = False) -> list[str]:
    """``-DEFFC_DW_OUT_STRIDE=N`` when every depthwise layer that can take the narrow walk
    (3x3, stride and dilation 1, planes of at most DW_NARROW_PW columns; not at size, which
    leaves that walk out) has N output row bytes (width x channels) and N fits the walk's
    immediates: it then stores with immediate offsets and keeps the multiplier in a
    register (KWS: 1 cycle an output). The runtime takes the narrow walk only for layers
    of N row bytes, so a layer it does not know of computes the same bytes in C."""
    rows = {c.fields["output_dims"][2] * c.fields["output_dims"][3]
            for c in calls if _dw_s1(c) and _narrow(c)}
    if size or len(rows) != 1:
        return []
    n = rows.pop()
    return [f"-DEFFC_DW_OUT_STRIDE={n}"] if 0 < n <= DW_OUT_STRIDE_MAX else []


#: EFFC_DW_D_MAX and EFFC_DW_K_MAX (effc_dw_internal.h): the one-shift form's largest
#: scaling exponent d = K - s of a channel and its largest K
DW_D_MAX, DW_K_MAX = 6, 23


def dw_shift_defines(calls: Iterable[Call], size: bool = False) -> list[str]:
    """``-DEFFC_DW_RQ_SHIFT=K`` (speed builds) when the depthwise family has EFFC_DW_RELU and every
    channel of every depthwise layer with a nonzero multiplier has its right shift s
    (TFLite's -shift) in K - DW_D_MAX .. K - 1, K = the largest s + 1 <= DW_K_MAX: the
    walks then requantize with SMMLA and SSAT asr #K, each channel's taps, bias and round
    scaled by 2^(K - s) (effc_dw_internal.h; KWS: one ASR, an instruction and a cycle, an
    output). The runtime walks a channel outside that range (and multiplier 0) in C,
    so this only decides whether the define pays. Not at size: the taps' scaling is 52 B
    more code than the walk's rows save (KWS 40,892 -> 40,944 B, for 6,976 instructions a
    depthwise layer), and size builds keep to the flash goal."""
    dw = [c for c in calls if c.macro == "dw_conv_s8"]
    if size or not dw or not all(floors_at_zero_point(c) for c in dw):  # EFFC_DW_RELU's rule
        return []
    shifts = [-int(s) for c in dw
              for m, s in zip(*np.broadcast_arrays(np.ravel(c.fields["multiplier"]),
                                                   np.ravel(c.fields["shift"])), strict=True)
              if int(m) != 0]
    if not shifts or min(shifts) < 1:
        return []
    k = max(shifts) + 1
    return [f"-DEFFC_DW_RQ_SHIFT={k}"] if k <= DW_K_MAX and k - min(shifts) <= DW_D_MAX else []


#: EFFC_MM_2X4_UNROLL of the speed builds: groups of 4 values per loop test
UNROLL = 16


def _unroll(calls: list[Call], target: CTarget | None) -> list[str]:
    """A speed build whose layers reach the two-channel loop (with a flash budget: PAIR8
    layers; the "compact" form, ``CTarget.form``, keeps its 8 groups and takes the store
    step alone, ``compact_step_defines``) unrolls it 16
    groups per loop test instead of 8 (EFFC_MM_2X4_UNROLL,
    effc_mm_s8_asm.c): k <= 64 layers (16 groups: the first, then one pass of 15) then run
    their groups without looping back, for 704 bytes of code per linked variant (KWS: 2
    instructions, 4 cycles per 8 outputs). When every WIDE2 layer is that short, the loop
    also leaves its test out (EFFC_MM_2X4_ONE_PASS, and the dispatch sends any longer k to
    the C path: 2 instructions and cycles per 8 outputs). Pointwise quads are widened and
    run by the loop itself (EFFC_MM_2X4_QUADS: 14 instructions a group of four columns
    instead of 17, one call a layer; KWS pointwise layer: 2,400 instructions less). With
    both, the loop keeps a quad's widened columns on its stack and runs 16-group layers
    in a straight copy (effc_mm_quads_asm.c: 4 instructions a pair of channels x 4
    pixels, 3 for other k; KWS +1,724 B of flash and +548 B of stack)."""
    wide = [c for c in calls if c.fields.get("layout") in PAIRED]
    packed = any(c.fields.get("layout") == PAIR8 for c in wide)
    if target is None or target.optimize != "speed" or \
            (target.widen is not None and not packed) or target.cpu not in DSP_CPUS or not wide:
        return []
    if target.form == "compact":
        return compact_step_defines(wide)
    one_pass = all(wide_groups(weight_shape(c)[1]) - 1 <= UNROLL for c in wide)
    return [f"-DEFFC_MM_2X4_UNROLL={UNROLL}", "-DEFFC_MM_2X4_QUADS=1",
            *(["-DEFFC_MM_2X4_ONE_PASS=1", *full_step_defines(wide)] if one_pass else [])]


def _column_steps(call: Call) -> set[int]:
    """The bytes between the outputs of the columns (pixels, rows) a WIDE2 call hands the
    two-channel loop: a pixel's channels (1x1 and im2col convolutions, dense rows), and
    for column images (``_columns``) also an image row's (effc_conv_rows4_columns runs
    an output column's rows)."""
    n = weight_shape(call)[0]
    dims = call.fields.get("output_dims")
    return {n, dims[2] * n} if _columns(call) and dims is not None else {n}


#: STRH's immediate offset: 12 bits (the full form's columns 1-3 at S, 2 S, 3 S)
STRH_MAX_OFFSET = 4095


def _step_define(calls: list[Call], steps: set[int]) -> list[str]:
    """``-DEFFC_MM_2X4_FULL_STEP=S`` when ``steps`` is one S within STRH's offsets and
    every call has an even channel count (an odd last channel's outputs go to the dummy
    row, which the one-column loops take)."""
    if len(steps) != 1 or any(weight_shape(c)[0] % 2 for c in calls):
        return []
    step = steps.pop()
    return [f"-DEFFC_MM_2X4_FULL_STEP={step}"] if 0 < 3 * step <= STRH_MAX_OFFSET else []


def compact_step_defines(wide: list[Call]) -> list[str]:
    """``-DEFFC_MM_2X4_FULL_STEP=S`` for the --flash-budget compact form, whose unrolled
    two-channel loop (effc_mm_s8_asm.c) then stores every layer's four columns with one
    pointer at immediate offsets (7 estimated cycles less a channel pair x four columns):
    S is the channel count every two-channel layer shares (the form reads no column
    images, so a layer's columns are a pixel's channels apart). As for the stack loop's
    full form, the dispatch hands the loop only columns S apart."""
    return _step_define(wide, {weight_shape(c)[0] for c in wide})


def full_step_defines(wide: list[Call]) -> list[str]:
    """``-DEFFC_MM_2X4_FULL_STEP=S`` (effc_mm_asm.h) for a one-pass stack build
    (EFFC_MM_2X4_STACK) whose WIDE2 layers of 16 groups (the loop's full form) all store
    their output columns S bytes apart (``_column_steps``) with an even channel count
    and 3 S within STRH's offset: the form then stores at immediate offsets (7 cycles
    less a channel pair x four columns; KWS's pointwise layers, S = 64). The dispatch
    hands that form only columns S apart (other steps, three columns or an odd last
    channel take the one-column loops), so the define is exact for any S; S is the
    step that keeps every such layer on the form."""
    full = [c for c in wide if wide_groups(weight_shape(c)[1]) == UNROLL]
    return _step_define(full, set().union(*(_column_steps(c) for c in full)))

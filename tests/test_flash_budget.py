"""``--flash-budget`` (effc/codegen/c/budget.py): the image with the most widened
MACs within the budget, so that more flash never gives a slower image."""

from __future__ import annotations

import dataclasses
import itertools
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from effc.boards import load_board
from effc.codegen.c import layouts
from effc.codegen.c.budget import fit_budget, knapsack
from effc.codegen.c.emit import PREPARED, generate_c, layer_calls
from effc.codegen.c.kernel_set import (
    SIZE_CFLAGS,
    SIZE_SOURCES,
    firmware_cflags,
    firmware_source_cflags,
    library_definitions,
)
from effc.codegen.c.kernels import Call
from effc.codegen.c.layouts import (
    PAIR8,
    WEIGHTS_ALIGN,
    WIDE2,
    WIDE4,
    CTarget,
    WideOption,
    choose_layouts,
    wide_options,
)
from effc.codegen.c.target import emit_c
from effc.compiler import CompileOptions
from effc.frontend.importer import load
from effc.ir import Graph
from effc.outdir import OutDir
from effc.passes.pipeline import compile_pipeline
from effc.toolchain.firmware import COMMON_CFLAGS
from tests.c_models import model_path
from tests.conftest_c import RUNTIME_C, require_tool

BOARD = "mps2-an386"


def _brute(items: list[WideOption], room: int) -> tuple[int, int]:
    """(most MACs, fewest bytes among those) over every subset."""
    best = (0, 0)
    for n in range(len(items) + 1):
        for subset in itertools.combinations(items, n):
            nbytes = sum(max(o.extra_bytes, 0) for o in subset)
            if nbytes <= room:
                best = min(best, (-sum(o.macs for o in subset), nbytes))
    return -best[0], best[1]


def test_knapsack_finds_the_best_subset() -> None:
    rng = np.random.default_rng(14)
    for trial in range(40):
        n = int(rng.integers(1, 9))
        unit = int(rng.choice([1, 16]))
        items = [WideOption(i, WIDE2, int(rng.integers(1, 6)) * 1000,
                            unit * int(rng.integers(-1 if trial % 5 == 0 else 1, 40)))
                 for i in range(n)]
        for room in range(-1, 45 * unit, 7 * unit + 1):
            chosen = knapsack(items, room)
            got = [o for o in items if o.position in chosen]
            nbytes = sum(max(o.extra_bytes, 0) for o in got)
            assert nbytes <= max(room, 0)
            assert (sum(o.macs for o in got), nbytes) == _brute(items, room), (items, room)


def _calls() -> list[Call]:
    """Three convolutions and a one-row dense layer (WIDE2 x 3, WIDE4)."""
    conv = {"kh": 1, "kw": 1, "filter_dims": [8, 1, 1, 8], "activation_min": -128,
            "activation_max": 127}
    dense = {"batches": 1, "activation_min": -128, "activation_max": 127}
    return [Call("conv_s8", "c0", "Conv", dict(conv)), Call("conv_s8", "c1", "Conv", dict(conv)),
            Call("dense_s8", "d", "Gemm", dense), Call("conv_s8", "c2", "Conv", dict(conv))]


#: KWS's shape: a cheap layer with little work (the dense), a first conv, pointwise layers
OPTIONS = [WideOption(0, WIDE2, 320_000, 3_072), WideOption(1, WIDE2, 512_000, 4_608),
           WideOption(2, WIDE4, 768, 864), WideOption(3, WIDE2, 512_000, 4_608)]
CODE = {WIDE2: 2_180, WIDE4: 684}
FLOOR = 48_300


def _fake_build(log: list[frozenset[int]], miss: int = 0) -> Any:
    """Images whose bytes are the floor, the layers' bytes and each wide layout's code;
    ``miss`` bytes more when layers 0 and 1 are both widened (what a model cannot see)."""
    def build(widen: frozenset[int]) -> tuple[dict[str, Any], Any]:
        log.append(widen)
        layouts = {o.layout for o in OPTIONS if o.position in widen}
        flash = FLOOR + sum(o.extra_bytes for o in OPTIONS if o.position in widen) + \
            sum(CODE[k] for k in layouts) + (miss if {0, 1} <= widen else 0)
        return {"widen": widen}, SimpleNamespace(flash_bytes=flash)
    return build


def _fit(budget: int, miss: int = 0) -> tuple[frozenset[int], int, int]:
    log: list[frozenset[int]] = []
    target = CTarget("cortex-m4", 1 << 22, "speed", widen=frozenset())
    facts, fw = fit_budget(_calls(), OPTIONS, target, _fake_build(log, miss), budget)
    return facts["widen"], fw.flash_bytes, len(log)


def test_more_budget_never_widens_fewer_macs() -> None:
    """Every budget from below the floor to above the widest image: the image fits (but
    when the floor does not), widened MACs never drop, and at most 5 builds (the floor,
    three sets of kernel paths, the choice)."""
    macs = {o.position: o.macs for o in OPTIONS}
    last = -1
    for budget in range(FLOOR - 100, FLOOR + 16_500, 50):
        widen, flash, builds = _fit(budget)
        assert flash <= budget or (not widen and budget < FLOOR)
        widened = sum(macs[p] for p in widen)
        assert widened >= last, budget
        last = widened
        assert builds <= 5
    assert widen == {0, 1, 2, 3}
    # where the greedy by MACs per byte took a pointwise layer and the dense one, then
    # kept only the dense: the first conv fits (KWS at 54,000 B)
    assert _fit(FLOOR + 5_700)[0] == {0}
    assert _fit(FLOOR + 6_788)[0] == {1}  # a pointwise layer's work over conv + dense


def test_a_missed_byte_is_charged_and_the_choice_made_again() -> None:
    """An image larger than the model says (here 16 bytes more when layers 0 and 1 are
    both widened) is not kept: the miss is charged to its kernel paths and the next best
    choice that fits is built."""
    budget = FLOOR + CODE[WIDE2] + 3_072 + 4_608 + 8  # fits 0 + 1 by the model, not built
    widen, flash, builds = _fit(budget, miss=16)
    # 0 + 3 would fit, but the miss is charged to every WIDE2 choice: a pointwise layer
    # and the dense one (512,768 MACs), the next best
    assert flash <= budget and widen == {1, 2} and builds == 6
    widen, flash, _ = _fit(budget)
    assert widen == {0, 1} and flash == budget - 8


@pytest.fixture(scope="module")
def kws() -> Graph:
    return compile_pipeline(load(model_path("kws_ref_model")), CompileOptions(board=BOARD))[0]


def test_kws_budget_sweep_is_monotonic(kws: Graph, tmp_path: Path) -> None:
    """KWS from the all-int8 image to every layer widened: each image within its budget,
    widened MACs never fewer for more bytes (the greedy before widened 864 B at 54,000 B
    against 3,072 B at 53,616 B), all of them at the top."""
    require_tool("arm-none-eabi-gcc")
    board = load_board(BOARD)

    def facts(budget: int) -> dict[str, Any]:
        out = OutDir.prepare(tmp_path / str(budget))
        return emit_c(kws, board, out, flash_budget=budget)

    floor = facts(1)["firmware"]["flash_bytes"]
    top = facts(1 << 22)  # a budget of no consequence: every layer widened
    last = -1
    # every 750 B, where the greedy failed (53,616 and 54,000 B when the floor was 48,300 B:
    # the first conv, then only the dense) and the widest image
    for budget in sorted({*range(floor, top["firmware"]["flash_bytes"], 750), floor + 5_316,
                          floor + 5_700, top["firmware"]["flash_bytes"]}):
        f = facts(budget)
        assert f["firmware"]["flash_bytes"] <= budget
        assert f["flash_budget"] == {"bytes": budget, "met": True}
        macs = f["memory"]["widened_macs"]
        assert macs >= last, budget
        last = macs
    assert f["memory"]["widened_macs"] == top["memory"]["widened_macs"]
    assert f["memory"]["widened_bytes"] == top["memory"]["widened_bytes"]


def _layouts(graph: Graph, target: CTarget) -> tuple[list[Call], list[int]]:
    calls = layer_calls(graph)
    constants = sum(t.nbytes for t in graph.tensors.values() if t.is_constant)
    choose_layouts(calls, target, graph.tensors, constants)
    return calls, [c.fields["layout"] for c in calls if c.macro in ("conv_s8", "dense_s8")]


def test_a_small_flash_packs_the_two_channel_layers(kws: Graph) -> None:
    """--optimize speed widens every layer where the wide layouts fit the board's flash
    (KWS: 22 KB more, within 4 MiB less the code reserve); where they do not (96 KiB), the
    convolutions take PAIR8 (their int8 bytes, two channels interleaved) rather than stay
    int8, the one-row dense layer still WIDE4, and the firmware and the library read PAIR8
    in the WIDE2 loops (EFFC_WIDE2_PACKED). A --flash-budget image packs at any budget."""
    calls, big = _layouts(kws, CTarget("cortex-m4", 1 << 22))
    assert big == [WIDE2] * 5 + [WIDE4]
    assert not any("PACKED" in f for f in firmware_cflags(calls, CTarget("cortex-m4", 1 << 22)))
    small = CTarget("cortex-m4", 96 * 1024)
    calls, packed = _layouts(kws, small)
    assert packed == [PAIR8] * 5 + [WIDE4]
    assert "-DEFFC_WIDE2_PACKED=1" in firmware_cflags(calls, small)
    assert "EFFC_WIDE2_PACKED=1" in library_definitions(calls)
    budget = CTarget("cortex-m4", 1 << 22, widen=frozenset(range(len(calls))))
    assert _layouts(kws, budget)[1] == [PAIR8] * 5 + [WIDE4]
    # the PAIR8 options cost their records and bias words only (16 B a channel against the
    # int8 layer's 8 B records): 512 B for a 64-channel layer, WIDE2 4,608 B
    pair8 = {o.layout: o.extra_bytes for o in wide_options(calls, kws.tensors, packed=True)
             if o.macs == 512_000}
    assert pair8 == {PAIR8: 512}


def test_the_weights_alignment_is_the_templates() -> None:
    """layouts.py counts each constant array at the model's default weights alignment."""
    header = (RUNTIME_C.parent / "codegen" / "c" / "templates" / "model.h.j2").read_text()
    assert f"_WEIGHTS_ALIGN {WEIGHTS_ALIGN}\n" in header


def test_a_layers_records_are_computed_once_per_compile(kws: Graph,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A --flash-budget compile generates the C once per image it builds, and wide_options
    and every int8 MAC layer ask for their records each time: each layer's are computed
    once, the bytes are those computed afresh, and a bias or weight changed in place (same
    graph, tensor, name and array) gives records computed again, never the cached ones."""
    computed: list[int] = []
    real = layouts.channel_records

    def counted(weights: np.ndarray, *args: Any) -> np.ndarray:
        computed.append(weights.shape[0])
        return real(weights, *args)

    monkeypatch.setattr(layouts, "channel_records", counted)
    layouts._records.cache_clear()
    calls = layer_calls(kws)
    options = wide_options(calls, kws.tensors)
    layers = sum(c.macro in PREPARED for c in calls)
    int8 = CTarget("cortex-m4", 1 << 22, "speed", widen=frozenset())
    every = frozenset(o.position for o in options)
    images = [generate_c(kws, "kws", dataclasses.replace(int8, widen=widen))[0]
              for widen in (frozenset(), frozenset({options[0].position}), every)]
    assert layers == 10 and len(computed) == layers  # not 6 + 3 x (6 + 10)
    assert images[0] != images[2]
    layouts._records.cache_clear()
    assert generate_c(kws, "kws", dataclasses.replace(int8, widen=every))[0] == images[2]
    assert len(computed) == 2 * layers
    with pytest.raises(ValueError, match="read-only"):
        layouts.layer_records(calls[0], kws.tensors)[0, 0] = 0

    # in place, in a copy of the graph: channel 0's bias (its record holds it), then its
    # weights (the fast form's bound: all zero, every output is the zero point)
    graph = kws.clone()
    conv = next(c for c in layer_calls(graph) if c.macro == "conv_s8")
    f = conv.fields
    weights, bias = graph.tensors[conv.weights[0]].data, graph.tensors[f["bias"]].data
    assert weights is not None and bias is not None
    last = layouts.layer_records(conv, graph.tensors)
    for array in (bias, weights):
        array[0] = 0
        fresh = real(weights, bias, f["multiplier"], f["shift"], f["input_zero_point"],
                     f["output_zero_point"])
        records = layouts.layer_records(conv, graph.tensors)
        assert np.array_equal(records, fresh) and not np.array_equal(records, last)
        last = records
    assert len(computed) == 2 * layers + 2 and not last[0].any()


def test_the_lean_and_compact_forms_compile_the_setup_for_size() -> None:
    """A --flash-budget image's lean and compact forms compile SIZE_SOURCES with -Os (and
    -U__OPTIMIZE_SIZE__, -DEFFC_SIZE_UNIT=1); the fast form, a build without a budget and
    the cores whose inner loops are C (the Cortex-M55's Helium body) do not."""
    def units(cpu: str = "cortex-m4", **kw: Any) -> dict[str, list[str]]:
        return firmware_source_cflags(CTarget(cpu, 1 << 22, **kw))

    assert units(widen=frozenset(), form="lean") == units(widen=frozenset({1}), form="compact")
    assert sorted(units(widen=frozenset(), form="lean")) == sorted(SIZE_SOURCES)
    assert set(map(tuple, units(widen=frozenset(), form="compact").values())) == {SIZE_CFLAGS}
    assert units(widen=frozenset(), form="fast") == {}
    assert units() == {} and units(optimize="size") == {}
    assert units("cortex-m55", widen=frozenset(), form="lean") == {}
    # no assembly loop among them: those stay at -O2 with the speed build's unrolling
    assert not [s for s in SIZE_SOURCES if s.endswith("_asm.c") or "mve" in s]


def _lines_by_file(preprocessed: str) -> dict[str, list[str]]:
    """``gcc -E`` output split by its line markers: the lines each file contributed."""
    lines: dict[str, list[str]] = {}
    current = ""
    for line in preprocessed.splitlines():
        marker = re.match(r'# \d+ "([^"]+)"', line)
        if marker:
            current = marker.group(1)
        elif line.strip():
            lines.setdefault(current, []).append(line)
    return lines


@pytest.mark.parametrize("source", SIZE_SOURCES)
def test_a_size_unit_reads_its_headers_as_the_o2_units_do(source: str) -> None:
    """A size-compiled unit calls -O2 units (the assembly loops) through structures and a
    split of work that the headers set by __OPTIMIZE_SIZE__ (effc_dw_internal.h's job layout
    and depthwise speed extras): with SIZE_CFLAGS every header reads exactly as at -O2, only
    the unit's own text may differ (its EFFC_SMALL_UNIT variants). Plain -Os would not do:
    checked on the depthwise units, whose job layout it changes."""
    gcc = require_tool("arm-none-eabi-gcc")
    board = load_board(BOARD)

    def headers(*extra: str) -> dict[str, list[str]]:
        text = subprocess.run([gcc, *board.cflags, *COMMON_CFLAGS, *extra, "-E",
                               str(RUNTIME_C / source)], capture_output=True, text=True,
                              check=True).stdout
        return {f: v for f, v in _lines_by_file(text).items() if not f.endswith(source)}

    o2 = headers()
    assert any(f.endswith("effc_internal.h") for f in o2)
    assert headers(*SIZE_CFLAGS) == o2
    if source.startswith("effc_dw_"):
        assert headers("-Os") != o2

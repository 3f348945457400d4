"""The HLS estimate as data (effc.json), a Markdown table (report.md, README) and text."""

from __future__ import annotations

from typing import Any

from effc.codegen.hls.dataflow import DEFAULT_DEPTH, Dataflow
from effc.codegen.hls.folding import UTILIZATION, Budget, Selection
from effc.names import comment_text


def estimate_rows(flow: Dataflow, selection: Selection, budget: Budget) -> dict[str, Any]:
    """Per layer: folding, cycles, DSP, BRAM (18 Kb), LUT, the depths of the FIFOs it
    reads (None: a port); the bottleneck marked; the streams' share; the whole model
    at the board's clock."""
    bottleneck = selection.bottleneck
    plan = selection.plan
    layers = []
    for layer, fold in zip(flow.layers, selection.folds, strict=True):
        reads = [plan.streams[plan.edge_stream[(layer.index, slot)]]
                 for slot in range(len(layer.inputs))]
        layers.append({"index": layer.index, "node": layer.node.name, "op": layer.node.op_type,
                       "kind": layer.kind, "folding": dict(fold.params),
                       "cycles": fold.cycles, "dsp": fold.res.dsp, "bram18": fold.res.bram,
                       "lut": fold.res.lut, "bottleneck": layer.index == bottleneck,
                       "fifo_depths": [None if s.port else s.depth for s in reads]})
    streams = plan.resources()
    fifos = [s for s in plan.streams.values() if not s.port]
    total = selection.resources
    clock = budget.clock_mhz * 1e6
    return {
        "board": budget.name, "part": budget.part, "clock_mhz": budget.clock_mhz,
        "layers": layers,
        "streams": {"dsp": streams.dsp, "bram18": streams.bram, "lut": streams.lut,
                    "fifos": len(fifos), "fifo_beats": sum(s.depth for s in fifos),
                    "deep_fifos": sorted(s.depth for s in fifos if s.depth > DEFAULT_DEPTH)},
        "total": {"dsp": total.dsp, "bram18": total.bram, "lut": total.lut},
        "budget": {"dsp": budget.limit("dsp"), "bram18": budget.limit("bram"),
                   "lut": budget.limit("lut"), "lut_share": UTILIZATION["lut"]},
        "interval_cycles": selection.interval,
        "latency_cycles": selection.latency,
        "inferences_per_second": round(clock / selection.interval, 1),
        "latency_us": round(selection.latency / budget.clock_mhz, 2),
    }


def markdown(est: dict[str, Any]) -> str:
    """The per-layer table with the bottleneck marked, and the whole model."""
    lines = ["| # | layer | kind | folding | cycles | FIFO in | DSP | BRAM18 | LUT |",
             "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for row in est["layers"]:
        folding = ", ".join(f"{k.upper()} {v}" for k, v in row["folding"].items())
        mark = " **bottleneck**" if row["bottleneck"] else ""
        lines.append(f"| {row['index']} | {comment_text(row['node'], 40)} | {row['kind']} | "
                     f"{folding} | {row['cycles']:,}{mark} | {_depths(row['fifo_depths'])} | "
                     f"{row['dsp']} | {row['bram18']} | {row['lut']:,} |")
    s, t, b = est["streams"], est["total"], est["budget"]
    deep = f"; deeper: {', '.join(f'{d:,}' for d in s['deep_fifos'])}" if s["deep_fifos"] else ""
    lines.append(f"| | streams ({s['fifos']} FIFOs of {DEFAULT_DEPTH} beats{deep}; converters, "
                 f"fan-out) | | | | | {s['dsp']} | {s['bram18']} | {s['lut']:,} |")
    lines.append(f"| | **total** (budget) | | | | | **{t['dsp']}** ({b['dsp']}) | "
                 f"**{t['bram18']}** ({b['bram18']}) | **{t['lut']:,}** ({b['lut']:,}) |")
    return "\n".join(lines) + "\n\n" + summary_line(est) + "\n"


def _depths(depths: list[int | None]) -> str:
    return ", ".join("port" if d is None else f"{d:,}" for d in depths)


def summary_line(est: dict[str, Any]) -> str:
    return (f"{est['board']} ({est['part']}) at {est['clock_mhz']:g} MHz: initiation interval "
            f"{est['interval_cycles']:,} cycles = {est['inferences_per_second']:,.0f} "
            f"inferences/s; latency {est['latency_cycles']:,} cycles = {est['latency_us']:,} us "
            f"(sum of the layers' cycles); DSP {est['total']['dsp']}/{est['budget']['dsp']}, "
            f"BRAM18 {est['total']['bram18']}/{est['budget']['bram18']}, "
            f"LUT {est['total']['lut']:,}/{est['budget']['lut']:,} (estimates)")

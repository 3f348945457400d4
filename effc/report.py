"""The human-readable report.md written next to effc.json."""

from __future__ import annotations

from typing import Any

from effc.names import comment_text
from effc.report_html import FIGURES, budget, layer_rows


def _cell(text: object) -> str:
    """Model text in a Markdown cell: no markup, pipes, HTML or line breaks."""
    return comment_text(str(text), limit=0)


def report_text(manifest: dict[str, Any]) -> str:
    s = manifest["summary"]
    lines = [
        f"# effc report: {_cell(manifest['name'])}",
        "",
        f"- source: {_cell(manifest['source'])}",
        f"- quantization: {manifest['quantize']}",
        f"- MACs: {s['macs']:,} (float model: {manifest['float_summary']['macs']:,})",
        f"- parameters: {s['params']:,}, weight bytes: {s['weight_bytes']:,}",
        "",
        "| # | layer | op | output | MACs | params |",
        "|---|---|---|---|---|---|",
    ]
    for i, layer in enumerate(s["layers"]):
        shape = "x".join(map(str, layer["output_shape"]))
        lines.append(f"| {i} | {_cell(layer['name'])} | {layer['op']} | {shape} | "
                     f"{layer['macs']:,} | {layer['params']:,} |")
    quant = manifest.get("quantization") or {}
    if quant.get("layers"):
        lines += ["", "## Quantization", "",
                  f"calibration: {quant.get('calibration', '-')}", "",
                  "| layer | SQNR dB | weight range | activation range |", "|---|---|---|---|"]
        for layer in quant["layers"]:
            lines.append(f"| {_cell(layer['name'])} | {layer.get('sqnr_db', '-')} | "
                         f"{layer.get('weight_range', '-')} | {layer.get('activation_range', '-')} |")
    wino = manifest.get("winograd")
    if wino:
        lines += ["", "## Winograd", "", f"--winograd {wino['mode']}", "",
                  "| layer | op | shape | choice | reason |", "|---|---|---|---|---|"]
        for layer in wino["layers"]:
            lines.append(f"| {_cell(layer['name'])} | {layer['op']} | {layer['shape']} | "
                         f"{layer['choice']} | {_cell(layer['reason'])} |")
    memory = manifest.get("memory")
    if memory:
        lines += ["", "## Memory", "",
                  f"- arena: {memory['arena_bytes']:,} bytes "
                  f"(layer-by-layer lower bound {memory['lower_bound_bytes']:,}: "
                  f"activations {memory.get('activations_lower_bound_bytes', 0):,} and "
                  f"kernel scratch; the largest scratch {memory.get('scratch_peak_bytes', 0):,})"]
    section = manifest.get(manifest.get("target", ""))
    if isinstance(section, dict) and "report" in section:  # the target's own table
        lines += ["", f"## {section['report_title']}", "", section["report"].rstrip()]
    rtl = manifest.get("rtl")
    if rtl:
        lines += _rtl_lines(rtl)
    lines += _c_sections(manifest)
    check = manifest.get("verification")
    if check:
        lines += ["", "## Self-check", ""]
        if "differing_values" in check:
            lines.append(f"- {check.get('checked', 'host build')} vs the "
                         f"{check['compared_with']} on {check['inputs']}: "
                         f"{check['differing_values']} of {check['output_values']:,} output "
                         f"values differ ({check['criterion']})")
        elif "skipped" in check:
            lines.append(f"- skipped ({check['skipped']})")
        else:
            lines.append(f"- FAILED: {_cell(check['failed'])}")
    return "\n".join(lines) + "\n"


def _bar(percent: float, width: int = 20) -> str:
    filled = min(width, round(percent / 100 * width))
    return "#" * filled + "." * (width - filled)


def _dash(value: object, fmt: str = "{}") -> str:
    return "-" if value is None else fmt.format(value)


def _c_sections(manifest: dict[str, Any]) -> list[str]:
    """The budget bars, the figures and the per-layer table of the generated code."""
    lines: list[str] = []
    bars = budget(manifest)
    if bars:
        lines += ["", "## Budget", "", "```"]
        lines += [f"{b['what']:<5} {_bar(b['percent'])} {b['used']:>11,} of {b['limit']:,} "
                  f"bytes ({b['percent']:.1f}%)" for b in bars]
        lines += ["```"]
    if (manifest.get("memory") or {}).get("nodes"):
        lines += ["", f"![arena occupancy over layers]({FIGURES['memory']})",
                  "", f"![per-layer cost]({FIGURES['cost']})"]
    if not manifest.get("c"):
        return lines
    lines += ["", "## Layers of the generated code", "",
              "| # | layer | op | inputs | output | MACs | weight B | kernel | arena offset | "
              "lifetime | in place | scratch B | pruned | SQNR dB | instructions |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in layer_rows(manifest):
        life = "-" if r["lifetime"] is None else f"{r['lifetime'][0]}..{r['lifetime'][1]}"
        pruned = "-" if r["pruned"] is None else f"{100 * r['pruned']:.0f}%"
        lines.append(
            f"| {r['index']} | {_cell(r['name'])} | {r['op']} | {', '.join(r['inputs'])} | "
            f"{r['output']} | {r['macs']:,} | {r['weight_bytes']:,} | {r['kernel'] or '-'} | "
            f"{_dash(r['offset'])} | {life} | {'yes' if r['inplace'] else ''} | "
            f"{_dash(r['scratch_bytes'])} | {pruned} | {_dash(r['sqnr_db'])} | "
            f"{_dash(r['instructions'], '{:,}')} |")
    profile = manifest.get("profile")
    if profile:
        lines += ["", f"Instructions measured with `effc run --profile` on {profile['engine']}: "
                      f"{profile['instructions']:,} per inference (exact guest instructions, "
                      "not cycles)."]
    return lines


def _rtl_lines(rtl: dict[str, Any]) -> list[str]:
    """The RTL target's schedule: per descriptor the tiling, predicted cycles, utilization."""
    total = rtl["predicted_cycles"]
    macs = sum(d["macs"] for d in rtl["descriptors"])
    lines = ["", "## Accelerator schedule", "",
             f"- {rtl['lanes']} MAC lanes ({rtl['dsp_lanes']} on DSP blocks); activation arena "
             f"{rtl['arena_bytes']:,} of {rtl['arena_capacity']:,} B; program and weights "
             f"{rtl['weight_words']:,} of {rtl['weight_capacity']:,} words",
             f"- predicted: {total:,} cycles an inference, PE utilization "
             f"{macs / (total * rtl['lanes']):.1%}",
             f"- on the host: {', '.join(rtl['host_fallback']) or 'nothing'} "
             "(the int8 Softmax runs on the host, after the accelerator)", "",
             "| # | layer | kind | tiling | MACs | predicted cycles | utilization |",
             "|---|---|---|---|---|---|---|"]
    for i, d in enumerate(rtl["descriptors"]):
        lines.append(f"| {i} | {_cell(d['node'])} | {d['kind']} | {d['tiling']} | "
                     f"{d['macs']:,} | {d['predicted_cycles']:,} | "
                     f"{d['predicted_utilization']:.1%} |")
    return lines

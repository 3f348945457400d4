"""The human-readable report.md written next to effc.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_report(manifest: dict[str, Any], path: Path) -> None:
    s = manifest["summary"]
    lines = [
        f"# effc report: {manifest['name']}",
        "",
        f"- source: `{manifest['source']}`",
        f"- quantization: {manifest['quantize']}",
        f"- MACs: {s['macs']:,} (float model: {manifest['float_summary']['macs']:,})",
        f"- parameters: {s['params']:,}, weight bytes: {s['weight_bytes']:,}",
        "",
        "| # | layer | op | output | MACs | params |",
        "|---|---|---|---|---|---|",
    ]
    for i, layer in enumerate(s["layers"]):
        shape = "x".join(map(str, layer["output_shape"]))
        lines.append(f"| {i} | {layer['name']} | {layer['op']} | {shape} | "
                     f"{layer['macs']:,} | {layer['params']:,} |")
    quant = manifest.get("quantization") or {}
    if quant.get("layers"):
        lines += ["", "## Quantization", "",
                  f"calibration: {quant.get('calibration', '-')}", "",
                  "| layer | SQNR dB | weight range | activation range |", "|---|---|---|---|"]
        for layer in quant["layers"]:
            lines.append(f"| {layer['name']} | {layer.get('sqnr_db', '-')} | "
                         f"{layer.get('weight_range', '-')} | {layer.get('activation_range', '-')} |")
    memory = manifest.get("memory")
    if memory:
        lines += ["", "## Memory", "",
                  f"- arena: {memory['arena_bytes']:,} bytes "
                  f"(layer-by-layer lower bound {memory['lower_bound_bytes']:,})"]
    check = manifest.get("verification")
    if check:
        lines += ["", "## Self-check", ""]
        if "differing_values" in check:
            lines.append(f"- host build vs the {check['compared_with']} on {check['inputs']}: "
                         f"{check['differing_values']} of {check['output_values']:,} output "
                         f"values differ ({check['criterion']})")
        elif "skipped" in check:
            lines.append(f"- skipped ({check['skipped']})")
        else:
            lines.append(f"- FAILED: {check['failed']}")
    path.write_text("\n".join(lines) + "\n")

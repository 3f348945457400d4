"""The report's data and figures: per-layer rows, the arena timeline, the board budget,
two matplotlib plots (PNG), and report.html (jinja2, the PNGs embedded).

Everything comes from the manifest (``effc.json``), so ``effc run --profile`` can
rewrite the report of a compiled folder with measured instructions per layer.
"""

from __future__ import annotations

import base64
import functools
import io
from pathlib import Path
from typing import Any

import jinja2

TEMPLATE = Path(__file__).resolve().parent / "report_templates"
#: Where the figures go inside OUTDIR (report.md links them, report.html embeds them).
FIGURES = {"memory": "report/memory_timeline.png", "cost": "report/layer_cost.png"}


def _shape(shape: list[int]) -> str:
    return "x".join(map(str, shape))


def layer_rows(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per layer of the compiled graph: op, shapes, MACs, weight bytes, and where
    there is C code its kernel, arena offset, lifetime, in-place, scratch; pruning
    ratio and SQNR where the compile computed them; measured instructions after
    ``effc run --profile``.

    A layer whose code runs inside another layer's call (the residual Add fused
    into its convolution) names that kernel and row, e.g. ``conv_add_s8 (fused
    into #2)``, and shows the buffer the fused call writes (its own output);
    its scratch and instructions are counted on that row (``fused_into``)."""
    summary = manifest["summary"]["layers"]
    c_list = (manifest.get("c") or {}).get("layers", [])
    c_layers = {layer["node"]: layer for layer in c_list}
    row_of = {layer["name"]: i for i, layer in enumerate(summary)}
    host = {name: c for c in c_list for name in c.get("fused", [])}
    memory = manifest.get("memory") or {}
    inplace = set(memory.get("inplace_nodes", []))
    positions = {name: i for i, name in enumerate(memory.get("nodes", []))}
    buffers = {b["tensor"]: b for b in memory.get("buffers", []) if b["tensor"] != "scratch"}
    scratch = {b["node"]: b for b in memory.get("buffers", []) if b["tensor"] == "scratch"}
    pruned = {p["name"]: p for p in (manifest.get("pruning") or {}).get("layers", [])}
    sqnr = {q["name"]: q.get("sqnr_db") for q in (manifest.get("quantization") or {})
            .get("layers", [])}
    measured = (manifest.get("profile") or {}).get("per_layer_instructions", {})
    rows = []
    for i, layer in enumerate(summary):
        name = layer["name"]
        c = c_layers.get(name)
        row: dict[str, Any] = {
            "index": i, "name": name, "op": layer["op"],
            "inputs": layer.get("input_shapes", []), "output": _shape(layer["output_shape"]),
            "macs": layer["macs"], "weight_bytes": layer["weight_bytes"],
            "kernel": c["kernel"] if c else None, "offset": None, "lifetime": None,
            "inplace": name in inplace, "scratch_bytes": None, "pruned": None,
            "sqnr_db": sqnr.get(name), "instructions": None, "fused_into": None,
        }
        if c is None and name in host:
            c = host[name]
            row["fused_into"] = row_of[c["node"]]
            row["kernel"] = f"{c['kernel']} (fused into #{row['fused_into']})"
            row["inplace"] = c["node"] in inplace
        if c is not None:
            buf = buffers.get(c["output"])
            if buf is not None:
                row["offset"] = buf["offset"]
                row["lifetime"] = (buf["first"], buf["last"])
            else:
                row["offset"] = "caller"  # written straight into the caller's output
        if c is not None and row["fused_into"] is None:
            s = scratch.get(positions.get(name))
            row["scratch_bytes"] = s["bytes"] if s else 0
            row["instructions"] = measured.get(str(c["index"]), measured.get(c["index"]))
        p = pruned.get(name)
        if p is not None and p["out_channels"][0]:
            row["pruned"] = 1.0 - p["out_channels"][1] / p["out_channels"][0]
        rows.append(row)
    return rows


def memory_timeline(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """For every node of the C code (in order): the arena bytes live while it runs and
    the highest byte in use (the arena must reach it)."""
    memory = manifest.get("memory") or {}
    buffers = memory.get("buffers", [])
    of = {b["tensor"]: b.get("inplace_of") for b in buffers if b["tensor"] != "scratch"}

    def chain(b: dict[str, Any]) -> str | int:  # in-place buffers share their head's bytes
        name = b["tensor"]
        if name == "scratch":
            return b["node"]
        while of.get(name):
            name = of[name]
        return name

    points = []
    for i, name in enumerate(memory.get("nodes", [])):
        live = [b for b in buffers if b["first"] <= i <= b["last"]]
        blocks: dict[str | int, int] = {}
        for b in live:
            key = chain(b)
            blocks[key] = max(blocks.get(key, 0), b["bytes"])
        points.append({"position": i, "node": name, "live_bytes": sum(blocks.values()),
                       "extent": max((b["offset"] + b["bytes"] for b in live), default=0)})
    return points


def budget(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Flash and RAM against the board's (the linked image's figures)."""
    fit = manifest.get("fit")
    if not fit:
        return []
    return [{"what": what, "used": fit[f"{key}_bytes"], "limit": fit[f"{key}_limit"],
             "percent": 100.0 * fit[f"{key}_bytes"] / fit[f"{key}_limit"]}
            for what, key in (("flash", "flash"), ("RAM", "ram"))]


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def figures(manifest: dict[str, Any]) -> dict[str, bytes]:
    """The memory-timeline and per-layer cost plots (PNG), for a compile with C code."""
    timeline = memory_timeline(manifest)
    if not timeline:
        return {}
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    arena = manifest["memory"].get("plan_bytes", manifest["memory"]["arena_bytes"])
    fig = Figure(figsize=(8, 3.2))
    ax = fig.add_subplot()
    xs = [p["position"] for p in timeline]
    ax.bar(xs, [p["live_bytes"] for p in timeline], color="#4C72B0", label="live bytes")
    ax.step(xs, [p["extent"] for p in timeline], where="mid", color="#DD8452",
            label="highest byte in use")
    ax.axhline(arena, color="#C44E52", linestyle="--", label=f"arena {arena:,} B")
    ax.set_xlabel("layer (node index)")
    ax.set_ylabel("bytes")
    ax.set_title("Arena occupancy over layers")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, fontsize=8)
    fig.tight_layout()
    out = {"memory": _png(fig)}

    rows = [r for r in layer_rows(manifest)
            if r["kernel"] is not None and r["fused_into"] is None]
    fig = Figure(figsize=(8, 3.2))
    ax = fig.add_subplot()
    idx = [r["index"] for r in rows]
    measured = [r["instructions"] for r in rows]
    if all(m is not None for m in measured) and measured:
        ax.bar(idx, measured, color="#55A868", label="instructions (QEMU, --profile)")
        ax.set_ylabel("instructions")
        ax.set_title("Per-layer cost: measured instructions")
    else:
        ax.bar(idx, [r["macs"] for r in rows], color="#8172B2", label="MACs")
        ax.set_ylabel("MACs")
        ax.set_title("Per-layer cost: MACs (effc run --profile adds instructions)")
    ax.set_xlabel("layer")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    out["cost"] = _png(fig)
    return out


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    return env.get_template("report.html.j2")


def report_html(manifest: dict[str, Any], images: dict[str, bytes]) -> str:
    """report.html: one self-contained page (the figures as data: URLs)."""
    s = manifest["summary"]
    embedded = {k: "data:image/png;base64," + base64.b64encode(v).decode()
                for k, v in images.items()}
    check = manifest.get("verification") or {}
    return _template().render(
        name=manifest["name"], source=manifest["source"], quantize=manifest["quantize"],
        macs=s["macs"], params=s["params"], weight_bytes=s["weight_bytes"],
        board=manifest.get("board"), memory=manifest.get("memory"), rows=layer_rows(manifest),
        budget=budget(manifest), images=embedded, check=check,
        profile=manifest.get("profile"))


def report_files(manifest: dict[str, Any]) -> dict[str, bytes]:
    """report.html and the figures, by path inside OUTDIR."""
    images = figures(manifest)
    files = {FIGURES[k]: v for k, v in images.items()}
    files["report.html"] = report_html(manifest, images).encode()
    return files

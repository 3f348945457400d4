"""The RTL engines: the accelerator's Verilog simulated by Verilator or by Icarus.

The host runs the model's head (quantizing a float input) and tail (the int8
Softmax fallback, dequantizing) with the reference ops; the simulator runs every
accelerated layer, all samples in one process. Metrics: ``cycles`` per inference
(start to done, as the controller counts them), ``macs``, ``pe_utilization`` =
MACs / (cycles x lanes), per layer with ``--profile`` and for the whole model.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from effc.artifact import Artifact
from effc.engines import Engine, EngineResult, register_engine
from effc.errors import EffcError
from effc.ir import Graph
from effc.ops import get_op
from effc.reference.interpreter import Feeds, _is_integer_node, as_feeds, inference_count, inference_feeds
from effc.toolchain.rtlsim import simulate


def _rtl(artifact: Artifact) -> dict[str, Any]:
    info = artifact.manifest.get("rtl")
    if not info:
        raise EffcError(f"'{artifact.folder}' holds no RTL program; compile with --target rtl "
                        "--board NAME (an FPGA board, e.g. icebreaker)")
    return info


def _run_nodes(graph: Graph, names: list[str], values: dict[str, np.ndarray]) -> None:
    """Run the named nodes (in graph order) on ``values`` with the reference ops."""
    wanted = set(names)
    for node in graph.nodes:
        if node.name not in wanted:
            continue
        xs = [graph.const(n) if graph.const(n) is not None else values[n]
              for n in node.inputs if n]
        op = get_op(node.op_type, node)
        ys = op.run_int(node, graph, xs) if _is_integer_node(node, graph) else \
            op.run_float(node, graph, xs)
        values.update(zip(node.outputs, ys, strict=True))


def parse_cycles(text: str, samples: int) -> tuple[list[int], list[list[int]]]:
    totals = [0] * samples
    per: list[list[int]] = [[] for _ in range(samples)]
    for line in text.splitlines():
        parts = line.split()
        if parts[:1] == ["cycles"]:
            per[int(parts[1])].append(int(parts[3]))
        elif parts[:1] == ["total"]:
            totals[int(parts[1])] = int(parts[2])
    return totals, per


def _run(engine: str, artifact: Artifact, x: Feeds, profile: bool) -> EngineResult:
    info = _rtl(artifact)
    graph = artifact.graph
    feeds = as_feeds(graph, x)
    count = inference_count(graph, feeds)
    src = artifact.folder / info["folder"]
    ins, outs = info["input"], info["output"]
    head_vals = []
    for i in range(count):
        values = dict(inference_feeds(graph, feeds, i))
        _run_nodes(graph, info["head"], values)
        head_vals.append(np.asarray(values[ins["name"]], np.int8).reshape(-1))
    with tempfile.TemporaryDirectory(prefix="effc-rtl-") as tmp:
        folder = Path(tmp)
        data = np.concatenate(head_vals)
        if engine == "verilator":
            data.tofile(folder / "in.bin")
        else:
            (folder / "in.bin").write_text("".join(f"{b:02x}\n" for b in data.view(np.uint8)))
        text = simulate(engine, src, artifact.folder / info["program"], folder / "in.bin",
                        folder / "out.bin", count, ins["addr"], ins["size"], outs["addr"],
                        outs["size"], info["params"])
        if engine == "verilator":
            raw = np.fromfile(folder / "out.bin", np.int8)
        else:
            raw = np.array([int(v, 16) for v in (folder / "out.bin").read_text().split()],
                           np.uint8).view(np.int8)
    raw = raw.reshape(count, -1)
    results: dict[str, list[np.ndarray]] = {n: [] for n in graph.outputs}
    for i in range(count):
        values = dict(inference_feeds(graph, feeds, i))
        values[outs["name"]] = raw[i].reshape(outs["shape"])
        _run_nodes(graph, info["tail"], values)
        for name in graph.outputs:
            results[name].append(values[name])
    totals, per = parse_cycles(text, count)
    lanes = info["lanes"]
    macs = int(artifact.manifest["summary"]["macs"])
    cycles = totals[0] if totals else 0
    metrics: dict[str, Any] = {
        "inferences": count, "cycles": cycles, "macs": macs, "lanes": lanes,
        "pe_utilization": round(macs / (cycles * lanes), 4) if cycles else 0.0,
        "cycles_all_samples": totals, "predicted_cycles": info["predicted_cycles"]}
    if profile and per:
        layers = []
        for desc, measured in zip(info["descriptors"], per[0], strict=False):
            layers.append(desc | {"cycles": measured,
                                  "pe_utilization": round(desc["macs"] / (measured * lanes), 4)})
        metrics["layers"] = layers
    return EngineResult({n: np.concatenate(v, axis=0) for n, v in results.items()}, engine,
                        metrics)


register_engine(Engine("verilator", lambda a, x, p: _run("verilator", a, x, p),
                       label="verilator simulation"))
register_engine(Engine("icarus", lambda a, x, p: _run("icarus", a, x, p),
                       label="icarus simulation"))

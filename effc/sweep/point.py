"""One sweep point: compile, the accuracy of the integer reference on the labelled data,
and the measurements of the point's engine (QEMU, Verilator) on its first samples.

``run_point`` runs in a worker (a local process or a Ray task): it gets the model's bytes
and the arrays (``SweepInputs``, shipped once per worker) and returns the point's record,
a JSON-ready dict; a failure is a record too (``status`` "failed" and the error's line).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.errors import EffcError

#: Samples each point runs on its engine: the first is measured, all are compared
#: with the reference (the engine must agree bit for bit).
MEASURE_SAMPLES = 4


@dataclass
class SweepInputs:
    """What every point needs, shipped once to each worker."""

    model: bytes  # the .onnx file
    model_file: str  # its name, for the point's temporary copy
    calib: Any  # {input: array}, "random" or None
    x: dict[str, np.ndarray]  # the labelled data's samples, by model input
    labels: np.ndarray
    measure_samples: int = MEASURE_SAMPLES


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else ""
    return line if isinstance(exc, EffcError) else f"{type(exc).__name__}: {line}"


def _first(values: dict[str, np.ndarray]) -> np.ndarray:
    return next(iter(values.values()))


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Top-1: the argmax of each sample's scores against its label."""
    predicted = logits.reshape(len(labels), -1).argmax(axis=1)
    return float(np.mean(predicted == labels))


def _measure(compiled: CompiledModel, x: dict[str, np.ndarray],
             reference: dict[str, np.ndarray], samples: int) -> dict[str, Any]:
    """Instructions, cycles, flash and RAM of the point's engine on the first samples."""
    m = compiled.manifest
    target = m.get("target")
    engine = {"c": "qemu" if "firmware" in m else None, "rtl": "verilator"}.get(target)
    record: dict[str, Any] = {"target": target, "engine": engine}
    if target == "c":
        fw = m.get("firmware", {})
        record |= {"flash_bytes": fw.get("flash_bytes"), "static_ram_bytes": fw.get("ram_bytes"),
                   "arena_bytes": m.get("memory", {}).get("arena_bytes")}
    if target == "hls":
        estimate = m["hls"].get("estimate", {})
        record |= {"cycles": estimate.get("latency_cycles"), "cycles_source": "HLS estimate"}
    if engine is None:
        return record
    count = min(samples, len(_first(x)))
    feeds = {k: v[:count] for k, v in x.items()}
    result = compiled.run(engine, feeds)
    got = result.values
    differing = sum(int(np.count_nonzero(got[k] != reference[k][:count])) for k in got)
    record |= {"measured_samples": count, "differing_values": differing}
    metrics = result.metrics
    if engine == "qemu":
        record |= {"instructions": metrics["instructions"],
                   "cycles": metrics["cycles_estimate"],
                   "cycles_source": f"cycles_estimate ({metrics['cycle_model']['core']})",
                   "stack_bytes": metrics["stack_bytes"],
                   "ram_bytes": metrics["ram_bytes"] + (metrics["stack_bytes"] or 0)}
    else:
        record |= {"cycles": metrics["cycles"], "cycles_source": "verilator"}
    return record


def run_point(args: list[str], make_options: Callable[[list[str]], CompileOptions],
              inputs: SweepInputs) -> dict[str, Any]:
    """Compile the point ``args`` (``effc compile`` flags) and measure it: the record."""
    try:
        with tempfile.TemporaryDirectory(prefix="effc-sweep-") as tmp:
            model = Path(tmp) / inputs.model_file
            model.write_bytes(inputs.model)
            options = make_options(list(args))
            options.calib = inputs.calib
            compiled = compile_model(model, Path(tmp) / "out", options)
            m = compiled.manifest
            # A writable copy: arrays from Ray's object store are read-only.
            x = {k: np.array(v) for k, v in inputs.x.items()}
            reference = compiled.run("reference", x).values
            record: dict[str, Any] = {
                "status": "ok", "accuracy": accuracy(_first(reference), inputs.labels),
                "samples": len(inputs.labels), "macs": m["summary"]["macs"],
                "params": m["summary"]["params"]}
            if "pruning" in m:
                record["pruned_channels"] = m["pruning"]["channels"]["removed"]
            if "verification" in m and "differing_values" in m["verification"]:
                record["self_check_differing_values"] = m["verification"]["differing_values"]
            return record | _measure(compiled, x, reference, inputs.measure_samples)
    except Exception as exc:  # a failed point is a result, the sweep goes on
        return {"status": "failed", "error": _one_line(exc)}

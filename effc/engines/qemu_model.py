"""``effc run OUTDIR --engine qemu``: the compiled firmware under qemu-system-arm."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from effc.engines.native import entry_ports
from effc.engines.run import EngineResult
from effc.errors import EffcError
from effc.reference.interpreter import Feeds, as_feeds, inference_count, inference_feeds

if TYPE_CHECKING:
    from effc.compiler import CompiledModel

#: Wall-time allowance: QEMU with the counting plugin runs at least ~50 M guest
#: instructions per second here, and no effc kernel needs 40 instructions per MAC.
#: A hang therefore ends in a clear timeout error instead of waiting forever.
SECONDS_FIXED, SECONDS_PER_SAMPLE, INSTRUCTIONS_PER_MAC_BOUND, GUEST_IPS = 30.0, 1.0, 40, 50e6


def timeout_for(samples: int, macs: int) -> float:
    per_sample = SECONDS_PER_SAMPLE + macs * INSTRUCTIONS_PER_MAC_BOUND / GUEST_IPS
    return SECONDS_FIXED + samples * per_sample


def run_qemu_model(compiled: CompiledModel, x: Feeds, profile: bool = False
                   ) -> EngineResult:
    from effc.codegen.c.project import firmware
    from effc.engines.qemu import run_qemu
    from effc.firmware.boards import load_board
    from effc.outdir import OutDir

    manifest = compiled.manifest
    if "firmware" not in manifest:
        board = manifest.get("board")
        raise EffcError(f"'{compiled.folder}' has no firmware"
                        + (f" (board {board} has no QEMU model)" if board else "")
                        + "; compile with --board mps2-an386 (or another QEMU board)")
    board = load_board(manifest["board"])
    graph = compiled.graph
    feeds = as_feeds(graph, x)
    count = inference_count(graph, feeds)
    inputs, outputs = entry_ports(compiled)
    elf = compiled.folder / manifest["firmware"]["elf"]
    if profile:
        elf = firmware(board, OutDir.existing(compiled.folder), manifest["c"], profile=True).elf
    data = b"".join(pack(inputs, inference_feeds(graph, feeds, i)) for i in range(count))
    run = run_qemu(elf, board, data, packed_bytes(outputs), count=True, profile=profile,
                   timeout=timeout_for(count, manifest["summary"]["macs"]))
    values = unpack(outputs, run.outputs, run.samples)
    fw = manifest["firmware"]
    macs = manifest["summary"]["macs"]
    metrics = {
        "board": board.name,
        "instructions": run.instructions,
        "instructions_per_mac": round(run.instructions / macs, 4) if run.instructions and
        macs else None,
        "flash_bytes": fw["flash_bytes"],
        "ram_bytes": fw["ram_bytes"],
        "arena_bytes": manifest["memory"]["arena_bytes"],
        "arena_lower_bound_bytes": manifest["memory"]["lower_bound_bytes"],
        "stack_bytes": run.stack_bytes,
        "macs": macs,
    }
    if profile:
        metrics["per_layer_instructions"] = {
            str(k): v for k, v in sorted(run.per_layer_instructions.items())}
        macs = {layer["name"]: layer["macs"] for layer in manifest["summary"]["layers"]}
        names = {layer["index"]: layer for layer in manifest["c"]["layers"]}
        metrics["profile"] = [
            {"index": k, "op": names[k]["op"] if k in names else "(entry/exit)",
             "node": names[k]["node"] if k in names else "", "kernel":
             names[k]["kernel"] if k in names else "", "instructions": v,
             "macs": macs.get(names[k]["node"], 0) if k in names else 0}
            for k, v in sorted(run.per_layer_instructions.items())]
    metrics["inferences"] = run.samples
    return EngineResult(values, "qemu", metrics)


def packed_bytes(ports: list[dict[str, Any]]) -> int:
    """One inference's ports packed as the harness glue reads them (each 4-aligned)."""
    end = max(p.get("offset", 0) + int(np.prod(p["shape"])) * np.dtype(p["dtype"]).itemsize
              for p in ports)
    return -(-end // 4) * 4


def pack(ports: list[dict[str, Any]], feeds: dict[str, np.ndarray]) -> bytes:
    buf = bytearray(packed_bytes(ports))
    for p in ports:
        raw = np.ascontiguousarray(feeds[p["name"]], dtype=p["dtype"]).tobytes()
        buf[p.get("offset", 0):p.get("offset", 0) + len(raw)] = raw
    return bytes(buf)


def unpack(ports: list[dict[str, Any]], data: bytes, inferences: int) -> dict[str, np.ndarray]:
    """Each output's values of every inference, concatenated on axis 0."""
    step = packed_bytes(ports)
    values = {}
    for p in ports:
        size = int(np.prod(p["shape"])) * np.dtype(p["dtype"]).itemsize
        rows = [np.frombuffer(data[i * step + p.get("offset", 0):
                                   i * step + p.get("offset", 0) + size], dtype=p["dtype"])
                .reshape(p["shape"]) for i in range(inferences)]
        values[p["name"]] = np.concatenate(rows)
    return values

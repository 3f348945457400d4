"""A compiled OUTDIR as the engines and the driver read it: its manifest, graph and board.

``effc compile`` writes the folder (effc/compiler.py lists its layout);
``Artifact.open`` reads it back. Engines take an ``Artifact``; the driver's
``CompiledModel`` is one that can also run itself on an engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from effc.boards import Board, load_board, parse_board
from effc.errors import EffcError
from effc.ir import Graph
from effc.ir_io import load_graph

MANIFEST = "effc.json"
#: The board a model was compiled for, copied into OUTDIR (a user's board file too).
BOARD_FILE = "board.toml"


class Artifact:
    """A model compiled into ``folder`` (None for a model run before any compile:
    the reference engine needs only its graph)."""

    def __init__(self, folder: Path | None, graph: Graph, manifest: dict[str, Any]) -> None:
        self.folder = folder
        self.graph = graph
        self.manifest = manifest

    @classmethod
    def open(cls, folder: str | Path):  # -> the calling class (CompiledModel in the driver)
        folder = Path(folder)
        if not (folder / MANIFEST).is_file():
            raise EffcError(f"'{folder}' is not a compiled model folder (no {MANIFEST}); run "
                            "'effc compile MODEL -o OUTDIR' first")
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
        except (OSError, ValueError):
            manifest = None
        if not isinstance(manifest, dict) or not {"name", "summary"} <= manifest.keys():
            raise EffcError(f"'{folder / MANIFEST}' is corrupt (not an effc manifest); run "
                            "'effc compile MODEL -o OUTDIR' again")
        return cls(folder, load_graph(folder / "ir"), manifest)

    def board(self) -> Board:
        """The board the model was compiled for: OUTDIR's copy of its file (an OUTDIR of
        an earlier effc names a packaged board)."""
        if self.folder is not None and (self.folder / BOARD_FILE).is_file():
            return parse_board(self.folder / BOARD_FILE)
        return load_board(self.manifest["board"])


def section(artifact: Artifact, key: str, what: str, fix: str) -> dict[str, Any]:
    """The manifest's section ``key`` (a target's), or the one-line error naming ``what``
    the folder lacks and the compile that ``fix``-es it."""
    info = artifact.manifest.get(key)
    if not info:
        raise EffcError(f"'{artifact.folder}' holds no {what}; {fix}")
    return info


def c_library(artifact: Artifact) -> dict[str, Any]:
    """The manifest's "c" section: the generated library (one-line error without it)."""
    return section(artifact, "c", "C code", "compile with --board NAME (e.g. --board "
                   "mps2-an386)")


def entry_ports(artifact: Artifact) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The entry point's inputs and outputs (manifest "c": name, dtype, shape)."""
    info = c_library(artifact)
    if "inputs" in info:
        return info["inputs"], info["outputs"]
    graph = artifact.graph  # a manifest of an earlier effc: one input, one output

    def port(name: str) -> dict[str, Any]:
        t = graph.tensors[name]
        return {"name": name, "dtype": t.dtype, "shape": list(t.shape)}

    return [port(graph.inputs[0])], [port(graph.outputs[0])]


def packed_bytes(ports: list[dict[str, Any]]) -> int:
    """One inference's ports packed as the harness glue reads them (each 4-aligned)."""
    end = max(p.get("offset", 0) + int(np.prod(p["shape"])) * np.dtype(p["dtype"]).itemsize
              for p in ports)
    return -(-end // 4) * 4


def pack(ports: list[dict[str, Any]], feeds: dict[str, np.ndarray]) -> bytes:
    """One inference's values of ``ports``, packed as the harness glue reads them."""
    buf = bytearray(packed_bytes(ports))
    for p in ports:
        raw = np.ascontiguousarray(feeds[p["name"]], dtype=p["dtype"]).tobytes()
        buf[p.get("offset", 0):p.get("offset", 0) + len(raw)] = raw
    return bytes(buf)


def unpack(ports: list[dict[str, Any]], data: bytes, inferences: int) -> dict[str, np.ndarray]:
    """Each port's values of every inference in ``data``, concatenated on axis 0 (the
    engines that run the firmware: qemu, board)."""
    step = packed_bytes(ports)
    values = {}
    for p in ports:
        size = int(np.prod(p["shape"])) * np.dtype(p["dtype"]).itemsize
        rows = [np.frombuffer(data[i * step + p.get("offset", 0):
                                   i * step + p.get("offset", 0) + size], dtype=p["dtype"])
                .reshape(p["shape"]) for i in range(inferences)]
        values[p["name"]] = np.concatenate(rows)
    return values

"""``--engine hls``: the HLS project's C simulation, built with g++ and run on N samples.

The build (effc/toolchain/hls.py) is cached by content, so a model compiles
once; all samples then run in one process through the project's own
testbench. The engine reads only the manifest's ``hls`` section: the ports
(int8 core values; a float interface is quantized on the way in and
dequantized on the way out with effc's exact TFLite helpers, as the
reference's boundary nodes do).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from effc.artifact import Artifact, section
from effc.engines import Engine, EngineResult, register_engine
from effc.quant.int8 import dequantize, quantize
from effc.reference.interpreter import Feeds, as_feeds, inference_count
from effc.toolchain.hls import csim_binary, run_csim


def hls_project(artifact: Artifact) -> dict[str, Any]:
    """The manifest's "hls" section (one-line error without it)."""
    return section(artifact, "hls", "HLS project", "compile with --target hls --board NAME "
                   "(an FPGA board, see 'effc boards')")


def run_hls(artifact: Artifact, x: Feeds, profile: bool = False) -> EngineResult:
    info = hls_project(artifact)
    graph = artifact.graph
    feeds = as_feeds(graph, x)
    count = inference_count(graph, feeds)
    chunks = []
    for port in info["inputs"]:
        value = feeds[port["name"]]
        if port["converted"]:
            value = quantize(value, port["scale"], port["zero_point"])
        chunks.append(np.ascontiguousarray(value, np.int8).reshape(count, -1))
    data = np.concatenate(chunks, axis=1).tobytes()
    assert artifact.folder is not None
    folder = artifact.folder / info["folder"]
    binary = csim_binary(folder, info["name"], info["sources"], info["cxxflags"])
    sizes = [int(np.prod(p["shape"])) for p in info["outputs"]]
    raw = np.frombuffer(run_csim(binary, data, count * sum(sizes)), np.int8).reshape(count, -1)
    values, start = {}, 0
    for port, size in zip(info["outputs"], sizes, strict=True):
        q = raw[:, start:start + size].reshape(count * port["shape"][0], *port["shape"][1:])
        start += size
        values[port["name"]] = (dequantize(q, port["scale"], port["zero_point"])
                                if port["converted"] else q.copy())
    return EngineResult(values, "hls", {"inferences": count})


register_engine(Engine("hls", run_hls, label="HLS C simulation"))

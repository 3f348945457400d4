"""``--engine hls``: the HLS project's C simulation, built with g++ and run on N samples.

The build is cached by content (compiler, flags, every source of the project)
in effc's private build cache, so a model compiles once; all samples then run
in one process through the project's own testbench. The engine reads only the
manifest's ``hls`` section: the ports (int8 core values; a float interface is
quantized on the way in and dequantized on the way out with effc's exact
TFLite helpers, as the reference's boundary nodes do).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from effc.codegen.c.hostlib import _compiler_identity, cache_dir
from effc.engines.run import EngineResult
from effc.errors import EffcError
from effc.quant.int8 import dequantize, quantize
from effc.reference.interpreter import Feeds, as_feeds, inference_count

if TYPE_CHECKING:
    from effc.compiler import CompiledModel

CXX = "g++"
#: Seconds a C simulation may take before it counts as hung.
RUN_TIMEOUT = 600


def csim_binary(folder: Path, name: str, sources: list[str], flags: list[str]) -> Path:
    """Build (or find in the cache) the C simulation of the project in ``folder``."""
    if shutil.which(CXX) is None:
        raise EffcError(f"the HLS C simulation needs {CXX}, which is not installed; install "
                        "g++ (apt-get install g++)")
    digest = hashlib.sha256(_compiler_identity(CXX).encode())
    digest.update("\0".join(flags).encode())
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".h", ".cpp")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    target = cache_dir() / "hls-csim" / digest.hexdigest()[:32] / f"{name}_csim"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        built = Path(tmp) / target.name
        proc = subprocess.run([CXX, *flags, "-I.", "-o", str(built), *sources], cwd=folder,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            first = next((line for line in proc.stderr.splitlines() if "error" in line),
                         proc.stderr.strip()[:300])
            raise EffcError(f"the HLS C simulation of '{folder}' does not compile ({first}); "
                            "this is an effc bug: please report it with the model")
        os.replace(built, target)
    return target


def _info(compiled: CompiledModel) -> dict[str, Any]:
    info = compiled.manifest.get("hls")
    if not info:
        raise EffcError(f"'{compiled.folder}' holds no HLS project; compile with --target hls "
                        "--board NAME (an FPGA board, see 'effc boards')")
    return info


def run_csim(binary: Path, data: bytes, output_bytes: int) -> bytes:
    """Run the testbench on ``data`` (inferences one after the other); its outputs."""
    with tempfile.TemporaryDirectory(prefix="effc-hls-") as tmp:
        x, y = Path(tmp) / "input.bin", Path(tmp) / "output.bin"
        x.write_bytes(data)
        try:
            proc = subprocess.run([str(binary), str(x), str(y)], capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise EffcError(f"the HLS C simulation ran longer than {RUN_TIMEOUT} s; this is "
                            "an effc bug: please report it with the model") from None
        if proc.returncode != 0:
            why = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
            raise EffcError(f"the HLS C simulation stopped: {why}; this is an effc bug: please "
                            "report it with the model")
        out = y.read_bytes()
    if len(out) != output_bytes:
        raise EffcError(f"the HLS C simulation wrote {len(out)} bytes, expected {output_bytes}")
    return out


def run_hls(compiled: CompiledModel, x: Feeds, profile: bool = False) -> EngineResult:
    info = _info(compiled)
    graph = compiled.graph
    feeds = as_feeds(graph, x)
    count = inference_count(graph, feeds)
    chunks = []
    for port in info["inputs"]:
        value = feeds[port["name"]]
        if port["converted"]:
            value = quantize(value, port["scale"], port["zero_point"])
        chunks.append(np.ascontiguousarray(value, np.int8).reshape(count, -1))
    data = np.concatenate(chunks, axis=1).tobytes()
    folder = compiled.folder / info["folder"]
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

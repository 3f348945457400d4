"""Engines that run the generated C: ``host`` (cffi) and ``qemu`` (firmware).

Both feed the ONNX interface: a float model (or an int8 model with a float
interface) takes float32 samples, an int8-interface model takes int8.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import cffi
import numpy as np

from effc.codegen.c.hostlib import build_shared
from effc.engines.run import EngineResult
from effc.errors import EffcError
from effc.reference.interpreter import Feeds, as_feeds, inference_count, inference_feeds

if TYPE_CHECKING:
    from effc.compiler import CompiledModel

CTYPE = {"int8": "int8_t", "float32": "float", "int64": "int64_t",  # int64/int32: index
         "int32": "int32_t"}  # ports (ArgMax results, embedding token ids)


def _c_info(compiled: CompiledModel) -> dict[str, Any]:
    info = compiled.manifest.get("c")
    if not info:
        raise EffcError(f"'{compiled.folder}' holds no C code; compile with --board NAME "
                        "(e.g. --board mps2-an386)")
    return info


def build_host_library(compiled: CompiledModel, sanitize: bool = False) -> tuple[Path, str]:
    """Build (cached) the generated library for the host; returns (.so path, entry).

    ``sanitize`` builds with AddressSanitizer and UBSan: such a library must be
    loaded in a process that preloads the ASan runtime (see the tests). Host builds
    define EFFC_HOST_TRACE (the per-layer hook of ``trace_host``; firmware has none).
    """
    info = _c_info(compiled)
    folder = compiled.folder / info["folder"]
    entry = info["float_entry"] if info["float_entry"] else info["entry"]
    flags = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
             "-fno-omit-frame-pointer"] if sanitize else ["-O2"]
    flags += ["-Wall", "-Wextra", "-Werror", "-DEFFC_HOST_TRACE", f"-I{folder}"]
    sources = [folder / s for s in info["sources"]]
    so = build_shared(sources, flags, f"effc-{info['name']}{'-asan' if sanitize else ''}")
    return so, entry


def entry_ports(compiled: CompiledModel) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The entry point's inputs and outputs (manifest "c": name, dtype, shape)."""
    info = _c_info(compiled)
    if "inputs" in info:
        return info["inputs"], info["outputs"]
    graph = compiled.graph  # a manifest of an earlier effc: one input, one output

    def port(name: str) -> dict[str, Any]:
        t = graph.tensors[name]
        return {"name": name, "dtype": t.dtype, "shape": list(t.shape)}

    return [port(graph.inputs[0])], [port(graph.outputs[0])]


def host_library(compiled: CompiledModel) -> tuple[cffi.FFI, Any, str]:
    """Build (cached) and load the generated library; returns (ffi, lib, entry)."""
    so, entry = build_host_library(compiled)
    inputs, outputs = entry_ports(compiled)
    params = [f"const {CTYPE[p['dtype']]} *" for p in inputs]
    params += [f"{CTYPE[p['dtype']]} *" for p in outputs]
    ffi = cffi.FFI()
    ffi.cdef(f"int {entry}({', '.join(params)});")
    return ffi, ffi.dlopen(str(so)), entry


def _call(ffi: cffi.FFI, fn: Any, inputs: list[dict[str, Any]], outputs: list[dict[str, Any]],
          feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One inference through the entry point; its outputs by name."""
    ys = {p["name"]: np.zeros(p["shape"], dtype=p["dtype"]) for p in outputs}
    args = [ffi.cast(f"const {CTYPE[p['dtype']]} *", feeds[p["name"]].ctypes.data)
            for p in inputs]
    args += [ffi.cast(f"{CTYPE[p['dtype']]} *", ys[p["name"]].ctypes.data) for p in outputs]
    status = fn(*args)
    if status != 0:
        raise EffcError(f"the generated code refused layer {-status - 1}'s arguments "
                        f"(status {status}); please report this with the model")
    return ys


def run_host(compiled: CompiledModel, x: Feeds) -> EngineResult:
    """One call of the generated entry point per inference in ``x``; each output's
    results concatenated on axis 0."""
    graph = compiled.graph
    feeds = as_feeds(graph, x)
    count = inference_count(graph, feeds)
    inputs, outputs = entry_ports(compiled)
    ffi, lib, entry = host_library(compiled)
    results: dict[str, list[np.ndarray]] = {p["name"]: [] for p in outputs}
    try:
        for i in range(count):
            ys = _call(ffi, getattr(lib, entry), inputs, outputs,
                       inference_feeds(graph, feeds, i))
            for name, y in ys.items():
                results[name].append(y)
    finally:
        ffi.dlclose(lib)
    return EngineResult({name: np.concatenate(ys) for name, ys in results.items()}, "host",
                        {"inferences": count})


def trace_host(compiled: CompiledModel, feeds: dict[str, np.ndarray]
               ) -> list[tuple[int, bytes]]:
    """Run one inference (``feeds``: one input tensor each) and return every layer's
    output bytes, in call order, as (layer index, bytes) through the EFFC_HOST_TRACE
    hook."""
    inputs, outputs = entry_ports(compiled)
    ffi, lib, entry = host_library(compiled)
    name = f"{_c_info(compiled)['name']}_layer_trace"
    ffi.cdef(f"extern void (*{name})(int32_t, const void *, uint32_t);")
    seen: list[tuple[int, bytes]] = []

    def record(layer: int, output: Any, size: int) -> None:
        seen.append((int(layer), bytes(ffi.buffer(output, size))))

    hook = ffi.callback("void(int32_t, const void *, uint32_t)", record)
    try:
        setattr(lib, name, hook)
        _call(ffi, getattr(lib, entry), inputs, outputs, feeds)
    finally:
        setattr(lib, name, ffi.NULL)
        ffi.dlclose(lib)
    return seen


def run_native(compiled: CompiledModel, engine: str, x: Feeds,
               profile: bool = False) -> EngineResult:
    if engine == "host":
        return run_host(compiled, x)
    if engine == "qemu":
        from effc.engines.qemu_model import run_qemu_model

        return run_qemu_model(compiled, x, profile=profile)
    raise EffcError(f"unknown engine '{engine}'; choose reference, host or qemu")

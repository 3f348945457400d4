"""The host engine: the generated C library built for this machine (cffi).

It feeds the ONNX interface: a float model (or an int8 model with a float
interface) takes float32 samples, an int8-interface model takes int8.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cffi
import numpy as np

from effc.artifact import Artifact, c_library, entry_ports
from effc.engines import Engine, EngineResult, register_engine
from effc.errors import EffcError
from effc.reference.interpreter import Feeds, as_feeds, inference_count, inference_feeds
from effc.toolchain.host import build_shared

CTYPE = {"int8": "int8_t", "float32": "float", "int64": "int64_t",  # int64/int32: index
         "int32": "int32_t"}  # ports (ArgMax results, embedding token ids)
ARENA_ALIGN = 16  # <NAME>_ARENA_MIN_ALIGN


def build_host_library(compiled: Artifact, sanitize: bool = False) -> tuple[Path, str]:
    """Build (cached) the generated library for the host; returns (.so path, entry).

    ``sanitize`` builds with AddressSanitizer and UBSan: such a library must be
    loaded in a process that preloads the ASan runtime (see the tests). Host builds
    define EFFC_HOST_TRACE (the per-layer hook of ``trace_host``; firmware has none).
    """
    info = c_library(compiled)
    folder = compiled.folder / info["folder"]
    entry = info["float_entry"] if info["float_entry"] else info["entry"]
    flags = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
             "-fno-omit-frame-pointer"] if sanitize else ["-O2"]
    flags += ["-Wall", "-Wextra", "-Werror", "-DEFFC_HOST_TRACE", f"-I{folder}"]
    sources = [folder / s for s in info["sources"]]
    so = build_shared(sources, flags, f"effc-{info['name']}{'-asan' if sanitize else ''}")
    return so, entry


def host_library(compiled: Artifact) -> tuple[cffi.FFI, Any, Callable[..., int]]:
    """Build (cached) and load the generated library; returns (ffi, lib, entry) where
    ``entry(inputs..., outputs...)`` calls the entry point (with ``--arena user``, on a
    context bound to an arena of the header's size and alignment)."""
    so, entry = build_host_library(compiled)
    info = c_library(compiled)
    inputs, outputs = entry_ports(compiled)
    context = info.get("context")
    params = [f"{context} *"] if context else []
    params += [f"const {CTYPE[p['dtype']]} *" for p in inputs]
    params += [f"{CTYPE[p['dtype']]} *" for p in outputs]
    ffi = cffi.FFI()
    if context:  # the struct as <name>.h declares it
        ffi.cdef(f"typedef struct {{ uint8_t *arena; }} {context};\n"
                 f"int {info['init']}({context} *ctx, void *arena, uint32_t arena_bytes);")
    ffi.cdef(f"int {entry}({', '.join(params)});")
    lib = ffi.dlopen(str(so))
    fn = getattr(lib, entry)
    if not context:
        return ffi, lib, fn
    size = max(int(compiled.manifest["memory"]["arena_bytes"]), 1)
    block = ffi.new("uint8_t[]", size + ARENA_ALIGN)
    start = -int(ffi.cast("uintptr_t", block)) % ARENA_ALIGN
    ctx = ffi.new(f"{context} *")
    if getattr(lib, info["init"])(ctx, block + start, size) != 0:
        raise EffcError(f"{info['init']} refused an arena of {size} bytes aligned to "
                        f"{ARENA_ALIGN}; this is an effc bug: please report it")

    def call(*args: Any) -> int:
        _ = block  # the arena lives as long as the entry point
        return int(fn(ctx, *args))

    return ffi, lib, call


def _call(ffi: cffi.FFI, fn: Callable[..., int], inputs: list[dict[str, Any]], outputs: list[dict[str, Any]],
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


def run_host(compiled: Artifact, x: Feeds, profile: bool = False) -> EngineResult:
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
            ys = _call(ffi, entry, inputs, outputs,
                       inference_feeds(graph, feeds, i))
            for name, y in ys.items():
                results[name].append(y)
    finally:
        ffi.dlclose(lib)
    return EngineResult({name: np.concatenate(ys) for name, ys in results.items()}, "host",
                        {"inferences": count})


def trace_host(compiled: Artifact, feeds: dict[str, np.ndarray]
               ) -> list[tuple[int, bytes]]:
    """Run one inference (``feeds``: one input tensor each) and return every layer's
    output bytes, in call order, as (layer index, bytes) through the EFFC_HOST_TRACE
    hook."""
    inputs, outputs = entry_ports(compiled)
    ffi, lib, entry = host_library(compiled)
    name = f"{c_library(compiled)['name']}_layer_trace"
    ffi.cdef(f"extern void (*{name})(int32_t, const void *, uint32_t);")
    seen: list[tuple[int, bytes]] = []

    def record(layer: int, output: Any, size: int) -> None:
        seen.append((int(layer), bytes(ffi.buffer(output, size))))

    hook = ffi.callback("void(int32_t, const void *, uint32_t)", record)
    try:
        setattr(lib, name, hook)
        _call(ffi, entry, inputs, outputs, feeds)
    finally:
        setattr(lib, name, ffi.NULL)
        ffi.dlclose(lib)
    return seen


register_engine(Engine("host", run_host, trace=trace_host, label="host build"))

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
from effc.reference.interpreter import check_input as check_graph_input

if TYPE_CHECKING:
    from effc.compiler import CompiledModel

CTYPE = {"int8": "int8_t", "float32": "float"}


def _c_info(compiled: CompiledModel) -> dict[str, Any]:
    info = compiled.manifest.get("c")
    if not info:
        raise EffcError(f"'{compiled.folder}' holds no C code; compile with --board NAME "
                        "(e.g. --board mps2-an386)")
    return info


def check_input(compiled: CompiledModel, x: np.ndarray) -> np.ndarray:
    """Validate ``x`` against the model interface; returns [N, *input_shape[1:]] where N
    is a multiple of the input's leading dimension (one inference per such slice)."""
    graph = compiled.graph
    x = check_graph_input(graph, graph.inputs[0], x)
    batch = graph.tensors[graph.inputs[0]].shape[0]
    if x.shape[0] % batch:
        shape = graph.tensors[graph.inputs[0]].shape
        raise EffcError(f"input has {x.shape[0]} rows; the model takes {list(shape)} per "
                        f"inference, so give a multiple of {batch} rows")
    return x


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


def host_library(compiled: CompiledModel) -> tuple[cffi.FFI, Any, str]:
    """Build (cached) and load the generated library; returns (ffi, lib, entry)."""
    so, entry = build_host_library(compiled)
    graph = compiled.graph
    ffi = cffi.FFI()
    ctype = CTYPE[graph.tensors[graph.inputs[0]].dtype]
    ffi.cdef(f"int {entry}(const {ctype} *in, {ctype} *out);")
    return ffi, ffi.dlopen(str(so)), entry


def run_host(compiled: CompiledModel, x: np.ndarray) -> EngineResult:
    """One call of the generated entry point per ``input_shape[0]`` rows of ``x``; the
    outputs (each of the full output shape) are concatenated on axis 0."""
    x = check_input(compiled, x)
    graph = compiled.graph
    tin, out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    ffi, lib, entry = host_library(compiled)
    fn = getattr(lib, entry)
    ctype = CTYPE[tin.dtype]
    results = [np.zeros((0, *out.shape[1:]), dtype=out.dtype)]
    try:
        for i in range(0, x.shape[0], tin.shape[0]):
            sample = np.ascontiguousarray(x[i:i + tin.shape[0]])
            y = np.zeros(out.shape, dtype=out.dtype)
            status = fn(ffi.cast(f"const {ctype} *", sample.ctypes.data),
                        ffi.cast(f"{CTYPE[out.dtype]} *", y.ctypes.data))
            if status != 0:
                raise EffcError(f"the generated code refused layer {-status - 1}'s arguments "
                                f"(status {status}); please report this with the model")
            results.append(y)
    finally:
        ffi.dlclose(lib)
    return EngineResult(np.concatenate(results), "host")


def trace_host(compiled: CompiledModel, x: np.ndarray) -> list[tuple[int, bytes]]:
    """Run one inference (``x`` = one input tensor) and return every layer's output
    bytes, in call order, as (layer index, bytes) through the EFFC_HOST_TRACE hook."""
    x = check_input(compiled, x)
    graph = compiled.graph
    tin, out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    ffi, lib, entry = host_library(compiled)
    name = f"{_c_info(compiled)['name']}_layer_trace"
    ffi.cdef(f"extern void (*{name})(int32_t, const void *, uint32_t);")
    seen: list[tuple[int, bytes]] = []

    def record(layer: int, output: Any, size: int) -> None:
        seen.append((int(layer), bytes(ffi.buffer(output, size))))

    hook = ffi.callback("void(int32_t, const void *, uint32_t)", record)
    sample = np.ascontiguousarray(x[:tin.shape[0]])
    y = np.zeros(out.shape, dtype=out.dtype)
    try:
        setattr(lib, name, hook)
        getattr(lib, entry)(ffi.cast(f"const {CTYPE[tin.dtype]} *", sample.ctypes.data),
                            ffi.cast(f"{CTYPE[out.dtype]} *", y.ctypes.data))
    finally:
        setattr(lib, name, ffi.NULL)
        ffi.dlclose(lib)
    return seen


def run_native(compiled: CompiledModel, engine: str, x: np.ndarray,
               profile: bool = False) -> EngineResult:
    if engine == "host":
        return run_host(compiled, x)
    if engine == "qemu":
        from effc.engines.qemu_model import run_qemu_model

        return run_qemu_model(compiled, check_input(compiled, x), profile=profile)
    raise EffcError(f"unknown engine '{engine}'; choose reference, host or qemu")

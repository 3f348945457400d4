"""The C backend: IR -> a self-contained C99 library (+ firmware for QEMU boards).

Writes into OUTDIR/c/:
  <name>.h, <name>.c   the model: const weights in flash, one static arena,
                       ``<name>_run`` (and ``<name>_run_float`` for a float
                       interface around an int8 model)
  effc_*.c, effc_*.h   the runtime kernels, copied from effc/runtime_c/
  Makefile, CMakeLists.txt
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from effc.codegen import CoreSplit, Port, split_core
from effc.codegen.c.dispatch import node_call
from effc.codegen.c.kernel_set import (
    firmware_cflags,
    firmware_source_cflags,
    library_definitions,
)
from effc.codegen.c.kernels import Call
from effc.codegen.c.layouts import (
    WIDE2,
    CTarget,
    choose_layouts,
    layer_records,
    rq_shift,
    wide_filter,
)
from effc.codegen.c.residual import fuse_residual_adds
from effc.codegen.c.scratch import scratch_bytes
from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.names import Namer, comment_text
from effc.passes.memory import MemoryPlan, plan_memory
from effc.toolchain.host import RUNTIME_DIR, cache_dir
from effc.version import __version__

TEMPLATES = Path(__file__).resolve().parent / "templates"
CTYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "float32": "float",
          "int64": "int64_t"}


def c_float(value: float, what: str = "a float parameter") -> str:
    """A float as a C constant: ``INFINITY`` (math.h) where an op defines an
    infinite bound (Clip to +-inf); NaN is refused in one line."""
    value = float(value)
    if math.isnan(value):
        raise EffcError(f"{what} is NaN, which has no meaning in generated code; fix the "
                        "model's constants")
    if math.isinf(value):
        return "INFINITY" if value > 0 else "(-INFINITY)"
    return f"{value:.9e}f"


def _c_array(values: np.ndarray, what: str) -> str:
    flat = values.reshape(-1)
    if flat.dtype == np.float32:
        if not np.isfinite(flat).all():
            bad = flat[~np.isfinite(flat)][0]
            raise EffcError(f"{what} holds {bad} (a BatchNormalization with variance 0 and "
                            "epsilon 0, or a corrupt weight); fix the model's constants")
        return ", ".join(f"{v:.9e}f" for v in flat.tolist())
    return ", ".join(str(int(v)) for v in flat.tolist())


class _Arrays:
    """Constant arrays (weights, biases, per-channel multipliers, tables).

    Keyed by ``("tensor", name)`` for a graph constant and by
    ``(field, layer index)`` for a layer's own parameters, so no model name can
    alias another array; symbols come from the one ``Namer`` of the file.
    """

    def __init__(self, namer: Namer) -> None:
        self.items: list[dict[str, Any]] = []
        self.by_key: dict[tuple[str, str | int], str] = {}
        self.namer = namer

    def add(self, key: tuple[str, str | int], values: np.ndarray, ctype: str) -> str:
        if key in self.by_key:
            return self.by_key[key]
        hint = key[1] if key[0] == "tensor" else f"{key[0]}_{key[1]}"
        symbol = self.namer.unique(str(hint), prefix="k_")
        self.items.append({"symbol": symbol, "ctype": ctype, "count": max(1, values.size),
                           "init": _c_array(values, f"constant '{key[1]}'" if key[0] ==
                                            "tensor" else f"layer {key[1]}'s {key[0]}")
                           if values.size else "0"})
        self.by_key[key] = symbol
        return symbol

    def flash_bytes(self) -> int:
        size = {"int8_t": 1, "int16_t": 2, "int32_t": 4, "float": 4, "int64_t": 8}
        return sum(size[a["ctype"]] * a["count"] for a in self.items)


def _pointers(graph: Graph, index: int, node: Node, call: Call, plan: MemoryPlan,
              split: CoreSplit, arrays: _Arrays) -> dict[str, Any]:
    def ptr(name: str, const: bool) -> str:
        tensor = graph.tensors[name]
        ctype = CTYPES[tensor.dtype]
        if tensor.is_constant:
            return arrays.add(("tensor", name), tensor.data, ctype)
        root = plan.root(name)
        qual = "const " if const else ""
        port = split.port_of(root)
        if port is not None:
            return f"({qual}{ctype} *){port.param}"
        return f"({qual}{ctype} *)(arena + {plan.offsets[root]})"

    p: dict[str, Any] = {"output": ptr(call.outputs[0], False),
                         "outputs": [ptr(n, False) for n in call.outputs]}
    if call.macro in PREPARED:
        return p | _prepared(graph, index, call, arrays, ptr)
    if call.macro == "conv_add_s8":  # residual.py: the conv's pointers and the shortcut
        return p | _prepared(graph, index, call, arrays, ptr) | {
            "shortcut": ptr(call.inputs[1], True)}
    if call.macro.startswith(("lstm", "gru", "rnn")):  # every input in the node's order
        p["args"] = [ptr(n, True) if n else "0" for n in node.inputs]
    # Two-operand ops keep operand order, constants included.
    operands = node.inputs[:2] if call.macro.startswith(ORDERED) else call.inputs
    if operands:
        p["input"] = ptr(operands[0], True)
    if len(operands) > 1:
        p["input2"] = ptr(operands[1], True)
    p["inputs"] = [ptr(n, True) for n in call.inputs]
    f = call.fields
    if call.weights and call.macro not in ("binary_s8", "binary_f32"):
        p["weight"] = ptr(call.weights[0], True)
        p["bias"] = ptr(f["bias"], True) if f.get("bias") else "0"
    if "transformed" in f:  # Winograd: the weights in the kernel's layout (kernels.py)
        u = f["transformed"]
        p["weight"] = arrays.add(("winograd", index), u, CTYPES[str(u.dtype)])
        p["bias"] = ptr(f["bias"], True) if f.get("bias") else "0"
    if isinstance(f.get("multiplier"), list) and f.get("per_channel", True):
        p["multiplier"] = arrays.add(("multiplier", index),
                                     np.asarray(f["multiplier"], np.int32), "int32_t")
        p["shift"] = arrays.add(("shift", index), np.asarray(f["shift"], np.int32),
                                "int32_t")
    if call.macro == "lut_s8":
        p["table"] = arrays.add(("lut", index), np.asarray(f["table"], np.int8), "int8_t")
    if call.macro == "unary_f32":
        p["function"] = UNARY_F32[f["kind"]]
    p["tables"] = {key: arrays.add((f"table_{key}", index), values, ctype)
                   for key, (values, ctype) in call.tables.items()}
    return p


#: Kernels whose operands are passed in the node's order, constants included.
ORDERED = ("binary", "matmul", "select_binary")


PREPARED = ("conv_s8", "grouped_conv_s8", "dw_conv_s8", "dense_s8")


def _prepared(graph: Graph, index: int, call: Call, arrays: _Arrays,
              ptr: Callable[[str, bool], str]) -> dict[str, Any]:
    """Pointers of an int8 MAC layer: its prepared requantization records (with
    the int8 weights) or its wide weight layout (records inside)."""
    f = call.fields
    records = layer_records(call, graph.tensors)
    p = {"input": ptr(call.inputs[0], True), "inputs": [ptr(call.inputs[0], True)],
         "bias": "0", "multiplier": "0", "shift": "0"}
    layout = f.get("layout", 0)
    if layout:
        weights = graph.tensors[call.weights[0]].data
        p["weight"] = arrays.add(("wide", index), wide_filter(
            layout, weights, records, f["input_zero_point"], f["output_zero_point"],
            f.get("rq_shift", 0)), "int32_t")
        p["channels"] = "0"
    else:
        p["weight"] = ptr(call.weights[0], True)
        p["channels"] = "(const effc_channel_rq *)" + arrays.add(("rq", index), records,
                                                                 "int32_t")
    return p


UNARY_F32 = {"Relu": "effc_relu_f32", "Clip": "effc_clip_f32", "Sigmoid": "effc_sigmoid_f32",
             "Tanh": "effc_tanh_f32", "LeakyRelu": "effc_leaky_relu_f32",
             "HardSigmoid": "effc_hard_sigmoid_f32", "HardSwish": "effc_hard_swish_f32",
             "Selu": "effc_selu_f32", "Elu": "effc_elu_f32", "Softplus": "effc_softplus_f32",
             "Softsign": "effc_softsign_f32", "Neg": "effc_neg_f32", "Abs": "effc_abs_f32",
             "Exp": "effc_exp_f32"}


@functools.cache
def _environment() -> jinja2.Environment:
    """The templates' environment, made once (it caches the compiled templates in
    memory, and their bytecode in effc's build cache for the next process: jinja2
    checks each template's source before it uses the bytecode)."""
    folder = cache_dir() / "jinja2"
    folder.mkdir(mode=0o700, exist_ok=True)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True,
                             bytecode_cache=jinja2.FileSystemBytecodeCache(str(folder)))
    env.filters["cfloat"] = c_float
    return env


ALIGN_PORT = 4  # bytes: each packed port starts float-aligned (the harness, the engines)


def _interface(graph: Graph, ports: list[Port], wrapper: bool) -> list[dict[str, Any]]:
    """The ports as the harness and the engines see them: the float interface
    when there is a wrapper, else the core; packed one after the other."""
    layout, offset = [], 0
    for port in ports:
        outer = graph.tensors[port.name if wrapper else port.core]
        core = graph.tensors[port.core]
        quant = core.quant if core.dtype == "int8" else None
        layout.append({"name": port.name, "param": port.param, "dtype": outer.dtype,
                       "core_dtype": core.dtype, "shape": list(outer.shape),
                       "size": outer.size, "offset": offset, "bytes": outer.nbytes,
                       "scale": float(quant.scale) if quant is not None else None,
                       "zero_point": int(quant.zero_point) if quant is not None else None})
        offset += -(-outer.nbytes // ALIGN_PORT) * ALIGN_PORT
    return layout


def _signature(graph: Graph, split: CoreSplit, outer: bool, context: str | None) -> str:
    """The entry point's parameters: the context (``--arena user``), then the ports."""
    def param(port: Port, const: bool) -> str:
        tensor = graph.tensors[port.name if outer else port.core]
        return f"{'const ' if const else ''}{CTYPES[tensor.dtype]} *{port.param}"

    return ", ".join([*([f"{context} *ctx"] if context else []),
                      *(param(p, True) for p in split.inputs),
                      *(param(p, False) for p in split.outputs)])


def _float_wrapper(graph: Graph, split: CoreSplit, arena: int, context: str | None
                   ) -> tuple[dict[str, Any], int]:
    """``<name>_run_float``: int8 buffers after the arena for every converted port,
    the conversions and the call of ``<name>_run``."""
    buffers: list[dict[str, Any]] = []
    before: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    args = ["ctx"] if context else []
    for port in split.inputs + split.outputs:
        core = graph.tensors[port.core]
        if not port.converted:
            args.append(port.param)
            continue
        local = f"{port.param}_q"
        buffers.append({"name": local, "offset": arena})
        arena += -(-core.nbytes // 16) * 16
        args.append(local)
        q = core.quant
        conversion = {"scale": float(q.scale), "zero_point": int(q.zero_point),
                      "count": core.size, "local": local, "param": port.param}
        (before if port in split.inputs else after).append(conversion)
    return {"signature": _signature(graph, split, True, context), "buffers": buffers,
            "quantize": before, "dequantize": after, "args": ", ".join(args)}, arena


ARENA_MODES = ("static", "user")


def layer_calls(graph: Graph) -> list[Call]:
    """The model's kernel calls before layouts and fusion, one per core node: their
    positions are CTarget.widen's."""
    return [node_call(graph, n) for n in split_core(graph).nodes]


def generate_c(graph: Graph, name: str, target: CTarget | None = None,
               arena_mode: str = "static") -> tuple[dict[str, bytes], dict[str, Any]]:
    """The C library for ``graph``: its files (name -> content) and manifest facts.

    ``target`` (the board's core, flash and --optimize) picks the weight layouts.
    ``arena_mode`` "static": one static arena, ``<name>_run(ports...)``; "user": the
    caller's arena bound to a ``<name>_ctx`` by ``<name>_init``, ``<name>_run(ctx,
    ports...)`` (reentrant across contexts)."""
    if arena_mode not in ARENA_MODES:
        raise EffcError(f"unknown arena mode '{arena_mode}'; choose static or user")
    ctx_type = f"{name}_ctx" if arena_mode == "user" else None
    split = split_core(graph)
    external = {p.core for p in split.inputs + split.outputs}
    core = Graph(graph.name, split.nodes, graph.tensors, [p.core for p in split.inputs],
                 [p.core for p in split.outputs])
    # Keyed by position: model strings (node names) are never keys.
    calls = layer_calls(graph)
    widened = choose_layouts(calls, target, graph.tensors,
                             sum(t.nbytes for t in graph.tensors.values() if t.is_constant))
    shift = rq_shift(calls, graph.tensors, target)
    for call in calls:  # the WIDE2 records' form (kernel_set.rq_shift_defines passes K)
        if call.fields.get("layout") == WIDE2:
            call.fields["rq_shift"] = shift
    for call in calls:
        call.scratch = scratch_bytes(call)
    nodes, calls = fuse_residual_adds(core, external, split.nodes, calls)
    core = Graph(graph.name, nodes, graph.tensors, core.inputs, core.outputs)
    position = {id(n): i for i, n in enumerate(nodes)}
    plan = plan_memory(core, external, lambda n: calls[position[id(n)]].scratch,
                       lambda n: calls[position[id(n)]].inplace)
    skipped = {i for i, node in enumerate(nodes)  # an aliased Reshape needs no code
               if node.op_type == "Reshape"
               and plan.root(node.outputs[0]) == plan.root(node.inputs[0])}
    arena = plan.arena_bytes
    wrapper = None
    if split.float_wrapper:
        wrapper, arena = _float_wrapper(graph, split, arena, ctx_type)
    arrays = _Arrays(Namer({f"{name}_run", f"{name}_run_float", f"{name}_value_t", name,
                            f"{name}_ctx", f"{name}_init", f"{name}_arena"}))
    layers = []
    emitted = []
    for i, node in enumerate(nodes):
        if i in skipped:
            continue
        call = calls[i]
        emitted.append(node)
        index = len(layers)
        layers.append({"index": index, "op": node.op_type, "node": comment_text(node.name),
                       "macro": call.macro, "fields": call.fields,
                       "ptr": _pointers(graph, index, node, call, plan, split, arrays),
                       "scratch_size": call.scratch,
                       "fused": call.fused,
                       "output_bytes": graph.tensors[call.outputs[0]].nbytes,
                       "scratch_offset": plan.scratch_offsets.get(i, 0)})
    inputs = _interface(graph, split.inputs, split.float_wrapper)
    outputs = _interface(graph, split.outputs, split.float_wrapper)
    core_ports = _interface(graph, split.inputs + split.outputs, False)
    from effc.summary import summarize

    summary = summarize(graph)
    # The values the core computes on: int8 when any port is int8 (index ports, such as
    # an embedding's token ids or ArgMax's result, say nothing about it).
    port_dtypes = [graph.tensors[p.core].dtype for p in split.inputs + split.outputs]
    core_dtype = "int8" if "int8" in port_dtypes else next(
        (d for d in port_dtypes if d == "float32"), port_dtypes[0])
    context = {
        "name": name, "NAME": name.upper(), "version": __version__,
        "source": comment_text(graph.name),
        "summary": f"{summary['macs']} MACs, {summary['params']} parameters",
        "arena_bytes": arena, "lower_bound_bytes": plan.lower_bound_bytes,
        "macs": summary["macs"], "signature": _signature(graph, split, False, ctx_type),
        "user_arena": ctx_type is not None,
        "params": [p.param for p in split.inputs + split.outputs],
        "core_inputs": core_ports[:len(split.inputs)],
        "core_outputs": core_ports[len(split.inputs):],
        "value_type": CTYPES[core_dtype],
        "float_wrapper": wrapper, "layers": layers, "arrays": arrays.items,
        "uses_scratch": any(layer["scratch_size"] for layer in layers),
    }
    env = _environment()
    files = {f"{name}.h": env.get_template("model.h.j2").render(**context).encode(),
             f"{name}.c": env.get_template("model.c.j2").render(**context).encode()}
    runtime = sorted(p.name for p in RUNTIME_DIR.iterdir() if p.suffix in (".c", ".h"))
    files |= {file: (RUNTIME_DIR / file).read_bytes() for file in runtime}
    sources = [f"{name}.c", *[f for f in runtime if f.endswith(".c")]]
    definitions = library_definitions(calls)
    for template, out in (("Makefile.j2", "Makefile"), ("CMakeLists.txt.j2", "CMakeLists.txt")):
        files[out] = env.get_template(template).render(
            name=name, NAME=name.upper(), model_sources=[f"{name}.c"],
            runtime_sources=[f for f in runtime if f.endswith(".c")],
            definitions=definitions).encode()
    tin, tout = graph.tensors[split.inputs[0].core], graph.tensors[split.outputs[0].core]
    return files, {
        "c": {"folder": "c", "name": name, "sources": sources,
              "firmware_cflags": firmware_cflags(calls, target),
              "firmware_source_cflags": firmware_source_cflags(target),
              "library_definitions": definitions,
              "entry": f"{name}_run", "float_entry": f"{name}_run_float" if wrapper else None,
              "arena": arena_mode, "context": ctx_type,
              "init": f"{name}_init" if ctx_type else None,
              "core_dtype": core_dtype, "input_size": tin.size, "output_size": tout.size,
              "inputs": inputs, "outputs": outputs,
              "input_bytes": _packed_bytes(inputs), "output_bytes": _packed_bytes(outputs),
              "layers": [{"index": layer["index"], "op": layer["op"], "node": node.name,
                          "position": position[id(node)], "kernel": layer["macro"],
                          "output": node.outputs[0], "scratch_bytes": layer["scratch_size"],
                          "fused": layer["fused"]}
                         for layer, node in zip(layers, emitted, strict=True)]},
        "memory": {"arena_bytes": arena, "lower_bound_bytes": plan.lower_bound_bytes,
                   "activations_lower_bound_bytes": plan.activations_lower_bound_bytes,
                   "scratch_peak_bytes": plan.scratch_peak_bytes,
                   "inplace_nodes": plan.inplace_nodes,
                   "plan_bytes": plan.arena_bytes,  # without the float interface's buffers
                   "nodes": [n.name for n in nodes], "buffers": plan.buffers,
                   "constant_bytes": arrays.flash_bytes(),
                   # what the wide layouts add (layouts.py), and the MACs they run
                   "widened_bytes": sum(o.extra_bytes for o in widened),
                   "widened_macs": sum(o.macs for o in widened)},
    }


def _packed_bytes(ports: list[dict[str, Any]]) -> int:
    """One inference's ports packed (each aligned): the harness's buffer size."""
    last = ports[-1]
    return -(-(last["offset"] + last["bytes"]) // ALIGN_PORT) * ALIGN_PORT

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from effc.codegen.c.hostlib import RUNTIME_DIR
from effc.codegen.c.kernels import Call, node_call
from effc.codegen.c.scratch import scratch_bytes
from effc.codegen.names import Namer, comment_text
from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.passes.memory import MemoryPlan, plan_memory

TEMPLATES = Path(__file__).resolve().parent / "templates"
CTYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "float32": "float",
          "int64": "int64_t"}


@dataclass
class CoreSplit:
    """The integer core of a graph between its float boundary nodes."""

    nodes: list[Node]
    input: str
    output: str
    float_wrapper: bool


def split_core(graph: Graph) -> CoreSplit:
    nodes = list(graph.nodes)
    first, last = nodes[0], nodes[-1]
    wrapper = (first.op_type == "QuantizeLinear" and first.inputs[0] in graph.inputs
               and last.op_type == "DequantizeLinear" and last.outputs[0] in graph.outputs)
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise EffcError("the C backend compiles models with one input and one output")
    if wrapper:
        return CoreSplit(nodes[1:-1], first.outputs[0], last.inputs[0], True)
    return CoreSplit(nodes, graph.inputs[0], graph.outputs[0], False)


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
        if root == split.input:
            return f"({qual}{ctype} *)in"
        if root == split.output:
            return f"({qual}{ctype} *)out"
        return f"({qual}{ctype} *)(effc_arena + {plan.offsets[root]})"

    p: dict[str, Any] = {"output": ptr(call.outputs[0], False)}
    # Binary ops keep operand order, constants included.
    operands = node.inputs[:2] if call.macro.startswith("binary") else call.inputs
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
    return p


UNARY_F32 = {"Relu": "effc_relu_f32", "Clip": "effc_clip_f32", "Sigmoid": "effc_sigmoid_f32",
             "Tanh": "effc_tanh_f32", "LeakyRelu": "effc_leaky_relu_f32",
             "HardSigmoid": "effc_hard_sigmoid_f32", "HardSwish": "effc_hard_swish_f32",
             "Selu": "effc_selu_f32"}


@functools.cache
def _environment() -> jinja2.Environment:
    """The templates' environment, made once (it caches the compiled templates)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["cfloat"] = c_float
    return env


def generate_c(graph: Graph, name: str) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The C library for ``graph``: its files (name -> content) and manifest facts."""
    split = split_core(graph)
    core = Graph(graph.name, split.nodes, graph.tensors, [split.input], [split.output])
    # Keyed by position: model strings (node names) are never keys.
    calls = [node_call(graph, n) for n in split.nodes]
    for call in calls:
        call.scratch = scratch_bytes(call)
    position = {id(n): i for i, n in enumerate(split.nodes)}
    plan = plan_memory(core, {split.input, split.output},
                       lambda n: calls[position[id(n)]].scratch,
                       lambda n: calls[position[id(n)]].inplace)
    skipped = {i for i, node in enumerate(split.nodes)  # an aliased Reshape needs no code
               if node.op_type == "Reshape"
               and plan.root(node.outputs[0]) == plan.root(node.inputs[0])}
    arena = plan.arena_bytes
    wrapper = None
    if split.float_wrapper:
        in_bytes = graph.tensors[split.input].nbytes
        wrapper = {"input_offset": arena, "output_offset": arena + (in_bytes + 15) // 16 * 16}
        arena = wrapper["output_offset"] + (graph.tensors[split.output].nbytes + 15) // 16 * 16
    arrays = _Arrays(Namer({f"{name}_run", f"{name}_run_float", f"{name}_value_t", name}))
    layers = []
    emitted = []
    for i, node in enumerate(split.nodes):
        if i in skipped:
            continue
        call = calls[i]
        emitted.append(node)
        index = len(layers)
        layers.append({"index": index, "op": node.op_type, "node": comment_text(node.name),
                       "macro": call.macro, "fields": call.fields,
                       "ptr": _pointers(graph, index, node, call, plan, split, arrays),
                       "scratch_size": call.scratch,
                       "output_bytes": graph.tensors[call.outputs[0]].nbytes,
                       "scratch_offset": plan.scratch_offsets.get(i, 0)})
    tin, tout = graph.tensors[split.input], graph.tensors[split.output]
    quantized = tin.dtype == "int8"
    from effc import __version__
    from effc.summary import summarize

    summary = summarize(graph)
    context = {
        "name": name, "NAME": name.upper(), "version": __version__,
        "source": comment_text(graph.name),
        "summary": f"{summary['macs']} MACs, {summary['params']} parameters",
        "arena_bytes": arena, "lower_bound_bytes": plan.lower_bound_bytes,
        "macs": summary["macs"], "input_size": tin.size, "output_size": tout.size,
        "core_type": CTYPES[tin.dtype], "quantized": quantized,
        "input_scale": float(tin.quant.scale) if quantized else 0.0,
        "input_zero_point": int(tin.quant.zero_point) if quantized else 0,
        "output_scale": float(tout.quant.scale) if quantized else 0.0,
        "output_zero_point": int(tout.quant.zero_point) if quantized else 0,
        "float_wrapper": wrapper, "layers": layers, "arrays": arrays.items,
        "uses_scratch": any(layer["scratch_size"] for layer in layers),
    }
    env = _environment()
    files = {f"{name}.h": env.get_template("model.h.j2").render(**context).encode(),
             f"{name}.c": env.get_template("model.c.j2").render(**context).encode()}
    runtime = sorted(p.name for p in RUNTIME_DIR.iterdir() if p.suffix in (".c", ".h"))
    files |= {file: (RUNTIME_DIR / file).read_bytes() for file in runtime}
    sources = [f"{name}.c", *[f for f in runtime if f.endswith(".c")]]
    for template, out in (("Makefile.j2", "Makefile"), ("CMakeLists.txt.j2", "CMakeLists.txt")):
        files[out] = env.get_template(template).render(name=name, sources=sources).encode()
    return files, {
        "c": {"folder": "c", "name": name, "sources": sources,
              "entry": f"{name}_run", "float_entry": f"{name}_run_float" if wrapper else None,
              "core_dtype": tin.dtype, "input_size": tin.size, "output_size": tout.size,
              "layers": [{"index": layer["index"], "op": layer["op"], "node": node.name,
                          "kernel": layer["macro"], "output": node.outputs[0]}
                         for layer, node in zip(layers, emitted, strict=True)]},
        "memory": {"arena_bytes": arena, "lower_bound_bytes": plan.lower_bound_bytes,
                   "inplace_nodes": plan.inplace_nodes,
                   "constant_bytes": arrays.flash_bytes()},
    }

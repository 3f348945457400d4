"""The effc graph IR: one typed graph that every stage reads and writes.

Tensors carry a name, shape, dtype, layout and optional quantization
parameters; constant tensors carry their data. Nodes use ONNX attribute names.
Activations are channels-last (see docs/conventions.md).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from effc.errors import EffcError

DTYPES = ("float32", "int8", "uint8", "int16", "int32", "int64", "bool")


@dataclass
class QuantParams:
    """Affine quantization ``real = scale * (q - zero_point)``.

    ``axis`` is None for per-tensor parameters, otherwise the axis along which
    ``scale`` and ``zero_point`` vary.
    """

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int | None = None

    def __post_init__(self) -> None:
        self.scale = np.asarray(self.scale, dtype=np.float32)
        self.zero_point = np.asarray(self.zero_point, dtype=np.int32)

    @property
    def per_channel(self) -> bool:
        return self.axis is not None

    def check(self, what: str) -> QuantParams:
        """Refuse (one line) a scale that is not a positive finite number."""
        scale = np.asarray(self.scale, np.float64)
        bad = scale[~(np.isfinite(scale) & (scale > 0))]
        if bad.size:
            raise EffcError(f"{what} has quantization scale {bad.reshape(-1)[0]!r}; a scale "
                            "must be a positive finite number: fix the model's "
                            "QuantizeLinear/DequantizeLinear scales")
        if self.zero_point.size not in (1, scale.size):
            raise EffcError(f"{what} has {self.zero_point.size} zero points for {scale.size} "
                            "scales; give one zero point per scale")
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "scale": self.scale.tolist(),
            "zero_point": self.zero_point.tolist(),
            "axis": self.axis,
        }


@dataclass
class Tensor:
    """A value in the graph. ``data`` is set for constants (weights)."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    layout: str = ""  # "NHWC", "NWC", "NC" or "" when layout does not matter
    data: np.ndarray | None = None
    quant: QuantParams | None = None

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize


@dataclass
class Node:
    """One operation. ``inputs`` may hold "" for an omitted optional input."""

    op_type: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    name: str
    nodes: list[Node] = field(default_factory=list)
    tensors: dict[str, Tensor] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    # -- construction ---------------------------------------------------
    def add_tensor(self, tensor: Tensor) -> Tensor:
        self.tensors[tensor.name] = tensor
        return tensor

    def add_constant(self, name: str, data: np.ndarray, **kwargs: Any) -> Tensor:
        data = np.ascontiguousarray(data)
        name = self.unique_name(name)
        return self.add_tensor(
            Tensor(name, tuple(data.shape), str(data.dtype), data=data, **kwargs)
        )

    def unique_name(self, base: str) -> str:
        names = set(self.tensors) | {n.name for n in self.nodes}
        if base not in names:
            return base
        i = 1
        while f"{base}_{i}" in names:
            i += 1
        return f"{base}_{i}"

    # -- queries ----------------------------------------------------------
    def producer(self, tensor_name: str) -> Node | None:
        for node in self.nodes:
            if tensor_name in node.outputs:
                return node
        return None

    def consumers(self, tensor_name: str) -> list[Node]:
        return [n for n in self.nodes if tensor_name in n.inputs]

    def const(self, tensor_name: str) -> np.ndarray | None:
        """The data of a constant tensor, or None ("" and activations)."""
        if not tensor_name:
            return None
        tensor = self.tensors.get(tensor_name)
        return None if tensor is None else tensor.data

    def activations(self) -> Iterable[Tensor]:
        return (t for t in self.tensors.values() if not t.is_constant)

    # -- transformation helpers -------------------------------------------
    def replace_uses(self, old: str, new: str) -> None:
        """Make every consumer (and the graph outputs) read ``new`` instead of ``old``."""
        for node in self.nodes:
            node.inputs = [new if i == old else i for i in node.inputs]
        self.outputs = [new if o == old else o for o in self.outputs]

    def remove_node(self, node: Node) -> None:
        self.nodes.remove(node)

    def joins_interface(self, old: str, new: str) -> bool:
        """Would ``new`` taking ``old``'s place merge two interface values (``old``
        a graph output, ``new`` a graph input or another output)?"""
        return old in self.outputs and (new in self.inputs or new in self.outputs)

    def bypass(self, node: Node) -> bool:
        """Remove a node whose first output equals its first input. A node that
        copies one interface value into another output stays (returns False)."""
        if self.joins_interface(node.outputs[0], node.inputs[0]):
            return False
        self.nodes.remove(node)
        self.forward(node.outputs[0], node.inputs[0])
        return True

    def forward(self, old: str, new: str) -> None:
        """Let tensor ``new`` take the place of ``old`` (no longer produced).

        When ``old`` is a graph output, ``new`` takes over its name so the
        graph interface keeps its names; when ``new`` is itself an input or
        output, ``old`` stays a graph output as a copy of it (a Reshape to the
        same shape). ``new`` inherits ``old``'s quantization when it has none
        (it now carries the same value).
        """
        if self.tensors[new].quant is None and old in self.tensors:
            self.tensors[new].quant = self.tensors[old].quant
        if self.joins_interface(old, new):
            for node in self.nodes:
                node.inputs = [new if i == old else i for i in node.inputs]
            self.tensors[old].quant = self.tensors[old].quant or self.tensors[new].quant
            self.nodes.append(Node("Reshape", self.unique_name(f"{old}_copy"), [new], [old],
                                   {"shape": list(self.tensors[old].shape)}))
        elif old in self.outputs:
            self.tensors.pop(old, None)
            self.rename_tensor(new, old)
        else:
            self.replace_uses(old, new)
            self.tensors.pop(old, None)

    def rename_tensor(self, old: str, new: str) -> None:
        tensor = self.tensors.pop(old)
        self.tensors.pop(new, None)
        tensor.name = new
        self.tensors[new] = tensor
        for node in self.nodes:
            node.inputs = [new if i == old else i for i in node.inputs]
            node.outputs = [new if o == old else o for o in node.outputs]
        self.inputs = [new if i == old else i for i in self.inputs]
        self.outputs = [new if o == old else o for o in self.outputs]

    def prune_unused(self) -> None:
        """Drop nodes whose outputs nobody reads and tensors nobody references."""
        changed = True
        while changed:
            changed = False
            used = set(self.outputs)
            for node in self.nodes:
                used.update(node.inputs)
            for node in list(self.nodes):
                if not any(o in used for o in node.outputs):
                    self.nodes.remove(node)
                    changed = True
        referenced = set(self.inputs) | set(self.outputs)
        for node in self.nodes:
            referenced.update(node.inputs)
            referenced.update(node.outputs)
        for name in list(self.tensors):
            if name not in referenced:
                del self.tensors[name]

    def toposort(self) -> None:
        """Order nodes so that every producer precedes its consumers."""
        available = set(self.inputs) | {
            n for n, t in self.tensors.items() if t.is_constant
        }
        available.add("")
        pending = list(self.nodes)
        ordered: list[Node] = []
        while pending:
            ready = [n for n in pending if all(i in available for i in n.inputs)]
            if not ready:
                stuck = pending[0]
                missing = [i for i in stuck.inputs if i not in available]
                raise EffcError(
                    f"graph has a cycle or a dangling input at node '{stuck.name}' "
                    f"(inputs {missing} are never produced); re-export the model"
                )
            for node in ready:
                ordered.append(node)
                available.update(node.outputs)
                pending.remove(node)
        self.nodes = ordered

    def clone(self) -> Graph:
        return copy.deepcopy(self)

    def validate(self) -> None:
        """Check structural invariants; raise EffcError naming the first problem.
        (``effc.ops.validate`` also checks that every op is registered.)"""
        names: set[str] = set()
        for node in self.nodes:
            if node.name in names:
                raise EffcError(f"two nodes are named '{node.name}'; node names must be unique "
                                "(a pass must name new nodes with Graph.unique_name)")
            names.add(node.name)
        produced: dict[str, str] = {}
        for name in self.inputs:
            if name not in self.tensors:
                raise EffcError(f"graph input '{name}' has no tensor description")
            produced[name] = "<graph input>"
        for node in self.nodes:
            for out in node.outputs:
                if out in produced:
                    raise EffcError(
                        f"tensor '{out}' is produced twice (by '{produced[out]}' "
                        f"and '{node.name}')"
                    )
                if out not in self.tensors:
                    raise EffcError(f"node '{node.name}' output '{out}' has no shape")
                produced[out] = node.name
        for node in self.nodes:
            for inp in node.inputs:
                if inp and inp not in produced and not (
                    inp in self.tensors and self.tensors[inp].is_constant
                ):
                    raise EffcError(
                        f"node '{node.name}' reads '{inp}', which nothing produces"
                    )
        for name in self.outputs:
            if name not in produced:
                raise EffcError(f"graph output '{name}' is never produced")
        for tensor in self.tensors.values():
            if tensor.dtype not in DTYPES:
                raise EffcError(f"tensor '{tensor.name}' has unsupported dtype {tensor.dtype}")
            if any(d <= 0 for d in tensor.shape):
                raise EffcError(
                    f"tensor '{tensor.name}' has a non-positive dimension {tensor.shape}"
                )
            if tensor.data is not None and tuple(tensor.data.shape) != tuple(tensor.shape):
                raise EffcError(f"constant '{tensor.name}' data does not match its shape")

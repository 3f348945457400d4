"""Op registry. One file per op; each op registers itself with ``@register``.

An op class keeps everything about one operation together: how ONNX nodes
import into it, shape inference, MAC and parameter counts, the float and the
exact integer reference math, and how it exports back to ONNX.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from effc.errors import EffcError

if TYPE_CHECKING:
    from effc.ir import Graph, Node

Shape = tuple[int, ...]


class Op:
    """Base class of an IR operation. Subclasses set ``op_type``."""

    op_type: ClassVar[str]
    #: ONNX op types that the frontend imports through ``from_onnx``, each with the
    #: newest version of its schema whose semantics ``from_onnx`` implements: a model
    #: whose opset selects a newer version is refused (docs/frontend.md, "Opsets").
    onnx_types: ClassVar[dict[str, int]] = {}
    #: The op only moves or selects values (no arithmetic), so it is exact on integer
    #: data of any meaning; other ops refuse ONNX integer tensors.
    moves_values: ClassVar[bool] = False
    #: Positions of constant inputs kept only for the ONNX export (no backend
    #: stores them; they count as parameters but not as weight bytes).
    export_only_inputs: ClassVar[tuple[int, ...]] = ()

    # -- frontend ------------------------------------------------------------
    @classmethod
    def from_onnx(cls, ctx: Any, onnx_node: Any) -> None:
        """Add the IR nodes computing ``onnx_node`` through ``ctx``, the frontend's
        ``ImportContext`` (effc/frontend/context.py; ops never import the frontend)."""
        raise NotImplementedError

    # -- shapes and costs ---------------------------------------------------
    def infer(self, node: Node, graph: Graph) -> list[tuple[Shape, str]]:
        """Output (shape, dtype) pairs from the input tensors and attributes."""
        raise NotImplementedError

    def macs(self, node: Node, graph: Graph) -> int:
        return 0

    def params(self, node: Node, graph: Graph) -> int:
        return sum(
            graph.tensors[i].size
            for i in node.inputs
            if i and graph.tensors[i].is_constant
        )

    # -- reference math -------------------------------------------------------
    def run_float(self, node: Node, graph: Graph, xs: list[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError

    def run_int(self, node: Node, graph: Graph, xs: list[np.ndarray]) -> list[np.ndarray]:
        raise EffcError(
            f"op {node.op_type} (node '{node.name}') has no integer implementation; "
            "compile with --quantize none"
        )

    # -- layout -------------------------------------------------------------------
    def through_transpose(self, node: Node, perm: list[int], graph: Graph
                          ) -> tuple[dict[str, Any], list[list[int]]] | None:
        """For ``node`` reading a Transpose ``perm`` as its first input: the node's
        attributes when it reads the Transpose's input instead, and the permutation each
        of its outputs then needs to keep the function (the layout pass moves the
        Transpose below the node); None when it cannot move."""
        return None

    # -- export -----------------------------------------------------------------
    def to_onnx(self, node: Node, graph: Graph, builder: Any) -> None:
        """Emit ONNX nodes computing this node (float semantics) through ``builder``,
        the exporter's ``OnnxBuilder`` (effc/onnx_export.py)."""
        builder.emit(
            node.op_type,
            [builder.float_input(i) for i in node.inputs],
            [builder.output_name(o) for o in node.outputs],
            **node.attrs,
        )


_OPS: dict[str, Op] = {}
_ONNX_IMPORTERS: dict[str, type[Op]] = {}


def register(cls: type[Op]) -> type[Op]:
    """Class decorator: make ``cls`` the implementation of ``cls.op_type``."""
    _OPS[cls.op_type] = cls()
    for onnx_type in cls.onnx_types:
        _ONNX_IMPORTERS[onnx_type] = cls
    return cls


_loaded = False


def _load_all() -> None:
    global _loaded
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True


def get_op(op_type: str, node: Node | None = None) -> Op:
    if not _loaded:
        _load_all()
    op = _OPS.get(op_type)
    if op is None:
        where = f" (node '{node.name}')" if node is not None else ""
        raise EffcError(f"internal op {op_type}{where} is not registered")
    return op


def validate(graph: Graph) -> None:
    """``graph.validate()`` (structure), then: every node's op is registered."""
    graph.validate()
    for node in graph.nodes:
        get_op(node.op_type, node)


def onnx_importer(onnx_type: str) -> type[Op] | None:
    if not _loaded:
        _load_all()
    return _ONNX_IMPORTERS.get(onnx_type)


#: ONNX ops that never reach an importer: the frontend always folds them (shapes are
#: static, so Shape and Size of any value are constants).
ALWAYS_FOLDED = ("Constant", "Shape", "Size")


def supported_onnx_ops() -> list[str]:
    if not _loaded:
        _load_all()
    return sorted([*_ONNX_IMPORTERS, *ALWAYS_FOLDED])


# -- small helpers shared by op files ------------------------------------------


def ints(value: Any, default: list[int] | None = None) -> list[int]:
    if value is None:
        return list(default or [])
    return [int(v) for v in value]


def shape_of(graph: Graph, name: str) -> Shape:
    return graph.tensors[name].shape


def dtype_of(graph: Graph, name: str) -> str:
    return graph.tensors[name].dtype


def broadcast_shapes(node: Node, *shapes: Shape) -> Shape:
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*shapes))
    except ValueError:
        raise EffcError(
            f"node '{node.name}' ({node.op_type}): input shapes {list(shapes)} do not "
            "broadcast; fix the model's shapes"
        ) from None

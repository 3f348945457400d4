"""ImportContext: what an op's ``from_onnx`` sees while it translates one node."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from effc.errors import EffcError
from effc.ir import Graph, Node, QuantParams, Tensor
from effc.ops import get_op

ONNX_DTYPES = {
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.INT8: "int8",
    onnx.TensorProto.UINT8: "uint8",
    onnx.TensorProto.INT32: "int32",
    onnx.TensorProto.INT64: "int64",
    onnx.TensorProto.BOOL: "bool",
}


def channels_last_perm(rank: int) -> list[int]:
    """Permutation N C S... -> N S... C."""
    return [0, *range(2, rank), 1]


def channels_first_perm(rank: int) -> list[int]:
    """Permutation N S... C -> N C S..."""
    return [0, rank - 1, *range(1, rank - 1)]


class ImportContext:
    """Builds the IR graph while the frontend walks the ONNX nodes in order."""

    def __init__(self, graph: Graph, opset: int) -> None:
        self.graph = graph
        self.opset = opset
        self.node: onnx.NodeProto | None = None
        #: The version of the current node's op that the model's opset selects.
        self.version = opset
        #: Every tensor name the model reads (node inputs and graph outputs).
        self.used: set[str] = set()
        #: ONNX element types of the model's values (after shape inference).
        self.elem_types: dict[str, int] = {}

    # -- reading the ONNX node ----------------------------------------------
    @staticmethod
    def attrs(onnx_node: onnx.NodeProto) -> dict[str, Any]:
        """The node's attributes as Python values; ONNX strings (bytes) become str."""
        return {a.name: _decoded(helper.get_attribute_value(a)) for a in onnx_node.attribute}

    def const(self, name: str) -> np.ndarray | None:
        return self.graph.const(name)

    def require_const(self, name: str, what: str) -> np.ndarray:
        value = self.const(name)
        if value is None:
            raise EffcError(
                f"node '{self.node_name}' ({self.node_op}): {what} '{name}' must be a "
                "constant; effc compiles models with fixed weights"
            )
        return value

    def onnx_elem_type(self, name: str) -> int:
        """The ONNX element type of value ``name`` (UNDEFINED when unknown)."""
        return self.elem_types.get(name, onnx.TensorProto.UNDEFINED)

    def shape(self, name: str) -> tuple[int, ...]:
        return self.graph.tensors[name].shape

    @property
    def node_name(self) -> str:
        return self.node.name if self.node is not None else "?"

    @property
    def node_op(self) -> str:
        return self.node.op_type if self.node is not None else "?"

    def error(self, problem: str, fix: str) -> EffcError:
        return EffcError(f"node '{self.node_name}' ({self.node_op}): {problem}; {fix}")

    # -- building the IR ---------------------------------------------------------
    def fresh(self, base: str) -> str:
        name = self.graph.unique_name(base)
        self.graph.tensors[name] = Tensor(name, (1,))  # reserve; shape set by add_node
        return name

    def constant(self, base: str, data: np.ndarray, quant: QuantParams | None = None) -> str:
        return self.graph.add_constant(base, data, quant=quant).name

    def add_node(
        self,
        op_type: str,
        inputs: list[str],
        outputs: list[str],
        attrs: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> Node:
        # ONNX node names may repeat or be empty; IR node names are unique.
        node = Node(op_type, self.graph.unique_name(name or self.node_name or op_type),
                    list(inputs), list(outputs), dict(attrs or {}))
        infos = get_op(op_type).infer(node, self.graph)
        for out, (shape, dtype) in zip(outputs, infos, strict=True):
            old = self.graph.tensors.get(out)
            quant = old.quant if old is not None else None
            self.graph.tensors[out] = Tensor(out, tuple(shape), dtype, quant=quant)
        self.graph.nodes.append(node)
        return node

    def transpose(self, src: str, perm: list[int], dst: str | None = None) -> str:
        if perm == list(range(len(perm))):
            if dst is None:
                return src
            self.add_node("Reshape", [src], [dst], {"shape": list(self.shape(src))})
            return dst
        dst = dst or self.fresh(f"{src}_T")
        self.add_node("Transpose", [src], [dst], {"perm": perm},
                      name=self.graph.unique_name(f"{self.node_name}_transpose"))
        return dst

    def reshape(self, src: str, shape: list[int] | tuple[int, ...], dst: str | None = None) -> str:
        """``src`` viewed with ``shape`` (a constant is reshaped in place of a node)."""
        value = self.const(src)
        if value is not None and dst is None:
            return self.constant(f"{src}_reshaped", value.reshape(shape))
        dst = dst or self.fresh(f"{src}_reshaped")
        self.add_node("Reshape", [src], [dst], {"shape": [int(d) for d in shape]},
                      name=self.graph.unique_name(f"{self.node_name}_reshape"))
        return dst

    def to_channels_last(self, name: str) -> str:
        return self.transpose(name, channels_last_perm(len(self.shape(name))))

    def channels_last_op(
        self,
        op_type: str,
        x: str,
        extra_inputs: list[str],
        y: str,
        attrs: dict[str, Any],
    ) -> Node:
        """Emit ``op_type`` in channels-last form between two Transposes.

        The Transposes keep the graph's ONNX meaning; the layout pass cancels
        the pairs that meet between consecutive channels-last ops.
        """
        x_cl = self.to_channels_last(x)
        y_cl = self.fresh(f"{y}_nhwc")
        node = self.add_node(op_type, [x_cl, *extra_inputs], [y_cl], attrs,
                             name=self.graph.unique_name(self.node_name or op_type))
        self.transpose(y_cl, channels_first_perm(len(self.shape(y_cl))), dst=y)
        return node


def _decoded(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode("utf-8", errors="replace") for v in value]
    return value


def tensor_from_proto(proto: onnx.TensorProto) -> np.ndarray:
    return numpy_helper.to_array(proto)

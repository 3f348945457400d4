"""IR node -> its runtime_c call: the kernels of kernels.py and kernels_ops.py."""

from __future__ import annotations

from typing import Any

from effc.codegen.c.kernels import CALLS, FLOAT_UNARY, Call
from effc.codegen.c.kernels_ops import CALLS as OP_CALLS
from effc.codegen.c.kernels_ops import UNARY_KINDS
from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.ops.activation import FUNCTIONS as ACTIVATIONS


def all_calls() -> dict[str, Any]:
    """Every op with a C kernel: kernels.py's and kernels_ops.py's."""
    return {**CALLS, **OP_CALLS}


def has_kernel(op_type: str, int8: bool) -> bool:
    """Does the C library have a kernel for a node of ``op_type`` computing in int8 (else
    in float)? The activations' int8 forms are tables; their float forms are the
    functions of effc_unary_f32 and unary_kind_f32."""
    if op_type not in all_calls():
        return False
    if int8 or op_type not in ACTIVATIONS:
        return True
    return op_type in FLOAT_UNARY or op_type in UNARY_KINDS or op_type == "Gelu"


def node_call(graph: Graph, node: Node) -> Call:
    x = next((graph.tensors[i] for i in node.inputs if i and not graph.tensors[i].is_constant),
             None)
    int8 = x is not None and x.dtype == "int8" and node.op_type != "DequantizeLinear"
    if not has_kernel(node.op_type, int8):
        kind = "int8" if int8 else "float"
        ops = sorted(op for op in all_calls() if has_kernel(op, int8))
        raise EffcError(f"node '{node.name}' ({node.op_type}) has no C kernel for {kind} data; "
                        f"the C backend's {kind} kernels are {', '.join(ops)}")
    return all_calls()[node.op_type](graph, node, int8)

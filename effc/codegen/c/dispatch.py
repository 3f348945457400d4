"""IR node -> its runtime_c call: the kernels of kernels.py and kernels_ops.py."""

from __future__ import annotations

from typing import Any

from effc.codegen.c.kernels import CALLS, Call
from effc.codegen.c.kernels_ops import CALLS as OP_CALLS
from effc.errors import EffcError
from effc.ir import Graph, Node


def all_calls() -> dict[str, Any]:
    """Every op with a C kernel: kernels.py's and kernels_ops.py's."""
    return {**CALLS, **OP_CALLS}


def node_call(graph: Graph, node: Node) -> Call:
    calls = all_calls()
    make = calls.get(node.op_type)
    if make is None:
        raise EffcError(f"node '{node.name}' ({node.op_type}) has no C kernel yet; the C "
                        f"backend supports {', '.join(sorted(calls))}")
    x = next((graph.tensors[i] for i in node.inputs if i and not graph.tensors[i].is_constant),
             None)
    int8 = x is not None and x.dtype == "int8" and node.op_type != "DequantizeLinear"
    return make(graph, node, int8)

"""Move every Softmax to the last axis.

Contract: expects any IR graph. Guarantees that every Softmax normalizes its
last axis: one over another axis becomes Transpose -> Softmax -> Transpose
(moving that axis last and back), which computes the same values exactly,
float and int8 alike (the transposes only move data). The kernels (TFLite
Micro's integer softmax, the C, HLS and RTL backends) normalize the
innermost axis, which is contiguous in memory.
"""

from __future__ import annotations

from effc.ir import Graph, Node, Tensor


def softmax_last_axis(graph: Graph) -> Graph:
    for node in [n for n in graph.nodes if n.op_type == "Softmax"]:
        x, y = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
        rank, axis = len(x.shape), node.attrs["axis"]
        if axis == rank - 1:
            continue
        to_last = [i for i in range(rank) if i != axis] + [axis]
        back = [to_last.index(i) for i in range(rank)]
        moved = tuple(x.shape[i] for i in to_last)
        x_t = graph.add_tensor(Tensor(graph.unique_name(f"{x.name}_softmax_in"), moved,
                                      x.dtype, quant=x.quant))
        y_t = graph.add_tensor(Tensor(graph.unique_name(f"{y.name}_softmax_out"), moved,
                                      y.dtype, quant=y.quant))
        index = graph.nodes.index(node)
        graph.nodes[index:index + 1] = [
            Node("Transpose", graph.unique_name(f"{node.name}_to_last"), [x.name], [x_t.name],
                 {"perm": to_last}),
            Node("Softmax", node.name, [x_t.name], [y_t.name], {**node.attrs,
                                                               "axis": rank - 1}),
            Node("Transpose", graph.unique_name(f"{node.name}_back"), [y_t.name], [y.name],
                 {"perm": back}),
        ]
    return graph

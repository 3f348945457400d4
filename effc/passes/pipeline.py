"""The pass pipelines, each one ordered list."""

from __future__ import annotations

from collections.abc import Callable

from effc.ir import Graph
from effc.ops import validate
from effc.passes.fuse_bias import fuse_bias
from effc.passes.layout import optimize_layout

Pass = Callable[[Graph], Graph]

#: Run by the frontend on every imported graph.
FRONTEND_PASSES: list[Pass] = [
    optimize_layout,
    fuse_bias,
    optimize_layout,
]


def run_passes(graph: Graph, passes: list[Pass]) -> Graph:
    for p in passes:
        graph = p(graph)
        graph.toposort()
        validate(graph)
    return graph


def frontend_pipeline(graph: Graph) -> Graph:
    return run_passes(graph, FRONTEND_PASSES)


def compile_pipeline(graph: Graph, options) -> tuple[Graph, dict]:
    """Passes run by ``effc compile`` after the frontend; returns (graph, quant report)."""
    from effc.passes.fold_batchnorm import fold_batchnorm
    from effc.passes.fuse_activation import fuse_activation
    from effc.passes.qdq_import import strip_qdq
    from effc.passes.softmax_axis import softmax_last_axis
    from effc.passes.winograd import winograd

    def winograd_pass(g: Graph) -> Graph:
        return winograd(g, getattr(options, "winograd", "off"))

    graph = run_passes(graph, [fold_batchnorm])
    quantize = options.quantize
    has_qdq = any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in graph.nodes)
    if quantize is None:
        quantize = "int8" if (has_qdq or options.calib is not None) else "none"
    # softmax_last_axis after the layout pass, which would move a Softmax's axis again.
    if quantize == "none":
        return run_passes(graph, [strip_qdq, optimize_layout, fuse_activation,
                                  softmax_last_axis, winograd_pass]), {"mode": "none"}
    from effc.passes.quantize import quantize_graph

    graph, report = quantize_graph(graph, options)
    report["mode"] = "int8"
    graph.toposort()
    validate(graph)
    return run_passes(graph, [softmax_last_axis, winograd_pass]), report

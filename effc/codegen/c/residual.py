"""Residual Adds run band by band with the convolution that feeds them (C target).

In a ResNet block ``y = conv(a); out = Add(x, y)`` the shortcut ``x``, the
convolution's input ``a`` and its output ``y`` are all live while the
convolution runs: three full activations. Here the convolution writes ``y``
a band of output rows at a time into a small buffer (the layer's scratch), and
the Add of that band runs at once, in place over the same rows of ``x`` (``x``
dies at the Add, and an element-wise Add reads each element before it writes
it). ``y`` is never whole, so the peak is ``x``, ``a``, one band and the
convolution's scratch (MCUNetV2's patch-based inference, NeurIPS'21, applied to
the layer pair that sets ResNet-8's peak).

Each band is an ordinary ``effc_conv_s8`` call over the input rows it reads
(padding only where the full convolution has it), so every output value is
computed exactly as before: bit-exact by construction. The fused call keeps the
convolution's name (its MACs, its profile row); the Add's code is inside it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from effc.codegen.c.kernels import Call
from effc.codegen.c.scratch import scratch_bytes
from effc.ir import Graph, Node

BAND_BYTES = 2048  # output rows per band: as many as fit (at least one)
ALIGN = 16


def _bands(f: dict[str, Any]) -> list[dict[str, Any]]:
    """The convolution's output split into row bands: per band the conv's pad_top,
    its input rows (offset and count) and its output rows."""
    n, in_h, in_w, in_c = f["input_dims"]
    _, out_h, out_w, out_c = f["output_dims"]
    rows = max(1, BAND_BYTES // (out_w * out_c))
    span = (f["filter_dims"][1] - 1) * f["dilation_h"] + 1
    bands = []
    for y0 in range(0, out_h, rows):
        y1 = min(out_h, y0 + rows)
        lo = y0 * f["stride_h"] - f["pad_top"]
        hi = (y1 - 1) * f["stride_h"] - f["pad_top"] + span
        first, last = max(lo, 0), min(hi, in_h)
        bands.append({"pad_top": first - lo, "in_offset": first * in_w * in_c,
                      "input_dims": [n, last - first, in_w, in_c],
                      "out_offset": y0 * out_w * out_c,
                      "output_dims": [n, y1 - y0, out_w, out_c],
                      "count": (y1 - y0) * out_w * out_c})
    return bands


def _pair(graph: Graph, external: set[str], nodes: list[Node], calls: list[Call],
          i: int) -> str | None:
    """The shortcut tensor when nodes i, i + 1 are a conv and the residual Add it
    alone feeds, fusable as above; else None."""
    conv, add = calls[i], calls[i + 1]
    if conv.macro != "conv_s8" or add.macro != "binary_s8" or add.fields["kind"] != "add":
        return None
    y, node = conv.outputs[0], nodes[i + 1]
    if conv.fields["input_dims"][0] != 1 or y in external or y in graph.outputs or \
            len(graph.consumers(y)) != 1 or y not in node.inputs[:2]:
        return None
    x = node.inputs[1] if node.inputs[0] == y else node.inputs[0]
    shape = graph.tensors[y].shape
    if x == y or x in external or graph.tensors[x].is_constant or x == conv.inputs[0] or \
            graph.tensors[x].shape != shape or graph.tensors[node.outputs[0]].shape != shape:
        return None
    later = [n for n in nodes[i + 2:] if x in n.inputs]
    return None if later or x in graph.outputs else x


def fuse_residual_adds(graph: Graph, external: set[str], nodes: list[Node],
                       calls: list[Call]) -> tuple[list[Node], list[Call]]:
    """``nodes``/``calls`` with every fusable (conv, residual Add) pair replaced by
    one ``conv_add_s8`` call. Its planning node lists the shortcut first (the
    output takes its place) and the band buffer is part of its scratch."""
    out_nodes: list[Node] = []
    out_calls: list[Call] = []
    i = 0
    while i < len(nodes):
        x = _pair(graph, external, nodes, calls, i) if i + 1 < len(nodes) else None
        if x is None:
            out_nodes.append(nodes[i])
            out_calls.append(calls[i])
            i += 1
            continue
        conv, add, node = calls[i], calls[i + 1], nodes[i + 1]
        bands = _bands(conv.fields)
        band_bytes = -(-max(b["count"] for b in bands) // ALIGN) * ALIGN
        conv_scratch = max(scratch_bytes(replace(conv, fields=conv.fields | {
            "input_dims": b["input_dims"], "output_dims": b["output_dims"],
            "pad_top": b["pad_top"]})) for b in bands)
        fields = conv.fields | {"bands": bands, "add": add.fields, "band_bytes": band_bytes,
                                "conv_first": node.inputs[0] == conv.outputs[0]}
        out_calls.append(Call("conv_add_s8", conv.node, conv.op, fields,
                              [conv.inputs[0], x], list(node.outputs), conv.weights,
                              scratch=band_bytes + conv_scratch, inplace=True,
                              fused=[node.name]))
        out_nodes.append(Node("Conv", nodes[i].name, [x, conv.inputs[0]],
                              list(node.outputs), nodes[i].attrs))
        i += 2
    return out_nodes, out_calls

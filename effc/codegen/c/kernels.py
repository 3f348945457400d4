"""IR node -> runtime_c kernel call: the C backend's per-op decisions.

For each node this module picks the kernel (and its variant), computes every
parameter the kernel's structs need, and states the kernel's scratch bytes
and whether it may run in place. It returns plain dicts; the jinja2 macros in
``templates/calls.c.j2`` only print them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from effc.codegen import broadcast
from effc.errors import EffcError
from effc.ir import Graph, Node


@dataclass
class Call:
    """One kernel invocation: a macro name in calls.c.j2 plus its fields."""

    macro: str
    node: str
    op: str
    fields: dict[str, Any] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)  # tensor names read (activations)
    outputs: list[str] = field(default_factory=list)
    weights: list[str] = field(default_factory=list)  # constant tensors referenced
    scratch: int = 0
    inplace: bool = False
    # constant tables the call computes (index maps, tap weights): name -> (values, C type)
    tables: dict[str, tuple[np.ndarray, str]] = field(default_factory=dict)
    # the graph's nodes whose code runs inside this call (residual.py: the fused Add)
    fused: list[str] = field(default_factory=list)


def dims4(shape: tuple[int, ...]) -> list[int]:
    """An NHWC (or NWC, NC) shape as the runtime's {n, h, w, c}."""
    if len(shape) == 4:
        return list(shape)
    if len(shape) == 3:
        return [shape[0], 1, shape[1], shape[2]]
    if len(shape) == 2:
        return [shape[0], 1, 1, shape[1]]
    return [1, 1, 1, int(np.prod(shape))]


def _geometry(node: Node) -> dict[str, int]:
    """Window geometry of a 1-D (as 1 x W) or 2-D Conv or pool, runtime field names."""
    a = node.attrs
    kernel, strides, pads = a["kernel_shape"], a["strides"], a["pads"]
    dil = a.get("dilations") or [1] * len(kernel)
    if len(kernel) == 1:
        return {"kh": 1, "kw": kernel[0], "stride_h": 1, "stride_w": strides[0],
                "dilation_h": 1, "dilation_w": dil[0], "pad_top": 0, "pad_left": pads[0],
                "pad_bottom": 0, "pad_right": pads[1]}
    return {"kh": kernel[0], "kw": kernel[1], "stride_h": strides[0], "stride_w": strides[1],
            "dilation_h": dil[0], "dilation_w": dil[1], "pad_top": pads[0], "pad_left": pads[1],
            "pad_bottom": pads[2], "pad_right": pads[3]}


def _zp(graph: Graph, name: str) -> int:
    return int(graph.tensors[name].quant.zero_point)


def _flt(value: float | None, default: float) -> float:
    return default if value is None else float(value)


FLT_MAX = 3.4028234663852886e38


def _conv_quant(graph: Graph, node: Node, int8: bool) -> dict[str, Any]:
    """A convolution's zero points, clamps and requantization (int8) or clamps (float)."""
    x, y = node.inputs[0], node.outputs[0]
    if int8:
        return {"input_zero_point": _zp(graph, x), "output_zero_point": _zp(graph, y),
                "activation_min": node.attrs["activation_min"],
                "activation_max": node.attrs["activation_max"],
                "multiplier": node.attrs["multiplier"], "shift": node.attrs["shift"]}
    return {"activation_min": _flt(node.attrs.get("activation_min"), -FLT_MAX),
            "activation_max": _flt(node.attrs.get("activation_max"), FLT_MAX)}


def conv_call(graph: Graph, node: Node, int8: bool) -> Call:
    x, w, y = node.inputs[0], node.inputs[1], node.outputs[0]
    g = _geometry(node)
    xs, ws, ys = (graph.tensors[n].shape for n in (x, w, y))
    group = node.attrs["group"]
    depthwise = group > 1 and group == xs[-1] and ws[-1] == 1
    fields: dict[str, Any] = {
        **g, "input_dims": dims4(xs), "output_dims": dims4(ys),
        "filter_dims": [ws[0], g["kh"], g["kw"], ws[-1]],
        "bias": node.inputs[2] if len(node.inputs) > 2 else None,
        "depth_multiplier": ys[-1] // xs[-1], "groups": group,
    }
    fields.update(_conv_quant(graph, node, int8))
    # The float conv kernel groups by itself (C_in / filter channels); int8 groups
    # run through effc_grouped_conv_s8.
    kind = "dw_conv" if depthwise else "grouped_conv" if group > 1 and int8 else "conv"
    macro = kind + ("_s8" if int8 else "_f32")
    # In place (TinyEngine): the int8 kernels copy what they still need into scratch.
    same_plane = dims4(xs)[:3] == dims4(ys)[:3]
    if depthwise:
        # as effc_dw_conv_s8_can_run_in_place: a band's rows are read one stride apart
        inplace = int8 and fields["depth_multiplier"] == 1 and g["stride_h"] == 1 and same_plane
    else:
        inplace = (int8 and group == 1 and g["kh"] == g["kw"] == 1 and g["stride_h"] == g["stride_w"] == 1
                   and g["pad_top"] == g["pad_left"] == 0 and same_plane and ys[-1] <= xs[-1])
    weights = [w] + ([fields["bias"]] if fields["bias"] else [])
    return Call(macro, node.name, node.op_type, fields, [x], [y], weights, inplace=inplace)


def winograd_weights(u: np.ndarray, int8: bool) -> np.ndarray:
    """Transformed weights [C_out, *A, C_in] in the layout of effc_winograd_s8 /
    _f32: [C_out][P][C_in] (positions row-major). int8: C_in padded to a multiple
    of 4 with zeros, each group of 4 channels in the SXTB16 lane order c0, c2, c1, c3."""
    flat = u.reshape(u.shape[0], -1, u.shape[-1])
    if not int8:
        return np.ascontiguousarray(flat, np.float32)
    c4 = (flat.shape[-1] + 3) // 4 * 4
    padded = np.zeros((*flat.shape[:2], c4), np.int16)
    padded[..., :flat.shape[-1]] = flat
    lanes = np.arange(c4).reshape(-1, 4)[:, [0, 2, 1, 3]].reshape(-1)
    return np.ascontiguousarray(padded[..., lanes])


def winograd_call(graph: Graph, node: Node, int8: bool) -> Call:
    """A Winograd node: effc_winograd_s8 (F(2x2,3x3), exact) or effc_winograd_f32."""
    x, u, y = node.inputs[0], node.inputs[2], node.outputs[0]
    bias = node.inputs[3] if len(node.inputs) > 3 else None
    g = _geometry(node)
    xs, ys = graph.tensors[x].shape, graph.tensors[y].shape
    fields: dict[str, Any] = {
        **g, "input_dims": dims4(xs), "output_dims": dims4(ys),
        "filter_dims": [ys[-1], g["kh"], g["kw"], xs[-1]], "bias": bias,
        "tile": node.attrs["tile"],
        "transformed": winograd_weights(graph.tensors[u].data, int8),
    }
    fields.update(_conv_quant(graph, node, int8))
    return Call(f"winograd_{'s8' if int8 else 'f32'}", node.name, node.op_type, fields, [x],
                [y], [])


def dense_call(graph: Graph, node: Node, int8: bool) -> Call:
    x, w, y = node.inputs[0], node.inputs[1], node.outputs[0]
    ws = graph.tensors[w].shape
    fields: dict[str, Any] = {
        "batches": graph.tensors[x].size // ws[1], "in_features": ws[1], "out_features": ws[0],
        "bias": node.inputs[2] if len(node.inputs) > 2 else None,
    }
    if int8:
        fields.update(input_zero_point=_zp(graph, x), output_zero_point=_zp(graph, y),
                      activation_min=node.attrs["activation_min"],
                      activation_max=node.attrs["activation_max"],
                      multiplier=node.attrs["multiplier"], shift=node.attrs["shift"],
                      per_channel=len(node.attrs["multiplier"]) > 1)
        macro = "dense_s8"
    else:
        fields.update(activation_min=_flt(node.attrs.get("activation_min"), -FLT_MAX),
                      activation_max=_flt(node.attrs.get("activation_max"), FLT_MAX))
        macro = "dense_f32"
    weights = [w] + ([fields["bias"]] if fields["bias"] else [])
    return Call(macro, node.name, node.op_type, fields, [x], [y], weights)


def pool_call(graph: Graph, node: Node, int8: bool) -> Call:
    x, y = node.inputs[0], node.outputs[0]
    xs, ys = graph.tensors[x].shape, graph.tensors[y].shape
    kind = {"MaxPool": "max", "AveragePool": "avg", "GlobalMaxPool": "max",
            "GlobalAveragePool": "global_avg"}[node.op_type]
    fields: dict[str, Any] = {"input_dims": dims4(xs), "output_dims": dims4(ys), "kind": kind}
    if node.op_type == "GlobalMaxPool":
        d = dims4(xs)
        fields.update(kh=d[1], kw=d[2], stride_h=1, stride_w=1, dilation_h=1, dilation_w=1,
                      pad_top=0, pad_left=0, pad_bottom=0, pad_right=0, count_include_pad=0)
    elif node.op_type != "GlobalAveragePool":
        fields.update(_geometry(node))
        fields["count_include_pad"] = int(node.attrs.get("count_include_pad", 0))
    if int8:
        fields.update(pad_value=_zp(graph, x),
                      activation_min=node.attrs.get("activation_min", -128),
                      activation_max=node.attrs.get("activation_max", 127))
    else:
        fields.update(activation_min=-FLT_MAX, activation_max=FLT_MAX)
    return Call(f"pool_{'s8' if int8 else 'f32'}", node.name, node.op_type, fields, [x], [y])


def binary_call(graph: Graph, node: Node, int8: bool) -> Call:
    a, b, y = node.inputs[0], node.inputs[1], node.outputs[0]
    fields: dict[str, Any] = broadcast(graph.tensors[y].shape, graph.tensors[a].shape,
                                       graph.tensors[b].shape)
    fields["kind"] = node.op_type.lower()
    weights = [n for n in (a, b) if graph.tensors[n].is_constant]
    if int8:
        fields["activation_min"] = node.attrs.get("activation_min", -128)
        fields["activation_max"] = node.attrs.get("activation_max", 127)
        if node.op_type == "Mul":
            fields.update(input1_zero_point=_zp(graph, a), input2_zero_point=_zp(graph, b),
                          output_zero_point=_zp(graph, y), multiplier=node.attrs["multiplier"],
                          shift=node.attrs["shift"])
        else:
            fields.update(node.attrs["params"])
    elif node.attrs.get("activation_min") is not None or \
            node.attrs.get("activation_max") is not None:
        fields["clip"] = [_flt(node.attrs.get("activation_min"), -FLT_MAX),
                          _flt(node.attrs.get("activation_max"), FLT_MAX)]
        fields["count"] = graph.tensors[y].size
    same = graph.tensors[a].shape == graph.tensors[y].shape
    return Call(f"binary_{'s8' if int8 else 'f32'}", node.name, node.op_type, fields,
                [n for n in (a, b) if n not in weights], [y], weights, inplace=same)


FLOAT_UNARY = ("Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "Selu", "HardSigmoid",
               "HardSwish", "Elu", "Softplus", "Softsign", "Neg", "Abs", "Exp")


def softmax_call(graph: Graph, node: Node, int8: bool) -> Call:
    x, y = node.inputs[0], node.outputs[0]
    shape = graph.tensors[x].shape
    if node.attrs["axis"] != len(shape) - 1:
        raise EffcError(f"node '{node.name}': Softmax over axis {node.attrs['axis']} of "
                        f"{list(shape)}; the C kernel normalizes the last axis")
    fields: dict[str, Any] = {"depth": shape[-1], "rows": graph.tensors[x].size // shape[-1]}
    if int8:
        p = node.attrs["params"]
        fields.update(input_beta_multiplier=p["input_multiplier"],
                      input_beta_left_shift=p["input_left_shift"], diff_min=p["diff_min"])
    return Call(f"softmax_{'s8' if int8 else 'f32'}", node.name, node.op_type, fields, [x], [y])


def requantize_call(graph: Graph, node: Node, int8: bool) -> Call:
    x, y = node.inputs[0], node.outputs[0]
    return Call("requantize_s8", node.name, node.op_type, {
        "count": graph.tensors[y].size, "input_zero_point": _zp(graph, x),
        "output_zero_point": _zp(graph, y), "multiplier": node.attrs["multiplier"],
        "shift": node.attrs["shift"]}, [x], [y], inplace=True)


def quantize_call(graph: Graph, node: Node, int8: bool) -> Call:
    x, y = node.inputs[0], node.outputs[0]
    q = graph.tensors[y if node.op_type == "QuantizeLinear" else x].quant
    return Call("quantize" if node.op_type == "QuantizeLinear" else "dequantize", node.name,
                node.op_type, {"count": graph.tensors[y].size, "scale": float(q.scale),
                               "zero_point": int(q.zero_point)}, [x], [y])


def concat_call(graph: Graph, node: Node, int8: bool) -> Call:
    axis = node.attrs["axis"]
    shape = graph.tensors[node.outputs[0]].shape
    inner = [int(np.prod(graph.tensors[n].shape[axis:])) for n in node.inputs]
    return Call(f"concat_{'s8' if int8 else 'f32'}", node.name, node.op_type,
                {"outer": int(np.prod(shape[:axis])), "inner": inner},
                list(node.inputs), [node.outputs[0]])


MAX_RANK = 6  # EFFC_MAX_RANK of the layout kernels


def _layout_shape(graph: Graph, node: Node) -> tuple[int, ...]:
    shape = graph.tensors[node.inputs[0]].shape
    if len(shape) > MAX_RANK:
        raise EffcError(f"node '{node.name}' ({node.op_type}) works on {len(shape)} dimensions; "
                        f"the C backend handles up to {MAX_RANK}")
    return shape


def _padded(values: list[int]) -> list[int]:
    return list(values) + [0] * (MAX_RANK - len(values))


def transpose_call(graph: Graph, node: Node, int8: bool) -> Call:
    shape = _layout_shape(graph, node)
    return Call("transpose", node.name, node.op_type, {
        "rank": len(shape), "dims": _padded(list(shape)), "perm": _padded(node.attrs["perm"]),
        "elem_bytes": 1 if int8 else 4}, [node.inputs[0]], [node.outputs[0]])


PAD_MODES = {"constant": "EFFC_PAD_CONSTANT", "reflect": "EFFC_PAD_REFLECT",
             "edge": "EFFC_PAD_EDGE"}


def pad_call(graph: Graph, node: Node, int8: bool) -> Call:
    shape = _layout_shape(graph, node)
    pads, rank, mode = node.attrs["pads"], len(shape), node.attrs.get("mode", "constant")
    if mode == "reflect" and any(d < 2 and pads[i] + pads[i + rank] > 0
                                 for i, d in enumerate(shape)):
        raise EffcError(f"node '{node.name}' (Pad): reflect padding of an axis of size 1 is "
                        "undefined; use mode edge")
    return Call("pad", node.name, node.op_type, {
        "rank": rank, "dims": _padded(list(shape)), "pads_begin": _padded(pads[:rank]),
        "pads_end": _padded(pads[rank:]), "mode": PAD_MODES[mode], "int8": int8,
        "value": node.attrs.get("value_q", 0) if int8 else float(node.attrs["value"])},
        [node.inputs[0]], [node.outputs[0]])


def reshape_call(graph: Graph, node: Node, int8: bool) -> Call:
    return Call("copy", node.name, node.op_type, {"bytes": graph.tensors[node.outputs[0]].nbytes},
                [node.inputs[0]], [node.outputs[0]])


CALLS = {
    "Conv": conv_call, "Winograd": winograd_call, "Dense": dense_call,
    "MaxPool": pool_call, "AveragePool": pool_call, "GlobalAveragePool": pool_call,
    "GlobalMaxPool": pool_call,
    "Add": binary_call, "Sub": binary_call, "Mul": binary_call, "Div": binary_call,
    "PRelu": binary_call,
    "Softmax": softmax_call, "Requantize": requantize_call,
    "QuantizeLinear": quantize_call, "DequantizeLinear": quantize_call,
    "Concat": concat_call, "Reshape": reshape_call, "Transpose": transpose_call,
    "Pad": pad_call,
}

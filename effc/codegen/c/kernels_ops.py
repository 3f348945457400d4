"""IR node -> runtime_c call for the ops issue 17 added (see kernels.py).

Every index table, tap weight, multiplier and stride is computed here; the
templates print them. A node the kernels cannot run is refused in one line.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from effc.codegen.c.kernels import (
    FLOAT_UNARY,
    FLT_MAX,
    MAX_RANK,
    Call,
    _flt,
    _layout_shape,
    _padded,
    _zp,
    broadcast,
    dims4,
)
from effc.errors import EffcError
from effc.ir import Graph, Node
from effc.ops.activation import FUNCTIONS as ACTIVATIONS


def _elem_bytes(graph: Graph, name: str) -> int:
    return int(np.dtype(graph.tensors[name].dtype).itemsize)


def _refuse(node: Node, what: str) -> EffcError:
    return EffcError(f"node '{node.name}' ({node.op_type}): {what} has no C kernel; compile "
                     "without --board (the reference runs it)")


def slice_call(graph: Graph, node: Node, int8: bool) -> Call:
    shape = _layout_shape(graph, node)
    a = node.attrs
    return Call("slice", node.name, node.op_type, {
        "rank": len(shape), "dims": _padded(list(shape)), "starts": _padded(a["starts"]),
        "steps": _padded(a["steps"]),
        "out_dims": _padded(list(graph.tensors[node.outputs[0]].shape)),
        "elem_bytes": _elem_bytes(graph, node.inputs[0])}, [node.inputs[0]], list(node.outputs))


def split_call(graph: Graph, node: Node, int8: bool) -> Call:
    shape = list(_layout_shape(graph, node))
    axis, start, parts = node.attrs["axis"], 0, []
    for size in node.attrs["split"]:
        out = list(shape)
        out[axis] = size
        starts = [0] * len(shape)
        starts[axis] = start
        parts.append({"starts": _padded(starts), "out_dims": _padded(out)})
        start += size
    return Call("split", node.name, node.op_type, {
        "rank": len(shape), "dims": _padded(shape), "steps": _padded([1] * len(shape)),
        "parts": parts, "elem_bytes": _elem_bytes(graph, node.inputs[0])},
        [node.inputs[0]], list(node.outputs))


def gather_call(graph: Graph, node: Node, int8: bool) -> Call:
    data, indices = (graph.tensors[n] for n in node.inputs)
    axis = node.attrs["axis"]
    if not indices.is_constant:
        if not data.is_constant:
            raise _refuse(node, "a gather of a computed value by computed indices")
        call = Call("gather_indexed", node.name, node.op_type, {
            "outer": int(np.prod(data.shape[:axis])), "axis_dim": data.shape[axis],
            "inner": int(np.prod(data.shape[axis + 1:])), "count": indices.size,
            "index_bytes": _elem_bytes(graph, node.inputs[1]),
            "elem_bytes": _elem_bytes(graph, node.inputs[0])},
            [node.inputs[1]], [node.outputs[0]])
        ctype = "int8_t" if data.dtype == "int8" else "float"
        call.tables["table"] = (np.asarray(data.data).reshape(-1), ctype)
        return call
    if data.is_constant:
        raise _refuse(node, "a gather of a constant by constant indices")
    call = Call("gather", node.name, node.op_type, {
        "outer": int(np.prod(data.shape[:axis])), "axis_dim": data.shape[axis],
        "inner": int(np.prod(data.shape[axis + 1:])), "count": indices.size,
        "elem_bytes": _elem_bytes(graph, node.inputs[0])}, [node.inputs[0]], [node.outputs[0]])
    call.tables["indices"] = (np.asarray(indices.data, np.int64).reshape(-1).astype(np.int32),
                              "int32_t")
    return call


def tile_call(graph: Graph, node: Node, int8: bool) -> Call:
    out = list(graph.tensors[node.outputs[0]].shape)
    if len(out) > MAX_RANK:
        raise _refuse(node, f"a rank-{len(out)} output")
    shape = list(graph.tensors[node.inputs[0]].shape)
    shape = [1] * (len(out) - len(shape)) + shape
    return Call("tile", node.name, node.op_type, {
        "rank": len(out), "dims": _padded(shape), "out_dims": _padded(out),
        "elem_bytes": _elem_bytes(graph, node.inputs[0])}, [node.inputs[0]], [node.outputs[0]])


def arg_call(graph: Graph, node: Node, int8: bool) -> Call:
    shape = graph.tensors[node.inputs[0]].shape
    axis = node.attrs["axis"]
    return Call(f"arg_{'s8' if int8 else 'f32'}", node.name, node.op_type, {
        "outer": int(np.prod(shape[:axis])), "axis_dim": shape[axis],
        "inner": int(np.prod(shape[axis + 1:])), "is_min": int(node.op_type == "ArgMin"),
        "select_last": node.attrs["select_last_index"]}, [node.inputs[0]], [node.outputs[0]])


REDUCE_KINDS = {"ReduceSum": "EFFC_REDUCE_SUM", "ReduceMean": "EFFC_REDUCE_MEAN",
                "ReduceMax": "EFFC_REDUCE_MAX", "ReduceMin": "EFFC_REDUCE_MIN",
                "ReduceProd": "EFFC_REDUCE_PROD", "ReduceL1": "EFFC_REDUCE_L1",
                "ReduceL2": "EFFC_REDUCE_L2", "ReduceSumSquare": "EFFC_REDUCE_SUM_SQUARE",
                "ReduceLogSum": "EFFC_REDUCE_LOG_SUM"}


def reduce_call(graph: Graph, node: Node, int8: bool) -> Call:
    from effc.quant.reduce import mean_multiplier

    shape = _layout_shape(graph, node)
    axes = node.attrs["axes"]
    kept = [d if i not in axes else 1 for i, d in enumerate(shape)]
    strides, step = [0] * len(shape), 1
    for i in range(len(shape) - 1, -1, -1):
        strides[i] = 0 if i in axes else step
        step *= kept[i]
    count = int(np.prod([shape[a] for a in axes]))
    fields: dict[str, Any] = {
        "rank": len(shape), "dims": _padded(list(shape)), "out_strides": _padded(strides),
        "out_count": int(np.prod(kept)), "reduce_count": count,
        "kind": REDUCE_KINDS[node.op_type]}
    if int8 and node.op_type in ("ReduceMean", "ReduceSum"):
        m, s = node.attrs["multiplier"], node.attrs["shift"]
        if node.op_type == "ReduceMean":
            m, s = mean_multiplier(m, s, count)
        fields["quant"] = [_zp(graph, node.inputs[0]), _zp(graph, node.outputs[0]), m, s]
    return Call(f"reduce_{'s8' if int8 else 'f32'}", node.name, node.op_type, fields,
                [node.inputs[0]], [node.outputs[0]])


def _batch_strides(shape: tuple[int, ...], batch: list[int]) -> list[int]:
    """Element strides of an operand's batch axes (4, outermost first; 0: broadcast)."""
    own = [1] * (4 - (len(shape) - 2)) + list(shape[:-2])
    step, strides = shape[-2] * shape[-1], [0] * 4
    for i in range(3, -1, -1):
        strides[i] = 0 if own[i] == 1 and batch[i] != 1 else step
        step *= own[i]
    return strides


def matmul_call(graph: Graph, node: Node, int8: bool) -> Call:
    a, b = (graph.tensors[n].shape for n in node.inputs)
    out = graph.tensors[node.outputs[0]].shape
    if len(out) > 6:
        raise _refuse(node, "more than four batch axes")
    batch = [1] * (4 - (len(out) - 2)) + list(out[:-2])
    fields: dict[str, Any] = {"batch_dims": batch, "a_strides": _batch_strides(a, batch),
                              "b_strides": _batch_strides(b, batch), "m": a[-2], "k": a[-1],
                              "n": b[-1]}
    if int8:
        fields["quant"] = [_zp(graph, node.inputs[0]), _zp(graph, node.inputs[1]),
                           _zp(graph, node.outputs[0]), node.attrs["multiplier"],
                           node.attrs["shift"]]
    constants = [n for n in node.inputs if graph.tensors[n].is_constant]
    return Call(f"matmul_{'s8' if int8 else 'f32'}", node.name, node.op_type, fields,
                [n for n in node.inputs if n not in constants], [node.outputs[0]], constants)


def tconv_call(graph: Graph, node: Node, int8: bool) -> Call:
    x, w, y = node.inputs[0], node.inputs[1], node.outputs[0]
    a = node.attrs
    ws = graph.tensors[w].shape
    one_d = len(a["kernel_shape"]) == 1
    k = [1, *a["kernel_shape"]] if one_d else a["kernel_shape"]
    s = [1, *a["strides"]] if one_d else a["strides"]
    d = [1, *a["dilations"]] if one_d else a["dilations"]
    n = len(a["kernel_shape"])
    pads = [0, a["pads"][0]] if one_d else a["pads"][:n]
    fields: dict[str, Any] = {
        "stride_h": s[0], "stride_w": s[1], "dilation_h": d[0], "dilation_w": d[1],
        "pad_top": pads[0], "pad_left": pads[1], "groups": a["group"],
        "input_dims": dims4(graph.tensors[x].shape), "output_dims": dims4(graph.tensors[y].shape),
        "filter_dims": [ws[0], k[0], k[1], ws[-1]],
        "bias": node.inputs[2] if len(node.inputs) > 2 else None}
    if int8:
        fields.update(input_zero_point=_zp(graph, x), output_zero_point=_zp(graph, y),
                      activation_min=a["activation_min"], activation_max=a["activation_max"],
                      multiplier=a["multiplier"], shift=a["shift"])
    else:
        fields.update(activation_min=_flt(a.get("activation_min"), -FLT_MAX),
                      activation_max=_flt(a.get("activation_max"), FLT_MAX))
    weights = [w] + ([fields["bias"]] if fields["bias"] else [])
    return Call(f"tconv_{'s8' if int8 else 'f32'}", node.name, node.op_type, fields, [x], [y],
                weights)


def resize_call(graph: Graph, node: Node, int8: bool) -> Call:
    from effc.quant.interpolate import axis_plan, resize_view
    from effc.quant.resize import bilinear_axis

    x, y = node.inputs[0], node.outputs[0]
    shape = graph.tensors[x].shape
    a = node.attrs
    view = resize_view(shape, a)
    if view is None:
        raise _refuse(node, "a resize of more than two axes, or of two that are not neighbours")
    in_dims, out_dims, plan = view
    fields: dict[str, Any] = {"input_dims": in_dims, "output_dims": out_dims,
                              "elem_bytes": _elem_bytes(graph, x),
                              "extrapolation_value": float(a.get("extrapolation_value", 0.0))}
    call = Call("resize_nearest", node.name, node.op_type, fields, [x], [y])
    for axis, name in zip(plan, ("rows", "cols"), strict=True):
        if axis is None:  # a row of 1
            index, weight, outside = np.zeros((1, 1), np.int64), None, None
        else:
            index, weight, outside = axis_plan(shape[axis], a["sizes"][axis], axis, len(shape),
                                               a)
        if a["mode"] == "linear" and int8:
            size, out = (1, 1) if axis is None else (shape[axis], a["sizes"][axis])
            lo, hi, coord = bilinear_axis(size, out, a["coordinate_transformation_mode"])
            call.macro = "resize_bilinear_s8"
            for key, values in (("lo", lo), ("hi", hi), ("coord", coord)):
                call.tables[f"{name}_{key}"] = (values, "int32_t")
        elif weight is None:
            if outside is not None and outside.any():
                raise _refuse(node, "nearest tf_crop_and_resize with extrapolated outputs")
            call.tables[name] = (index[:, 0].astype(np.int32), "int32_t")
        else:
            if outside is not None:
                index = np.where(outside[:, None], -1, index)
            call.macro = "resize_f32"
            fields[f"{name}_taps"] = index.shape[1]
            call.tables[f"{name}_index"] = (index.reshape(-1).astype(np.int32), "int32_t")
            call.tables[f"{name}_weight"] = (weight.reshape(-1).astype(np.float32), "float")
    if call.macro == "resize_f32":  # a nearest axis next to a linear one: one tap each
        for name in ("rows", "cols"):
            if f"{name}_taps" not in fields:
                table = call.tables.pop(name)[0]
                fields[f"{name}_taps"] = 1
                call.tables[f"{name}_index"] = (table, "int32_t")
                call.tables[f"{name}_weight"] = (np.ones(table.size, np.float32), "float")
    return call


def _recurrent_s8_params(node: Node) -> list[Any]:
    """effc_lstm_s8_params / effc_gru_s8_params in struct order (effc/quant/lstm.py, gru.py)."""
    from effc.quant.lstm import lstm_tanh_params

    a = node.attrs
    p = a[node.op_type.lower()]
    fc = [[m for m, _ in p["input_fc"]], [s for _, s in p["input_fc"]],
          [m for m, _ in p["recurrent_fc"]], [s for _, s in p["recurrent_fc"]]]
    if node.op_type == "LSTM":
        return [*fc, *p["forget_mul"], *p["input_mul"], *p["output_mul"],
                *lstm_tanh_params(p["cell_power"]), p["input_zero_point"],
                p["hidden_zero_point"], int(a.get("reverse", 0))]
    return [*fc, *p["gate_mul"], *p["to_state"], *p["to_hidden"], *p["reset_mul"],
            p["input_zero_point"], p["hidden_zero_point"],
            int(a.get("linear_before_reset", 0)), int(a.get("reverse", 0))]


def recurrent_call(graph: Graph, node: Node, int8: bool) -> Call:
    x = graph.tensors[node.inputs[0]].shape
    hidden = graph.tensors[node.inputs[2]].shape[-1]
    a = node.attrs
    fields: dict[str, Any] = {"dims": [x[0], x[1], x[2], hidden], "reverse": a.get("reverse", 0)}
    op = node.op_type.lower()
    if int8:
        fields["params"] = _recurrent_s8_params(node)
        return Call(f"{op}_s8", node.name, node.op_type, fields, [node.inputs[0]],
                    list(node.outputs), list(node.inputs[1:]))
    defaults = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}
    rnn = {"Tanh": "EFFC_RNN_TANH", "Relu": "EFFC_RNN_RELU", "Sigmoid": "EFFC_RNN_SIGMOID"}
    names = list(a["activations"])
    if (node.op_type in defaults and names != defaults[node.op_type]) or (
            node.op_type == "RNN" and names[0] not in rnn):
        raise _refuse(node, f"activations {names}")
    fields.update(clip=float(a.get("clip", 0.0)), input_forget=a.get("input_forget", 0),
                  linear_before_reset=a.get("linear_before_reset", 0),
                  activation=rnn.get(names[0], "EFFC_RNN_TANH"),
                  peephole=node.op_type == "LSTM" and len(node.inputs) > 6)
    call = Call(f"{op}_f32", node.name, node.op_type, fields, [node.inputs[0]],
                list(node.outputs), list(node.inputs[1:]))
    if a.get("seq_lens"):
        call.tables["seq_lens"] = (np.asarray(a["seq_lens"], np.int32), "int32_t")
    return call


UNARY_KINDS = {"Sqrt": "SQRT", "Reciprocal": "RECIPROCAL", "Erf": "ERF", "Log": "LOG",
               "Floor": "FLOOR", "Ceil": "CEIL", "Round": "ROUND", "Sign": "SIGN",
               "Mish": "MISH", "Swish": "SWISH", "Celu": "CELU",
               "ThresholdedRelu": "THRESHOLDED_RELU", "Elu": "ELU", "Softplus": "SOFTPLUS",
               "Softsign": "SOFTSIGN", "Neg": "NEG", "Abs": "ABS", "Exp": "EXP"}


def unary_kind_call(graph: Graph, node: Node) -> Call:
    """The float functions of effc_unary_f32 (the int8 forms are tables)."""
    op = node.op_type
    kind = UNARY_KINDS.get(op)
    if op == "Gelu":
        kind = "GELU_TANH" if node.attrs.get("approximate") == "tanh" else "GELU"
    alpha = float(node.attrs.get("alpha", 1.0))
    return Call("unary_kind_f32", node.name, op, {
        "kind": f"EFFC_UNARY_{kind}", "alpha": alpha,
        "count": graph.tensors[node.outputs[0]].size}, [node.inputs[0]], [node.outputs[0]],
        inplace=True)


def minmax_pow_call(graph: Graph, node: Node, int8: bool) -> Call:
    from effc.codegen.c.kernels import binary_call

    a, b, y = node.inputs[0], node.inputs[1], node.outputs[0]
    if int8 and node.op_type == "Pow":
        return Call("lut_s8", node.name, node.op_type, {
            "count": graph.tensors[y].size, "table": node.attrs["lut"]}, [a], [y], inplace=True)
    if not int8:
        return binary_call(graph, node, int8)
    fields = broadcast(graph.tensors[y].shape, graph.tensors[a].shape, graph.tensors[b].shape)
    fields["kind"] = node.op_type.lower()
    weights = [n for n in (a, b) if graph.tensors[n].is_constant]
    return Call("select_binary_s8", node.name, node.op_type, fields,
                [n for n in (a, b) if n not in weights], [y], weights,
                inplace=graph.tensors[a].shape == graph.tensors[y].shape)


def unary_call(graph: Graph, node: Node, int8: bool) -> Call:
    x, y = node.inputs[0], node.outputs[0]
    count = graph.tensors[y].size
    if int8:
        return Call("lut_s8", node.name, node.op_type, {"count": count,
                    "table": node.attrs["lut"]}, [x], [y], inplace=True)
    if node.op_type not in FLOAT_UNARY:  # dispatch.has_kernel checked it has one
        return unary_kind_call(graph, node)
    a = node.attrs
    fields: dict[str, Any] = {"count": count, "kind": node.op_type}
    if node.op_type == "Clip":
        fields["args"] = [_flt(a.get("min"), -FLT_MAX), _flt(a.get("max"), FLT_MAX)]
    elif node.op_type == "LeakyRelu":
        fields["args"] = [a.get("alpha", 0.01)]
    elif node.op_type == "HardSigmoid":
        fields["args"] = [a.get("alpha", 0.2), a.get("beta", 0.5)]
    elif node.op_type == "Selu":
        fields["args"] = [a.get("alpha", 1.67326319217681884765625),
                          a.get("gamma", 1.05070102214813232421875)]
    elif node.op_type == "Elu":
        fields["args"] = [a.get("alpha", 1.0)]
    else:
        fields["args"] = []
    return Call("unary_f32", node.name, node.op_type, fields, [x], [y], inplace=True)


CALLS = {
    **{op: unary_call for op in ACTIVATIONS},
    "Slice": slice_call, "Split": split_call, "Gather": gather_call, "Expand": tile_call,
    "Tile": tile_call, "ArgMax": arg_call, "ArgMin": arg_call,
    **dict.fromkeys(REDUCE_KINDS, reduce_call),
    "MatMul": matmul_call, "ConvTranspose": tconv_call, "Resize": resize_call,
    "LSTM": recurrent_call, "GRU": recurrent_call, "RNN": recurrent_call,
    "Min": minmax_pow_call, "Max": minmax_pow_call, "Pow": minmax_pow_call,
}

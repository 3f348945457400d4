"""Conv: 1-D and 2-D convolution, grouped and depthwise, channels-last.

IR form: x [N, *S, C_in], w [C_out, *K, C_in/group] (OHWI), optional bias
[C_out]. Attributes: kernel_shape, strides, dilations, pads ([begins, ends]),
group, and optional fused clamps activation_min/activation_max (float for a
float node, int8 for an int8 node).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register
from effc.ops._window import (
    as_2d,
    as_2d_params,
    output_spatial,
    pad_spatial,
    resolve_pads,
    window_attrs,
    windows,
)


def conv_float(
    x: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray | None,
    kernel: list[int],
    strides: list[int],
    dilations: list[int],
    pads: list[int],
    group: int,
) -> np.ndarray:
    """Float convolution in float64 (N S... C input, OHWI weights)."""
    squeeze = x.ndim == 3
    k2, s2, d2, p2 = as_2d_params(kernel, strides, dilations, pads)
    x2 = pad_spatial(as_2d(x).astype(np.float64), p2)
    w2 = w.reshape(w.shape[0], *k2, w.shape[-1]).astype(np.float64)
    out_hw = output_spatial(as_2d(x).shape[1:3], k2, s2, d2, p2)
    win = windows(x2, k2, s2, d2, out_hw)  # N OH OW KH KW C
    n, oh, ow, kh, kw, c = win.shape
    cin_g = c // group
    cout_g = w.shape[0] // group
    win = win.reshape(n, oh, ow, kh, kw, group, cin_g)
    wg = w2.reshape(group, cout_g, kh, kw, cin_g)
    y = np.einsum("nhwijgc,goijc->nhwgo", win, wg, optimize=True)
    y = y.reshape(n, oh, ow, group * cout_g)
    if bias is not None:
        y = y + bias.astype(np.float64)
    return y[:, 0] if squeeze else y


def clamp(y: np.ndarray, attrs: dict[str, Any]) -> np.ndarray:
    lo, hi = attrs.get("activation_min"), attrs.get("activation_max")
    if lo is not None or hi is not None:
        y = np.clip(y, lo, hi)
    return y


@register
class Conv(Op):
    op_type = "Conv"
    onnx_types = {"Conv": 22}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        attrs = ctx.attrs(onnx_node)
        x, w_name = onnx_node.input[0], onnx_node.input[1]
        w = ctx.require_const(w_name, "weight").astype(np.float32)
        rank = len(ctx.shape(x))
        if rank not in (3, 4):
            raise ctx.error(f"{rank - 2}-D convolution", "effc supports 1-D and 2-D Conv")
        n_sp = rank - 2
        kernel = list(attrs.get("kernel_shape") or w.shape[2:])
        geo = window_attrs(attrs, n_sp)
        group = int(attrs.get("group", 1))
        in_c = ctx.shape(x)[1]
        if w.shape[1] * group != in_c or w.shape[0] % group:
            raise ctx.error(
                f"weight shape {list(w.shape)} with group {group} does not fit "
                f"{in_c} input channels", "fix the model's shapes")
        pads = resolve_pads(attrs.get("auto_pad", "NOTSET"), geo["pads"],
                            ctx.shape(x)[2:], kernel, geo["strides"], geo["dilations"])
        inputs = [ctx.constant(w_name + "_ohwi", np.moveaxis(w, 1, -1),
                               quant=_weight_hint(ctx, w_name))]
        if len(onnx_node.input) > 2 and onnx_node.input[2]:
            bias = ctx.require_const(onnx_node.input[2], "bias").astype(np.float32)
            inputs.append(ctx.constant(onnx_node.input[2], bias))
        ctx.channels_last_op(
            "Conv", x, inputs, onnx_node.output[0],
            {"kernel_shape": kernel, "strides": geo["strides"],
             "dilations": geo["dilations"], "pads": pads, "group": group},
        )

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        w = graph.tensors[node.inputs[1]]
        a = node.attrs
        spatial = output_spatial(x.shape[1:-1], a["kernel_shape"], a["strides"],
                                 a["dilations"], a["pads"], what=f"Conv '{node.name}'")
        return [((x.shape[0], *spatial, w.shape[0]), x.dtype)]

    def macs(self, node: Node, graph: Graph) -> int:
        y = graph.tensors[node.outputs[0]]
        w = graph.tensors[node.inputs[1]]
        return y.size * int(np.prod(w.shape[1:]))

    def run_float(self, node, graph, xs):
        a = node.attrs
        bias = xs[2] if len(xs) > 2 else None
        y = conv_float(xs[0], xs[1], bias, a["kernel_shape"], a["strides"],
                       a["dilations"], a["pads"], a["group"])
        return [clamp(y, a).astype(np.float32)]

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import conv_int8

        a = node.attrs
        bias = xs[2] if len(xs) > 2 else None
        x = graph.tensors[node.inputs[0]]
        y = graph.tensors[node.outputs[0]]
        return [conv_int8(
            xs[0], xs[1], bias, strides=a["strides"], dilations=a["dilations"],
            pads=a["pads"], group=a["group"],
            input_zero_point=int(x.quant.zero_point), output_zero_point=int(y.quant.zero_point),
            multiplier=np.asarray(a["multiplier"]), shift=np.asarray(a["shift"]),
            activation_min=a["activation_min"], activation_max=a["activation_max"])]

    def to_onnx(self, node, graph, builder) -> None:
        export_conv(node, builder, node.inputs[2] if len(node.inputs) > 2 else None)


def export_conv(node: Node, builder, bias: str | None) -> None:
    """An ONNX Conv (channels-first, around the transposes) computing ``node``
    from its input 0 and OHWI weights 1 (a Winograd node exports this way too)."""
    a = node.attrs
    w_nchw = builder.weight(node.inputs[1], lambda w: np.moveaxis(w, -1, 1), axis=0)
    inputs = [builder.to_channels_first(node.inputs[0]), w_nchw]
    if bias:
        inputs.append(builder.float_input(bias))
    y_cf = builder.fresh(node.outputs[0] + "_nchw")
    builder.emit("Conv", inputs, [y_cf], kernel_shape=a["kernel_shape"],
                 strides=a["strides"], dilations=a["dilations"], pads=a["pads"],
                 group=a["group"])
    y_cf = builder.clamp(y_cf, a, node.outputs[0])
    builder.to_channels_last(y_cf, node.outputs[0])


def _weight_hint(ctx, w_name: str):
    """Carry a DequantizeLinear weight quantization over to the OHWI weights."""
    tensor = ctx.graph.tensors.get(w_name)
    quant = tensor.quant if tensor is not None else None
    if quant is not None and quant.axis is not None:
        quant = type(quant)(quant.scale, quant.zero_point, 0 if quant.axis == 0 else None)
    return quant

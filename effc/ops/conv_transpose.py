"""ConvTranspose (1-D and 2-D, grouped), channels-last.

IR form: x [N, *S, C_in], w [C_out, *K, C_in / group] (OHWI, as TFLite's
TRANSPOSE_CONV filter), optional bias [C_out]. Attributes: kernel_shape, strides,
dilations, pads ([begins, ends]; negative when ONNX's output_shape asks for more
than the scatter covers), output_padding, group, optional fused clamps. Output
size per axis: ``(in - 1) * stride + (k - 1) * dilation + 1 + output_padding -
pad_begin - pad_end``. ONNX's auto_pad and output_shape are resolved to pads at
import. Int8: TFLite Micro's per-channel TRANSPOSE_CONV (effc/quant/conv_transpose.py).
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register
from effc.ops.conv import clamp


def output_size(size: int, k: int, s: int, d: int, out_pad: int, pb: int, pe: int) -> int:
    return (size - 1) * s + (k - 1) * d + 1 + out_pad - pb - pe


def _pads(ctx, attrs: dict, in_spatial: tuple[int, ...], kernel: list[int],
          strides: list[int], dilations: list[int], out_pad: list[int]) -> list[int]:
    """ONNX's pads of a ConvTranspose after output_shape and auto_pad."""
    n = len(in_spatial)
    auto_pad = attrs.get("auto_pad", "NOTSET")
    target = attrs.get("output_shape")
    if target is None and auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        target = [d * s for d, s in zip(in_spatial, strides, strict=True)]
    if target is None:
        return list(attrs.get("pads") or [0] * (2 * n)) if auto_pad != "VALID" else [0] * 2 * n
    target = list(target)[-n:]
    begins, ends = [], []
    for i in range(n):
        total = output_size(in_spatial[i], kernel[i], strides[i], dilations[i], out_pad[i], 0,
                            0) - target[i]
        small, large = total // 2, total - total // 2
        begins.append(small if auto_pad == "SAME_UPPER" else large)
        ends.append(large if auto_pad == "SAME_UPPER" else small)
    return begins + ends


@register
class ConvTranspose(Op):
    op_type = "ConvTranspose"
    onnx_types = {"ConvTranspose": 22}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        attrs = ctx.attrs(onnx_node)
        x, w_name = onnx_node.input[0], onnx_node.input[1]
        w = ctx.require_const(w_name, "weight").astype(np.float32)
        rank = len(ctx.shape(x))
        if rank not in (3, 4):
            raise ctx.error(f"{rank - 2}-D transposed convolution",
                            "effc supports 1-D and 2-D ConvTranspose")
        n = rank - 2
        group = int(attrs.get("group", 1))
        c_in = ctx.shape(x)[1]
        if w.shape[0] != c_in or c_in % group:
            raise ctx.error(f"weight shape {list(w.shape)} with group {group} does not fit "
                            f"{c_in} input channels", "fix the model's shapes")
        kernel = list(attrs.get("kernel_shape") or w.shape[2:])
        strides = list(attrs.get("strides") or [1] * n)
        dilations = list(attrs.get("dilations") or [1] * n)
        out_pad = list(attrs.get("output_padding") or [0] * n)
        pads = _pads(ctx, attrs, ctx.shape(x)[2:], kernel, strides, dilations, out_pad)
        # ONNX [C_in, C_out / g, *K] -> OHWI [C_out, *K, C_in / g]
        cout_g = w.shape[1]
        wg = w.reshape(group, c_in // group, cout_g, *kernel)
        ohwi = np.moveaxis(wg, 1, -1).reshape(group * cout_g, *kernel, c_in // group)
        quant = ctx.graph.tensors[w_name].quant
        if quant is not None and quant.axis is not None:
            if quant.axis != 1 or group != 1:
                raise ctx.error("weights quantized per channel along an axis other than the "
                                "output channels", "quantize per output channel (axis 1)")
            quant = type(quant)(quant.scale, quant.zero_point, 0)
        inputs = [ctx.constant(w_name + "_ohwi", np.ascontiguousarray(ohwi), quant=quant)]
        if len(onnx_node.input) > 2 and onnx_node.input[2]:
            inputs.append(ctx.constant(onnx_node.input[2], ctx.require_const(
                onnx_node.input[2], "bias").astype(np.float32)))
        ctx.channels_last_op("ConvTranspose", x, inputs, onnx_node.output[0],
                             {"kernel_shape": kernel, "strides": strides, "dilations": dilations,
                              "pads": pads, "output_padding": out_pad, "group": group})

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        w = graph.tensors[node.inputs[1]]
        a = node.attrs
        n = len(a["kernel_shape"])
        spatial = tuple(output_size(x.shape[1 + i], a["kernel_shape"][i], a["strides"][i],
                                    a["dilations"][i], a["output_padding"][i], a["pads"][i],
                                    a["pads"][i + n]) for i in range(n))
        return [((x.shape[0], *spatial, w.shape[0]), x.dtype)]

    def macs(self, node: Node, graph: Graph) -> int:
        x = graph.tensors[node.inputs[0]]
        w = graph.tensors[node.inputs[1]]
        return x.size * w.size // (w.shape[-1] * node.attrs["group"])

    def run_float(self, node, graph, xs):
        from effc.quant.conv_transpose import transpose_conv_sums

        a = node.attrs
        out = graph.tensors[node.outputs[0]].shape
        y = transpose_conv_sums(xs[0].astype(np.float64), xs[1], a["strides"], a["dilations"],
                                a["pads"][:len(a["strides"])], out[1:-1], a["group"])
        if len(xs) > 2:
            y = y + xs[2].astype(np.float64)
        return [clamp(y, a).astype(np.float32)]

    def run_int(self, node, graph, xs):
        from effc.quant.conv_transpose import transpose_conv_int8

        a = node.attrs
        x, y = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
        return [transpose_conv_int8(
            xs[0], xs[1], xs[2] if len(xs) > 2 else None, strides=a["strides"],
            dilations=a["dilations"], pads_begin=a["pads"][:len(a["strides"])],
            out_spatial=y.shape[1:-1], group=a["group"],
            input_zero_point=int(x.quant.zero_point), output_zero_point=int(y.quant.zero_point),
            multiplier=np.asarray(a["multiplier"]), shift=np.asarray(a["shift"]),
            activation_min=a["activation_min"], activation_max=a["activation_max"])]

    def to_onnx(self, node, graph, builder) -> None:
        a = node.attrs
        group = a["group"]

        def onnx_layout(w: np.ndarray) -> np.ndarray:
            cout_g = w.shape[0] // group
            wg = w.reshape(group, cout_g, *w.shape[1:])
            return np.moveaxis(wg, -1, 1).reshape(-1, cout_g, *w.shape[1:-1])

        if group == 1:
            weight = builder.weight(node.inputs[1], onnx_layout, axis=1)
        else:  # per output channel is no single axis of ONNX's grouped layout: float weights
            weight = builder.initializer(node.inputs[1],
                                         onnx_layout(builder.value(node.inputs[1])))
        inputs = [builder.to_channels_first(node.inputs[0]), weight]
        if len(node.inputs) > 2:
            inputs.append(builder.float_input(node.inputs[2]))
        y_cf = builder.fresh(node.outputs[0] + "_nchw")
        builder.emit("ConvTranspose", inputs, [y_cf], kernel_shape=a["kernel_shape"],
                     strides=a["strides"], dilations=a["dilations"], pads=a["pads"],
                     output_padding=a["output_padding"], group=group)
        y_cf = builder.clamp(y_cf, a, node.outputs[0])
        builder.to_channels_last(y_cf, node.outputs[0])

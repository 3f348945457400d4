"""MaxPool, AveragePool and the global pools, channels-last.

IR form: x [N, *S, C]. Attributes for the windowed pools: kernel_shape,
strides, dilations, pads ([begins, ends]), ceil_mode, and for AveragePool
count_include_pad. Global pools keep the spatial axes with size 1.
"""

from __future__ import annotations

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


def _pool_windows(
    x: np.ndarray, attrs: dict, fill: float, ceil_fill: float | None = None
) -> tuple[np.ndarray, bool]:
    """Windows N OH OW KH KW C; ``fill`` pads, ``ceil_fill`` the ceil_mode overhang."""
    k2, s2, d2, p2 = as_2d_params(attrs["kernel_shape"], attrs["strides"],
                                  attrs["dilations"], attrs["pads"])
    x2 = as_2d(x)
    out_hw = output_spatial(x2.shape[1:3], k2, s2, d2, p2, bool(attrs.get("ceil_mode", 0)))
    padded = pad_spatial(x2, p2, fill)
    extra = [
        max(0, (out_hw[i] - 1) * s2[i] + (k2[i] - 1) * d2[i] + 1 - padded.shape[1 + i])
        for i in range(2)
    ]
    if any(extra):
        padded = pad_spatial(padded, [0, 0, *extra], fill if ceil_fill is None else ceil_fill)
    return windows(padded, k2, s2, d2, out_hw), x.ndim == 3


def _window_counts(spatial: tuple[int, ...], attrs: dict, include_pad: bool) -> np.ndarray:
    """How many elements each window covers: in-bounds taps, or with ``include_pad``
    the taps inside the padded input (ONNX count_include_pad)."""
    ones = np.ones((1, *spatial, 1))
    win, _ = _pool_windows(ones, attrs, float(include_pad), 0.0)
    return win.sum(axis=(3, 4))


class _WindowPool(Op):
    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        attrs = ctx.attrs(onnx_node)
        x = onnx_node.input[0]
        if len(onnx_node.output) > 1 and onnx_node.output[1]:
            raise ctx.error("the Indices output is used", "effc supports MaxPool values only")
        rank = len(ctx.shape(x))
        if rank not in (3, 4):
            raise ctx.error(f"{rank - 2}-D pooling", "effc supports 1-D and 2-D pooling")
        kernel = list(attrs["kernel_shape"])
        geo = window_attrs(attrs, rank - 2)
        pads = resolve_pads(attrs.get("auto_pad", "NOTSET"), geo["pads"], ctx.shape(x)[2:],
                            kernel, geo["strides"], geo["dilations"])
        if attrs.get("storage_order", 0):
            raise ctx.error("storage_order=1", "export MaxPool with row-major order")
        new = {"kernel_shape": kernel, "strides": geo["strides"], "dilations": geo["dilations"],
               "pads": pads, "ceil_mode": int(attrs.get("ceil_mode", 0))}
        if cls.op_type == "AveragePool":
            new["count_include_pad"] = int(attrs.get("count_include_pad", 0))
        ctx.channels_last_op(cls.op_type, x, [], onnx_node.output[0], new)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        a = node.attrs
        spatial = output_spatial(x.shape[1:-1], a["kernel_shape"], a["strides"],
                                 a["dilations"], a["pads"], bool(a.get("ceil_mode", 0)),
                                 what=f"{node.op_type} '{node.name}'")
        return [((x.shape[0], *spatial, x.shape[-1]), x.dtype)]

    def macs(self, node: Node, graph: Graph) -> int:
        return 0

    def to_onnx(self, node, graph, builder) -> None:
        attrs = dict(node.attrs)
        attrs.pop("activation_min", None)
        attrs.pop("activation_max", None)
        if node.op_type == "AveragePool" and all(d == 1 for d in attrs["dilations"]):
            attrs.pop("dilations")  # dilated AveragePool needs opset 19
        y_cf = builder.fresh(node.outputs[0] + "_nchw")
        builder.emit(node.op_type, [builder.to_channels_first(node.inputs[0])], [y_cf], **attrs)
        builder.to_channels_last(y_cf, node.outputs[0])


@register
class MaxPool(_WindowPool):
    op_type = "MaxPool"
    onnx_types = {"MaxPool": 22}
    moves_values = True

    def run_float(self, node, graph, xs):
        win, squeeze = _pool_windows(xs[0], node.attrs, -np.inf)
        y = win.max(axis=(3, 4))
        # A (dilated) window over padding only: the lowest float, as onnxruntime.
        empty = _window_counts(xs[0].shape[1:-1], node.attrs, False) == 0
        y = np.where(empty, np.finfo(np.float32).min, y)
        return [(y[:, 0] if squeeze else y).astype(np.float32)]

    def run_int(self, node, graph, xs):
        # padded taps never win; a window over padding only gives -128 (the lowest)
        win, squeeze = _pool_windows(xs[0].astype(np.int32), node.attrs, -128)
        y = win.max(axis=(3, 4)).astype(np.int8)
        return [y[:, 0] if squeeze else y]


@register
class AveragePool(_WindowPool):
    op_type = "AveragePool"
    onnx_types = {"AveragePool": 22}

    def run_float(self, node, graph, xs):
        x = xs[0].astype(np.float64)
        win, squeeze = _pool_windows(x, node.attrs, 0.0)
        counts = _window_counts(x.shape[1:-1], node.attrs,
                                bool(node.attrs.get("count_include_pad", 0)))
        # A window with nothing to average gives 0, as onnxruntime.
        y = win.sum(axis=(3, 4)) / np.maximum(counts, 1)
        return [(y[:, 0] if squeeze else y).astype(np.float32)]

    def run_int(self, node, graph, xs):
        from effc.quant.int8_pool import avg_pool_int8

        a = node.attrs
        zero_point = int(graph.tensors[node.inputs[0]].quant.zero_point)
        out_spatial = graph.tensors[node.outputs[0]].shape[1:-1]
        return [avg_pool_int8(xs[0], a["kernel_shape"], a["strides"], a["pads"],
                              dilations=a["dilations"], out_spatial=out_spatial,
                              count_include_pad=bool(a.get("count_include_pad", 0)),
                              zero_point=zero_point,
                              activation_min=int(a.get("activation_min", -128)),
                              activation_max=int(a.get("activation_max", 127)))]


class _GlobalPool(Op):
    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        ctx.channels_last_op(cls.op_type, onnx_node.input[0], [], onnx_node.output[0], {})

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        return [((x.shape[0], *[1] * (len(x.shape) - 2), x.shape[-1]), x.dtype)]

    def to_onnx(self, node, graph, builder) -> None:
        y_cf = builder.fresh(node.outputs[0] + "_nchw")
        builder.emit(node.op_type, [builder.to_channels_first(node.inputs[0])], [y_cf])
        builder.to_channels_last(y_cf, node.outputs[0])


@register
class GlobalAveragePool(_GlobalPool):
    op_type = "GlobalAveragePool"
    onnx_types = {"GlobalAveragePool": 22}

    def run_float(self, node, graph, xs):
        axes = tuple(range(1, xs[0].ndim - 1))
        return [xs[0].astype(np.float64).mean(axis=axes, keepdims=True).astype(np.float32)]

    def run_int(self, node, graph, xs):
        from effc.quant.int8_pool import global_avg_pool_int8

        return [global_avg_pool_int8(xs[0])]


@register
class GlobalMaxPool(_GlobalPool):
    op_type = "GlobalMaxPool"
    onnx_types = {"GlobalMaxPool": 22}
    moves_values = True

    def run_float(self, node, graph, xs):
        axes = tuple(range(1, xs[0].ndim - 1))
        return [xs[0].max(axis=axes, keepdims=True)]

    def run_int(self, node, graph, xs):
        axes = tuple(range(1, xs[0].ndim - 1))
        return [xs[0].max(axis=axes, keepdims=True)]

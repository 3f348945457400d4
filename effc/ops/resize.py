"""Resize (and the older Upsample): nearest, linear and cubic interpolation.

IR form: x, attributes ``sizes`` (the output shape), ``scales`` (per axis, the
factor the coordinate transformation divides by), ``mode``,
``coordinate_transformation_mode``, ``nearest_mode``, ``cubic_coeff_a``,
``exclude_outside``, ``extrapolation_value``, ``antialias`` and, for
``tf_crop_and_resize``, ``roi`` ([starts..., ends...] per axis). ONNX's scales or
sizes inputs, ``axes`` and ``keep_aspect_ratio_policy`` are resolved at import.
Resize-10 and Upsample (no coordinate attributes) interpolate with the
``asymmetric`` transformation and the legacy nearest rule onnxruntime keeps for
them (``simple``: floor when upsampling, ceil when downsampling).

The float math is separable: each resized axis is one gather-and-weight pass
(effc/quant/interpolate.py). Int8: nearest copies values (keeps the
quantization); linear follows TFLite's integer RESIZE_BILINEAR
(effc/quant/resize.py).
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register
from effc.quant.interpolate import resize_float

MODES = ("nearest", "linear", "cubic")
COORDINATES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
               "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize")
NEAREST = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple")


def _legacy_attrs(ctx, onnx_node, scales: list[float]) -> dict:
    """Resize-10 and Upsample: asymmetric coordinates, onnxruntime's legacy nearest."""
    mode = ctx.attrs(onnx_node).get("mode", "nearest")
    mode = "linear" if mode in ("bilinear", "linear") else mode
    return {"mode": mode, "coordinate_transformation_mode": "asymmetric",
            "nearest_mode": "simple", "scales": scales}


def _operand(ctx, onnx_node, index: int, what: str) -> list[float] | None:
    if len(onnx_node.input) > index and onnx_node.input[index]:
        value = ctx.require_const(onnx_node.input[index], what).reshape(-1)
        return value.tolist() if value.size else None
    return None


def _expand(values: list, axes: list[int], rank: int, fill) -> list:
    full = [fill(i) for i in range(rank)]
    for value, axis in zip(values, axes, strict=True):
        full[axis] = value
    return full


@register
class Resize(Op):
    op_type = "Resize"
    onnx_types = {"Resize": 19, "Upsample": 10}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        x = onnx_node.input[0]
        shape = list(ctx.shape(x))
        attrs = ctx.attrs(onnx_node)
        legacy = onnx_node.op_type == "Upsample" or ctx.version < 11
        if legacy:
            scales = attrs.get("scales") or _operand(ctx, onnx_node, 1, "scales")
            new = _legacy_attrs(ctx, onnx_node, [float(np.float32(s)) for s in scales])
            sizes = [int(d * s) for d, s in zip(shape, new["scales"], strict=True)]
        else:
            new, sizes = _modern(ctx, onnx_node, attrs, shape)
        if new["mode"] not in MODES or new["coordinate_transformation_mode"] not in COORDINATES \
                or new["nearest_mode"] not in NEAREST:
            raise ctx.error(f"mode {new['mode']}, coordinates "
                            f"{new['coordinate_transformation_mode']}, nearest mode "
                            f"{new['nearest_mode']}", "use the modes ONNX defines")
        if new.get("antialias") and new["mode"] == "nearest":
            raise ctx.error("antialias with mode nearest", "antialias applies to linear/cubic")
        if min(sizes) <= 0:
            raise ctx.error(f"an output of shape {sizes}",
                            "effc compiles tensors with no size-0 dimension")
        new["sizes"] = [int(s) for s in sizes]
        ctx.add_node("Resize", [x], [onnx_node.output[0]], new, name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        return [(tuple(node.attrs["sizes"]), graph.tensors[node.inputs[0]].dtype)]

    def params(self, node: Node, graph: Graph) -> int:
        return 0

    def run_float(self, node, graph, xs):
        return [resize_float(xs[0].astype(np.float64), node.attrs).astype(np.float32)]

    def run_int(self, node, graph, xs):
        if node.attrs["mode"] == "nearest":  # picks values: exact on int8
            return [resize_float(xs[0].astype(np.float64), node.attrs).astype(np.int8)]
        from effc.quant.resize import resize_bilinear_int8

        return [resize_bilinear_int8(xs[0], node.attrs)]

    def through_transpose(self, node, perm, graph):
        inverse = [int(i) for i in np.argsort(perm)]
        attrs = dict(node.attrs)
        for key in ("sizes", "scales"):
            attrs[key] = [node.attrs[key][inverse[i]] for i in range(len(perm))]
        if "roi" in attrs:
            n, roi = len(perm), node.attrs["roi"]
            attrs["roi"] = [roi[inverse[i]] for i in range(n)] + [roi[n + inverse[i]]
                                                                   for i in range(n)]
        return attrs, [list(perm)]

    def to_onnx(self, node, graph, builder) -> None:
        a = dict(node.attrs)
        roi = a.pop("roi", None)
        inputs = [builder.float_input(node.inputs[0]),
                  builder.initializer("roi", np.array(roi or [], np.float32)), "",
                  builder.initializer("sizes", np.array(a.pop("sizes"), np.int64))]
        if a["nearest_mode"] == "simple" or a["coordinate_transformation_mode"] == \
                "tf_half_pixel_for_nn":  # not expressible at opset 19: the scales decide
            inputs[2:] = [builder.initializer("scales", np.array(a["scales"], np.float32))]
            a["nearest_mode"] = "floor" if a["nearest_mode"] == "simple" else a["nearest_mode"]
        a.pop("scales")
        builder.emit("Resize", inputs, [builder.output_name(node.outputs[0])], **a)


def _modern(ctx, onnx_node, attrs: dict, shape: list[int]) -> tuple[dict, list[int]]:
    """Resize-11 and later: roi, scales or sizes, axes, keep_aspect_ratio_policy."""
    rank = len(shape)
    axes = [int(a) + rank if int(a) < 0 else int(a) for a in attrs.get("axes", range(rank))]
    roi = _operand(ctx, onnx_node, 1, "roi")
    scales = _operand(ctx, onnx_node, 2, "scales")
    sizes = _operand(ctx, onnx_node, 3, "sizes")
    new = {"mode": attrs.get("mode", "nearest"),
           "coordinate_transformation_mode": attrs.get("coordinate_transformation_mode",
                                                       "half_pixel"),
           "nearest_mode": attrs.get("nearest_mode", "round_prefer_floor"),
           "cubic_coeff_a": float(attrs.get("cubic_coeff_a", -0.75)),
           "exclude_outside": int(attrs.get("exclude_outside", 0)),
           "extrapolation_value": float(attrs.get("extrapolation_value", 0.0)),
           "antialias": int(attrs.get("antialias", 0))}
    if (scales is None) == (sizes is None):
        raise ctx.error("both or neither of scales and sizes", "give exactly one of them")
    if sizes is not None:
        sizes = _expand([int(s) for s in sizes], axes, rank, lambda i: shape[i])
        factors = [s / d for s, d in zip(sizes, shape, strict=True)]
        policy = attrs.get("keep_aspect_ratio_policy", "stretch")
        if policy != "stretch":
            if policy not in ("not_larger", "not_smaller"):
                raise ctx.error(f"keep_aspect_ratio_policy '{policy}'",
                                "use stretch, not_larger or not_smaller")
            pick = min if policy == "not_larger" else max
            factor = pick(factors[a] for a in axes)
            factors = [factor if i in axes else 1.0 for i in range(rank)]
            sizes = [int(factor * shape[i] + 0.5) if i in axes else shape[i]
                     for i in range(rank)]
    else:
        factors = _expand([float(np.float32(s)) for s in scales], axes, rank, lambda i: 1.0)
        sizes = [int(d * f) for d, f in zip(shape, factors, strict=True)]
    new["scales"] = factors
    if new["coordinate_transformation_mode"] == "tf_crop_and_resize":
        if roi is None:
            raise ctx.error("tf_crop_and_resize without roi", "give the roi input")
        n = len(axes)
        starts = _expand(roi[:n], axes, rank, lambda i: 0.0)
        ends = _expand(roi[n:], axes, rank, lambda i: 1.0)
        new["roi"] = [float(v) for v in starts + ends]
    return new, sizes

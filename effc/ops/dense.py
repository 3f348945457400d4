"""Dense (fully connected): y = x @ w.T + bias over the last axis.

IR form: x [..., in], w [out, in] (the TFLite / CMSIS-NN order), optional
bias [out], optional fused clamps activation_min/activation_max. ONNX MatMul
with a constant right operand and Gemm import as Dense; the frontend folds a
following bias Add into it.
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node, QuantParams
from effc.ops import Op, register
from effc.ops.conv import clamp


@register
class Dense(Op):
    op_type = "Dense"
    onnx_types = {"MatMul": 13, "Gemm": 13}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        attrs = ctx.attrs(onnx_node)
        a, b = onnx_node.input[0], onnx_node.input[1]
        weight = ctx.const(b)
        if weight is None:
            raise ctx.error("the right operand is not a constant",
                            "effc supports MatMul/Gemm with constant weights only")
        weight = weight.astype(np.float32)
        if weight.ndim != 2:
            raise ctx.error(f"weight of rank {weight.ndim}", "use a 2-D weight matrix")
        inputs = [a]
        transposed, alpha = True, 1.0
        if onnx_node.op_type == "Gemm":
            if attrs.get("transA", 0):
                raise ctx.error("transA=1", "transpose the input before Gemm")
            transposed = not attrs.get("transB", 0)
            alpha = float(attrs.get("alpha", 1.0))
            if len(ctx.shape(a)) != 2:
                raise ctx.error(f"input of rank {len(ctx.shape(a))}", "Gemm needs a 2-D input")
        w = (weight.T if transposed else weight) * np.float32(alpha)
        inputs.append(ctx.constant(b + "_dense", np.ascontiguousarray(w, np.float32),
                                   quant=_weight_hint(ctx, b, transposed, alpha)))
        if onnx_node.op_type == "Gemm" and len(onnx_node.input) > 2 and onnx_node.input[2]:
            c = ctx.require_const(onnx_node.input[2], "bias C").astype(np.float32)
            c = c * np.float32(attrs.get("beta", 1.0))
            out = w.shape[0]
            if c.size not in (1, out) or (c.ndim == 2 and c.shape[0] != 1):
                raise ctx.error(f"bias C of shape {list(c.shape)}", "use a bias of shape [out]")
            inputs.append(ctx.constant(onnx_node.input[2] + "_bias",
                                       np.broadcast_to(c.reshape(-1), (out,)).copy()))
        if ctx.shape(a)[-1] != w.shape[1]:
            raise ctx.error(f"input {list(ctx.shape(a))} does not match weight "
                            f"{list(weight.shape)}", "fix the model's shapes")
        ctx.add_node("Dense", inputs, [onnx_node.output[0]], {}, name=onnx_node.name or None)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        w = graph.tensors[node.inputs[1]]
        return [((*x.shape[:-1], w.shape[0]), x.dtype)]

    def macs(self, node: Node, graph: Graph) -> int:
        x = graph.tensors[node.inputs[0]]
        w = graph.tensors[node.inputs[1]]
        return (x.size // x.shape[-1]) * w.shape[0] * w.shape[1]

    def run_float(self, node, graph, xs):
        y = xs[0].astype(np.float64) @ xs[1].astype(np.float64).T
        if len(xs) > 2:
            y = y + xs[2]
        return [clamp(y, node.attrs).astype(np.float32)]

    def run_int(self, node, graph, xs):
        from effc.quant.int8 import dense_int8

        a = node.attrs
        x = graph.tensors[node.inputs[0]]
        y = graph.tensors[node.outputs[0]]
        return [dense_int8(
            xs[0], xs[1], xs[2] if len(xs) > 2 else None,
            input_zero_point=int(x.quant.zero_point), output_zero_point=int(y.quant.zero_point),
            multiplier=np.asarray(a["multiplier"]), shift=np.asarray(a["shift"]),
            activation_min=a["activation_min"], activation_max=a["activation_max"])]

    def to_onnx(self, node, graph, builder) -> None:
        w_t = builder.weight(node.inputs[1], lambda w: w.T, axis=1)
        out = builder.fresh(node.outputs[0] + "_mm")
        builder.emit("MatMul", [builder.float_input(node.inputs[0]), w_t], [out])
        if len(node.inputs) > 2:
            biased = builder.fresh(node.outputs[0] + "_bias")
            builder.emit("Add", [out, builder.float_input(node.inputs[2])], [biased])
            out = biased
        out = builder.clamp(out, node.attrs, node.outputs[0])
        builder.emit("Identity", [out], [builder.output_name(node.outputs[0])])


def _weight_hint(ctx, name: str, transposed: bool, alpha: float) -> QuantParams | None:
    """A DequantizeLinear hint of the ONNX weight, for the [out, in] Dense weight
    (alpha * B, or its transpose): per-output-channel scales move to axis 0."""
    tensor = ctx.graph.tensors.get(name)
    quant = tensor.quant if tensor is not None else None
    if quant is None:
        return None
    axis = quant.axis
    if axis is not None:
        if axis != (1 if transposed else 0):
            raise ctx.error("weights quantized per input feature",
                            "quantize MatMul/Gemm weights per output channel")
        axis = 0
    return QuantParams(quant.scale * np.float32(abs(alpha)), quant.zero_point, axis)

"""BatchNormalization (inference form) over the channel axis, channels-last.

IR form: inputs x [N, ..., C], scale, B, mean, var (each [C]); attr epsilon.
The fold_batchnorm pass folds it into the preceding linear op or turns it into
a per-channel Mul and Add.
"""

from __future__ import annotations

import numpy as np

from effc.ir import Graph, Node
from effc.ops import Op, register


def bn_scale_shift(params: list[np.ndarray], epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (scale, shift) with y = x * scale + shift, in float64."""
    gamma, beta, mean, var = (p.astype(np.float64) for p in params)
    scale = gamma / np.sqrt(var + np.float64(np.float32(epsilon)))
    return scale, beta - mean * scale


@register
class BatchNormalization(Op):
    op_type = "BatchNormalization"
    onnx_types = {"BatchNormalization": 15}

    @classmethod
    def from_onnx(cls, ctx, onnx_node) -> None:
        attrs = ctx.attrs(onnx_node)
        if attrs.get("training_mode", 0):
            raise ctx.error("training_mode=1", "export the model in eval mode")
        if len([o for o in onnx_node.output if o]) > 1:
            raise ctx.error("training outputs are used", "export the model in eval mode")
        x = onnx_node.input[0]
        params = [ctx.require_const(n, "BatchNormalization parameter").astype(np.float32)
                  for n in onnx_node.input[1:5]]
        channels = ctx.shape(x)[1] if len(ctx.shape(x)) > 1 else ctx.shape(x)[0]
        if any(p.size != channels for p in params):
            raise ctx.error(
                f"parameters of length {params[0].size} for {channels} channels of input "
                f"{list(ctx.shape(x))}",
                "BatchNormalization normalizes axis 1; fix the model so the channel axis is 1")
        new = {"epsilon": float(attrs.get("epsilon", 1e-5))}
        denominator = params[3].astype(np.float64) + np.float64(np.float32(new["epsilon"]))
        if not (np.isfinite(denominator) & (denominator > 0)).all():
            raise ctx.error(f"variance + epsilon is {float(denominator.min())} (not positive: "
                            "it divides by zero)", "give a positive epsilon or variance")
        names = [ctx.constant(n, p.reshape(-1)) for n, p in zip(onnx_node.input[1:5], params,
                                                                 strict=True)]
        if len(ctx.shape(x)) <= 2:
            ctx.add_node("BatchNormalization", [x, *names], [onnx_node.output[0]], new,
                         name=onnx_node.name or None)
        else:
            ctx.channels_last_op("BatchNormalization", x, names, onnx_node.output[0], new)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        return [(x.shape, x.dtype)]

    def params(self, node: Node, graph: Graph) -> int:
        return 2 * graph.tensors[node.inputs[1]].size

    def run_float(self, node, graph, xs):
        scale, shift = bn_scale_shift(xs[1:5], node.attrs["epsilon"])
        return [(xs[0].astype(np.float64) * scale + shift).astype(np.float32)]

    def to_onnx(self, node, graph, builder) -> None:
        rank = len(graph.tensors[node.inputs[0]].shape)
        params = [builder.float_input(i) for i in node.inputs[1:5]]
        if rank <= 2:
            builder.emit("BatchNormalization", [builder.float_input(node.inputs[0]), *params],
                         [builder.output_name(node.outputs[0])], epsilon=node.attrs["epsilon"])
            return
        y_cf = builder.fresh(node.outputs[0] + "_nchw")
        builder.emit("BatchNormalization", [builder.to_channels_first(node.inputs[0]), *params],
                     [y_cf], epsilon=node.attrs["epsilon"])
        builder.to_channels_last(y_cf, node.outputs[0])

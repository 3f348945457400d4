"""Every failure the random models found, as a named, explicit, minimal model.

Each case builds its model with the generator's ``Builder`` and names the
features it uses (so the same harness, with the same support table, runs it).
``xfail`` holds the reason while the bug is open; a fixed bug's case stays,
as a plain test. ``check`` picks what to run: "all" (float and int8 on every
host target, as a random model), or "effc" for models onnxruntime refuses
(repeated node names): host C against effc's own reference only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tests.differential.generator import RandomModel
from tests.differential.onnx_builder import Builder, nhwc_input, nhwc_output


@dataclass(frozen=True)
class Regression:
    name: str
    what: str  # the bug, in one line
    build: Callable[[Builder], None]
    features: frozenset[str]
    opset: int = 17
    check: str = "all"
    xfail: str | None = None  # the reason, while the bug is open

    def model(self, seed: int = 0) -> RandomModel:
        b = Builder(self.opset, np.random.default_rng(seed))
        self.build(b)
        return RandomModel(b.model(), self.features, b.layers, seed,
                           [(v.name, v.shape) for v in b.inputs])


def _conv(b: Builder, x, c_out: int, name: str = "", **attrs):
    w = b.weight((c_out, x.shape[1], *attrs["kernel_shape"]), x.shape[1] * 9)
    bias = b.const(np.linspace(-0.3, 0.3, c_out).astype(np.float32), "bias")
    y = b.op("Conv", [x.name, w, bias], _conv_shape(x, c_out, attrs), "", "cl", **attrs)
    if name:
        b.nodes[-1].name = name
    return y


def _conv_shape(x, c_out: int, attrs: dict) -> tuple[int, ...]:
    if attrs.get("auto_pad", "NOTSET") in ("SAME_UPPER", "SAME_LOWER"):
        strides = attrs.get("strides", [1] * len(x.spatial))
        return (x.shape[0], c_out, *[-(-s // t) for s, t in zip(x.spatial, strides, strict=True)])
    pads = attrs.get("pads", [0] * 2 * len(x.spatial))
    n = len(x.spatial)
    return (x.shape[0], c_out, *[(s + pads[i] + pads[i + n] - k) // t + 1 for i, (s, k, t) in
                                 enumerate(zip(x.spatial, attrs["kernel_shape"],
                                               attrs.get("strides", [1] * n), strict=True))])


def auto_pad_same_upper(b: Builder) -> None:
    """Conv 3x3 stride 2 SAME_UPPER on an even size: the pads differ from SAME_LOWER."""
    x = nhwc_input(b, 6, 6, 2)
    nhwc_output(b, _conv(b, x, 3, kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"))


def auto_pad_valid(b: Builder) -> None:
    x = nhwc_input(b, 5, 5, 1)
    nhwc_output(b, _conv(b, x, 2, kernel_shape=[3, 3], auto_pad="VALID"))


def avgpool_count_include_pad(b: Builder) -> None:
    x = nhwc_input(b, 8, 2, 4)
    y = b.op("AveragePool", [x.name], (1, 4, 3, 2), "", "cl", kernel_shape=[4, 2],
             strides=[3, 1], pads=[2, 0, 1, 1], count_include_pad=1)
    nhwc_output(b, y)


def batchnorm_unfolded_next_to_bn_add(b: Builder) -> None:
    """A BatchNormalization named "bn" that cannot fold (after a pool) becomes
    "bn_mul"/"bn_add", and the model has its own node called "bn_add"."""
    x = nhwc_input(b, 4, 4, 3)
    y = b.op("MaxPool", [x.name], (1, 3, 3, 3), "", "cl", kernel_shape=[2, 2])
    params = [np.array(v, np.float32) for v in ([1.2, 0.8, 1.0], [0.1, -0.2, 0.0],
                                                [0.05, 0.1, -0.1], [0.5, 1.5, 1.0])]
    y = b.op("BatchNormalization", [y.name, *[b.const(p, "bn") for p in params]], y.shape,
             "", "cl")
    b.nodes[-1].name = "bn"
    y = b.op("Relu", [y.name], y.shape, "", "cl")
    b.nodes[-1].name = "bn_add"
    y = _conv(b, y, 2, kernel_shape=[1, 1], name="bn_mul")
    nhwc_output(b, y)


def repeated_node_names(b: Builder) -> None:
    """Every node is called "layer" (onnx allows it, onnxruntime refuses it)."""
    y = b.input((1, 6))
    for k in (8, 5):
        w = b.const(np.linspace(-1, 1, y.shape[1] * k, dtype=np.float32).reshape(-1, k), "w")
        y = b.op("MatMul", [y.name, w], (1, k))
        y = b.op("Tanh", [y.name], y.shape)
    b.output(y)
    for node in b.nodes:
        node.name = "layer"


def output_leading_dim(b: Builder) -> None:
    """An output of shape [2, 5]: the host engine gave the C code a [5] buffer."""
    x = b.input((1, 6))
    w = b.const(np.linspace(-1, 1, 60, dtype=np.float32).reshape(6, 10), "w")
    y = b.op("MatMul", [x.name, w], (1, 10))
    b.output(b.op("Reshape", [y.name, b.const(np.array([2, 5], np.int64), "shape")], (2, 5)))


def batch_2_input(b: Builder) -> None:
    """Input batch 2 with a Reshape: calibration feeds the model one row at a time."""
    x = b.input((2, 3))
    w = b.const(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), "w")
    y = b.op("MatMul", [x.name, w], (2, 4))
    b.output(b.op("Reshape", [y.name, b.const(np.array([1, 8], np.int64), "shape")], (1, 8)))


def dilated_average_pool(b: Builder) -> None:
    """AveragePool with dilations (opset 19): effc's ONNX export wrote it at opset 17."""
    x = nhwc_input(b, 7, 7, 2)
    y = b.op("AveragePool", [x.name], (1, 2, 5, 5), "", "cl", kernel_shape=[2, 2],
             dilations=[2, 2])
    nhwc_output(b, y)


def global_average_pool(b: Builder) -> None:
    """GlobalAveragePool's C call declared an unused output_dims (-Werror host build)."""
    x = nhwc_input(b, 3, 4, 5)
    y = b.op("GlobalAveragePool", [x.name], (1, 5, 1, 1), "", "cl")
    b.output(b.op("Flatten", [y.name], (1, 5), axis=1))


def saturated_bias(b: Builder) -> None:
    """Tiny weights and a bias of 100: the int32 bias saturates and the accumulator
    overflows (signed overflow, undefined behaviour, reported by UBSan)."""
    x = b.input((1, 6))
    w = b.const((np.linspace(-1, 1, 24, dtype=np.float32) * 1e-4).reshape(6, 4), "w")
    y = b.op("MatMul", [x.name, w], (1, 4))
    bias = b.const(np.array([100.0, -100.0, 80.0, -3.0], np.float32), "bias")
    b.output(b.op("Add", [y.name, bias], (1, 4), "bias"))


def aliased_outputs(b: Builder) -> None:
    """Two outputs, one an Identity of the other: the IR's outputs became [y1, y1]."""
    x = b.input((1, 3))
    y = b.op("Relu", [x.name], (1, 3))
    b.output(y)
    b.output(b.op("Identity", [y.name], (1, 3)))


def padding_only_windows(b: Builder) -> None:
    """MaxPool and AveragePool whose dilated window sees padding only at the border:
    onnxruntime gives -FLT_MAX and 0 there, effc's reference -inf and NaN (0/0)."""
    x = nhwc_input(b, 1, 3, 2)
    attrs = {"kernel_shape": [2, 1], "dilations": [2, 1], "pads": [1, 0, 1, 0]}
    y = b.op("AveragePool", [x.name], (1, 2, 1, 3), "", "cl", **attrs)
    y = b.op("MaxPool", [y.name], (1, 2, 1, 3), "", "cl", **attrs)
    nhwc_output(b, y)


def padding_only_window_into_concat(b: Builder) -> None:
    """A MaxPool window over padding only (onnxruntime: -FLT_MAX) joined by a Concat to
    data: calibration saw -3.4e38 in the Concat's range and refused the model. The int8
    window gives the lowest value of its input's range, and calibration now observes that."""
    x = nhwc_input(b, 1, 3, 2)
    attrs = {"kernel_shape": [2, 1], "dilations": [2, 1], "pads": [1, 0, 1, 0]}
    y = b.op("MaxPool", [x.name], (1, 2, 1, 3), "", "cl", **attrs)
    nhwc_output(b, b.op("Concat", [y.name, x.name], (1, 4, 1, 3), "with its input", "cl",
                        axis=1))


def argmax_of_saturated_sigmoids(b: Builder) -> None:
    """ArgMax over sigmoids of 16.8 and 30 (a zero-weight dense layer's bias): numpy's
    float64 sigmoid gives 0.99999994 and 1.0 (index 1), float32 expf 1.0 and 1.0 (index
    0, the first). Both are within float tolerance of each other: a near tie, which the
    float checks (the compile's self-check too) failed as an effc bug."""
    from dataclasses import replace

    from onnx import TensorProto

    x = b.input((1, 3))
    w = b.const(np.zeros((3, 2), np.float32), "w")
    y = b.op("MatMul", [x.name, w], (1, 2))
    y = b.op("Add", [y.name, b.const(np.array([16.8, 30.0], np.float32), "bias")], (1, 2))
    y = b.op("Sigmoid", [y.name], (1, 2))
    b.output(y)
    index = b.op("ArgMax", [y.name], (1, 1), "axis=1", axis=1, keepdims=1)
    b.output(replace(index, elem_type=TensorProto.INT64))


def channels_first_resize(b: Builder) -> None:
    """A Resize of N C H W data (no Transpose to channels-last): the C kernels took
    H, W of N H W C only and refused it."""
    x = b.input((1, 3, 4, 5))
    scales = b.const(np.array([1, 1, 2, 2], np.float32), "scales")
    y = b.op("Resize", [x.name, "", scales], (1, 3, 8, 10), "nearest", mode="nearest")
    scales = b.const(np.array([1, 1, 0.5, 0.5], np.float32), "scales")
    b.output(b.op("Resize", [y.name, "", scales], (1, 3, 4, 5), "linear", mode="linear"))


def difference_of_nearly_equal_values(b: Builder) -> None:
    """(100 + small) - 100: the int8 SUB's output multiplier came out above 1
    (ValueError); calibration now widens such an output's range."""
    x = b.input((1, 4))
    w = b.const((np.linspace(-1, 1, 12, dtype=np.float32) * 2e-5).reshape(4, 3), "w")
    y = b.op("MatMul", [x.name, w], (1, 3))
    y = b.op("Add", [y.name, b.const(np.full(3, 100.0, np.float32), "bias")], (1, 3), "bias")
    b.output(b.op("Sub", [y.name, b.const(np.array(100.0, np.float32), "k")], (1, 3)))


def strided_depthwise_in_place(b: Builder) -> None:
    """A depthwise conv of stride 2 on a 1-row plane (SAME_LOWER keeps the plane): the
    memory plan ran it in place, which the int8 kernel refuses for a stride above 1."""
    x = _conv(b, nhwc_input(b, 1, 1, 1), 3, kernel_shape=[1, 1])
    w = b.weight((3, 1, 1, 1), 1)
    y = b.op("Conv", [x.name, w], (1, 3, 1, 1), "", "cl", kernel_shape=[1, 1], strides=[2, 1],
             auto_pad="SAME_LOWER", group=3)
    nhwc_output(b, b.op("Relu", [y.name], (1, 3, 1, 1), "", "cl"))


BASE = frozenset({"input_image", "input_nhwc", "conv2d", "output_nhwc"})
CASES = [
    Regression("auto_pad_read_as_bytes",
               "any explicit auto_pad acted as SAME_LOWER (read as bytes)",
               auto_pad_same_upper, BASE | {"auto_pad_same_upper", "conv_stride"}),
    Regression("auto_pad_valid_read_as_bytes", "auto_pad=VALID acted as SAME_LOWER",
               auto_pad_valid, BASE | {"auto_pad_valid"}),
    Regression("int8_avgpool_count_include_pad",
               "int8 C AveragePool with pads and count_include_pad=1 divided by valid taps",
               avgpool_count_include_pad,
               BASE - {"conv2d"} | {"avgpool", "pool_pad", "pool_stride",
                                    "avgpool_count_include_pad",
                                    "avgpool_count_include_pad_padded"}),
    Regression("node_names_collide_with_batchnorm_folding",
               "an unfolded BatchNormalization 'bn' became 'bn_add', a name the model used",
               batchnorm_unfolded_next_to_bn_add,
               BASE | {"maxpool", "batchnorm", "relu", "names_adversarial"}),
    Regression("repeated_node_names", "node names were the C emitter's keys",
               repeated_node_names,
               frozenset({"input_vector", "matmul", "dense_no_bias", "tanh"}), check="effc"),
    Regression("output_leading_dim_overflow",
               "the host engine passed a buffer of output_shape[1:] to the C code",
               output_leading_dim,
               frozenset({"input_vector", "matmul", "dense_no_bias", "output_any_shape",
                          "output_leading_dim"})),
    Regression("ptq_calibrates_one_row_of_a_batch_2_model",
               "post-training quantization ran a batch-2 model on one row (ValueError)",
               batch_2_input,
               frozenset({"input_vector", "batch2", "matmul", "dense_no_bias",
                          "output_any_shape", "output_leading_dim"}),
               ),
    Regression("outputs_that_alias_lose_their_names",
               "an output that is a no-op view of another output lost its name",
               aliased_outputs,
               frozenset({"input_vector", "relu", "multi_output", "output_alias"}),
               ),
    Regression("pool_window_sees_padding_only",
               "a dilated pool window over padding only gave -inf / NaN (onnxruntime: "
               "-FLT_MAX / 0)", padding_only_windows,
               BASE - {"conv2d"} | {"maxpool", "avgpool", "maxpool_dilation", "avgpool_dilation",
                                    "pool_pad", "pool_window_in_padding"}, opset=19,
               ),
    Regression("pool_window_in_padding_into_concat",
               "a window over padding only (-FLT_MAX) in a Concat's calibrated range: the "
               "model was refused as overflowing", padding_only_window_into_concat,
               BASE - {"conv2d"} | {"maxpool", "maxpool_dilation", "pool_pad",
                                    "pool_window_in_padding", "concat_channels"}),
    Regression("argmax_near_tie_of_saturated_sigmoids",
               "a float ArgMax over sigmoids that saturate to 1.0 at a slightly different "
               "input in float32 C picked the other index: the self-check failed",
               argmax_of_saturated_sigmoids,
               frozenset({"input_vector", "matmul", "matmul_bias_add", "sigmoid", "argmax",
                          "multi_output"})),
    Regression("export_of_dilated_averagepool",
               "compiling an AveragePool with dilations crashed in the opset-17 ONNX export",
               dilated_average_pool,
               BASE - {"conv2d"} | {"avgpool", "avgpool_dilation"}, opset=19),
    Regression("bias_saturates_int32_ubsan",
               "signed int32 overflow in effc_mm_s8.c when the bias saturates (UBSan)",
               saturated_bias,
               frozenset({"input_vector", "matmul", "matmul_bias_add",
                          "bias_saturates_int32"})),
    Regression("resize_of_channels_first_data",
               "the C backend refused a Resize of N C H W data (it took N H W C only)",
               channels_first_resize,
               frozenset({"input_image", "input_nchw", "resize_nearest", "resize_linear"}),
               opset=19),
    Regression("difference_of_nearly_equal_values",
               "an int8 Sub whose output range is below 2^-19 of its inputs' crashed "
               "(multiplier above 1)", difference_of_nearly_equal_values,
               frozenset({"input_vector", "matmul", "matmul_bias_add", "sub_const"})),
    Regression("global_average_pool_unused_variable",
               "every GlobalAveragePool model failed the -Werror host build",
               global_average_pool,
               frozenset({"input_image", "input_nhwc", "global_avgpool", "flatten"})),
    Regression("strided_depthwise_in_place",
               "an int8 depthwise conv of stride 2 that keeps its plane was planned in place "
               "(the kernel returned EFFC_ERR_ARG)", strided_depthwise_in_place,
               BASE | {"conv_depthwise", "conv_stride", "auto_pad_same_lower", "relu"}),
]

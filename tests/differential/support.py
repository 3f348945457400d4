"""Which engine runs which feature today: the one table to edit when a kernel lands.

Every feature the generator can put in a model is a row of ``SUPPORT``: the
targets that must run it and match the reference. A model is expected to run
on a target when every one of its features lists that target; otherwise the
target must refuse it with the one-line ``EffcError`` (any other exception,
or a silent success, fails the test: a stale row is reported, never skipped).

Targets:
  ref_int8    int8 post-training quantization and the integer reference
  host_float  the float C library on the host (``--quantize none``)
  host_int8   the int8 C library on the host (per-tensor and per-channel weights)
  qemu_int8   the int8 firmware under QEMU
  hls_int8    the int8 HLS dataflow accelerator for pynq-z2, in C simulation (g++)

The float reference against onnxruntime runs every feature. ``OPEN_BUGS``
lists features with a known wrong result: the generator does not draw them
until the named regression case (``regressions.py``, strict xfail) is fixed;
then delete the line here and flip the regression's mark.
"""

from __future__ import annotations

TARGETS = ("ref_int8", "host_float", "host_int8", "qemu_int8", "hls_int8")
ALL = frozenset(TARGETS)
NONE: frozenset[str] = frozenset()
INT8_REF_ONLY = frozenset({"ref_int8"})
NO_INT8 = frozenset({"host_float"})
NO_HLS = ALL - {"hls_int8"}  # the HLS target has no template for the op

SUPPORT: dict[str, frozenset[str]] = {
    # inputs and layout
    "input_image": ALL, "input_signal": ALL, "input_vector": ALL,
    "input_nhwc": ALL, "input_nchw": ALL,
    "transpose_input": ALL,  # NCHW input with >1 channel: a real Transpose remains
    "transpose_mid": ALL,  # data in ONNX order meets channels-last data
    "batch2": ALL,
    "multi_input": ALL,
    # convolution
    "conv1d": ALL, "conv2d": ALL, "conv_stride": ALL, "conv_dilation": ALL,
    "conv_pad_asymmetric": ALL, "conv_no_bias": ALL, "conv_depthwise": ALL,
    "conv_depthwise_multiplier": ALL,
    "conv_grouped": ALL,
    "bias_saturates_int32": ALL,  # the int32 bias saturates: accumulators near the edge
    "auto_pad_notset": ALL, "auto_pad_valid": ALL, "auto_pad_same_upper": ALL,
    "auto_pad_same_lower": ALL,
    # pooling
    "maxpool": ALL, "avgpool": ALL, "pool_stride": ALL, "pool_pad": ALL,
    "avgpool_count_include_pad": ALL, "avgpool_count_include_pad_padded": ALL,
    "maxpool_dilation": ALL, "maxpool_ceil_mode": ALL,
    "avgpool_dilation": ALL, "avgpool_ceil_mode": ALL,
    "pool_window_in_padding": ALL,  # a dilated window that sees padding only
    "global_avgpool": ALL, "global_maxpool": ALL,
    # dense
    "gemm": ALL, "gemm_transB": ALL, "gemm_alpha_beta": ALL, "matmul": ALL,
    "gemm_transA": ALL, "gemm_bias_2d": ALL, "matmul_two_values": NO_HLS,
    "matmul_batched": ALL,  # a 2-D constant matrix over leading axes: a dense layer
    "matmul_weight_stack": NO_HLS,  # a matrix per channel: an int8 batched MatMul
    "matmul_bias_add": ALL, "dense_no_bias": ALL, "pointwise_matmul": ALL,
    # activations and functions (int8: a lookup table each, PRelu a TFLM kernel)
    "relu": ALL, "clip": ALL, "leakyrelu": ALL, "sigmoid": ALL, "tanh": ALL, "selu": ALL,
    "hardsigmoid": ALL, "hardswish": ALL,
    "elu": ALL, "softplus": ALL, "softsign": ALL, "neg": ALL, "abs": ALL, "exp": ALL,
    "erf": ALL, "gelu": ALL, "mish": ALL, "celu": ALL, "thresholdedrelu": ALL, "swish": ALL,
    "sqrt_reciprocal": ALL, "pow": NO_HLS,
    "prelu": ALL,
    "batchnorm": ALL,
    # elementwise
    "add_const": ALL, "sub_const": ALL, "mul_const": ALL,
    "div_const": ALL,  # int8: a Mul by the reciprocal
    "const_first": ALL, "broadcast": ALL, "broadcast_expand": ALL,
    "residual_add": ALL, "residual_sub": ALL, "residual_mul": ALL,
    "residual_two_convs": ALL,  # int8 C: conv + residual Add fused by row bands
    "broadcast_activations": ALL,
    # concat, pad, softmax
    "concat_channels": ALL, "concat_spatial": ALL, "concat_batch": ALL,
    "concat_features": ALL, "concat_same_input": ALL,
    "concat_requantize": ALL,  # int8 inputs at other scales get a Requantize
    "pad_constant": ALL, "pad_reflect": ALL, "pad_edge": ALL,
    "softmax": ALL,
    "softmax_not_innermost": ALL,  # transposed to the last axis and back
    "logsoftmax": NONE,  # no int8 form, no C kernel
    # reductions, selection, resize, transposed convolution, min/max
    # (none of them has an HLS template)
    "reduce_mean": NO_HLS, "reduce_max": NO_HLS, "reduce_min": NO_HLS, "reduce_sum": NO_HLS,
    "reduce_head": NO_HLS,  # GAP exported as ReduceMean (keepdims 0) into a dense layer
    "argmax": NO_HLS,  # an int64 index output
    "slice": NO_HLS, "slice_negative_step": NO_HLS, "split": NO_HLS, "gather": NO_HLS,
    "embedding": NO_HLS,  # Gather of a constant table by an int64 input
    "tile": NO_HLS, "expand": NO_HLS, "min_max": NO_HLS, "min_max_nary": NO_HLS,
    "resize_nearest": NO_HLS, "resize_linear": NO_HLS,
    "resize_linear_no_int8": NO_INT8,  # scales TFLite's integer form cannot derive
    "resize_cubic": NO_INT8,
    "conv_transpose": NO_HLS, "conv_transpose_grouped": NO_HLS,
    "conv_transpose_output_padding": NO_HLS, "conv_transpose_auto_pad": NO_HLS,
    # recurrent layers (int8 LSTM as TFLite Micro, int8 GRU effc's scheme; no HLS template)
    "lstm": NO_HLS, "gru": NO_HLS, "rnn": NO_INT8, "recurrent_reverse": NO_HLS,
    "recurrent_bidirectional": NO_HLS, "recurrent_initial_state": NO_HLS,
    "gru_linear_before_reset": NO_HLS, "recurrent_head": NO_HLS,
    # outputs
    "flatten": ALL, "reshape_flat": ALL, "squeeze": ALL, "output_nhwc": ALL,
    "output_any_shape": ALL, "output_leading_dim": ALL,
    "transpose_output": ALL,  # an NCHW output of channels-last data: a real Transpose
    "multi_output": ALL,
    "output_alias": ALL,  # a second output that is an Identity of the first
    # node names
    "names_empty": ALL, "names_adversarial": ALL,
}

_NO_TEMPLATE = r"\(({})\) has no HLS template"
_IN_FLOAT = r"\(({})\) computes in float; the HLS target runs int8 models only"

#: What a refusal caused by a feature says (a regex on the one-line error), so a model
#: refused for another reason (a crash hidden behind an expected refusal) fails.
REFUSALS: dict[str, str] = {
    "resize_linear_no_int8": r"\(Resize, linear\)", "resize_cubic": r"\(Resize, cubic\)",
    "rnn": r"\(RNN\) has no int8 form",
    "logsoftmax": r"\(LogSoftmax\) has no",
    # the HLS target: no template for the op, or an int64 value in the int8 core
    "matmul_two_values": _NO_TEMPLATE.format("MatMul"),
    "matmul_weight_stack": _NO_TEMPLATE.format("MatMul"), "pow": _NO_TEMPLATE.format("Pow"),
    **{f"reduce_{op.lower()}": _NO_TEMPLATE.format(f"Reduce{op}")
       for op in ("Mean", "Max", "Min", "Sum")},
    "reduce_head": _NO_TEMPLATE.format("ReduceMean"),
    "argmax": _IN_FLOAT.format("Arg(Max|Min)"),
    "slice": _NO_TEMPLATE.format("Slice"), "slice_negative_step": _NO_TEMPLATE.format("Slice"),
    "split": _NO_TEMPLATE.format("Split"), "gather": _NO_TEMPLATE.format("Gather"),
    "embedding": _IN_FLOAT.format("Gather"),
    "tile": _NO_TEMPLATE.format("Tile"), "expand": _NO_TEMPLATE.format("Expand"),
    "min_max": _NO_TEMPLATE.format("Min|Max"), "min_max_nary": _NO_TEMPLATE.format("Min|Max"),
    "resize_nearest": _NO_TEMPLATE.format("Resize"), "resize_linear": _NO_TEMPLATE.format("Resize"),
    **{f: _NO_TEMPLATE.format("ConvTranspose") for f in (
        "conv_transpose", "conv_transpose_grouped", "conv_transpose_output_padding",
        "conv_transpose_auto_pad")},
    **{f: _NO_TEMPLATE.format("LSTM|GRU|RNN") for f in (
        "lstm", "gru", "recurrent_reverse", "recurrent_bidirectional", "recurrent_initial_state",
        "gru_linear_before_reset", "recurrent_head")},
}

#: Features with a known wrong result (feature -> regression case): not drawn.
OPEN_BUGS: dict[str, str] = {}


def enabled(feature: str) -> bool:
    """May the generator draw ``feature``? (every feature must be in the table)"""
    if feature not in SUPPORT:
        raise KeyError(f"feature '{feature}' is missing from tests/differential/support.py")
    return feature not in OPEN_BUGS


def expected(features: set[str] | frozenset[str], target: str) -> bool:
    """Must ``target`` run a model with ``features`` (else refuse it cleanly)?"""
    return all(target in SUPPORT[f] for f in features)


def blocking(features: set[str] | frozenset[str], target: str) -> list[str]:
    """The features that make ``target`` refuse the model."""
    return sorted(f for f in features if target not in SUPPORT[f])


def explains(message: str, features: list[str]) -> bool:
    """Does a refusal ``message`` name one of the blocking ``features``?"""
    import re

    return any(re.search(REFUSALS[f], message) for f in features)

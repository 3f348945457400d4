"""Scratch bytes of a kernel call, asked of the runtime's own ``*_scratch_size``.

The C runtime is the single authority on its scratch needs: the planner calls
the same functions (host build) that the kernels use to check their buffer.
"""

from __future__ import annotations

from effc.codegen.c.kernels import Call
from effc.toolchain.host import runtime_library

RECURRENT_GATES = {"lstm_f32": 4, "gru_f32": 3, "rnn_f32": 1}


def _more_scratch(call: Call) -> int:
    """The kernels of kernels_ops.py that need scratch."""
    ffi, lib = runtime_library()
    f = call.fields
    if call.macro == "reduce_s8":
        shape = ffi.new("effc_reduce_shape *", [f["rank"], f["dims"], f["out_strides"],
                                                f["out_count"], f["reduce_count"]])
        return int(lib.effc_reduce_s8_scratch_size(shape, getattr(lib, f["kind"])))
    if call.macro == "tconv_s8":
        filter_dims = ffi.new("effc_dims *", f["filter_dims"])
        out_dims = ffi.new("effc_dims *", f["output_dims"])
        return int(lib.effc_transpose_conv_s8_scratch_size(filter_dims, out_dims))
    dims = ffi.new("effc_rnn_dims *", f["dims"])
    if call.macro == "lstm_s8":
        return int(lib.effc_lstm_s8_scratch_size(dims))
    if call.macro == "gru_s8":
        return int(lib.effc_gru_s8_scratch_size(dims))
    return int(lib.effc_rnn_f32_scratch_size(dims, RECURRENT_GATES[call.macro]))


def scratch_bytes(call: Call) -> int:
    if call.macro in ("reduce_s8", "tconv_s8", "lstm_s8", "gru_s8", *RECURRENT_GATES):
        return _more_scratch(call)
    if call.macro not in ("conv_s8", "grouped_conv_s8", "dw_conv_s8", "dense_s8",
                          "winograd_s8", "winograd_f32"):
        return 0
    ffi, lib = runtime_library()
    f = call.fields
    if call.macro.startswith("winograd"):
        filter_dims = ffi.new("effc_dims *", f["filter_dims"])
        if call.macro == "winograd_s8":
            return int(lib.effc_winograd_s8_scratch_size(filter_dims))
        return int(lib.effc_winograd_f32_scratch_size(f["tile"], filter_dims))
    if call.macro == "dense_s8":
        dims = ffi.new("effc_dense_dims *", [f["batches"], f["in_features"], f["out_features"]])
        params = ffi.new("effc_dense_params *", [
            f["input_zero_point"], f["output_zero_point"], f["activation_min"],
            f["activation_max"], f.get("layout", 0)])
        return int(lib.effc_dense_s8_scratch_size(params, dims))
    in_dims = ffi.new("effc_dims *", f["input_dims"])
    filter_dims = ffi.new("effc_dims *", f["filter_dims"])
    out_dims = ffi.new("effc_dims *", f["output_dims"])
    if call.macro in ("conv_s8", "grouped_conv_s8"):
        params = ffi.new("effc_conv_params *", [
            f["stride_h"], f["stride_w"], f["pad_top"], f["pad_left"], f["dilation_h"],
            f["dilation_w"], f["input_zero_point"], f["output_zero_point"],
            f["activation_min"], f["activation_max"], f.get("layout", 0)])
        if call.macro == "grouped_conv_s8":
            return int(lib.effc_grouped_conv_s8_scratch_size(params, f["groups"], in_dims,
                                                             filter_dims, out_dims))
        return int(lib.effc_conv_s8_scratch_size(params, in_dims, filter_dims, out_dims))
    params = ffi.new("effc_dw_conv_params *", [
        f["stride_h"], f["stride_w"], f["pad_top"], f["pad_left"], f["dilation_h"],
        f["dilation_w"], f["depth_multiplier"], f["input_zero_point"], f["output_zero_point"],
        f["activation_min"], f["activation_max"]])
    return int(lib.effc_dw_conv_s8_scratch_size(params, in_dims, filter_dims, out_dims))

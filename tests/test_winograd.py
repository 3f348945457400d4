"""Winograd convolution: exact int8 F(2x2,3x3) / F(2,3) and float F(2x2,3x3) / F(4x4,3x3).

Property tests (hypothesis) of the integer reference and of the C kernel built
for the host (portable body) against the *direct* int8 convolution, over
random shapes, channels, every padding, zero points and extreme values; the
float transforms against the direct float convolution; the overflow bound.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from effc.codegen.c.kernels import winograd_weights
from effc.ops.conv import conv_float
from effc.quant import int8 as q8
from effc.quant import winograd as wq

PROPERTY = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
VALUES = st.sampled_from(["random", "min", "max", "alternate"])


@st.composite
def int8_layers(draw: st.DrawFn) -> dict[str, Any]:
    """A random 3x3 (3-tap) stride-1 int8 layer, with extreme values often."""
    rank = draw(st.sampled_from([1, 2]))
    n = draw(st.integers(1, 2))
    h = draw(st.integers(1, 9)) if rank == 2 else 1
    w = draw(st.integers(1, 11))
    c_in, c_out = draw(st.integers(1, 17)), draw(st.integers(1, 9))
    pads = [draw(st.integers(0, 2)) for _ in range(2 * rank)]
    out = [h + pads[0] + pads[2] - 2, w + pads[1] + pads[3] - 2] if rank == 2 else \
        [w + pads[0] + pads[1] - 2]
    if min(out) < 1:
        pads = [p + 1 for p in pads]  # every padding still appears, the output exists
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (n, h, w, c_in) if rank == 2 else (n, w, c_in)
    kind = draw(VALUES)
    x = {"random": rng.integers(-128, 128, shape), "min": np.full(shape, -128),
         "max": np.full(shape, 127),
         "alternate": np.where(rng.random(shape) < 0.5, -128, 127)}[kind]
    wshape = (c_out, *(3,) * rank, c_in)
    wkind = draw(VALUES)
    wt = {"random": rng.integers(-127, 128, wshape), "min": np.full(wshape, -128),
          "max": np.full(wshape, 127),
          "alternate": np.where(rng.random(wshape) < 0.5, -128, 127)}[wkind]
    real = float(draw(st.sampled_from([1e-5, 1e-3, 0.05, 0.9, 3.0])))
    mult, shift = q8.conv_multipliers(1.0, rng.uniform(0.5, 2.0, c_out) * real, 1.0)
    bias = rng.integers(-(1 << draw(st.integers(1, 31))), 1 << 20, c_out) \
        if draw(st.booleans()) else None
    lo = draw(st.integers(-128, 0))
    return {"x": x.astype(np.int8), "w": wt.astype(np.int8),
            "bias": None if bias is None else bias.astype(np.int32), "pads": pads,
            "input_zero_point": draw(st.sampled_from([-128, -1, 0, 5, 127])),
            "output_zero_point": draw(st.integers(-128, 127)), "multiplier": mult,
            "shift": shift, "activation_min": lo, "activation_max": draw(st.integers(lo, 127))}


def _direct(layer: dict[str, Any]) -> np.ndarray:
    rank = layer["x"].ndim - 2
    return q8.conv_int8(layer["x"], layer["w"], layer["bias"], strides=[1] * rank,
                        dilations=[1] * rank, pads=layer["pads"],
                        **{k: layer[k] for k in ("input_zero_point", "output_zero_point",
                                                 "multiplier", "shift", "activation_min",
                                                 "activation_max")})


@PROPERTY
@given(int8_layers())
def test_int8_reference_equals_direct_convolution(layer: dict[str, Any]) -> None:
    u = wq.transform_weights(layer["w"], 2, integer=True)
    assert u.dtype == np.int16 and wq.int8_bounds(layer["w"]).ok
    got = wq.conv_winograd_int8(layer["x"], u, layer["bias"], pads=layer["pads"],
                                **{k: layer[k] for k in ("input_zero_point",
                                                         "output_zero_point", "multiplier",
                                                         "shift", "activation_min",
                                                         "activation_max")})
    np.testing.assert_array_equal(got, _direct(layer))


@cache
def _host():
    from effc.toolchain.host import runtime_library

    return runtime_library()


def run_c_kernel(layer: dict[str, Any]) -> np.ndarray:
    """effc_winograd_s8 of the runtime built for the host (portable body)."""
    ffi, lib = _host()
    x, wt = layer["x"], layer["w"]
    rank = x.ndim - 2
    x4 = x if rank == 2 else x[:, None]
    pads = layer["pads"] if rank == 2 else [0, layer["pads"][0], 0, layer["pads"][1]]
    n, h, w, c_in = x4.shape
    c_out = wt.shape[0]
    oh, ow = h + pads[0] + pads[2] - (2 if rank == 2 else 0), w + pads[1] + pads[3] - 2
    u = winograd_weights(wq.transform_weights(wt, 2, True), True)
    params = ffi.new("effc_conv_params *", [1, 1, pads[0], pads[1], 1, 1,
                                            layer["input_zero_point"],
                                            layer["output_zero_point"],
                                            layer["activation_min"], layer["activation_max"]])
    dims = [ffi.new("effc_dims *", d) for d in ((n, h, w, c_in), (c_out, 3 if rank == 2 else 1,
                                                                   3, c_in), (n, oh, ow, c_out))]
    size = lib.effc_winograd_s8_scratch_size(dims[1])
    scratch_buf = ffi.new("int32_t[]", size // 4 + 1)
    scratch = ffi.new("effc_scratch *", [scratch_buf, size])
    mult = ffi.new("int32_t[]", [int(v) for v in layer["multiplier"]])
    shift = ffi.new("int32_t[]", [int(v) for v in layer["shift"]])
    quant = ffi.new("effc_per_channel_quant *", [mult, shift])
    xin = ffi.from_buffer("int8_t[]", np.ascontiguousarray(x4))
    ub = ffi.from_buffer("int16_t[]", u)
    bias = ffi.NULL if layer["bias"] is None else ffi.from_buffer("int32_t[]", layer["bias"])
    y = np.zeros((n, oh, ow, c_out), np.int8)
    rc = lib.effc_winograd_s8(scratch, params, quant, dims[0], xin, dims[1], ub, bias, dims[2],
                              ffi.from_buffer("int8_t[]", y))
    assert rc == 0
    return y if rank == 2 else y[:, 0]


@PROPERTY
@given(int8_layers())
def test_int8_c_kernel_equals_direct_convolution(layer: dict[str, Any]) -> None:
    np.testing.assert_array_equal(run_c_kernel(layer), _direct(layer))


@settings(max_examples=100, deadline=None, database=None)
@given(rank=st.sampled_from([1, 2]), tile=st.sampled_from([2, 4]),
       h=st.integers(1, 13), w=st.integers(1, 13), c_in=st.integers(1, 9),
       c_out=st.integers(1, 5), pads=st.lists(st.integers(0, 2), min_size=4, max_size=4),
       seed=st.integers(0, 2**32 - 1))
def test_float_transforms_equal_direct_convolution(rank: int, tile: int, h: int, w: int,
                                                   c_in: int, c_out: int, pads: list[int],
                                                   seed: int) -> None:
    rng = np.random.default_rng(seed)
    pads = pads if rank == 2 else pads[:2]
    spatial = (h, w) if rank == 2 else (w,)
    if any(s + pads[i] + pads[i + rank] < 3 for i, s in enumerate(spatial)):
        pads = [p + 1 for p in pads]
    x = rng.normal(size=(2, *spatial, c_in)).astype(np.float32)
    wt = rng.normal(size=(c_out, *(3,) * rank, c_in)).astype(np.float32)
    b = rng.normal(size=c_out).astype(np.float32)
    want = conv_float(x, wt, b, [3] * rank, [1] * rank, [1] * rank, pads, 1)
    got = wq.conv_winograd_float(x, wq.transform_weights(wt, tile, False), b, m=tile, pads=pads)
    # U is rounded to float32: the error stays at float32 rounding of the weights
    assert np.abs(got - want).max() <= 1e-5 * max(1.0, float(np.abs(want).max()))


def test_weight_transform_ranges() -> None:
    """|U'| <= 9 * 128 (2-D) and 3 * 128 (1-D) fit int16; |V| <= 1020 (510)."""
    corner = np.full((2, 3, 3, 5), -128, np.int8)
    corner[1] = 127
    u = wq.transform_weights(corner, 2, True)
    assert u.dtype == np.int16 and np.abs(u).max() == 9 * 128
    assert np.abs(wq.transform_weights(corner[:, 0], 2, True)).max() == 3 * 128
    b2, b1 = wq.int8_bounds(corner), wq.int8_bounds(corner[:, 0])
    assert (b2.v_max, b2.u_max, b1.v_max, b1.u_max) == (1020, 1152, 510, 384)


def test_overflow_bound_is_the_int32_limit_of_four_times_the_accumulator() -> None:
    """Any int8 weights are safe up to C_in = 1827 (2-D) and 10965 (1-D); one more
    channel of -128 weights passes int32, and there the transform really breaks."""
    assert wq.int8_bounds(np.zeros((1, 3, 3, 1), np.int8)).c_in_limit == 1827
    assert wq.int8_bounds(np.zeros((1, 3, 1), np.int8)).c_in_limit == 10965
    assert wq.int8_bounds(np.full((1, 3, 3, 1827), -128, np.int8)).ok
    assert not wq.int8_bounds(np.full((1, 3, 3, 1828), -128, np.int8)).ok
    assert "past int32" in wq.int8_bounds(np.full((1, 3, 3, 1828), -128, np.int8)).reason()
    # 2100 channels: 4 * acc = 4 * 255 * 128 * 9 * 2100 > 2^31 while acc fits int32
    x = np.full((1, 3, 3, 2100), -128, np.int8)
    w = np.full((1, 3, 3, 2100), -128, np.int8)
    mult, shift = q8.conv_multipliers(1.0, [1.5e-7], 1.0)  # acc 616,896,000 -> 93
    layer = {"x": x, "w": w, "bias": None, "pads": [0, 0, 0, 0], "input_zero_point": 127,
             "output_zero_point": 0, "multiplier": mult, "shift": shift,
             "activation_min": -128, "activation_max": 127}
    direct = _direct(layer)
    wrong = wq.conv_winograd_int8(x, wq.transform_weights(w, 2, True), None,
                                  pads=[0, 0, 0, 0], input_zero_point=127, output_zero_point=0,
                                  multiplier=mult, shift=shift)
    assert direct.item() == 93 and wrong.item() != 93

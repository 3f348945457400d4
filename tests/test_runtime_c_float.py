"""runtime_c float32 kernels on the host against small float64 numpy models."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from tests import winograd_cases
from tests.conftest_c import Case, _dims, broadcast_fields, out_size, run_host, unary_case
from tests.kernel_cases_float_ops import ops_float_cases, ops_float_oracle

BIG = 3.0e38


def _conv_f32_case(name: str, seed: int, *, h: int, w: int, cin: int, cout: int,
                   k: tuple[int, int] = (3, 3), stride: tuple[int, int] = (1, 1),
                   pads: tuple[int, int, int, int] = (0, 0, 0, 0),
                   dil: tuple[int, int] = (1, 1), act: tuple[float, float] = (-BIG, BIG),
                   depthwise: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1, h, w, cin)).astype(np.float32)
    if depthwise:
        cout = cin * depthwise
    kin = 1 if depthwise else cin
    wt = rng.normal(size=(cout, k[0], k[1], kin)).astype(np.float32)
    b = rng.normal(size=cout).astype(np.float32)
    oh = out_size(h, k[0], stride[0], dil[0], pads[0], pads[2])
    ow = out_size(w, k[1], stride[1], dil[1], pads[1], pads[3])
    p = {"stride_h": stride[0], "stride_w": stride[1], "pad_top": pads[0],
         "pad_left": pads[1], "dilation_h": dil[0], "dilation_w": dil[1],
         "activation_min": act[0], "activation_max": act[1]}
    call = (f"effc_dw_conv_f32(&p, {depthwise}, &in, @input, &f, @filter, @bias, &o, y)"
            if depthwise else "effc_conv_f32(&p, &in, @input, &f, @filter, @bias, &o, y)")
    return Case(name, "conv_f32", {"input": x, "filter": wt, "bias": b},
                [("effc_conv_f32_params", "p", p), ("effc_dims", "in", _dims((1, h, w, cin))),
                 ("effc_dims", "f", _dims((cout, k[0], k[1], kin))),
                 ("effc_dims", "o", _dims((1, oh, ow, cout)))],
                call, (1, oh, ow, cout), out_dtype=np.float32,
                meta={"stride": stride, "pads": pads, "dil": dil, "act": act,
                      "group": cin if depthwise else 1})


def _pool_f32_case(name: str, seed: int, kind: str, *, h: int, w: int, c: int,
                   k: tuple[int, int], stride: tuple[int, int],
                   pads: tuple[int, int, int, int] = (0, 0, 0, 0),
                   include_pad: int = 0) -> Case:
    x = np.random.default_rng(seed).normal(size=(1, h, w, c)).astype(np.float32)
    oh = out_size(h, k[0], stride[0], 1, pads[0], pads[2])
    ow = out_size(w, k[1], stride[1], 1, pads[1], pads[3])
    p = {"filter_h": k[0], "filter_w": k[1], "stride_h": stride[0], "stride_w": stride[1],
         "dilation_h": 1, "dilation_w": 1, "pad_top": pads[0], "pad_left": pads[1],
         "pad_bottom": pads[2], "pad_right": pads[3], "count_include_pad": include_pad,
         "activation_min": -BIG, "activation_max": BIG}
    return Case(name, kind, {"input": x},
                [("effc_pool_f32_params", "p", p), ("effc_dims", "in", _dims((1, h, w, c))),
                 ("effc_dims", "o", _dims((1, oh, ow, c)))],
                f"effc_{kind}(&p, &in, @input, &o, y)", (1, oh, ow, c), out_dtype=np.float32,
                meta={"k": k, "stride": stride, "pads": pads, "include_pad": include_pad})


def _binary_f32_case(name: str, op: str, s1: tuple[int, ...], s2: tuple[int, ...]) -> Case:
    rng = np.random.default_rng(len(name))
    a = rng.normal(size=s1).astype(np.float32)
    b = (rng.normal(size=s2) + (3.0 if op == "div" else 0.0)).astype(np.float32)
    out, bc = broadcast_fields(s1, s2)
    return Case(name, f"{op}_f32", {"a": a, "b": b}, [("effc_broadcast", "bc", bc)],
                f"effc_{op}_f32(&bc, @a, @b, y)", out, out_dtype=np.float32, meta={"op": op})


def _wide(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([np.linspace(-12, 12, 97), rng.normal(0, 3, 60),
                           [0.0, -0.0, 1e-8, -1e-8, 60.0, -60.0, 100.0, -100.0]]
                          ).astype(np.float32)


UNARY = {  # name: (C call, float64 reference)
    "relu": ("effc_relu_f32({n}, @x, y)", lambda v: np.maximum(v, 0)),
    "clip": ("effc_clip_f32({n}, -1.5f, 6.0f, @x, y)", lambda v: np.clip(v, -1.5, 6.0)),
    "sigmoid": ("effc_sigmoid_f32({n}, @x, y)", lambda v: 1 / (1 + np.exp(-v))),
    "tanh": ("effc_tanh_f32({n}, @x, y)", np.tanh),
    "leaky_relu": ("effc_leaky_relu_f32({n}, 0.1f, @x, y)",
                   lambda v: np.where(v >= 0, v, np.float32(0.1) * v)),
    "hard_sigmoid": ("effc_hard_sigmoid_f32({n}, 0.2f, 0.5f, @x, y)",
                     lambda v: np.clip(np.float32(0.2) * v + 0.5, 0, 1)),
    "hard_swish": ("effc_hard_swish_f32({n}, @x, y)",
                   lambda v: v * np.clip(v / 6 + 0.5, 0, 1)),
    "selu": ("effc_selu_f32({n}, 1.67326319f, 1.05070102f, @x, y)",
             lambda v: np.float32(1.05070102) * np.where(
                 v > 0, v, np.float32(1.67326319) * np.expm1(v))),
    "elu": ("effc_elu_f32({n}, 0.7f, @x, y)",
            lambda v: np.where(v >= 0, v, np.float32(0.7) * np.expm1(v))),
    "softplus": ("effc_softplus_f32({n}, @x, y)", lambda v: np.logaddexp(0, v)),
    "softsign": ("effc_softsign_f32({n}, @x, y)", lambda v: v / (1 + np.abs(v))),
    "neg": ("effc_neg_f32({n}, @x, y)", lambda v: -v),
    "abs": ("effc_abs_f32({n}, @x, y)", np.abs),
    "exp": ("effc_exp_f32({n}, @x, y)", lambda v: _exp_f32(v)),
}


def _exp_f32(v: np.ndarray) -> np.ndarray:
    """exp in float32: large inputs overflow to inf, as the C kernel's do."""
    with np.errstate(over="ignore"):
        return np.exp(v.astype(np.float32)).astype(np.float64)


def float_cases() -> list[Case]:
    rng = np.random.default_rng(99)
    cat = [rng.normal(size=(2, 3, n)).astype(np.float32) for n in (4, 1, 5)]
    cat8 = [rng.integers(-128, 128, size=(3, n)).astype(np.int8) for n in (2, 7)]
    cases = [
        _conv_f32_case("conv_f32_3x3_s2_pad", 1, h=9, w=8, cin=3, cout=5, stride=(2, 2),
                       pads=(1, 1, 1, 1)),
        _conv_f32_case("conv_f32_1x1_relu6", 2, h=4, w=5, cin=8, cout=6, k=(1, 1),
                       act=(0.0, 6.0)),
        _conv_f32_case("conv_f32_dilation_asym", 3, h=10, w=7, cin=2, cout=3, k=(3, 2),
                       dil=(2, 1), pads=(1, 0, 2, 1)),
        _conv_f32_case("dw_f32_mult2", 4, h=6, w=5, cin=3, cout=0, depthwise=2,
                       pads=(1, 1, 1, 1)),
        _pool_f32_case("max_pool_f32_same", 5, "max_pool_f32", h=7, w=6, c=3, k=(3, 3),
                       stride=(2, 2), pads=(1, 1, 1, 1)),
        _pool_f32_case("avg_pool_f32_exclude_pad", 6, "avg_pool_f32", h=5, w=5, c=2, k=(3, 3),
                       stride=(1, 1), pads=(1, 1, 1, 1)),
        _pool_f32_case("avg_pool_f32_include_pad", 7, "avg_pool_f32", h=5, w=5, c=2, k=(3, 3),
                       stride=(2, 2), pads=(1, 1, 1, 1), include_pad=1),
        Case("gap_f32", "gap_f32", {"input": rng.normal(size=(2, 5, 3, 4)).astype(np.float32)},
             [("effc_dims", "in", _dims((2, 5, 3, 4)))],
             "effc_global_avg_pool_f32(&in, @input, y)", (2, 1, 1, 4), out_dtype=np.float32),
        Case("dense_f32_relu", "dense_f32",
             {"input": rng.normal(size=(3, 10)).astype(np.float32),
              "weights": rng.normal(size=(7, 10)).astype(np.float32),
              "bias": rng.normal(size=7).astype(np.float32)},
             [("effc_dense_dims", "d", {"batches": 3, "in_features": 10, "out_features": 7})],
             "effc_dense_f32(&d, @input, @weights, @bias, 0.0f, 3.0e38f, y)", (3, 7),
             out_dtype=np.float32),
        _binary_f32_case("add_f32_bcast_channels", "add", (2, 3, 4, 5), (5,)),
        _binary_f32_case("sub_f32_bcast_rows", "sub", (4, 1, 6), (1, 3, 6)),
        _binary_f32_case("mul_f32_scalar", "mul", (3, 5), (1,)),
        _binary_f32_case("div_f32_elementwise", "div", (2, 7), (2, 7)),
        unary_case("softmax_f32", "softmax_f32", rng.normal(0, 4, (3, 10)).astype(np.float32),
                   "effc_softmax_f32(3, 10, @x, y)", out_dtype=np.float32),
        Case("concat_f32_axis2", "concat_f32", {"a": cat[0], "b": cat[1], "c": cat[2]},
             [], "effc_concat_f32(6, 3, (const float *const[]){@a, @b, @c}, "
             "(const int32_t[]){4, 1, 5}, y)", (2, 3, 10), out_dtype=np.float32,
             meta={"parts": cat, "axis": 2}),
        Case("concat_s8_axis1", "concat_s8", {"a": cat8[0], "b": cat8[1]}, [],
             "effc_concat_s8(3, 2, (const int8_t *const[]){@a, @b}, "
             "(const int32_t[]){2, 7}, y)", (3, 9), meta={"parts": cat8, "axis": 1}),
    ]
    for i, (name, (call, _)) in enumerate(UNARY.items()):
        cases.append(unary_case(f"{name}_f32", name, _wide(i), call, out_dtype=np.float32))
    return cases + winograd_cases.float_cases()


def _conv_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray, m: dict) -> np.ndarray:
    (sh, sw), (dh, dw), (pt, pl, pb, pr) = m["stride"], m["dil"], m["pads"]
    xp = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    cout, kh, kw, _ = w.shape
    oh = (xp.shape[1] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[2] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((x.shape[0], oh, ow, cout))
    mult = cout // x.shape[3] if m["group"] > 1 else 0
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw]
            if mult:
                rep = np.repeat(patch, mult, axis=3)  # [n, kh, kw, cout]
                y[:, i, j] = np.einsum("nhwc,chw->nc", rep, w[..., 0])
            else:
                y[:, i, j] = np.einsum("nhwc,ohwc->no", patch, w)
    return np.clip(y + b, *m["act"])


def _pool_ref(x: np.ndarray, kind: str, m: dict) -> np.ndarray:
    (kh, kw), (sh, sw), (pt, pl, pb, pr) = m["k"], m["stride"], m["pads"]
    xd = x.astype(np.float64)
    fill = -np.inf if kind == "max_pool_f32" else 0.0
    xp = np.pad(xd, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=fill)
    valid = np.pad(np.ones(x.shape[1:3]), ((pt, pb), (pl, pr)))
    oh, ow = (xp.shape[1] - kh) // sh + 1, (xp.shape[2] - kw) // sw + 1
    y = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw]
            if kind == "max_pool_f32":
                y[:, i, j] = win.max(axis=(1, 2))
            else:
                cnt = kh * kw if m["include_pad"] else valid[i * sh:i * sh + kh,
                                                             j * sw:j * sw + kw].sum()
                y[:, i, j] = win.sum(axis=(1, 2)) / cnt
    return y


def float_oracle(case: Case) -> np.ndarray:
    a, m, k = case.arrays, case.meta, case.kind
    if k in ("conv_f32", "winograd_f32"):
        return _conv_ref(a["input"], a["filter"], a["bias"], m)
    if k in ("max_pool_f32", "avg_pool_f32"):
        return _pool_ref(a["input"], k, m)
    if k == "gap_f32":
        return a["input"].astype(np.float64).mean(axis=(1, 2), keepdims=True)
    if k == "dense_f32":
        y = a["input"].astype(np.float64) @ a["weights"].T.astype(np.float64) + a["bias"]
        return np.maximum(y, 0)
    if k.endswith("_f32") and k[:-4] in ("add", "sub", "mul", "div"):
        x1, x2 = a["a"].astype(np.float64), a["b"].astype(np.float64)
        return {"add": np.add, "sub": np.subtract, "mul": np.multiply,
                "div": np.divide}[m["op"]](x1, x2)
    if k == "softmax_f32":
        e = np.exp(a["x"] - a["x"].max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if k in ("concat_f32", "concat_s8"):
        return np.concatenate(m["parts"], axis=m["axis"])
    if k in UNARY:
        return UNARY[k][1](a["x"].astype(np.float64))
    expected = ops_float_oracle(case)
    if expected is None:
        raise AssertionError(f"no oracle for {k}")
    return expected


CASES = float_cases() + ops_float_cases()


@lru_cache(maxsize=1)
def host_results() -> list[tuple[int, int, np.ndarray]]:
    return run_host(CASES)


@pytest.mark.parametrize("idx", range(len(CASES)), ids=[c.name for c in CASES])
def test_float_kernel_matches_numpy(idx: int) -> None:
    case = CASES[idx]
    rc, _, y = host_results()[idx]
    assert rc == 0, f"{case.name}: kernel returned {rc}"
    want = float_oracle(case)
    if case.out_dtype in (np.int8, np.int64):
        np.testing.assert_array_equal(y, want)
    elif case.kind == "winograd_f32":  # the transforms scale by up to 8 before they cancel
        bound = 1e-5 * max(1.0, float(np.abs(want).max()))
        assert np.abs(y - want).max() <= bound, case.name
    else:
        np.testing.assert_allclose(y, want, rtol=2e-6, atol=2e-6, err_msg=case.name)


def test_float_boundaries_are_exact() -> None:
    """The activations are exact at the points where they saturate or switch."""
    by_name = {c.name: r[2] for c, r in zip(CASES, host_results(), strict=True)}
    x = _wide(0)
    assert np.all(by_name["relu_f32"][x <= 0] == 0)
    sig = by_name["sigmoid_f32"]
    assert sig[x == 100.0][0] == 1.0 and sig[x == -100.0][0] < 1e-40
    assert np.all(np.abs(by_name["tanh_f32"]) <= 1.0)

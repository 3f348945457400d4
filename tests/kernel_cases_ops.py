"""runtime_c cases for the kernels of issue 17 (selection, reductions, batched
matmul, transposed convolution, resize, recurrent layers), with their oracles.

int8 cases are checked bit for bit against effc/quant (TFLite Micro's integer
arithmetic where TFLite has the op, effc's documented scheme otherwise); they
join ``tests/test_runtime_c.py``'s table, so the sanitizer and QEMU tests run
them too. Float cases are in ``tests/kernel_cases_float_ops.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from effc.quant import fixedpoint as fp
from effc.quant.conv_transpose import transpose_conv_int8
from effc.quant.gru import gru_int8, gru_params
from effc.quant.lstm import lstm_int8, lstm_params
from effc.quant.matmul import batch_matmul_int8
from effc.quant.reduce import mean_multiplier, mean_or_sum_int8
from effc.quant.resize import bilinear_axis, resize_bilinear_int8
from tests.conftest_c import Case, _dims, broadcast_fields, rand_i8, rand_quant

RANK = 6  # EFFC_MAX_RANK


def padded(values: list[int] | tuple[int, ...]) -> list[int]:
    return list(values) + [0] * (RANK - len(values))


def slice_case(name: str, seed: int, shape: tuple[int, ...], starts: list[int],
               steps: list[int], out: list[int]) -> Case:
    x = rand_i8(np.random.default_rng(seed), shape)
    p = {"rank": len(shape), "dims": padded(shape), "starts": padded(starts),
         "steps": padded(steps), "out_dims": padded(out)}
    return Case(name, "slice", {"x": x}, [("effc_slice_params", "p", p)],
                "effc_slice(&p, 1u, @x, y)", tuple(out), meta=p)


def gather_case(name: str, seed: int, shape: tuple[int, int, int], indices: list[int]) -> Case:
    x = rand_i8(np.random.default_rng(seed), shape)
    outer, axis_dim, inner = shape
    return Case(name, "gather", {"x": x, "indices": np.asarray(indices, np.int32)}, [],
                f"effc_gather({outer}, {axis_dim}, {inner}, @indices, {len(indices)}, 1u, @x, y)",
                (outer, len(indices), inner))


def gather_indexed_case(name: str, seed: int, shape: tuple[int, int, int],
                        indices: list[int], dtype: Any) -> Case:
    """An embedding lookup: a table read by indices the model gets (negative ones too)."""
    x = rand_i8(np.random.default_rng(seed), shape)
    outer, axis_dim, inner = shape
    index = np.asarray(indices, dtype)
    return Case(name, "gather_indexed", {"x": x, "indices": index}, [],
                f"effc_gather_indexed({outer}, {axis_dim}, {inner}, @indices, "
                f"{index.itemsize}u, {len(indices)}, 1u, @x, y)", (outer, len(indices), inner))


def tile_case(name: str, seed: int, shape: tuple[int, ...], out: tuple[int, ...]) -> Case:
    x = rand_i8(np.random.default_rng(seed), shape)
    p = {"rank": len(out), "dims": padded(shape), "out_dims": padded(out)}
    return Case(name, "tile", {"x": x}, [("effc_tile_params", "p", p)],
                "effc_tile(&p, 1u, @x, y)", out)


def nearest_case(name: str, seed: int, shape: tuple[int, int, int, int], rows: list[int],
                 cols: list[int]) -> Case:
    x = rand_i8(np.random.default_rng(seed), shape)
    out = (shape[0], len(rows), len(cols), shape[3])
    return Case(name, "resize_nearest", {"x": x, "rows": np.asarray(rows, np.int32),
                                         "cols": np.asarray(cols, np.int32)},
                [("effc_dims", "i", _dims(shape)), ("effc_dims", "o", _dims(out))],
                "effc_resize_nearest(&i, &o, @rows, @cols, 1u, @x, y)", out)


REDUCE = {"sum": 0, "mean": 1, "max": 2, "min": 3}


def reduce_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[dict, tuple]:
    kept = [1 if i in axes else d for i, d in enumerate(shape)]
    strides, step = [0] * len(shape), 1
    for i in range(len(shape) - 1, -1, -1):
        strides[i] = 0 if i in axes else step
        step *= kept[i]
    return ({"rank": len(shape), "dims": padded(shape), "out_strides": padded(strides),
             "out_count": int(np.prod(kept)),
             "reduce_count": int(np.prod([shape[a] for a in axes]))}, tuple(kept))


def reduce_case(name: str, seed: int, kind: str, shape: tuple[int, ...],
                axes: tuple[int, ...], izp: int = 0, ozp: int = 0, real: float = 1.0) -> Case:
    x = rand_i8(np.random.default_rng(seed), shape)
    s, out = reduce_shape(shape, axes)
    m, sh = fp.quantize_multiplier(real)
    meta: dict[str, Any] = {"kind": kind, "axes": axes, "izp": izp, "ozp": ozp, "m": m, "sh": sh}
    structs = [("effc_reduce_shape", "rs", s)]
    quant = "NULL"
    if kind in ("sum", "mean"):
        qm, qs = mean_multiplier(m, sh, s["reduce_count"]) if kind == "mean" else (m, sh)
        structs.append(("effc_reduce_quant", "q", {
            "input_zero_point": izp, "output_zero_point": ozp, "multiplier": qm, "shift": qs}))
        quant = "&q"
    return Case(name, "reduce", {"x": x}, structs,
                f"effc_reduce_s8(&s, &rs, {REDUCE[kind]}, {quant}, @x, y)", out,
                scratch=f"effc_reduce_s8_scratch_size(&rs, {REDUCE[kind]})", meta=meta)


def arg_case(name: str, seed: int, shape: tuple[int, int, int], is_min: int, last: int) -> Case:
    x = np.random.default_rng(seed).integers(-3, 3, size=shape).astype(np.int8)  # ties
    outer, axis_dim, inner = shape
    return Case(name, "arg", {"x": x}, [],
                f"effc_arg_s8({outer}, {axis_dim}, {inner}, {is_min}, {last}, @x, y)",
                (outer, inner), out_dtype=np.int64, meta={"is_min": is_min, "last": last})


def batch_strides(shape: tuple[int, ...], batch: list[int]) -> list[int]:
    own = [1] * (4 - (len(shape) - 2)) + list(shape[:-2])
    step, strides = shape[-2] * shape[-1], [0] * 4
    for i in range(3, -1, -1):
        strides[i] = 0 if own[i] == 1 and batch[i] != 1 else step
        step *= own[i]
    return strides


def matmul_fields(sa: tuple[int, ...], sb: tuple[int, ...]) -> tuple[dict, tuple]:
    out = (*np.broadcast_shapes(sa[:-2], sb[:-2]), sa[-2], sb[-1])
    batch = [1] * (4 - (len(out) - 2)) + list(out[:-2])
    return ({"batch_dims": batch, "a_strides": batch_strides(sa, batch),
             "b_strides": batch_strides(sb, batch), "m": sa[-2], "k": sa[-1], "n": sb[-1]},
            tuple(out))


def matmul_case(name: str, seed: int, sa: tuple[int, ...], sb: tuple[int, ...],
                zps: tuple[int, int, int], real: float) -> Case:
    rng = np.random.default_rng(seed)
    a, b = rand_i8(rng, sa), rand_i8(rng, sb)
    d, out = matmul_fields(sa, sb)
    m, s = fp.quantize_multiplier(real)
    q = {"a_zero_point": zps[0], "b_zero_point": zps[1], "output_zero_point": zps[2],
         "multiplier": m, "shift": s}
    return Case(name, "matmul", {"a": a, "b": b},
                [("effc_matmul_dims", "d", d), ("effc_matmul_quant", "q", q)],
                "effc_batch_matmul_s8(&d, &q, @a, @b, y)", out, meta=q)


def tconv_case(name: str, seed: int, *, h: int, w: int, cin: int, cout: int,
               k: tuple[int, int], stride: tuple[int, int], dil: tuple[int, int] = (1, 1),
               pads: tuple[int, int] = (0, 0), out_hw: tuple[int, int], groups: int = 1,
               izp: int = -3, ozp: int = 5, act: tuple[int, int] = (-128, 127)) -> Case:
    rng = np.random.default_rng(seed)
    x = rand_i8(rng, (1, h, w, cin))
    wt = rand_i8(rng, (cout, k[0], k[1], cin // groups), -127, 127)
    bias = rng.integers(-2000, 2000, size=cout).astype(np.int32)
    mult, shift = rand_quant(rng, cout, 0.004)
    p = {"stride_h": stride[0], "stride_w": stride[1], "dilation_h": dil[0],
         "dilation_w": dil[1], "pad_top": pads[0], "pad_left": pads[1], "groups": groups,
         "input_zero_point": izp, "output_zero_point": ozp, "activation_min": act[0],
         "activation_max": act[1]}
    out = (1, *out_hw, cout)
    return Case(name, "tconv", {"x": x, "w": wt, "bias": bias, "m": mult, "s": shift},
                [("effc_transpose_conv_params", "p", p),
                 ("effc_per_channel_quant", "q", {"multiplier": "@m", "shift": "@s"}),
                 ("effc_dims", "i", _dims(x.shape)), ("effc_dims", "f", _dims(wt.shape)),
                 ("effc_dims", "o", _dims(out))],
                "effc_transpose_conv_s8(&s, &p, &q, &i, @x, &f, @w, @bias, &o, y)", out,
                scratch="effc_transpose_conv_s8_scratch_size(&f, &o)", meta=p)


def bilinear_case(name: str, seed: int, shape: tuple[int, int, int, int], out_hw: tuple[int, int],
                  mode: str) -> Case:
    x = rand_i8(np.random.default_rng(seed), shape)
    out = (shape[0], *out_hw, shape[3])
    arrays: dict[str, np.ndarray | None] = {"x": x}
    for axis, key in ((1, "r"), (2, "c")):
        lo, hi, coord = bilinear_axis(shape[axis], out[axis], mode)
        arrays |= {f"{key}lo": lo, f"{key}hi": hi, f"{key}co": coord}
    return Case(name, "bilinear", arrays,
                [("effc_dims", "i", _dims(shape)), ("effc_dims", "o", _dims(out)),
                 ("effc_bilinear_axis", "ra", {"lo": "@rlo", "hi": "@rhi", "coord": "@rco"}),
                 ("effc_bilinear_axis", "ca", {"lo": "@clo", "hi": "@chi", "coord": "@cco"})],
                "effc_resize_bilinear_s8(&i, &o, &ra, &ca, @x, y)", out,
                meta={"sizes": list(out), "coordinate_transformation_mode": mode,
                      "scales": [o / i for o, i in zip(out, shape, strict=True)]})


def _fc_fields(p: dict) -> dict[str, Any]:
    return {"input_multiplier": [m for m, _ in p["input_fc"]],
            "input_shift": [s for _, s in p["input_fc"]],
            "recurrent_multiplier": [m for m, _ in p["recurrent_fc"]],
            "recurrent_shift": [s for _, s in p["recurrent_fc"]]}


def recurrent_case(name: str, seed: int, op: str, *, n: int, t: int, i: int, h: int,
                   reverse: int = 0, lbr: int = 0, zps: tuple[int, int] = (3, -7),
                   power: int = -11) -> Case:
    rng = np.random.default_rng(seed)
    gates = 4 if op == "lstm" else 3
    x = rand_i8(rng, (n, t, i))
    w, r = rand_i8(rng, (gates, h, i), -127, 127), rand_i8(rng, (gates, h, h), -127, 127)
    w_scales = rng.uniform(0.002, 0.02, gates)
    r_scales = rng.uniform(0.002, 0.02, gates)
    s_x, s_h = 0.05, 0.0078
    h0 = rand_i8(rng, (n, h))
    dims = {"batches": n, "steps": t, "input_size": i, "hidden": h}
    attrs: dict[str, Any] = {"reverse": reverse}
    if op == "lstm":
        p = lstm_params(s_x, zps[0], s_h, zps[1], w_scales, r_scales, power)
        bias = rng.integers(-3000, 3000, size=(4, h)).astype(np.int32)
        c0 = rng.integers(-6000, 6000, size=(n, h)).astype(np.int16)
        from effc.quant.lstm import lstm_tanh_params

        tm, ts = lstm_tanh_params(power)
        fields = {**_fc_fields(p), "forget_multiplier": p["forget_mul"][0],
                  "forget_shift": p["forget_mul"][1], "input_mul_multiplier": p["input_mul"][0],
                  "input_mul_shift": p["input_mul"][1], "output_multiplier": p["output_mul"][0],
                  "output_shift": p["output_mul"][1], "cell_tanh_multiplier": tm,
                  "cell_tanh_shift": ts, "input_zero_point": zps[0],
                  "hidden_zero_point": zps[1], "reverse": reverse}
        attrs["lstm"] = p
        arrays = {"x": x, "w": w, "r": r, "b": bias, "h0": h0, "c0": c0}
        call = ("effc_lstm_s8(&s, &d, &p, @x, @w, @r, @b, @h0, @c0, y, @hout, @cout)")
        buffers = {"hout": ((n, h), np.int8), "cout": ((n, h), np.int16)}
        struct = "effc_lstm_s8_params"
        scratch = "effc_lstm_s8_scratch_size(&d)"
    else:
        p = gru_params(s_x, zps[0], s_h, zps[1], w_scales, r_scales, power + 1)
        wb = rng.integers(-3000, 3000, size=(3, h)).astype(np.int32)
        rb = rng.integers(-3000, 3000, size=(3, h)).astype(np.int32)
        state = rng.integers(-30000, 30000, size=(n, h)).astype(np.int16)
        fields = {**_fc_fields(p), **{f"{k}_{m}": p[v][i] for k, v in (
            ("gate", "gate_mul"), ("to_state", "to_state"), ("to_hidden", "to_hidden"),
            ("reset", "reset_mul")) for i, m in enumerate(("multiplier", "shift"))},
            "input_zero_point": zps[0], "hidden_zero_point": zps[1],
            "linear_before_reset": lbr, "reverse": reverse}
        attrs |= {"gru": p, "linear_before_reset": lbr}
        arrays = {"x": x, "w": w, "r": r, "wb": wb, "rb": rb, "h0": state}
        call = "effc_gru_s8(&s, &d, &p, @x, @w, @r, @wb, @rb, @h0, y, @hout)"
        buffers = {"hout": ((n, h), np.int8)}
        struct = "effc_gru_s8_params"
        scratch = "effc_gru_s8_scratch_size(&d)"
    return Case(name, op, arrays, [("effc_rnn_dims", "d", dims), (struct, "p", fields)], call,
                (n, t, h), scratch=scratch, meta=attrs, buffers=buffers)


def select_case(name: str, op: str, s1: tuple[int, ...], s2: tuple[int, ...]) -> Case:
    rng = np.random.default_rng(len(name))
    a, b = rand_i8(rng, s1), rand_i8(rng, s2)
    out, bc = broadcast_fields(s1, s2)
    return Case(name, op, {"a": a, "b": b}, [("effc_broadcast", "bc", bc)],
                f"effc_{op}_s8(&bc, @a, @b, y)", out)


def ops_int8_cases() -> list[Case]:
    return [
        slice_case("slice_negative_steps", 40, (2, 5, 6, 3), [1, 4, 0, 2], [1, -2, 2, -1],
                   [1, 3, 3, 3]),
        slice_case("slice_rank6", 41, (2, 1, 3, 2, 4, 3), [0, 0, 1, 1, 3, 0],
                   [1, 1, 1, 1, -3, 2], [2, 1, 2, 1, 2, 2]),
        gather_case("gather_repeats", 42, (2, 5, 4), [4, 0, 0, 3, 1]),
        gather_case("gather_rows", 43, (1, 7, 3), [6]),
        gather_indexed_case("gather_indexed_int64", 65, (2, 9, 5), [8, -1, 0, -9, 3], np.int64),
        gather_indexed_case("gather_indexed_int32", 66, (1, 4, 7), [3, -4, 2], np.int32),
        tile_case("tile_expand", 44, (1, 2, 1, 3), (2, 2, 4, 6)),
        nearest_case("resize_nearest_2x", 45, (1, 3, 4, 2), [0, 0, 1, 1, 2, 2],
                     [0, 0, 1, 1, 2, 2, 3, 3]),
        reduce_case("reduce_mean_hw", 46, "mean", (2, 5, 4, 3), (1, 2), izp=-5, ozp=2),
        reduce_case("reduce_mean_count7_rescale", 47, "mean", (1, 7, 1, 5), (1,), izp=10,
                    ozp=-3, real=0.37),
        reduce_case("reduce_sum_channels_saturates", 48, "sum", (2, 3, 4, 16), (3,), izp=4,
                    ozp=0, real=0.9),
        reduce_case("reduce_max_batch", 49, "max", (3, 2, 4, 2), (0,)),
        reduce_case("reduce_min_two_axes", 50, "min", (3, 4, 5), (0, 2)),
        arg_case("argmax_first_tie", 51, (3, 7, 4), 0, 0),
        arg_case("argmin_last_tie", 52, (2, 6, 5), 1, 1),
        matmul_case("batch_matmul_broadcast", 53, (2, 1, 3, 5), (3, 5, 4), (3, -2, 7), 0.003),
        matmul_case("batch_matmul_2d_zp", 54, (4, 9), (9, 6), (-128, 0, -20), 0.0007),
        tconv_case("tconv_s2_pads", 55, h=4, w=5, cin=3, cout=6, k=(3, 3), stride=(2, 2),
                   pads=(1, 0), out_hw=(8, 10)),
        tconv_case("tconv_grouped_dilated", 56, h=3, w=4, cin=4, cout=6, k=(2, 3),
                   stride=(1, 2), dil=(2, 1), out_hw=(5, 9), groups=2, act=(-20, 100)),
        tconv_case("tconv_1d_negative_pad", 57, h=1, w=6, cin=2, cout=3, k=(1, 4),
                   stride=(1, 3), pads=(0, -1), out_hw=(1, 20)),
        bilinear_case("bilinear_half_pixel_up", 58, (1, 4, 5, 3), (7, 9), "half_pixel"),
        bilinear_case("bilinear_align_corners_down", 59, (2, 6, 5, 2), (4, 3),
                      "align_corners"),
        bilinear_case("bilinear_asymmetric", 60, (1, 3, 3, 1), (6, 5), "asymmetric"),
        recurrent_case("lstm_s8_batch2", 61, "lstm", n=2, t=5, i=4, h=6),
        recurrent_case("lstm_s8_reverse_small_cell", 62, "lstm", n=1, t=4, i=3, h=5,
                       reverse=1, power=-13),
        recurrent_case("gru_s8", 63, "gru", n=2, t=5, i=4, h=6, power=-16),
        recurrent_case("gru_s8_linear_before_reset_reverse", 64, "gru", n=1, t=6, i=3, h=7,
                       reverse=1, lbr=1, zps=(-20, 11)),
        select_case("min_s8_broadcast", "min", (2, 3, 4), (4,)),
        select_case("max_s8_broadcast", "max", (3, 1, 5), (1, 4, 5)),
    ]


def ops_int8_oracle(case: Case) -> np.ndarray | None:
    """The expected output of a case from ops_int8_cases (None: not one of them)."""
    a, m, k = case.arrays, case.meta, case.kind
    if k == "slice":
        rank = m["rank"]
        index = np.ix_(*[m["starts"][i] + m["steps"][i] * np.arange(m["out_dims"][i])
                         for i in range(rank)])
        return a["x"][index]
    if k in ("gather", "gather_indexed"):
        return np.take(a["x"], a["indices"], axis=1)
    if k == "tile":
        return np.tile(a["x"], [o // d for o, d in zip(case.out_shape, a["x"].shape,
                                                        strict=True)])
    if k == "resize_nearest":
        return a["x"][:, a["rows"]][:, :, a["cols"]]
    if k == "reduce":
        x = a["x"]
        if m["kind"] == "max":
            return x.max(axis=m["axes"], keepdims=True)
        if m["kind"] == "min":
            return x.min(axis=m["axes"], keepdims=True)
        return mean_or_sum_int8(x, m["axes"], input_zero_point=m["izp"],
                                output_zero_point=m["ozp"], multiplier=m["m"], shift=m["sh"],
                                compute_sum=m["kind"] == "sum")
    if k == "arg":
        x = a["x"]
        if m["is_min"]:
            x = -x.astype(np.int32)
        if m["last"]:
            return x.shape[1] - 1 - np.argmax(x[:, ::-1], axis=1)
        return np.argmax(x, axis=1)
    if k == "matmul":
        return batch_matmul_int8(a["a"], a["b"], m["a_zero_point"], m["b_zero_point"],
                                 m["output_zero_point"], m["multiplier"], m["shift"])
    if k == "tconv":
        one_d = case.out_shape[1] == 1 and a["w"].shape[1] == 1
        x, w = a["x"], a["w"]
        strides = [m["stride_w"]] if one_d else [m["stride_h"], m["stride_w"]]
        dil = [m["dilation_w"]] if one_d else [m["dilation_h"], m["dilation_w"]]
        pads = [m["pad_left"]] if one_d else [m["pad_top"], m["pad_left"]]
        out = [case.out_shape[2]] if one_d else list(case.out_shape[1:3])
        if one_d:
            x, w = x[:, 0], w[:, 0]
        y = transpose_conv_int8(x, w, a["bias"], strides=strides, dilations=dil,
                                pads_begin=pads, out_spatial=out, group=m["groups"],
                                input_zero_point=m["input_zero_point"],
                                output_zero_point=m["output_zero_point"], multiplier=a["m"],
                                shift=a["s"], activation_min=m["activation_min"],
                                activation_max=m["activation_max"])
        return y[:, None] if one_d else y
    if k == "bilinear":
        return resize_bilinear_int8(a["x"], m)
    if k == "lstm":
        return lstm_int8([a[n] for n in ("x", "w", "r", "b", "h0", "c0")], m)[0]
    if k == "gru":
        return gru_int8([a[n] for n in ("x", "w", "r", "wb", "rb", "h0")], m)[0]
    if k in ("min", "max"):
        return (np.minimum if k == "min" else np.maximum)(a["a"], a["b"])
    return None

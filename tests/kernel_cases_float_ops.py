"""runtime_c float32 cases for the kernels of issue 17, with float64 oracles
(the float reference's own functions where it has them). They join
``tests/test_runtime_c_float.py``'s table (and so the sanitizer and QEMU tests).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from effc.ir import Node
from effc.ops import get_op
from effc.ops.activation import FUNCTIONS
from effc.quant.conv_transpose import transpose_conv_sums
from tests.conftest_c import Case, _dims, broadcast_fields
from tests.kernel_cases_ops import REDUCE, matmul_fields, reduce_shape

F32 = np.float32
REDUCE_F32 = {**REDUCE, "prod": 4, "l1": 5, "l2": 6, "sum_square": 7, "log_sum": 8}


def reduce_f32_case(name: str, seed: int, kind: str, shape: tuple[int, ...],
                    axes: tuple[int, ...]) -> Case:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype(F32)
    if kind in ("log_sum", "prod"):
        x = rng.uniform(0.5, 1.5, size=shape).astype(F32)
    s, out = reduce_shape(shape, axes)
    return Case(name, "reduce_f32", {"x": x}, [("effc_reduce_shape", "rs", s)],
                f"effc_reduce_f32(&rs, {REDUCE_F32[kind]}, @x, y)", out, out_dtype=F32,
                meta={"kind": kind, "axes": axes})


def arg_f32_case(name: str, seed: int, shape: tuple[int, int, int], is_min: int,
                 last: int) -> Case:
    x = np.random.default_rng(seed).integers(-2, 3, size=shape).astype(F32)  # ties
    outer, axis_dim, inner = shape
    return Case(name, "arg_f32", {"x": x}, [],
                f"effc_arg_f32({outer}, {axis_dim}, {inner}, {is_min}, {last}, @x, y)",
                (outer, inner), out_dtype=np.int64, meta={"is_min": is_min, "last": last})


def matmul_f32_case(name: str, seed: int, sa: tuple[int, ...], sb: tuple[int, ...]) -> Case:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=sa).astype(F32), rng.normal(size=sb).astype(F32)
    d, out = matmul_fields(sa, sb)
    return Case(name, "matmul_f32", {"a": a, "b": b}, [("effc_matmul_dims", "d", d)],
                "effc_batch_matmul_f32(&d, @a, @b, y)", out, out_dtype=F32)


def tconv_f32_case(name: str, seed: int, *, h: int, w: int, cin: int, cout: int,
                   k: tuple[int, int], stride: tuple[int, int], dil: tuple[int, int] = (1, 1),
                   pads: tuple[int, int] = (0, 0), out_hw: tuple[int, int], groups: int = 1,
                   act: tuple[float, float] = (-3.0e38, 3.0e38)) -> Case:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1, h, w, cin)).astype(F32)
    wt = rng.normal(size=(cout, k[0], k[1], cin // groups)).astype(F32)
    bias = rng.normal(size=cout).astype(F32)
    p = {"stride_h": stride[0], "stride_w": stride[1], "dilation_h": dil[0],
         "dilation_w": dil[1], "pad_top": pads[0], "pad_left": pads[1], "groups": groups,
         "activation_min": act[0], "activation_max": act[1]}
    out = (1, *out_hw, cout)
    return Case(name, "tconv_f32", {"x": x, "w": wt, "bias": bias},
                [("effc_transpose_conv_f32_params", "p", p), ("effc_dims", "i", _dims(x.shape)),
                 ("effc_dims", "f", _dims(wt.shape)), ("effc_dims", "o", _dims(out))],
                "effc_transpose_conv_f32(&p, &i, @x, &f, @w, @bias, &o, y)", out,
                out_dtype=F32, meta=p)


def resize_f32_case(name: str, seed: int, shape: tuple[int, int, int, int],
                    out_hw: tuple[int, int], taps: tuple[int, int], outside: int = 0) -> Case:
    """A separable tap sum: random source indices and weights per output index; the
    first ``outside`` output rows are extrapolated (index -1)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype(F32)
    arrays: dict[str, np.ndarray | None] = {"x": x}
    for axis, key in ((1, "r"), (2, "c")):
        index = rng.integers(0, shape[axis], size=(out_hw[axis - 1], taps[axis - 1]))
        if key == "r":
            index[:outside] = -1
        arrays[f"{key}i"] = index.astype(np.int32)
        arrays[f"{key}w"] = rng.uniform(-0.5, 1.2, size=index.shape).astype(F32)
    out = (shape[0], *out_hw, shape[3])
    return Case(name, "resize_f32", arrays,
                [("effc_dims", "i", _dims(shape)), ("effc_dims", "o", _dims(out)),
                 ("effc_resize_axis", "ra", {"taps": taps[0], "index": "@ri", "weight": "@rw"}),
                 ("effc_resize_axis", "ca", {"taps": taps[1], "index": "@ci", "weight": "@cw"})],
                "effc_resize_f32(&i, &o, &ra, &ca, -2.5f, @x, y)", out, out_dtype=F32)


RNN_ACTIVATION = {"Tanh": 0, "Relu": 1, "Sigmoid": 2}


def recurrent_f32_case(name: str, seed: int, op: str, *, n: int, t: int, i: int, h: int,
                       reverse: int = 0, clip: float = 0.0, input_forget: int = 0,
                       lbr: int = 0, peephole: bool = False, activation: str = "Tanh",
                       seq_lens: list[int] | None = None) -> Case:
    rng = np.random.default_rng(seed)
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[op]
    x = rng.normal(size=(n, t, i)).astype(F32)
    w = (rng.normal(size=(gates, h, i)) * 0.5).astype(F32)
    r = (rng.normal(size=(gates, h, h)) * 0.5).astype(F32)
    h0 = rng.normal(size=(n, h)).astype(F32)
    arrays: dict[str, np.ndarray | None] = {"x": x, "w": w, "r": r}
    attrs: dict[str, Any] = {"reverse": reverse, "clip": clip, "input_forget": input_forget,
                             "linear_before_reset": lbr}
    if op == "lstm":
        arrays |= {"b": rng.normal(size=(4, h)).astype(F32),
                   "p": rng.normal(size=(3, h)).astype(F32) if peephole else None,
                   "h0": h0, "c0": rng.normal(size=(n, h)).astype(F32)}
        call = "effc_lstm_f32(&s, &d, &p, @x, @w, @r, @b, @p, @h0, @c0, y, @hout, @cout)"
        buffers = {"hout": ((n, h), F32), "cout": ((n, h), F32)}
        attrs["activations"] = ["Sigmoid", "Tanh", "Tanh"]
    elif op == "gru":
        arrays |= {"wb": rng.normal(size=(3, h)).astype(F32),
                   "rb": rng.normal(size=(3, h)).astype(F32), "h0": h0}
        call = "effc_gru_f32(&s, &d, &p, @x, @w, @r, @wb, @rb, @h0, y, @hout)"
        buffers = {"hout": ((n, h), F32)}
        attrs["activations"] = ["Sigmoid", "Tanh"]
    else:
        arrays |= {"b": rng.normal(size=(1, h)).astype(F32), "h0": h0}
        call = "effc_rnn_f32(&s, &d, &p, @x, @w, @r, @b, @h0, y, @hout)"
        buffers = {"hout": ((n, h), F32)}
        attrs["activations"] = [activation]
    params = {"reverse": reverse, "clip": clip, "input_forget": input_forget,
              "linear_before_reset": lbr, "activation": RNN_ACTIVATION[activation],
              "seq_lens": "NULL"}
    if seq_lens is not None:
        arrays["lens"] = np.asarray(seq_lens, np.int32)
        params["seq_lens"] = "@lens"
        attrs["seq_lens"] = list(seq_lens)
    dims = {"batches": n, "steps": t, "input_size": i, "hidden": h}
    return Case(name, f"{op}_f32", arrays, [("effc_rnn_dims", "d", dims),
                                              ("effc_rnn_f32_params", "p", params)],
                call, (n, t, h), out_dtype=F32,
                scratch=f"effc_rnn_f32_scratch_size(&d, {gates})", meta=attrs, buffers=buffers)


UNARY_KINDS = {  # C kind: (ONNX op, attrs, input domain)
    0: ("Sqrt", {}, (0.0, 50.0)), 1: ("Reciprocal", {}, (0.05, 8.0)),
    2: ("Erf", {}, (-4.0, 4.0)), 3: ("Gelu", {}, (-6.0, 6.0)),
    4: ("Gelu", {"approximate": "tanh"}, (-6.0, 6.0)), 5: ("Log", {}, (1e-3, 100.0)),
    6: ("Floor", {}, (-5.0, 5.0)), 7: ("Ceil", {}, (-5.0, 5.0)), 8: ("Round", {}, (-5.0, 5.0)),
    9: ("Sign", {}, (-2.0, 2.0)), 10: ("Mish", {}, (-8.0, 8.0)),
    11: ("Swish", {"alpha": 1.5}, (-8.0, 8.0)), 12: ("Celu", {"alpha": 0.75}, (-5.0, 5.0)),
    13: ("ThresholdedRelu", {"alpha": 0.25}, (-2.0, 2.0)), 14: ("Elu", {"alpha": 0.75},
                                                              (-5.0, 5.0)),
    15: ("Softplus", {}, (-20.0, 20.0)), 16: ("Softsign", {}, (-5.0, 5.0)),
    17: ("Neg", {}, (-5.0, 5.0)), 18: ("Abs", {}, (-5.0, 5.0)), 19: ("Exp", {}, (-10.0, 10.0)),
}


def unary_kind_case(kind: int) -> Case:
    op, attrs, (lo, hi) = UNARY_KINDS[kind]
    x = np.random.default_rng(kind).uniform(lo, hi, 96)
    if op in ("Floor", "Ceil", "Round", "Sign", "ThresholdedRelu"):
        x = np.concatenate([x, [-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5, 0.25, 3.0]])
    x = x.astype(F32)
    alpha = float(attrs.get("alpha", 1.0))
    return Case(f"unary_f32_{op.lower()}_{kind}", "unary_kind_f32", {"x": x}, [],
                f"effc_unary_f32({kind}, {alpha!r}f, {x.size}, @x, y)", x.shape, out_dtype=F32,
                meta={"op": op, "attrs": attrs})


def binary_f32_case(name: str, op: str, s1: tuple[int, ...], s2: tuple[int, ...]) -> Case:
    rng = np.random.default_rng(len(name))
    a = rng.normal(size=s1).astype(F32)
    b = rng.normal(size=s2).astype(F32)
    if op == "pow":
        a, b = np.abs(a) + F32(0.1), rng.uniform(-2, 3, size=s2).astype(F32)
    out, bc = broadcast_fields(s1, s2)
    return Case(name, "select_f32", {"a": a, "b": b}, [("effc_broadcast", "bc", bc)],
                f"effc_{op}_f32(&bc, @a, @b, y)", out, out_dtype=F32, meta={"op": op})


def ops_float_cases() -> list[Case]:
    cases = [reduce_f32_case(f"reduce_f32_{k}", 70 + i, k, (2, 3, 4, 5),
                             ((1, 2), (3,), (0, 2), (0, 1, 2, 3))[i % 4])
             for i, k in enumerate(REDUCE_F32)]
    cases += [
        arg_f32_case("argmax_f32_ties", 80, (2, 9, 3), 0, 0),
        arg_f32_case("argmin_f32_last", 81, (4, 5, 2), 1, 1),
        matmul_f32_case("matmul_f32_batched", 82, (3, 1, 2, 6), (4, 6, 5)),
        tconv_f32_case("tconv_f32_s2", 83, h=3, w=4, cin=2, cout=3, k=(3, 3), stride=(2, 2),
                       pads=(1, 1), out_hw=(6, 8)),
        tconv_f32_case("tconv_f32_grouped_relu", 84, h=4, w=3, cin=4, cout=2, k=(2, 2),
                       stride=(1, 1), dil=(1, 2), out_hw=(5, 5), groups=2, act=(0.0, 3.0e38)),
        resize_f32_case("resize_f32_two_taps", 85, (1, 4, 5, 3), (7, 9), (2, 2)),
        resize_f32_case("resize_f32_cubic_extrapolated", 86, (2, 5, 6, 2), (4, 3), (4, 4),
                        outside=1),
        recurrent_f32_case("lstm_f32_peephole_clip", 87, "lstm", n=2, t=4, i=3, h=5,
                           peephole=True, clip=1.5),
        recurrent_f32_case("lstm_f32_input_forget_reverse", 88, "lstm", n=1, t=5, i=4, h=3,
                           reverse=1, input_forget=1),
        recurrent_f32_case("gru_f32", 89, "gru", n=2, t=4, i=3, h=4),
        recurrent_f32_case("gru_f32_linear_before_reset", 90, "gru", n=1, t=3, i=2, h=5,
                           lbr=1, reverse=1),
        recurrent_f32_case("rnn_f32_relu_seq_lens", 91, "rnn", n=3, t=5, i=2, h=4,
                           activation="Relu", seq_lens=[5, 2, 3]),
        recurrent_f32_case("rnn_f32_sigmoid", 92, "rnn", n=1, t=3, i=3, h=3,
                           activation="Sigmoid"),
        binary_f32_case("min_f32_broadcast", "min", (2, 3, 4), (3, 1)),
        binary_f32_case("max_f32_broadcast", "max", (4, 5), (5,)),
        binary_f32_case("pow_f32_broadcast", "pow", (3, 4), (4,)),
    ]
    return cases + [unary_kind_case(k) for k in sorted(UNARY_KINDS)]


REDUCERS = {
    "sum": lambda x, a: x.sum(a, keepdims=True), "mean": lambda x, a: x.mean(a, keepdims=True),
    "max": lambda x, a: x.max(a, keepdims=True), "min": lambda x, a: x.min(a, keepdims=True),
    "prod": lambda x, a: x.prod(a, keepdims=True),
    "l1": lambda x, a: np.abs(x).sum(a, keepdims=True),
    "l2": lambda x, a: np.sqrt((x * x).sum(a, keepdims=True)),
    "sum_square": lambda x, a: (x * x).sum(a, keepdims=True),
    "log_sum": lambda x, a: np.log(x.sum(a, keepdims=True)),
}


def ops_float_oracle(case: Case) -> np.ndarray | None:
    """float64 expectation of a case from ops_float_cases (None: not one of them)."""
    a, m, k = case.arrays, case.meta, case.kind
    if k == "reduce_f32":
        return REDUCERS[m["kind"]](a["x"].astype(np.float64), m["axes"])
    if k == "arg_f32":
        x = -a["x"] if m["is_min"] else a["x"]
        if m["last"]:
            return x.shape[1] - 1 - np.argmax(x[:, ::-1], axis=1)
        return np.argmax(x, axis=1)
    if k == "matmul_f32":
        return np.matmul(a["a"].astype(np.float64), a["b"].astype(np.float64))
    if k == "tconv_f32":
        sums = transpose_conv_sums(a["x"].astype(np.float64), a["w"].astype(np.float64),
                                   [m["stride_h"], m["stride_w"]],
                                   [m["dilation_h"], m["dilation_w"]],
                                   [m["pad_top"], m["pad_left"]], list(case.out_shape[1:3]),
                                   m["groups"])
        return np.clip(sums + a["bias"], m["activation_min"], m["activation_max"])
    if k == "resize_f32":
        x = a["x"].astype(np.float64)
        ri, rw, ci, cw = a["ri"], a["rw"].astype(np.float64), a["ci"], a["cw"].astype(np.float64)
        rows = np.einsum("nytwc,yt->nywc", x[:, np.maximum(ri, 0)], rw)
        y = np.einsum("nyxtc,xt->nyxc", rows[:, :, np.maximum(ci, 0)], cw)
        y[:, ri[:, 0] < 0] = -2.5
        return y
    if k in ("lstm_f32", "gru_f32", "rnn_f32"):
        op = k[:-4].upper()
        names = {"LSTM": ("x", "w", "r", "b", "h0", "c0", "p"), "GRU": ("x", "w", "r", "wb",
                                                                        "rb", "h0"),
                 "RNN": ("x", "w", "r", "b", "h0")}[op]
        xs = [a[n] for n in names if a.get(n) is not None]
        node = Node(op, "n", [], [], dict(m))
        return get_op(op, node).run_float(node, None, xs)[0]
    if k == "select_f32":
        x1, x2 = a["a"].astype(np.float64), a["b"].astype(np.float64)
        return {"min": np.minimum, "max": np.maximum, "pow": np.power}[m["op"]](x1, x2)
    if k == "unary_kind_f32":
        return FUNCTIONS[m["op"]](a["x"].astype(np.float64), m["attrs"])
    return None

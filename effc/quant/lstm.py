"""int8 LSTM, bit-exact with TensorFlow Lite Micro's integer
UNIDIRECTIONAL_SEQUENCE_LSTM (kernels/lstm_eval.h, lstm_eval.cc,
lstm_eval_common.cc: int8 activations, int8 weights, int16 cell state).

Per step and gate g (input, forget, cell, output):

* ``FC(x) + FC(h)``: each an int8 FullyConnected to int16 at the fixed scale
  2^-12 (Q3.12): ``MultiplyByQuantizedMultiplier(sum((q - zp) * w) [+ bias])``
  with ``QuantizeMultiplier(float32(s_in * s_w) / 2^-12)``, the input FC with the
  gate's bias, the recurrent one without; the two are added and saturated to int16;
* the gate: the int16 Logistic (forget, input, output) or Tanh (cell) of TFLite's
  reference_integer_ops, a 256-entry table of sigmoid(i / 24) interpolated, output
  Q0.15;
* cell: ``c = sat16(mul(f, c) + mul(i, g))`` with int16 products requantized to the
  cell scale 2^-k (``QuantizeMultiplier(s1 * s2 / s_c)``, TFLM takes the gate
  output scale as float32(0.00003051757), not exactly 2^-15);
* hidden: ``h = mul(tanh(c), o)`` requantized to the hidden state's int8 scale and
  zero point; the output at each step is ``h``.

effc feeds the layer its ONNX meaning: gate pre-activation clipping (ONNX's
``clip``), peepholes, coupled gates (``input_forget``), other activations and short
sequences have no TFLM integer form and are refused at lowering.
"""

from __future__ import annotations

import math

import numpy as np

from effc.quant import fixedpoint as fp
from effc.quant._sigmoid_table import SIGMOID_TABLE_UINT16

#: TFLM's fixed gate scales (lstm_eval_common.cc PrepareGateParametersInteger).
GATE_INPUT_SCALE = float(np.float32(0.00024414062))  # 2^-12
GATE_OUTPUT_SCALE = float(np.float32(0.00003051757))  # just under 2^-15
#: sigmoid(i / 24) in 0.16 fixed point, the table of TFLite's int16 Logistic and Tanh.
SIGMOID_TABLE = np.asarray(SIGMOID_TABLE_UINT16, np.int64)

INT16_MIN, INT16_MAX = -32768, 32767


def logistic_int16(x: np.ndarray, input_multiplier: int = 0, input_left_shift: int = 0
                   ) -> np.ndarray:
    """reference_integer_ops::Logistic for int16 (Q3.12 in with the defaults, Q0.15 out)."""
    if input_multiplier == 0:
        input_multiplier, input_left_shift = 3 << input_left_shift, 0
    rounding = (1 << (input_left_shift - 1)) if input_left_shift > 0 else 0
    v = (np.asarray(x, np.int64) * input_multiplier + rounding) >> input_left_shift
    a = np.abs(v)
    uh = a >> 9
    inside = uh < 255
    idx = np.minimum(uh, 254)
    ua, ub = SIGMOID_TABLE[idx], SIGMOID_TABLE[idx + 1]
    result = np.where(inside, (ua << 9) + (a & 0x1FF) * (ub - ua), 0x7FFF << 10)
    result = np.where(v >= 0, result + (1 << 9), (1 << 25) - result + (1 << 9) - 1)
    return (result >> 10).astype(np.int64)


def tanh_int16(x: np.ndarray, input_multiplier: int, input_left_shift: int) -> np.ndarray:
    """reference_integer_ops::Tanh for int16 (Q0.15 out)."""
    if input_multiplier == 0:
        input_multiplier, input_left_shift = 3 << input_left_shift, 0
    rounding = (1 << (input_left_shift - 1)) if input_left_shift > 0 else 0
    v = (np.asarray(x, np.int64) * input_multiplier + rounding) >> input_left_shift
    a = np.abs(v)
    uh = a >> 8
    inside = uh < 255
    idx = np.minimum(uh, 254)
    ua, ub = SIGMOID_TABLE[idx], SIGMOID_TABLE[idx + 1]
    result = np.where(inside, (ua << 8) + (a & 0xFF) * (ub - ua), 0xFFFF << 8)
    result = np.where(v >= 0, result - (1 << 23) + (1 << 7), -result + (1 << 23) + (1 << 7) - 1)
    return result >> 8


def lstm_tanh_params(cell_state_scale_power: int) -> tuple[int, int]:
    """(input_multiplier, input_left_shift) of lstm_internal::Tanh for a Q(-power) input."""
    shift = 15 + cell_state_scale_power - 3
    return (0, shift) if shift >= 0 else (3, -shift)


def fc_int16(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, input_zero_point: int,
             multiplier: int, shift: int) -> np.ndarray:
    """reference_integer_ops::FullyConnected int8 -> int16 (zero points 0 for w and out)."""
    acc = (np.asarray(x, np.int64) - input_zero_point) @ np.asarray(w, np.int64).T
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)
    out = fp.multiply_by_quantized_multiplier(fp.wrap_int32(acc), multiplier, shift)
    return np.clip(out, INT16_MIN, INT16_MAX)


def mul(a: np.ndarray, b: np.ndarray, multiplier: int, shift: int, lo: int = INT16_MIN,
        hi: int = INT16_MAX, zero_point: int = 0) -> np.ndarray:
    """reference_integer_ops::MulElementwise of two int16 values (symmetric inputs)."""
    out = fp.multiply_by_quantized_multiplier(np.asarray(a, np.int64) * b, multiplier, shift)
    return np.clip(out + zero_point, lo, hi)


def cell_scale_power(max_abs: float) -> int:
    """The power of the int16 cell scale 2^power that holds ``max_abs`` (effc's choice:
    the smallest such power, at most -1; TFLite's converter also takes a power of two)."""
    bits = max(0, math.ceil(math.log2(max(max_abs, 1e-9))))
    return min(bits - 15, -1)


def lstm_params(s_x: float, z_x: int, s_h: float, z_h: int, w_scales: np.ndarray,
                r_scales: np.ndarray, power: int) -> dict:
    """Every multiplier of an int8 LSTM (lstm_eval_common.cc CreateGateParams and
    CreateInterGateMulParams)."""
    def fc(s_in: float, s_w: float) -> list[int]:
        product = float(np.float32(np.float32(s_in) * np.float32(s_w)))
        return list(fp.quantize_multiplier(product / GATE_INPUT_SCALE))

    s_c = 2.0 ** power
    return {
        "input_fc": [fc(s_x, float(s)) for s in w_scales],
        "recurrent_fc": [fc(s_h, float(s)) for s in r_scales],
        "forget_mul": list(fp.quantize_multiplier(GATE_OUTPUT_SCALE * s_c / s_c)),
        "input_mul": list(fp.quantize_multiplier(GATE_OUTPUT_SCALE * GATE_OUTPUT_SCALE / s_c)),
        "output_mul": list(fp.quantize_multiplier(
            GATE_OUTPUT_SCALE * GATE_OUTPUT_SCALE / float(np.float32(s_h)))),
        "cell_power": int(power), "input_zero_point": int(z_x), "hidden_zero_point": int(z_h),
    }


def lstm_int8(xs: list[np.ndarray], attrs: dict) -> list[np.ndarray]:
    """The int8 LSTM of an IR node: xs = x [N, T, I] int8, w [4, H, I] int8, r [4, H, H]
    int8, b [4, H] int32, h0 [N, H] int8, c0 [N, H] int16; returns y, h, c."""
    x, w, r, b, h, c = (np.asarray(v, np.int64) for v in xs[:6])
    p = attrs["lstm"]
    z_x, z_h = p["input_zero_point"], p["hidden_zero_point"]
    tanh_gate = lstm_tanh_params(-12)
    tanh_cell = lstm_tanh_params(p["cell_power"])
    steps = range(x.shape[1] - 1, -1, -1) if attrs.get("reverse") else range(x.shape[1])
    ys = np.zeros((x.shape[0], x.shape[1], w.shape[1]), np.int64)
    for t in steps:
        gates = []
        for g in range(4):
            pre = np.clip(fc_int16(x[:, t], w[g], b[g], z_x, *p["input_fc"][g])
                          + fc_int16(h, r[g], None, z_h, *p["recurrent_fc"][g]),
                          INT16_MIN, INT16_MAX)
            gates.append(tanh_int16(pre, *tanh_gate) if g == 2 else logistic_int16(pre))
        i, f, g_cell, o = gates
        c = np.clip(mul(f, c, *p["forget_mul"]) + mul(i, g_cell, *p["input_mul"]),
                    INT16_MIN, INT16_MAX)
        h = mul(tanh_int16(c, *tanh_cell), o, *p["output_mul"], lo=-128, hi=127,
                zero_point=z_h)
        ys[:, t] = h
    return [ys.astype(np.int8), h.astype(np.int8), c.astype(np.int16)]

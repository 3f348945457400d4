"""int8 GRU: effc's own exact integer scheme (TensorFlow Lite has no integer GRU).

It is built from the pieces of TFLite Micro's integer LSTM (effc/quant/lstm.py), so
one set of primitives serves both layers:

* activations int8 (input ``s_x, z_x``; hidden state and output ``s_h, z_h``),
  weights int8 symmetric with one scale per gate matrix, biases int32 at
  ``s_x * s_w`` (input) and ``s_h * s_r`` (recurrent);
* each gate's ``FC(x) + bias`` and ``FC(h) + bias`` are int8 FullyConnected layers
  to int16 at 2^-12 (Q3.12), added with int16 saturation; update ``z`` and reset
  ``r`` are TFLite's int16 Logistic (Q0.15);
* the candidate: with ``linear_before_reset`` ``n = Tanh(FC_x + mul(r, FC_h))``
  (``mul``: MultiplyByQuantizedMultiplier of the int16 product by
  ``s_gate_out``, back to Q3.12); otherwise ``r * (h - z_h)`` is requantized to an
  int8 hidden-scale value first and goes through the recurrent FC;
* the new state ``h = (1 - z) n + z h_prev`` in hidden-scale units:
  ``n_h = MBQM(n, s_gate_out / s_h)``, ``d = (h_prev - z_h) - n_h``,
  ``h = sat8(n_h + MBQM(z * d, s_gate_out) + z_h)``, where ``s_gate_out`` is TFLM's
  gate output scale float32(0.00003051757).

Every step is an integer operation the C kernel repeats exactly.
"""

from __future__ import annotations

import numpy as np

from effc.quant import fixedpoint as fp
from effc.quant.lstm import (
    GATE_INPUT_SCALE,
    GATE_OUTPUT_SCALE,
    INT16_MAX,
    INT16_MIN,
    fc_int16,
    logistic_int16,
    lstm_tanh_params,
    mul,
    tanh_int16,
)


def gru_params(s_x: float, z_x: int, s_h: float, z_h: int, w_scales: np.ndarray,
               r_scales: np.ndarray) -> dict:
    def fc(s_in: float, s_w: float) -> list[int]:
        product = float(np.float32(np.float32(s_in) * np.float32(s_w)))
        return list(fp.quantize_multiplier(product / GATE_INPUT_SCALE))

    return {
        "input_fc": [fc(s_x, float(s)) for s in w_scales],
        "recurrent_fc": [fc(s_h, float(s)) for s in r_scales],
        "gate_mul": list(fp.quantize_multiplier(GATE_OUTPUT_SCALE)),
        "to_hidden": list(fp.quantize_multiplier(GATE_OUTPUT_SCALE / float(np.float32(s_h)))),
        "input_zero_point": int(z_x), "hidden_zero_point": int(z_h),
    }


def gru_int8(xs: list[np.ndarray], attrs: dict) -> list[np.ndarray]:
    """The int8 GRU of an IR node: xs = x [N, T, I] int8, w [3, H, I] int8,
    r [3, H, H] int8, wb [3, H] int32, rb [3, H] int32, h0 [N, H] int8; returns y, h."""
    x, w, r, wb, rb, h = (np.asarray(v, np.int64) for v in xs[:6])
    p = attrs["gru"]
    z_x, z_h = p["input_zero_point"], p["hidden_zero_point"]
    tanh_gate = lstm_tanh_params(-12)
    steps = range(x.shape[1] - 1, -1, -1) if attrs.get("reverse") else range(x.shape[1])
    ys = np.zeros((x.shape[0], x.shape[1], w.shape[1]), np.int64)

    def sat(v: np.ndarray) -> np.ndarray:
        return np.clip(v, INT16_MIN, INT16_MAX)

    for t in steps:
        fx = [fc_int16(x[:, t], w[g], wb[g], z_x, *p["input_fc"][g]) for g in range(3)]
        fh = [fc_int16(h, r[g], rb[g], z_h, *p["recurrent_fc"][g]) for g in range(2)]
        update = logistic_int16(sat(fx[0] + fh[0]))
        reset = logistic_int16(sat(fx[1] + fh[1]))
        if attrs.get("linear_before_reset"):
            hidden = fc_int16(h, r[2], rb[2], z_h, *p["recurrent_fc"][2])
            pre = sat(fx[2] + mul(reset, hidden, *p["gate_mul"]))
        else:
            rh = mul(reset, h - z_h, *p["gate_mul"], lo=-128, hi=127, zero_point=z_h)
            pre = sat(fx[2] + fc_int16(rh, r[2], rb[2], z_h, *p["recurrent_fc"][2]))
        n = fp.multiply_by_quantized_multiplier(tanh_int16(pre, *tanh_gate), *p["to_hidden"])
        d = fp.wrap_int32((h - z_h) - n)
        h = np.clip(n + fp.multiply_by_quantized_multiplier(
            fp.wrap_int32(update * d), *p["gate_mul"]) + z_h,
                    -128, 127)
        ys[:, t] = h
    return [ys.astype(np.int8), h.astype(np.int8)]

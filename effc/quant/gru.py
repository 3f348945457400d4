"""int8 GRU: effc's own exact integer scheme (TensorFlow Lite has no integer GRU).

It is built from the pieces of TFLite Micro's integer LSTM (effc/quant/lstm.py), and
like that LSTM's cell the GRU's state stays 16-bit between steps:

* activations int8 (input ``s_x, z_x``; output and hidden value ``s_h, z_h``),
  weights int8 symmetric with one scale per gate matrix, biases int32 at
  ``s_x * s_w`` (input) and ``s_h * s_r`` (recurrent);
* the state ``hs`` is int16 at a power-of-two scale ``2^power`` holding
  ``max(1, |h0|)`` (|h| never exceeds it: each step blends tanh values with the
  state); the recurrent FullyConnected layers read its int8 form
  ``h8 = sat8(MBQM(hs, 2^power / s_h) + z_h)``, which is also the output;
* each gate's ``FC(x) + bias`` and ``FC(h8) + bias`` are int8 FullyConnected layers
  to int16 at 2^-12 (Q3.12), added with int16 saturation; update ``z`` and reset
  ``r`` are TFLite's int16 Logistic (Q0.15);
* the candidate: with ``linear_before_reset`` ``n = Tanh(FC_x + MBQM(r * FC_h, 2^-15))``;
  otherwise ``r * hs`` is requantized to an int8 value at ``s_h`` first
  (``MBQM(r * hs, 2^(power - 15) / s_h) + z_h``) and goes through the recurrent FC;
  ``n`` is TFLite's int16 Tanh (Q0.15);
* the new state ``hs = (1 - z) n + z hs``: ``n_s = MBQM(n, 2^(-15 - power))``,
  ``hs = sat16(n_s + MBQM(z * (hs - n_s), 2^-15))`` (the product fits int32).

Every step is an integer operation the C kernel repeats exactly. The 16-bit state
keeps a slowly changing state (update gate near 1) from rounding to a standstill
each step, as an int8 state would; on the random 49-step, 64-unit keyword model of
tests/issue17_models.py the hidden sequence's SQNR is 35.9 dB (35.5 dB with an int8
state).
"""

from __future__ import annotations

import numpy as np

from effc.quant import fixedpoint as fp
from effc.quant.lstm import (
    GATE_INPUT_SCALE,
    INT16_MAX,
    INT16_MIN,
    cell_scale_power,
    fc_int16,
    logistic_int16,
    lstm_tanh_params,
    mul,
    tanh_int16,
)

Q15 = 2.0 ** -15  # the scale of TFLite's int16 Logistic and Tanh outputs


def state_power(h0_max_abs: float) -> int:
    """The power of the int16 state scale: holds max(1, |h0|)."""
    return cell_scale_power(max(1.0, h0_max_abs))


def gru_params(s_x: float, z_x: int, s_h: float, z_h: int, w_scales: np.ndarray,
               r_scales: np.ndarray, power: int) -> dict:
    def fc(s_in: float, s_w: float) -> list[int]:
        product = float(np.float32(np.float32(s_in) * np.float32(s_w)))
        return list(fp.quantize_multiplier(product / GATE_INPUT_SCALE))

    s_h32 = float(np.float32(s_h))
    return {
        "input_fc": [fc(s_x, float(s)) for s in w_scales],
        "recurrent_fc": [fc(s_h, float(s)) for s in r_scales],
        "gate_mul": list(fp.quantize_multiplier(Q15)),
        "to_state": list(fp.quantize_multiplier(Q15 / 2.0 ** power)),
        "to_hidden": list(fp.quantize_multiplier(2.0 ** power / s_h32)),
        "reset_mul": list(fp.quantize_multiplier(Q15 * 2.0 ** power / s_h32)),
        "state_power": int(power), "input_zero_point": int(z_x), "hidden_zero_point": int(z_h),
    }


def gru_int8(xs: list[np.ndarray], attrs: dict) -> list[np.ndarray]:
    """The int8 GRU of an IR node: xs = x [N, T, I] int8, w [3, H, I] int8,
    r [3, H, H] int8, wb [3, H] int32, rb [3, H] int32, h0 [N, H] int16 (the state at
    2^power); returns y [N, T, H] and h [N, H], int8."""
    x, w, r, wb, rb, hs = (np.asarray(v, np.int64) for v in xs[:6])
    p = attrs["gru"]
    z_x, z_h = p["input_zero_point"], p["hidden_zero_point"]
    tanh_gate = lstm_tanh_params(-12)
    steps = range(x.shape[1] - 1, -1, -1) if attrs.get("reverse") else range(x.shape[1])
    ys = np.zeros((x.shape[0], x.shape[1], w.shape[1]), np.int64)

    def sat(v: np.ndarray) -> np.ndarray:
        return np.clip(v, INT16_MIN, INT16_MAX)

    def to_int8(state: np.ndarray) -> np.ndarray:
        return np.clip(fp.multiply_by_quantized_multiplier(state, *p["to_hidden"]) + z_h,
                       -128, 127)

    h8 = to_int8(hs)
    for t in steps:
        fx = [fc_int16(x[:, t], w[g], wb[g], z_x, *p["input_fc"][g]) for g in range(3)]
        fh = [fc_int16(h8, r[g], rb[g], z_h, *p["recurrent_fc"][g]) for g in range(2)]
        update = logistic_int16(sat(fx[0] + fh[0]))
        reset = logistic_int16(sat(fx[1] + fh[1]))
        if attrs.get("linear_before_reset"):
            hidden = fc_int16(h8, r[2], rb[2], z_h, *p["recurrent_fc"][2])
            pre = sat(fx[2] + mul(reset, hidden, *p["gate_mul"]))
        else:
            rh = mul(reset, hs, *p["reset_mul"], lo=-128, hi=127, zero_point=z_h)
            pre = sat(fx[2] + fc_int16(rh, r[2], rb[2], z_h, *p["recurrent_fc"][2]))
        n = fp.multiply_by_quantized_multiplier(tanh_int16(pre, *tanh_gate), *p["to_state"])
        hs = sat(n + fp.multiply_by_quantized_multiplier(update * (hs - n), *p["gate_mul"]))
        h8 = to_int8(hs)
        ys[:, t] = h8
    return [ys.astype(np.int8), h8.astype(np.int8)]

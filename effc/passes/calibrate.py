"""Activation range calibrators for post-training quantization.

Each calibrator maps the observed float values of one tensor to a range
[lo, hi] that contains 0. ``choose_quant`` turns a range into an int8 scale
and zero point that are never zero or NaN.

- ``minmax``: the observed extremes.
- ``percentile``: the 0.01 % / 99.99 % percentiles (clips rare outliers).
- ``mse``: the clipping threshold that minimizes the quantization mean squared
  error on the observed values (a grid search over shrink factors).
- ``entropy``: the threshold minimizing the KL divergence between the value
  histogram and its quantized version (Migacz, "8-bit inference with TensorRT",
  GTC 2017).
"""

from __future__ import annotations

import numpy as np

from effc.errors import EffcError
from effc.ir import QuantParams

CALIBRATORS = ("minmax", "percentile", "mse", "entropy")
#: Values kept per tensor (a uniform random subsample beyond this).
MAX_SAMPLES = 200_000


class Observer:
    """Collects a bounded sample of each tensor's values plus exact extremes."""

    def __init__(self, seed: int = 0) -> None:
        self.samples: dict[str, list[np.ndarray]] = {}
        self.lo: dict[str, float] = {}
        self.hi: dict[str, float] = {}
        #: Ranges of values inside nodes (an LSTM's cell state over every step).
        self.extra: dict[str, float] = {}
        self.rng = np.random.default_rng(seed)

    def add(self, name: str, value: np.ndarray) -> None:
        flat = np.asarray(value, np.float32).reshape(-1)
        self.lo[name] = min(self.lo.get(name, np.inf), float(flat.min()))
        self.hi[name] = max(self.hi.get(name, -np.inf), float(flat.max()))
        if flat.size > 4096:
            flat = self.rng.choice(flat, 4096, replace=False)
        self.samples.setdefault(name, []).append(flat)

    def values(self, name: str) -> np.ndarray:
        data = np.concatenate(self.samples[name])
        if data.size > MAX_SAMPLES:
            data = self.rng.choice(data, MAX_SAMPLES, replace=False)
        return data


def _quant_error(values: np.ndarray, lo: float, hi: float) -> float:
    q = choose_quant(lo, hi)
    scale, zp = float(q.scale), int(q.zero_point)
    deq = (np.clip(np.round(values / scale) + zp, -128, 127) - zp) * scale
    return float(np.mean((values - deq) ** 2))


def _mse_range(values: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    best = (lo, hi)
    best_err = _quant_error(values, lo, hi)
    for f in np.linspace(0.3, 1.0, 36):
        err = _quant_error(values, lo * f, hi * f)
        if err < best_err:
            best, best_err = (lo * f, hi * f), err
    return best


def _entropy_range(values: np.ndarray, lo: float, hi: float, bins: int = 2048) -> tuple[float, float]:
    peak = max(abs(lo), abs(hi))
    if peak == 0:
        return lo, hi
    hist, edges = np.histogram(np.abs(values), bins=bins, range=(0, peak))
    hist = hist.astype(np.float64)
    levels = 128
    best_kl, best_i = np.inf, bins
    for i in range(levels, bins + 1, 16):
        ref = hist[:i].copy()
        ref[i - 1] += hist[i:].sum()  # P: outliers clipped into the last bin
        if ref.sum() == 0:
            continue
        # Q: the unclipped candidate range merged into 128 levels, then expanded
        # back over the bins that were non-empty.
        chunks = np.array_split(hist[:i], levels)
        expanded = np.concatenate([
            np.where(c > 0, c.sum() / max(np.count_nonzero(c), 1), 0.0) for c in chunks])
        p = ref / ref.sum()
        qd = expanded / max(expanded.sum(), 1e-12)
        mask = p > 0
        kl = float(np.sum(p[mask] * np.log(p[mask] / np.maximum(qd[mask], 1e-12))))
        if kl < best_kl:
            best_kl, best_i = kl, i
    threshold = float(edges[best_i])
    return max(lo, -threshold), min(hi, threshold)


def calibrate_range(observer: Observer, name: str, kind: str) -> tuple[float, float]:
    lo, hi = min(0.0, observer.lo[name]), max(0.0, observer.hi[name])
    if kind == "minmax":
        return lo, hi
    values = observer.values(name)
    if kind == "percentile":
        p_lo, p_hi = np.percentile(values, [0.01, 99.99])
        return min(0.0, float(p_lo)), max(0.0, float(p_hi))
    if kind == "mse":
        return _mse_range(values, lo, hi)
    if kind == "entropy":
        return _entropy_range(values, lo, hi)
    raise EffcError(f"unknown calibrator '{kind}'; choose one of {', '.join(CALIBRATORS)}")


#: Activation magnitudes above this are refused: an output scale of 1e30 / 255 times
#: TFLite's 2**20 Add/Sub left shift still fits float32 (3.4e38), a larger one does not.
MAX_ACTIVATION = 1e30


class ActivationOverflowError(EffcError):
    """The float model overflows on the calibration data (finite samples, checked on
    load): an activation is inf, NaN or beyond ``MAX_ACTIVATION``, which no int8 scale
    represents. A user-facing EffcError like any other; its own type lets a caller (the
    random-model tests) tell a model that cannot be quantized from a compiler bug."""


def choose_quant(lo: float, hi: float, tensor: str | None = None) -> QuantParams:
    """Asymmetric int8 parameters for [lo, hi] (0 always exactly representable);
    ``tensor`` names the activation in the error when its range overflows."""
    lo, hi = min(0.0, float(lo)), max(0.0, float(hi))
    where = f" '{tensor}'" if tensor else ""
    if not np.isfinite(lo) or not np.isfinite(hi):
        raise ActivationOverflowError(
            f"calibration: the float model's activation{where} is inf or NaN on the "
            "calibration data (it overflows float32); check the model or the calibration "
            "data")
    if max(-lo, hi) > MAX_ACTIVATION:
        raise ActivationOverflowError(
            f"calibration saw an activation{where} of magnitude {max(-lo, hi):.3g}, beyond "
            f"{MAX_ACTIVATION:.0e} where int8 scales overflow float32 arithmetic; the float "
            "model overflows on this data: check the model or the calibration data")
    span = hi - lo
    if span < 1e-8:  # a constant (e.g. all-zero) tensor: any positive scale is exact
        span = 1.0
    scale = np.float32(span / 255.0)
    zero_point = int(np.clip(np.round(-128 - lo / float(scale)), -128, 127))
    return QuantParams(scale, np.int32(zero_point))


def parse_calibrators(spec: str) -> tuple[str, dict[str, str]]:
    """``KIND`` or ``KIND,NAME=KIND,...`` -> (default, per-tensor overrides)."""
    default, overrides = "minmax", {}
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        name, sep, kind = part.rpartition("=")
        if kind not in CALIBRATORS:
            raise EffcError(f"unknown calibrator '{kind}' in --calibrator; choose one of "
                            f"{', '.join(CALIBRATORS)} (per tensor: NAME=KIND)")
        if sep:
            overrides[name] = kind
        else:
            default = kind
    return default, overrides

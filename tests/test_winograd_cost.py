"""The --winograd auto cost model (effc/passes/winograd_cost.py) against its measurements.

The measurements themselves are checked against the current kernels under QEMU
in tests/test_qemu_winograd.py.
"""

from __future__ import annotations

import numpy as np

from effc.passes.winograd_cost import MARGIN, features, fit, measurements, predict

KERNELS = {"int8": ("direct", "F2"), "float32": ("direct", "F2", "F4")}


def _key(row: dict) -> tuple:
    return (row["dtype"], row["rank"], row["out_h"], row["out_w"], row["c_in"], row["c_out"])


def _by_shape() -> dict[tuple, dict[str, int]]:
    shapes: dict[tuple, dict[str, int]] = {}
    for row in measurements():
        shapes.setdefault(_key(row), {})[row["kernel"]] = row["instructions"]
    return shapes


def test_every_shape_is_measured_with_every_kernel() -> None:
    shapes = _by_shape()
    assert len(shapes) >= 100
    for key, kernels in shapes.items():
        assert tuple(kernels) == KERNELS[key[0]], key
    # ResNet-8's 3x3 stride-1 layers are among them
    for layer in [(2, 32, 32, 3, 16), (2, 32, 32, 16, 16), (2, 16, 16, 32, 32), (2, 8, 8, 64, 64)]:
        assert ("int8", *layer) in shapes and ("float32", *layer) in shapes


def test_fit_reproduces_the_measurements() -> None:
    errors = []
    for row in measurements():
        tile = 0 if row["kernel"] == "direct" else int(row["kernel"][1:])
        errors.append(abs(predict(row, tile) - row["instructions"]) / row["instructions"])
    assert max(errors) < 0.25 and float(np.median(errors)) < 0.02


def _left_out_predictions() -> dict[tuple, dict[str, float]]:
    """Each shape's costs predicted by a fit that has not seen that shape."""
    rows = measurements()
    out: dict[tuple, dict[str, float]] = {}
    for key in {_key(r) for r in rows}:
        fitted = fit([r for r in rows if _key(r) != key])
        for row in (r for r in rows if _key(r) == key):
            tile = 0 if row["kernel"] == "direct" else int(row["kernel"][1:])
            out.setdefault(key, {})[row["kernel"]] = float(
                features(row, tile) @ fitted[(row["dtype"], row["rank"], row["kernel"])])
    return out


def test_auto_is_never_slower_than_direct_on_unseen_shapes() -> None:
    """Leave-one-out: auto's rule (Winograd when predicted MARGIN below direct) with
    predictions from fits that never saw the shape, against the measured counts."""
    measured, predicted = _by_shape(), _left_out_predictions()
    chosen_winograd, loss = 0, []
    for key, pred in predicted.items():
        best = min((k for k in pred if k != "direct"), key=pred.__getitem__)
        choice = best if pred[best] < (1 - MARGIN) * pred["direct"] else "direct"
        chosen_winograd += choice != "direct"
        assert measured[key][choice] <= measured[key]["direct"], (key, choice, measured[key])
        loss.append(measured[key][choice] / min(measured[key].values()))
    assert chosen_winograd >= len(predicted) // 2  # not vacuous: Winograd wins often
    assert float(np.mean(loss)) < 1.02

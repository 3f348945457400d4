"""Shared fixtures: where the external models live, and how to compare outputs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx.reference import ReferenceEvaluator

ROOT = Path(__file__).resolve().parents[1]
SHARED_MODELS = ROOT.parent / "shared" / "models"
EXAMPLES = ROOT / "examples"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def shared_models() -> Path:
    """The shared model folder; fails in CI when missing, skips elsewhere."""
    if not SHARED_MODELS.is_dir():
        if IN_CI:
            pytest.fail(f"{SHARED_MODELS} is missing; CI must provide ../shared/models")
        pytest.skip(f"{SHARED_MODELS} is missing (external models not available here)")
    return SHARED_MODELS


def onnx_oracle(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    """onnxruntime on each sample of ``x``; ``onnx.reference`` where onnxruntime
    cannot run the model (e.g. the opset-6 Gemm of three_layer_bn_pytorch)."""
    name = model.graph.input[0].name
    try:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(model.SerializeToString(), options)
        run = lambda s: session.run(None, {name: s})[0]  # noqa: E731
    except Exception:
        evaluator = ReferenceEvaluator(model)
        run = lambda s: evaluator.run(None, {name: s})[0]  # noqa: E731
    return np.concatenate([run(x[i:i + 1]) for i in range(x.shape[0])])


def relative_error(y: np.ndarray, ref: np.ndarray, floor: float = 1e-6) -> float:
    """max |y - ref| / max(|ref|, floor), elementwise (the 1e-5 criterion)."""
    y = np.asarray(y, np.float64).reshape(-1)
    ref = np.asarray(ref, np.float64).reshape(-1)
    return float(np.max(np.abs(y - ref) / np.maximum(np.abs(ref), floor)))


def assert_close(y: np.ndarray, ref: np.ndarray, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    np.testing.assert_allclose(np.asarray(y, np.float64), np.asarray(ref, np.float64),
                               rtol=rtol, atol=atol)


def pytest_report_header(config: pytest.Config) -> str:
    from tests.differential import FRESH_SEED

    return f"differential tests: fresh seed EFFC_DIFF_SEED={FRESH_SEED}"

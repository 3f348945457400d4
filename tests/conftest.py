"""Shared fixtures: where the external models live, and how to compare outputs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

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


def relative_error(y: np.ndarray, ref: np.ndarray, floor: float = 1e-6) -> float:
    """max |y - ref| / max(|ref|, floor), elementwise (the 1e-5 criterion)."""
    y = np.asarray(y, np.float64).reshape(-1)
    ref = np.asarray(ref, np.float64).reshape(-1)
    return float(np.max(np.abs(y - ref) / np.maximum(np.abs(ref), floor)))


def assert_close(y: np.ndarray, ref: np.ndarray, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    np.testing.assert_allclose(np.asarray(y, np.float64), np.asarray(ref, np.float64),
                               rtol=rtol, atol=atol)

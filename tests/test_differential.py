"""Differential testing of the whole compiler on random models (issue 8, part 3).

Each random ONNX model (``tests/differential/generator.py``: every supported op
and flag, random shapes, layouts, branches, outputs) runs float (effc's
reference vs onnxruntime, the float C library vs the reference) and int8 with
per-tensor and per-channel weights (the integer reference vs the host C
library, bit for bit; a subset also as firmware under QEMU). A target that
cannot run a model must refuse it with the one-line error
(``tests/differential/support.py`` says which target runs which feature).

CI runs a fixed seed (``FIXED_SEED``: ``HOST_MODELS`` models that run on the
host engine, ``QEMU_MODELS`` under QEMU, ``MIXED_MODELS`` from the whole
distribution) plus ``FRESH_MODELS`` from a fresh seed, printed at the start of
the session. To reproduce a failure of the fresh run::

    EFFC_DIFF_SEED=<printed seed> .venv/bin/python -m pytest tests/test_differential.py -k fresh

hypothesis prints the shrunk model (its layers) and the ``@reproduce_failure``
blob. Every failure found so far is a named case in
``tests/differential/regressions.py`` (``test_regression``).
"""

from __future__ import annotations

import os
import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, seed, settings

from tests.conftest_c import require_tool
from tests.differential.generator import RandomModel, random_models
from tests.differential.harness import WEIGHT_QUANTS, Differential
from tests.differential.regressions import CASES, Regression
from tests.differential.sanitize import SanitizedHost
from tests.differential.support import OPEN_BUGS, SUPPORT, expected

FIXED_SEED = 8_2024
HOST_MODELS, QEMU_MODELS, MIXED_MODELS, FRESH_MODELS = 300, 30, 60, 30
FRESH_SEED = int(os.environ.get("EFFC_DIFF_SEED") or random.SystemRandom().randrange(2**32))
print(f"\ntests/test_differential.py: fresh seed EFFC_DIFF_SEED={FRESH_SEED}")

#: Outcomes per target over the session (printed by the summary test).
TALLY: Counter[str] = Counter()
FEATURES: Counter[str] = Counter()


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


@pytest.fixture(scope="session")
def sanitizer(tmp_path_factory: pytest.TempPathFactory):
    """One child process with the ASan runtime, for every sanitized host build."""
    host = SanitizedHost(tmp_path_factory.mktemp("sanitizer"))
    yield host
    host.close()


def _runs_on_host(rm: RandomModel) -> bool:
    return expected(rm.features, "host_float") or expected(rm.features, "host_int8")


def _check(rm: RandomModel, tmp_path_factory: pytest.TempPathFactory, tag: str,
           sanitizer: SanitizedHost) -> None:
    diff = Differential(rm, tmp_path_factory.mktemp(tag), sanitizer)
    diff.check_float()
    for weight_quant in WEIGHT_QUANTS:
        diff.check_int8(weight_quant)
    FEATURES.update(rm.features)
    TALLY[f"{tag} models"] += 1
    TALLY.update(f"{tag} {target} {outcome}" for target, outcome in diff.report.outcomes.items())


@pytest.mark.slow
@seed(FIXED_SEED)
@_settings(HOST_MODELS)
@given(rm=random_models().filter(_runs_on_host))
def test_random_models_on_the_host(rm: RandomModel, tmp_path_factory, sanitizer) -> None:
    _check(rm, tmp_path_factory, "host", sanitizer)


@pytest.mark.slow
@seed(FIXED_SEED + 1)
@_settings(MIXED_MODELS)
@given(rm=random_models())
def test_random_models_every_target_or_refusal(rm: RandomModel, tmp_path_factory, sanitizer) -> None:
    _check(rm, tmp_path_factory, "mixed", sanitizer)


@pytest.mark.slow
@seed(FRESH_SEED)
@_settings(FRESH_MODELS)
@given(rm=random_models())
def test_random_models_fresh_seed(rm: RandomModel, tmp_path_factory, sanitizer) -> None:
    """A new seed each run (printed; set EFFC_DIFF_SEED to replay it)."""
    _check(rm, tmp_path_factory, "fresh", sanitizer)


@pytest.mark.slow
@pytest.mark.qemu
@seed(FIXED_SEED + 2)
@_settings(QEMU_MODELS)
@given(rm=random_models().filter(lambda rm: expected(rm.features, "qemu_int8")))
def test_random_models_under_qemu(rm: RandomModel, tmp_path_factory) -> None:
    require_tool("qemu-system-arm")
    diff = Differential(rm, tmp_path_factory.mktemp("qemu"))
    for weight_quant in WEIGHT_QUANTS:
        diff.check_qemu(weight_quant)
    TALLY["qemu models"] += 1
    TALLY.update(f"qemu {target} {outcome}" for target, outcome in diff.report.outcomes.items())


@pytest.mark.parametrize("case", [
    pytest.param(case, id=case.name, marks=[pytest.mark.xfail(strict=True, reason=case.xfail)]
                 if case.xfail else []) for case in CASES])
def test_regression(case: Regression, tmp_path, sanitizer: SanitizedHost) -> None:
    """Each bug the random models found, as its minimal model (see regressions.py)."""
    diff = Differential(case.model(), tmp_path, sanitizer)
    if case.check == "effc":
        diff.check_effc_only()
        return
    diff.check_float()
    for weight_quant in WEIGHT_QUANTS:
        diff.check_int8(weight_quant)


def test_support_table_is_consistent() -> None:
    """C targets need the integer reference; the open bugs are features of the table."""
    for feature, targets in SUPPORT.items():
        assert targets <= {"ref_int8", "host_float", "host_int8", "qemu_int8"}, feature
        if targets & {"host_int8", "qemu_int8"}:
            assert "ref_int8" in targets, feature
    assert set(OPEN_BUGS) <= set(SUPPORT)


@pytest.mark.slow
def test_differential_summary() -> None:
    """Prints how many random models ran on each target this session."""
    for key, count in sorted(TALLY.items()):
        print(f"{key}: {count}")
    print("features seen:", dict(sorted(FEATURES.items())))

"""Differential testing of the whole compiler on random models (issue 8, part 3).

Each random ONNX model (``tests/differential/generator.py``: every supported op
and flag, random shapes, layouts, branches and outputs) runs float (effc's
reference against onnxruntime, the float C library against the reference) and
int8 with per-tensor and per-channel weights (the integer reference against
the host C library, bit for bit, also under ASan and UBSan; a subset as
firmware under QEMU on a Cortex-M4 board (DSP kernels) and a Cortex-M55 board
(Helium kernels), and on the Cortex-M4 with a flash budget (PAIR8 weights)). A
target that cannot run a model must refuse it with the one-line error
(``tests/differential/support.py`` says which target runs which feature).

CI runs fixed seeds: ``HOST_MODELS`` models that run on the host engine,
``QEMU_MODELS`` under QEMU, ``HLS_MODELS`` as the HLS accelerator in C
simulation and ``MIXED_MODELS`` from the whole distribution (refusals
included), plus ``FRESH_MODELS`` from a fresh seed, which pytest
prints in its header ("differential tests: fresh seed EFFC_DIFF_SEED=...") and
a failure of the fresh run repeats. To replay it::

    EFFC_DIFF_SEED=<seed> .venv/bin/python -m pytest tests/test_differential.py -k fresh

hypothesis shrinks a failure and prints the model (its layers and features)
and a ``@reproduce_failure`` blob. Every failure found so far is a named case in
``tests/differential/regressions.py`` (``test_regression``).
"""

from __future__ import annotations

import shutil
import zlib
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.conftest_c import require_tool
from tests.differential import FRESH_SEED
from tests.differential.generator import RandomModel, one_step_models, random_models
from tests.differential.harness import WEIGHT_QUANTS, Differential, winograd_eligible
from tests.differential.regressions import CASES, Regression
from tests.differential.sanitize import SanitizedHost
from tests.differential.support import ALL, OPEN_BUGS, REFUSALS, SUPPORT, expected

FIXED_SEED = 82024
HOST_MODELS, QEMU_MODELS, MIXED_MODELS, FRESH_MODELS, HLS_MODELS = 500, 50, 100, 40, 60
WINOGRAD_MODELS, WINOGRAD_QEMU_MODELS = 100, 25
#: The QEMU boards every QEMU model runs on: the DSP (SMLAD) and the Helium (MVE) kernels.
QEMU_BOARDS = ("mps2-an386", "mps3-an547")
BUDGET_BYTES = 1 << 22  # --flash-budget: room for every layer, so each conv is PAIR8
PACKED_MODELS = 10  # of QEMU_MODELS, at least this many have a PAIR8 conv (17 drawn)
#: one model in TIGHT_EVERY also runs within its budget image's bytes less one: a form
#: whose setup is compiled for size; at least SIZE_COMPILED_MODELS of QEMU_MODELS do
TIGHT_EVERY, SIZE_COMPILED_MODELS = 3, 8
#: models of one_step_models (every conv to one even channel count) on the Cortex-M4, and
#: of their images at least this many store at one step (-DEFFC_MM_2X4_FULL_STEP: the
#: stack loop's full form, or the budget compact form's stores)
STEP_MODELS, FULL_STEP_IMAGES = 6, 5

#: What ran this session: models per test and outcomes per target, features seen.
TALLY: Counter[str] = Counter()
FEATURES: Counter[str] = Counter()


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


@pytest.fixture(scope="module", autouse=True)
def private_build_cache(tmp_path_factory: pytest.TempPathFactory):
    """Thousands of throwaway libraries: build them in this module's own cache (the
    runtime objects compile once into it), not in the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EFFC_CACHE", str(tmp_path_factory.mktemp("effc-cache")))
        yield


@pytest.fixture(scope="module", autouse=True)
def small_residual_bands():
    """Residual blocks (residual_two_convs) fused for the C target run in bands of at most
    64 bytes here, so the small random models take several bands (a short last one
    too) rather than the one that 2,048 bytes gives them."""
    from effc.codegen.c import residual

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(residual, "BAND_BYTES", 64)
        yield


@pytest.fixture(scope="session")
def sanitizer(tmp_path_factory: pytest.TempPathFactory):
    """One child process with the ASan runtime, for every sanitized host build."""
    host = SanitizedHost(tmp_path_factory.mktemp("sanitizer"))
    yield host
    host.close()


def _runs_on_host(rm: RandomModel) -> bool:
    return expected(rm.features, "host_float") or expected(rm.features, "host_int8")


def _check(rm: RandomModel, folder: Path, tag: str, sanitizer: SanitizedHost) -> None:
    diff = Differential(rm, folder, sanitizer)
    diff.check_float()
    for weight_quant in WEIGHT_QUANTS:
        diff.check_int8(weight_quant)
    shutil.rmtree(folder)  # a failing model's folder stays for a look
    FEATURES.update(rm.features)
    TALLY[f"{tag}: models"] += 1
    TALLY.update(f"{tag}: {target} {outcome}" for target, outcome in diff.report.outcomes.items())


@pytest.mark.slow
@seed(FIXED_SEED)
@_settings(HOST_MODELS)
@given(rm=random_models().filter(_runs_on_host))
def test_random_models_on_the_host(rm: RandomModel, tmp_path_factory, sanitizer) -> None:
    _check(rm, tmp_path_factory.mktemp("host"), "host", sanitizer)


@pytest.mark.slow
@seed(FIXED_SEED + 1)
@_settings(MIXED_MODELS)
@given(rm=random_models())
def test_random_models_every_target_or_refusal(rm: RandomModel, tmp_path_factory,
                                               sanitizer) -> None:
    _check(rm, tmp_path_factory.mktemp("mixed"), "mixed", sanitizer)


@pytest.mark.slow
@seed(FRESH_SEED)
@_settings(FRESH_MODELS)
@given(rm=random_models())
def test_random_models_fresh_seed(rm: RandomModel, tmp_path_factory, sanitizer) -> None:
    """A new seed each run (see the module docstring to replay it)."""
    try:
        _check(rm, tmp_path_factory.mktemp("fresh"), "fresh", sanitizer)
    except AssertionError as exc:
        exc.add_note(f"replay with EFFC_DIFF_SEED={FRESH_SEED}")
        raise


@pytest.mark.slow
@pytest.mark.qemu
@seed(FIXED_SEED + 2)
@_settings(QEMU_MODELS)
@given(rm=random_models().filter(lambda rm: expected(rm.features, "qemu_int8")),
       budget_quant=st.sampled_from(WEIGHT_QUANTS))
def test_random_models_under_qemu(rm: RandomModel, budget_quant: str,
                                  tmp_path_factory) -> None:
    """Each model on every QEMU board in both weight granularities, and once more on the
    Cortex-M4 with a flash budget (PAIR8 weights in the packed loops) in one of them; one
    in TIGHT_EVERY also within that image's bytes less one (the lean or compact form,
    their setup compiled for size, where one widens more than the fast form can)."""
    require_tool("qemu-system-arm")
    require_tool("arm-none-eabi-gcc")
    folder = tmp_path_factory.mktemp("qemu")
    diff = Differential(rm, folder)
    for weight_quant in WEIGHT_QUANTS:
        for board in QEMU_BOARDS:
            diff.check_qemu(weight_quant, board)
    roomy = diff.check_qemu(budget_quant, "mps2-an386", flash_budget=BUDGET_BYTES)
    if roomy is not None and zlib.crc32(rm.model.SerializeToString()) % TIGHT_EVERY == 0:
        diff.check_qemu(budget_quant, "mps2-an386", budget_label="tight budget",
                        flash_budget=roomy.manifest["firmware"]["flash_bytes"] - 1)
    shutil.rmtree(folder)
    TALLY["qemu: models"] += 1
    TALLY.update(f"qemu: {target} {outcome}" for target, outcome in diff.report.outcomes.items())


@pytest.mark.slow
@pytest.mark.qemu
@seed(FIXED_SEED + 5)
@_settings(STEP_MODELS)
@given(rm=one_step_models(), weight_quant=st.sampled_from(WEIGHT_QUANTS))
def test_one_step_models_under_qemu(rm: RandomModel, weight_quant: str,
                                    tmp_path_factory) -> None:
    """Models whose convolutions share one even channel count on the Cortex-M4: the speed
    build, a roomy flash budget (PAIR8), and budgets of each packed image's bytes less
    one down to the compact form, bit for bit with the reference and the host (the
    two-channel loop's stores at one step, and the dispatch's one-column loops for the
    columns not that step apart)."""
    require_tool("qemu-system-arm")
    require_tool("arm-none-eabi-gcc")
    folder = tmp_path_factory.mktemp("one-step")
    diff = Differential(rm, folder)
    diff.check_qemu(weight_quant, "mps2-an386")
    image = diff.check_qemu(weight_quant, "mps2-an386", flash_budget=BUDGET_BYTES)
    for tight in ("tight budget", "tighter budget"):
        if image is None or "-DEFFC_WIDE2_PACKED=1" not in image.manifest["c"].get(
                "firmware_cflags", []):
            break
        image = diff.check_qemu(weight_quant, "mps2-an386", budget_label=tight,
                                flash_budget=image.manifest["firmware"]["flash_bytes"] - 1)
    shutil.rmtree(folder)
    TALLY["one-step: models"] += 1
    TALLY.update(f"one-step: {target} {outcome}"
                 for target, outcome in diff.report.outcomes.items())


@pytest.mark.slow
@seed(FIXED_SEED + 3)
@_settings(WINOGRAD_MODELS)
@given(rm=random_models().filter(lambda rm: winograd_eligible(rm) and _runs_on_host(rm)))
def test_random_models_with_winograd(rm: RandomModel, tmp_path_factory, sanitizer) -> None:
    """Models with an eligible convolution compiled with --winograd on (host, ASan)."""
    folder = tmp_path_factory.mktemp("winograd")
    diff = Differential(rm, folder, sanitizer)
    diff.check_winograd()
    shutil.rmtree(folder)
    TALLY["winograd: models"] += 1
    TALLY.update(f"winograd: {target} {outcome}"
                 for target, outcome in diff.report.outcomes.items())


@pytest.mark.slow
@pytest.mark.qemu
@seed(FIXED_SEED + 4)
@_settings(WINOGRAD_QEMU_MODELS)
@given(rm=random_models().filter(
    lambda rm: winograd_eligible(rm) and expected(rm.features, "qemu_int8")))
def test_random_models_with_winograd_under_qemu(rm: RandomModel, tmp_path_factory) -> None:
    require_tool("qemu-system-arm")
    require_tool("arm-none-eabi-gcc")
    folder = tmp_path_factory.mktemp("winograd-qemu")
    diff = Differential(rm, folder)
    diff.check_winograd("mps2-an386")
    shutil.rmtree(folder)
    TALLY["winograd-qemu: models"] += 1
    TALLY.update(f"winograd-qemu: {target} {outcome}"
                 for target, outcome in diff.report.outcomes.items())


@pytest.mark.slow
@seed(FIXED_SEED + 3)
@_settings(HLS_MODELS)
@given(rm=random_models())
def test_random_models_on_hls(rm: RandomModel, tmp_path_factory) -> None:
    """The int8 HLS accelerator in C simulation, both weight granularities, on models
    from the whole distribution (the ones it cannot run must be refused)."""
    folder = tmp_path_factory.mktemp("hls")
    diff = Differential(rm, folder)
    for weight_quant in WEIGHT_QUANTS:
        diff.check_hls(weight_quant)
    shutil.rmtree(folder)
    TALLY["hls: models"] += 1
    TALLY.update(f"hls: {target} {outcome}" for target, outcome in diff.report.outcomes.items())


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
    """C targets need the integer reference; every refused feature says how it is
    refused; every open bug is a feature with a regression case."""
    for feature, targets in SUPPORT.items():
        assert targets <= ALL, feature
        if targets & {"host_int8", "qemu_int8", "hls_int8"}:
            assert "ref_int8" in targets, feature
    restricted = {feature for feature, targets in SUPPORT.items() if targets != ALL}
    assert restricted == set(REFUSALS)
    names = {case.name for case in CASES}
    for feature, case in OPEN_BUGS.items():
        assert feature in SUPPORT and case in names, (feature, case)


@seed(FIXED_SEED)
@settings(max_examples=1500, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rm=random_models())
def _draw(rm: RandomModel) -> None:
    DRAWN.update(rm.features)


@seed(FIXED_SEED + 100)
@settings(max_examples=1500, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rm=random_models())
def _draw_more(rm: RandomModel) -> None:
    DRAWN.update(rm.features)


DRAWN: Counter[str] = Counter()


def test_generator_reaches_every_feature() -> None:
    """1,500 models drawn (not run) contain every feature the generator may draw, so no
    row of the support table is dead and no builder became unreachable; the rarest
    features (an op of the newest opset only) may need 1,500 more of another seed."""
    _draw()
    if any(f not in DRAWN for f in SUPPORT if f not in OPEN_BUGS):
        _draw_more()
    missing = sorted(f for f in SUPPORT if f not in OPEN_BUGS and f not in DRAWN)
    assert not missing, f"the generator never drew {missing}"
    drawn_bugs = sorted(f for f in OPEN_BUGS if f in DRAWN)
    assert not drawn_bugs, f"features with open bugs were drawn: {drawn_bugs}"


@pytest.mark.slow
def test_fixed_seeds_ran_their_counts() -> None:
    """After the random tests of this session: each ran its full count of models (a
    filter or an exhausted search would silently run fewer); the tallies per target
    print with -s."""
    ran = {tag: TALLY[f"{tag}: models"] for tag in ("host", "mixed", "qemu", "winograd",
                                                    "winograd-qemu", "hls", "one-step")}
    if not any(ran.values()):
        pytest.skip("the fixed-seed random tests did not run in this session")
    print("\n".join(f"{key}: {count}" for key, count in sorted(TALLY.items())))
    print("features:", dict(sorted(FEATURES.items())))
    wanted = {"host": HOST_MODELS, "mixed": MIXED_MODELS, "qemu": QEMU_MODELS,
              "winograd": WINOGRAD_MODELS, "winograd-qemu": WINOGRAD_QEMU_MODELS,
              "hls": HLS_MODELS, "one-step": STEP_MODELS}
    for tag, count in ran.items():
        assert count == 0 or count >= wanted[tag], (tag, count)
    packed = sum(n for key, n in TALLY.items()
                 if key.endswith("budget packed ran") and "tight" not in key)
    assert ran["qemu"] == 0 or packed >= PACKED_MODELS, f"{packed} models ran PAIR8 layers"
    small = sum(n for key, n in TALLY.items() if key.endswith("budget size-compiled ran"))
    assert ran["qemu"] == 0 or small >= SIZE_COMPILED_MODELS, f"{small} size-compiled images"
    full = sum(n for key, n in TALLY.items() if key.endswith("full step ran"))
    assert ran["one-step"] == 0 or full >= FULL_STEP_IMAGES, f"{full} images at one step"

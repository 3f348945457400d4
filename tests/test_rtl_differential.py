"""Random models on the RTL accelerator (Verilator), against the integer reference.

The generator (tests/differential/) draws from the features the accelerator's
layers cover (convolutions of every kind, pools, dense, residual Add, fused
ReLU/clip, a final Softmax on the host) plus a few it must refuse (constant and
broadcast element-wise ops, concatenation, padding). Every model either runs
bit-exact with the integer reference (the compile's own self-check through
Verilator included) or is refused at compile time in one line naming the layer.
At least ``MIN_RAN`` models must run.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings

from effc.compiler import CompileOptions, compile_model
from effc.errors import EffcError
from effc.reference import run_batches
from tests.conftest_c import require_tool
from tests.differential import support
from tests.differential.generator import RandomModel, random_models
from tests.differential.harness import Differential

RTL_FEATURES = {
    "input_image", "input_signal", "input_vector", "input_nhwc", "input_nchw",
    "conv1d", "conv2d", "conv_stride", "conv_dilation", "conv_pad_asymmetric", "conv_no_bias",
    "conv_depthwise", "conv_depthwise_multiplier", "conv_grouped", "bias_saturates_int32",
    "auto_pad_notset", "auto_pad_valid", "auto_pad_same_upper", "auto_pad_same_lower",
    "maxpool", "avgpool", "pool_stride", "pool_pad", "maxpool_dilation", "maxpool_ceil_mode",
    "avgpool_ceil_mode", "global_avgpool", "global_maxpool",
    "gemm", "gemm_transB", "gemm_alpha_beta", "matmul", "matmul_bias_add", "dense_no_bias",
    "pointwise_matmul", "relu", "clip", "batchnorm", "residual_add", "softmax",
    "flatten", "reshape_flat", "squeeze", "output_nhwc", "transpose_input",
    "transpose_output",
    # drawn so that refusals are exercised too
    "add_const", "concat_channels", "concat_spatial", "concat_features", "pad_constant",
    "residual_sub", "residual_mul", "broadcast", "const_first",
}
MODELS, MIN_RAN = 100, 30
TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def rtl_features():
    """Draw only the features above (the generator skips what OPEN_BUGS lists)."""
    require_tool("verilator")
    with pytest.MonkeyPatch.context() as patch:
        for feature in support.SUPPORT:
            if feature not in RTL_FEATURES:
                patch.setitem(support.OPEN_BUGS, feature, "not drawn for the RTL target")
        yield


@pytest.mark.slow
@seed(120412)
@settings(max_examples=MODELS, deadline=None, database=None, print_blob=True,
          suppress_health_check=list(HealthCheck))
@given(rm=random_models())
def test_random_models_on_the_rtl_accelerator(rm: RandomModel, tmp_path_factory) -> None:
    folder: Path = tmp_path_factory.mktemp("rtl-diff")
    diff = Differential(rm, folder)
    try:
        compiled = compile_model(diff.path, folder / "rtl",
                                 CompileOptions(calib=diff.calib, board="pynq-z2",
                                                target="rtl"))
    except EffcError as exc:
        message = str(exc)
        assert "\n" not in message
        assert "accelerator" in message or "RTL" in message, message
        TALLY["refused"] += 1
        return
    assert compiled.manifest["verification"]["differing_values"] == 0
    ref = run_batches(compiled.graph, diff.test)
    got = compiled.run("verilator", diff.test).values
    for name, want in ref.items():
        assert np.count_nonzero(got[name] != want) == 0, f"{name}: {rm}"
    TALLY["ran"] += 1


@pytest.mark.slow
def test_enough_random_models_ran_on_the_accelerator() -> None:
    if not TALLY:
        pytest.skip("the random-model test did not run in this session")
    print(f"RTL random models: {dict(TALLY)}")
    assert TALLY["ran"] >= MIN_RAN, dict(TALLY)

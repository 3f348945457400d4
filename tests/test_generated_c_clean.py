"""Generated C builds with -Wall -Wextra -Werror on the host and in the firmware.

Reproduced first: every GlobalAveragePool model declared an unused
``output_dims``, so the host engine (-Werror) refused to build it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from effc.compiler import CompileOptions, compile_model
from effc.engines.host import run_host
from effc.reference import run_samples
from effc.toolchain.firmware import COMMON_CFLAGS


def _gap_model(path: Path, pool: str) -> Path:
    w = numpy_helper.from_array(np.linspace(-1, 1, 54, dtype=np.float32).reshape(3, 2, 3, 3), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node(pool, ["c"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 1, 1])], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_firmware_builds_with_werror() -> None:
    assert {"-Wall", "-Wextra", "-Werror"} <= set(COMMON_CFLAGS)


@pytest.mark.parametrize("pool", ["GlobalAveragePool", "GlobalMaxPool"])
@pytest.mark.parametrize("int8", [False, True])
def test_global_pool_models_build_warning_free(tmp_path: Path, pool: str, int8: bool) -> None:
    x = np.random.default_rng(0).standard_normal((4, 2, 4, 4)).astype(np.float32)
    np.save(tmp_path / "calib.npy", x)
    compiled = compile_model(_gap_model(tmp_path / "gap.onnx", pool), tmp_path / "out",
                             CompileOptions(board="mps2-an386",
                                            calib=str(tmp_path / "calib.npy") if int8 else None))
    assert "warning" not in (tmp_path / "out" / "firmware" / "build.log").read_text()
    got, ref = run_host(compiled, x).outputs, run_samples(compiled.graph, x)
    if int8:
        np.testing.assert_array_equal(got, ref)
    else:
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)

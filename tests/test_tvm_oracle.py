"""Second float oracle: the shared float models against Apache TVM (Relax, LLVM on x86).

Optional: needs the ``tvm`` extra (``pip install -e .[tvm]``); without it the whole
file is skipped. TVM gets the model as effc's loader prepared it (batch fixed to 1,
shapes inferred); each model is compiled once and run sample by sample.
"""

from __future__ import annotations

import numpy as np
import pytest

from effc.frontend.importer import load
from effc.frontend.loader import load_onnx
from effc.reference import run_samples
from tests.conftest import EXAMPLES, shared_models

tvm = pytest.importorskip("tvm", reason="Apache TVM is not installed (optional extra: pip install -e .[tvm])")
relax = pytest.importorskip("tvm.relax")
tvm_onnx = pytest.importorskip("tvm.relax.frontend.onnx")

pytestmark = [pytest.mark.tvm, pytest.mark.filterwarnings("ignore:Renaming name")]

HLS4ML = [
    "conv1d_small_keras", "conv2d_small_keras", "conv2d_small_mp_keras", "dense_big_keras",
    "three_layer_bn_pytorch", "three_layer_keras", "three_layer_pytorch", "two_layer_keras",
    "two_layer_pytorch",
]  # three_layer_bn_keras.onnx is ill-formed and refused by effc
MLPERF_FLOAT = ["kws_ref_model_float32", "pretrainedResnet", "ad01_fp32"]


def _path(name: str):
    if name == "digits_cnn":
        return EXAMPLES / "digits" / "digits_cnn.onnx"
    folder = "mlperf-tiny" if name in MLPERF_FLOAT else "hls4ml"
    return shared_models() / folder / f"{name}.onnx"


def _tvm_run(path, x: np.ndarray) -> np.ndarray:
    mod = tvm_onnx.from_onnx(load_onnx(path))
    vm = relax.VirtualMachine(tvm.compile(mod, target="llvm"), tvm.cpu())
    return np.concatenate([vm["main"](tvm.runtime.tensor(x[i:i + 1])).numpy() for i in range(len(x))])


@pytest.mark.parametrize("name", [*HLS4ML, *MLPERF_FLOAT, "digits_cnn"])
def test_float_reference_matches_tvm(name: str) -> None:
    path = _path(name)
    graph = load(path)
    shape = graph.tensors[graph.inputs[0]].shape
    x = np.random.default_rng(1234).standard_normal((3, *shape[1:])).astype(np.float32)
    y = run_samples(graph, x)
    ref = _tvm_run(path, x).reshape(y.shape)
    error = float(np.abs(y - ref).max()) / max(float(np.abs(ref).max()), 1e-6)
    print(f"{name}: max relative error vs TVM {error:.3e}")
    assert error < 1e-5, f"{name}: effc differs from TVM by {error:.3e} (relative to max |tvm|)"

"""``fold_batchnorm``: no BatchNormalization survives, and float outputs move only by rounding.

* real models with BatchNormalization (hls4ml Keras/PyTorch exports, the digits CNN):
  outputs before and after the pass agree to 1e-5 relative;
* tiny ONNX models: a BN with nothing to fold into becomes a depthwise 1x1 Conv, a BN after a
  Conv with bias or after a Gemm is folded into the weights; all match onnxruntime.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from effc.frontend.importer import load
from effc.ir import Graph
from effc.passes.fold_batchnorm import fold_batchnorm
from effc.reference import run_samples
from tests.conftest import EXAMPLES, assert_close, relative_error, shared_models

RNG = np.random.default_rng(1234)


def _ops(graph: Graph) -> list[str]:
    return [n.op_type for n in graph.nodes]


def _fold(graph: Graph) -> Graph:
    folded = fold_batchnorm(graph.clone())
    folded.toposort()
    folded.validate()
    assert "BatchNormalization" not in _ops(folded)
    return folded


def _check_fold_keeps_outputs(graph: Graph, x: np.ndarray) -> tuple[float, float]:
    """(change relative to the output's magnitude, elementwise relative change).

    The first is the 1e-5 criterion; elementwise, a logit near 0 magnifies plain
    float32 rounding (|y| ~ 8 gives ~5e-7 absolute), so there the repo's
    assert_close (rtol 1e-5, atol 1e-6) applies.
    """
    assert "BatchNormalization" in _ops(graph)
    before = run_samples(graph, x)
    folded = _fold(graph)
    after = run_samples(folded, x)
    assert after.shape == before.shape
    normwise = float(np.max(np.abs(after.astype(np.float64) - before))
                     / np.max(np.abs(before.astype(np.float64))))
    assert normwise <= 1e-5
    assert_close(after, before, rtol=1e-5, atol=1e-6)
    return normwise, relative_error(after, before)


@pytest.mark.parametrize("name", ["conv2d_small_mp_keras", "three_layer_bn_pytorch"])
def test_shared_models_with_batchnorm(name: str) -> None:
    graph = load(shared_models() / "hls4ml" / f"{name}.onnx")
    shape = graph.tensors[graph.inputs[0]].shape
    x = RNG.standard_normal((8, *shape[1:])).astype(np.float32)
    normwise, elementwise = _check_fold_keeps_outputs(graph, x)
    print(f"{name}: change after folding {normwise:.2e} of max|y| "
          f"(elementwise {elementwise:.2e})")


def test_digits_cnn_batchnorm_folds_into_conv() -> None:
    graph = load(EXAMPLES / "digits" / "digits_cnn.onnx")
    x = np.load(EXAMPLES / "digits" / "digits_data.npz")["x_test"][:64]
    normwise, elementwise = _check_fold_keeps_outputs(graph, x)
    print(f"digits_cnn: change after folding {normwise:.2e} of max|y| "
          f"(elementwise {elementwise:.2e})")
    folded = _fold(graph)
    # The BN follows the first Conv directly: folded into it, no Mul/Add left behind.
    assert not {"Mul", "Add"} & set(_ops(folded))
    assert _ops(folded).count("Conv") == _ops(graph).count("Conv")


# ------------------------------------------------------------- tiny models


def _bn_params(prefix: str, channels: int) -> list[onnx.TensorProto]:
    gamma = RNG.uniform(0.5, 2.0, channels).astype(np.float32)
    beta = RNG.normal(0, 0.5, channels).astype(np.float32)
    mean = RNG.normal(0, 0.5, channels).astype(np.float32)
    var = RNG.uniform(0.1, 3.0, channels).astype(np.float32)
    return [numpy_helper.from_array(a, f"{prefix}_{n}")
            for a, n in zip((gamma, beta, mean, var), ("gamma", "beta", "mean", "var"), strict=True)]


def _bn_node(x: str, y: str, prefix: str) -> onnx.NodeProto:
    return helper.make_node("BatchNormalization", [x, *(f"{prefix}_{n}" for n in
                                                        ("gamma", "beta", "mean", "var"))],
                            [y], name=prefix, epsilon=1e-3)


def _save(tmp_path: Path, nodes, x_shape, y_shape, inits, outputs=("y",)) -> Path:
    graph = helper.make_graph(
        nodes, "bn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, y_shape) for o in outputs],
        list(inits))
    path = tmp_path / "bn.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _onnxruntime(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(None, {"x": x[i:i + 1]})[0] for i in range(len(x))])


def _fold_and_compare(path: Path, x: np.ndarray) -> Graph:
    graph = load(path)
    before = run_samples(graph, x)
    folded = _fold(graph)
    after = run_samples(folded, x)
    ref = _onnxruntime(path, x)
    assert_close(before, ref)
    assert_close(after, ref)
    print(f"{path.stem}: vs onnxruntime {relative_error(after, ref):.2e} relative")
    return folded


@pytest.mark.parametrize("x_shape", [[1, 3, 4, 5], [1, 6]])
def test_lone_batchnorm_becomes_depthwise_conv(tmp_path: Path, x_shape: list[int]) -> None:
    channels = x_shape[1]
    path = _save(tmp_path, [_bn_node("x", "y", "bn")], x_shape, x_shape,
                 _bn_params("bn", channels))
    x = RNG.standard_normal((4, *x_shape[1:])).astype(np.float32)
    folded = _fold_and_compare(path, x)
    conv = next(n for n in folded.nodes if n.op_type == "Conv")
    assert _ops(folded).count("Conv") == 1 and conv.attrs["group"] == channels
    assert set(conv.attrs["kernel_shape"]) == {1}
    scale = folded.const(conv.inputs[1])
    assert scale is not None and scale.size == channels  # per channel, channels-last
    assert folded.tensors[conv.inputs[1]].quant.axis == 0  # int8: per-channel weights


def test_batchnorm_after_conv_with_bias_folds(tmp_path: Path) -> None:
    w = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = RNG.standard_normal(4).astype(np.float32)
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
             *_bn_params("bn", 4)]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             _bn_node("c", "y", "bn")]
    path = _save(tmp_path, nodes, [1, 3, 6, 6], [1, 4, 6, 6], inits)
    x = RNG.standard_normal((4, 3, 6, 6)).astype(np.float32)
    folded = _fold_and_compare(path, x)
    assert not {"Mul", "Add"} & set(_ops(folded))
    conv = next(n for n in folded.nodes if n.op_type == "Conv")
    assert len(conv.inputs) == 3
    # w' = w * s per output channel (OHWI in the IR), b' = b * s + t
    gamma, beta, mean, var = (numpy_helper.to_array(t).astype(np.float64)
                              for t in inits[2:])
    s = gamma / np.sqrt(var + np.float64(np.float32(1e-3)))
    expected_w = np.moveaxis(w.astype(np.float64), 1, -1) * s[:, None, None, None]
    np.testing.assert_allclose(folded.const(conv.inputs[1]), expected_w, rtol=1e-6)
    np.testing.assert_allclose(folded.const(conv.inputs[2]), b * s + beta - mean * s,
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("with_bias", [True, False])
def test_batchnorm_after_gemm_folds(tmp_path: Path, with_bias: bool) -> None:
    w = RNG.standard_normal((5, 7)).astype(np.float32)  # Gemm B [K, N], transB=0
    inits = [numpy_helper.from_array(w, "w"), *_bn_params("bn", 7)]
    inputs = ["x", "w"]
    if with_bias:
        inits.append(numpy_helper.from_array(RNG.standard_normal(7).astype(np.float32), "c"))
        inputs.append("c")
    nodes = [helper.make_node("Gemm", inputs, ["g"], name="gemm"), _bn_node("g", "y", "bn")]
    path = _save(tmp_path, nodes, [1, 5], [1, 7], inits)
    x = RNG.standard_normal((6, 5)).astype(np.float32)
    folded = _fold_and_compare(path, x)
    assert _ops(folded) == ["Dense"]
    assert len(folded.nodes[0].inputs) == 3  # a bias was added when the Gemm had none


def test_batchnorm_after_conv_whose_output_is_also_used_stays_apart(tmp_path: Path) -> None:
    w = RNG.standard_normal((2, 2, 1, 1)).astype(np.float32)
    inits = [numpy_helper.from_array(w, "w"), *_bn_params("bn", 2)]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             _bn_node("c", "bn_out", "bn"),
             helper.make_node("Add", ["bn_out", "c"], ["y"], name="skip")]
    path = _save(tmp_path, nodes, [1, 2, 3, 3], [1, 2, 3, 3], inits)
    x = RNG.standard_normal((3, 2, 3, 3)).astype(np.float32)
    folded = _fold_and_compare(path, x)
    assert _ops(folded).count("Conv") == 2  # the Conv and the BN's depthwise Conv

"""The acceptance models of issue 17, as real edge models export them (opset 22):

* ``gru_kws``: keyword spotting, MFCC frames [1, 49, 10] -> GRU (64 hidden) -> its
  last hidden state -> Gemm -> 12 classes;
* ``encoder_decoder``: segmentation, [1, 3, 32, 32] -> two stride-2 Conv+Relu ->
  bilinear Resize x2 -> ConvTranspose stride 2 + Relu -> 1x1 Conv -> 4 classes per
  pixel;
* ``gap_gemm``: a CNN ending in global average pooling exported as ReduceMean
  (keepdims 0) and a Gemm with transB (PyTorch's nn.Linear).

``python -m tests.issue17_models DIR`` writes the three .onnx files and a
calibration .npy for each into DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 22


def _model(name: str, nodes: list, x_shape: list[int], inits: dict[str, np.ndarray]
           ) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="effc-issue17")
    model.ir_version = helper.find_min_ir_version_for([helper.make_opsetid("", OPSET)])
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    onnx.checker.check_model(model, full_check=True)
    return model


def _w(rng: np.random.Generator, *shape: int, fan_in: int) -> np.ndarray:
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)


def gru_kws() -> onnx.ModelProto:
    rng = np.random.default_rng(17)
    t, f, h, classes = 49, 10, 64, 12
    inits = {"W": _w(rng, 1, 3 * h, f, fan_in=f), "R": _w(rng, 1, 3 * h, h, fan_in=h),
             "B": (rng.standard_normal((1, 6 * h)) * 0.1).astype(np.float32),
             "fc_w": _w(rng, classes, h, fan_in=h),
             "fc_b": (rng.standard_normal(classes) * 0.1).astype(np.float32),
             "perm_shape": np.array([1, h], np.int64)}
    nodes = [helper.make_node("Transpose", ["x"], ["x_t"], perm=[1, 0, 2]),  # T N F
             helper.make_node("GRU", ["x_t", "W", "R", "B"], ["", "h_last"], hidden_size=h,
                              linear_before_reset=1),
             helper.make_node("Reshape", ["h_last", "perm_shape"], ["feat"]),
             helper.make_node("Gemm", ["feat", "fc_w", "fc_b"], ["y"], transB=1)]
    return _model("gru_kws", nodes, [1, t, f], inits)


def encoder_decoder() -> onnx.ModelProto:
    rng = np.random.default_rng(18)
    inits = {"w1": _w(rng, 16, 3, 3, 3, fan_in=27), "b1": np.zeros(16, np.float32) + 0.05,
             "w2": _w(rng, 32, 16, 3, 3, fan_in=144), "b2": np.zeros(32, np.float32) + 0.05,
             "scales": np.array([1, 1, 2, 2], np.float32),
             "wt": _w(rng, 32, 16, 2, 2, fan_in=128), "bt": np.zeros(16, np.float32) + 0.02,
             "w3": _w(rng, 4, 16, 1, 1, fan_in=16), "b3": np.zeros(4, np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1],
                              strides=[2, 2]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1],
                              strides=[2, 2]),
             helper.make_node("Relu", ["c2"], ["r2"]),
             helper.make_node("Resize", ["r2", "", "scales"], ["up"], mode="linear",
                              coordinate_transformation_mode="half_pixel"),
             helper.make_node("ConvTranspose", ["up", "wt", "bt"], ["d"], strides=[2, 2]),
             helper.make_node("Relu", ["d"], ["rd"]),
             helper.make_node("Conv", ["rd", "w3", "b3"], ["y"])]
    return _model("encoder_decoder", nodes, [1, 3, 32, 32], inits)


def gap_gemm() -> onnx.ModelProto:
    rng = np.random.default_rng(19)
    inits = {"w1": _w(rng, 16, 3, 3, 3, fan_in=27), "b1": np.zeros(16, np.float32) + 0.05,
             "w2": _w(rng, 32, 16, 3, 3, fan_in=144), "b2": np.zeros(32, np.float32) + 0.05,
             "axes": np.array([2, 3], np.int64), "fc_w": _w(rng, 10, 32, fan_in=32),
             "fc_b": (rng.standard_normal(10) * 0.1).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1],
                              strides=[2, 2]),
             helper.make_node("Relu", ["c2"], ["r2"]),
             helper.make_node("ReduceMean", ["r2", "axes"], ["gap"], keepdims=0),
             helper.make_node("Gemm", ["gap", "fc_w", "fc_b"], ["y"], transB=1)]
    return _model("gap_gemm", nodes, [1, 3, 16, 16], inits)


MODELS = {"gru_kws": gru_kws, "encoder_decoder": encoder_decoder, "gap_gemm": gap_gemm}


def calibration(model: onnx.ModelProto, count: int = 16, seed: int = 0) -> np.ndarray:
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    return np.random.default_rng(seed).standard_normal((count, *shape[1:])).astype(np.float32)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, build in MODELS.items():
        model = build()
        onnx.save(model, out / f"{name}.onnx")
        np.save(out / f"{name}_calib.npy", calibration(model, 64))
        np.save(out / f"{name}_test.npy", calibration(model, 8, seed=1))
        print(out / f"{name}.onnx")

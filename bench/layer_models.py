"""One-convolution models, compiled and counted under QEMU: the measurements
behind the Winograd cost model (bench/bench_winograd.py) and its tests.

A layer shape is (rank, h, w, c_in, c_out) with 'same' padding (pads 1): a
3x3 convolution on h x w (rank 2) or a 3-tap one on w (rank 1, h = 1).
``measure`` compiles the model with ``--winograd off`` (the direct kernel) or
``on`` with one tile size allowed (Winograd F(m x m, 3 x 3)), runs one inference under QEMU with per-layer
markers and returns the convolution layer's exact instruction count, after
checking the firmware's output against the effc reference.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Shape(NamedTuple):
    rank: int
    h: int
    w: int
    c_in: int
    c_out: int


def conv_model(shape: Shape, seed: int = 0) -> onnx.ModelProto:
    """A float ONNX model: one 3x3 (3-tap) convolution with 'same' padding and bias."""
    rng = np.random.default_rng(seed)
    spatial = [shape.h, shape.w] if shape.rank == 2 else [shape.w]
    kernel = [3] * shape.rank
    w = rng.normal(0, 1 / np.sqrt(9 * shape.c_in), (shape.c_out, shape.c_in, *kernel))
    b = rng.normal(0, 0.1, shape.c_out)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=kernel,
                            pads=[1] * (2 * shape.rank))
    graph = helper.make_graph(
        [node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                       [1, shape.c_in, *spatial])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, shape.c_out, *spatial])],
        [numpy_helper.from_array(w.astype(np.float32), "w"),
         numpy_helper.from_array(b.astype(np.float32), "b")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def sample(shape: Shape, n: int, seed: int = 1) -> np.ndarray:
    spatial = [shape.h, shape.w] if shape.rank == 2 else [shape.w]
    return np.random.default_rng(seed).normal(size=(n, shape.c_in, *spatial)).astype(np.float32)


def measure(shape: Shape, dtype: str, tile: int, board: str = "mps2-an386") -> int:
    """Instructions of the convolution layer (one inference, exact QEMU count):
    the direct kernel for ``tile`` 0, else Winograd F(tile x tile, 3 x 3)."""
    from effc.compiler import CompileOptions, compile_model
    from effc.quant import winograd as wq
    from effc.reference import run_samples

    winograd = "on" if tile else "off"
    with tempfile.TemporaryDirectory(prefix="effc-layer-") as tmp, \
            mock.patch.dict(wq.TILES, {dtype: (tile,) if tile else wq.TILES[dtype]}):
        path = Path(tmp) / "conv.onnx"
        onnx.save(conv_model(shape), path)
        calib = sample(shape, 8) if dtype == "int8" else None
        options = CompileOptions(board=board, calib=calib,
                                 quantize="int8" if dtype == "int8" else "none",
                                 winograd=winograd, verify=False)
        compiled = compile_model(path, Path(tmp) / "out", options)
        kernels = {layer["kernel"] for layer in compiled.manifest["c"]["layers"]}
        want = "winograd" if winograd == "on" else "conv"
        if not any(k.startswith(want) for k in kernels):
            raise RuntimeError(f"{shape} {dtype} --winograd {winograd}: kernels {kernels}")
        x = sample(shape, 1, seed=2)
        result = compiled.run("qemu", x, profile=True)
        expected = run_samples(compiled.graph, x)
        if dtype == "int8" and not np.array_equal(result.outputs, expected):
            raise RuntimeError(f"{shape}: firmware output differs from the effc reference")
        if dtype != "int8" and not np.allclose(result.outputs, expected, rtol=1e-4,
                                               atol=1e-4 * max(1, np.abs(expected).max())):
            raise RuntimeError(f"{shape}: float firmware output differs from the reference")
        rows = [r for r in result.metrics["profile"] if r["kernel"].startswith(want)]
        return int(rows[0]["instructions"])

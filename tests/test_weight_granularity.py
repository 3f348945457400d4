"""Per-tensor and per-channel int8 weights compile to the same engines bit for bit.

Regression: a conv with one weight scale (onnxruntime's default
``quantize_static(per_channel=False)``, or ``--weight-quant per-tensor``) used
to read past a one-element multiplier array in the C kernels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnxruntime.quantization import CalibrationDataReader, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from effc.compiler import CompileOptions, compile_model
from tests.conftest import EXAMPLES

DIGITS = EXAMPLES / "digits" / "digits_cnn.onnx"


def _digits() -> dict[str, np.ndarray]:
    return dict(np.load(EXAMPLES / "digits" / "digits_data.npz"))


class _Reader(CalibrationDataReader):
    def __init__(self, name: str, x: np.ndarray) -> None:
        self.items = iter([{name: x[i:i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self.items, None)


def _engines_agree(compiled, x: np.ndarray, engines: tuple[str, ...]) -> np.ndarray:
    ref = compiled.run("reference", x).outputs
    for engine in engines:
        got = compiled.run(engine, x).outputs
        assert np.array_equal(got, ref), f"{engine}: {np.count_nonzero(got != ref)} differ"
    return ref


@pytest.mark.parametrize("granularity", ["per-tensor", "per-channel"])
def test_effc_calibrated_weights_host_equals_reference(tmp_path: Path, granularity: str) -> None:
    data = _digits()
    compiled = compile_model(DIGITS, tmp_path / "out", CompileOptions(
        calib=data["x_calib"], weight_quant=granularity, board="mps2-an386"))
    conv = next(n for n in compiled.graph.nodes if n.op_type == "Conv")
    weight = compiled.graph.tensors[conv.inputs[1]]
    assert weight.quant.scale.size == (1 if granularity == "per-tensor" else weight.shape[0])
    assert len(conv.attrs["multiplier"]) == weight.shape[0]  # TFLM: one per output channel
    y = _engines_agree(compiled, data["x_test"][:64], ("host",))
    assert (y.reshape(64, -1).argmax(1) == data["y_test"][:64]).mean() > 0.95


@pytest.mark.qemu
def test_onnxruntime_per_tensor_digits_on_every_engine(tmp_path: Path) -> None:
    data = _digits()
    name = onnx.load(DIGITS).graph.input[0].name
    quant_pre_process(str(DIGITS), str(tmp_path / "pre.onnx"), skip_symbolic_shape=True)
    quantize_static(str(tmp_path / "pre.onnx"), str(tmp_path / "q.onnx"),
                    _Reader(name, data["x_calib"][:64]), per_channel=False)
    compiled = compile_model(tmp_path / "q.onnx", tmp_path / "out",
                             CompileOptions(board="mps2-an386"))
    y = _engines_agree(compiled, data["x_test"][:100], ("host", "qemu"))
    assert (y.reshape(100, -1).argmax(1) == data["y_test"][:100]).mean() > 0.95

"""C backend of the ops of issue 17 beyond the kernel cases: the runtime's copy of
TFLite's sigmoid table is the Python one, every head of the float tests compiles to
float and int8 C and runs on the host (int8 bit-exact), and what the C kernels do not
cover is refused in one line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from effc.compiler import CompileOptions, compile_model
from effc.errors import EffcError
from effc.quant._sigmoid_table import SIGMOID_TABLE_UINT16
from tests.conftest_c import RUNTIME_C
from tests.test_new_ops_float import HEADS, _conv, _model


def test_runtime_sigmoid_table_is_the_python_one() -> None:
    text = (RUNTIME_C / "effc_recurrent_s8.c").read_text()
    body = re.search(r"effc_sigmoid_table\[256\] = \{(.*?)\};", text, re.S)
    assert body is not None
    values = [int(v) for v in re.findall(r"\d+", body.group(1))]
    assert values == list(SIGMOID_TABLE_UINT16)


def _head_model(head: str) -> onnx.ModelProto:
    conv, inits = _conv("x", "c", 3, 6, 1)
    nodes, extra = HEADS[head]
    outputs = ["y", "idx"] if head == "argmax_channels" else ["y"]
    return _model([conv, *nodes], {"x": [1, 3, 7, 6]}, outputs, {**inits, **extra})


@pytest.mark.parametrize("head", sorted(HEADS))
def test_head_runs_in_c(tmp_path: Path, head: str) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(_head_model(head), path)
    x = np.random.default_rng(3).standard_normal((8, 3, 7, 6)).astype(np.float32)
    floats = compile_model(path, tmp_path / "float", CompileOptions(
        quantize="none", board="mps2-an386", verify=False))
    ref, got = floats.run("reference", x[:2]).values, floats.run("host", x[:2]).values
    for name, value in ref.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-4, atol=1e-4, err_msg=name)
    ints = compile_model(path, tmp_path / "int8", CompileOptions(calib=x, board="mps2-an386"))
    assert ints.manifest["verification"]["differing_values"] == 0
    ref, got = ints.run("reference", x[:2]).values, ints.run("host", x[:2]).values
    for name, value in ref.items():
        assert got[name].dtype == value.dtype and np.array_equal(got[name], value), name


def _refused(tmp_path: Path, nodes: list, inits: dict, shape: list[int], match: str,
             quantize: str = "none", outputs: tuple[str, ...] = ("y",)) -> None:
    model = _model(nodes, {"x": shape}, list(outputs), inits)
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    x = np.random.default_rng(0).standard_normal((4, *shape[1:])).astype(np.float32)
    options = CompileOptions(quantize="none", board="mps2-an386") if quantize == "none" else \
        CompileOptions(calib=x, board="mps2-an386")
    with pytest.raises(EffcError, match=match) as info:
        compile_model(path, tmp_path / "out", options)
    assert "\n" not in str(info.value)


def test_logsumexp_has_no_c_kernel(tmp_path: Path) -> None:
    _refused(tmp_path, [helper.make_node("ReduceLogSumExp", ["x", "axes"], ["y"])],
             {"axes": np.array([1], np.int64)}, [1, 4, 3],
             r"\(ReduceLogSumExp\) has no C kernel")


def test_resize_of_three_axes_has_no_c_kernel(tmp_path: Path) -> None:
    _refused(tmp_path, [helper.make_node("Resize", ["x", "", "s"], ["y"], mode="nearest")],
             {"s": np.array([1, 2, 2, 2], np.float32)}, [1, 2, 3, 4],
             r"\(Resize\): a resize of more than two axes")


def test_float_recurrent_with_other_activations_has_no_c_kernel(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    node = helper.make_node("GRU", ["x", "W", "R"], ["", "y"], hidden_size=2,
                            activations=["HardSigmoid", "Tanh"])
    _refused(tmp_path, [node], {"W": rng.standard_normal((1, 6, 3)).astype(np.float32),
                                "R": rng.standard_normal((1, 6, 2)).astype(np.float32)},
             [4, 1, 3], r"\(GRU\): activations \['HardSigmoid', 'Tanh'\] has no C kernel")


def _embedding_model(path: Path, index_type: int) -> None:
    """Token ids -> an embedding table -> a dense layer (a keyword or text model's head)."""
    from onnx import numpy_helper

    rng = np.random.default_rng(5)
    table = numpy_helper.from_array(rng.standard_normal((10, 4)).astype(np.float32), "table")
    w = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["e"], axis=0),
         helper.make_node("MatMul", ["e", "w"], ["y"])], "embedding",
        [helper.make_tensor_value_info("ids", index_type, [1, 6])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 6, 3])], [table, w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)


@pytest.mark.parametrize("index_type", [onnx.TensorProto.INT64, onnx.TensorProto.INT32])
def test_embedding_lookup_runs_in_c(tmp_path: Path, index_type: int) -> None:
    """Gather of a constant table by the model's token ids (negative ones count from the
    end): float C matches the float reference, int8 C (calibrated on integer samples)
    is bit-exact with the integer reference."""
    _embedding_model(tmp_path / "m.onnx", index_type)
    dtype = np.int64 if index_type == onnx.TensorProto.INT64 else np.int32
    ids = np.random.default_rng(6).integers(-10, 10, (8, 6)).astype(dtype)
    for quantize, options in (("float", CompileOptions(quantize="none", board="mps2-an386")),
                              ("int8", CompileOptions(calib=ids, board="mps2-an386"))):
        compiled = compile_model(tmp_path / "m.onnx", tmp_path / quantize, options)
        check = compiled.manifest["verification"]
        assert check["differing_values"] == 0, check
        assert check["compared_with"] == ("integer" if quantize == "int8" else "float") + \
            " reference"
        ref, got = compiled.run("reference", ids).values["y"], \
            compiled.run("host", ids).values["y"]
        np.testing.assert_allclose(got, ref, rtol=0 if quantize == "int8" else 1e-5, atol=0)


def test_embedding_index_outside_the_table_is_refused_by_the_kernel() -> None:
    """An index outside [-rows, rows) returns EFFC_ERR_ARG before anything is written."""
    from effc.toolchain.host import runtime_library

    ffi, lib = runtime_library()
    table = ffi.new("int8_t[]", list(range(12)))
    out = ffi.new("int8_t[]", [7] * 6)
    for bad in (4, -5):
        ids = ffi.new("int64_t[]", [1, bad])
        assert lib.effc_gather_indexed(1, 4, 3, ids, 8, 2, 1, table, out) == -1  # EFFC_ERR_ARG
        assert list(out) == [7] * 6
    ids = ffi.new("int64_t[]", [1, -4])
    assert lib.effc_gather_indexed(1, 4, 3, ids, 8, 2, 1, table, out) == 0  # EFFC_OK
    assert list(out) == [3, 4, 5, 0, 1, 2]


def test_gather_of_a_computed_value_by_computed_indices_has_no_c_kernel(
        tmp_path: Path) -> None:
    from onnx import TensorProto

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"]),
         helper.make_node("Gather", ["r", "idx"], ["y"], axis=1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 5]),
         helper.make_tensor_value_info("idx", TensorProto.INT64, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(EffcError, match=r"\(Gather\): a gather of a computed value by "
                       r"computed indices has no C kernel") as info:
        compile_model(tmp_path / "m.onnx", tmp_path / "out",
                      CompileOptions(quantize="none", board="mps2-an386"))
    assert "\n" not in str(info.value)


def test_float_calibration_samples_for_token_ids_are_refused(tmp_path: Path) -> None:
    _embedding_model(tmp_path / "m.onnx", onnx.TensorProto.INT64)
    with pytest.raises(EffcError, match=r"'ids' has dtype float32; the model input holds "
                       r"int64 indices: save the samples as int64") as info:
        compile_model(tmp_path / "m.onnx", tmp_path / "out",
                      CompileOptions(calib=np.zeros((4, 6), np.float32)))
    assert "\n" not in str(info.value)

"""Every user mistake: one line on stderr naming the problem, exit code 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.conftest import EXAMPLES

DIGITS = EXAMPLES / "digits" / "digits_cnn.onnx"


def effc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "effc.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("effc: error: ")
    for word in words:
        assert word in lines[0], lines[0]


def _tiny(nodes, inputs, outputs, inits=(), opset=17) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "tiny", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _relu_model() -> onnx.ModelProto:
    return _tiny([helper.make_node("Relu", ["x"], ["y"])],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])


def test_missing_model(tmp_path: Path) -> None:
    assert_one_line_error(effc("inspect", str(tmp_path / "nope.onnx")), "does not exist")


def test_truncated_model(tmp_path: Path) -> None:
    bad = tmp_path / "cut.onnx"
    bad.write_bytes(DIGITS.read_bytes()[:5000])
    assert_one_line_error(effc("inspect", str(bad)), "not a valid ONNX file")


def test_not_onnx(tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_text("this is a text file, not a protobuf\n" * 20)
    assert_one_line_error(effc("inspect", str(bad)))


def test_unsupported_op_names_op_node_and_supported_list(tmp_path: Path) -> None:
    model = _tiny([helper.make_node("Hardmax", ["x"], ["y"], name="my_hardmax")],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    onnx.save(model, tmp_path / "hardmax.onnx")
    assert_one_line_error(effc("inspect", str(tmp_path / "hardmax.onnx")), "Hardmax",
                          "my_hardmax", "Conv", "supported ops")


def test_inconsistent_shapes(tmp_path: Path) -> None:
    w = numpy_helper.from_array(np.ones((1, 5), np.float32), "w")
    model = _tiny([helper.make_node("Add", ["x", "w"], ["y"])],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    onnx.save(model, tmp_path / "bad.onnx")
    assert_one_line_error(effc("inspect", str(tmp_path / "bad.onnx")), "shape")


def test_input_of_wrong_shape(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((2, 1, 9, 9), np.float32))
    assert_one_line_error(effc("run", str(DIGITS), "--input", str(tmp_path / "x.npy"),
                               "--output", str(tmp_path / "y.npy")), "shape")


def test_input_of_wrong_dtype(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((2, 1, 8, 8), np.int32))
    assert_one_line_error(effc("run", str(DIGITS), "--input", str(tmp_path / "x.npy"),
                               "--output", str(tmp_path / "y.npy")), "dtype")


def _external_model(tmp_path: Path, location: str) -> Path:
    w = onnx.TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1, 4])
    w.data_location = TensorProto.EXTERNAL
    entry = w.external_data.add()
    entry.key, entry.value = "location", location
    model = _tiny([helper.make_node("Add", ["x", "w"], ["y"])],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    path = tmp_path / "ext.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def test_external_data_escaping_the_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.bin").write_bytes(b"\0" * 16)
    (tmp_path / "m").mkdir()
    path = _external_model(tmp_path / "m", "../secret.bin")
    assert_one_line_error(effc("inspect", str(path)), "outside the model's folder")


def test_external_data_absolute(tmp_path: Path) -> None:
    path = _external_model(tmp_path, "/etc/passwd")
    assert_one_line_error(effc("inspect", str(path)), "outside the model's folder")


def test_huge_tensor(tmp_path: Path) -> None:
    w = onnx.TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[100000, 100000])
    model = _tiny([helper.make_node("Add", ["x", "w"], ["y"])],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    path = tmp_path / "huge.onnx"
    path.write_bytes(model.SerializeToString())
    assert_one_line_error(effc("inspect", str(path)), "over the limit")


def test_bad_input_shape_syntax() -> None:
    assert_one_line_error(effc("inspect", str(DIGITS), "--input-shape", "input=1xAx8"),
                          "--input-shape")


def test_input_shape_names_unknown_input() -> None:
    assert_one_line_error(effc("inspect", str(DIGITS), "--input-shape", "nope=1x1x8x8"),
                          "not a model input")


def test_opset_out_of_range(tmp_path: Path) -> None:
    model = _relu_model()
    model.opset_import[0].version = 3
    path = tmp_path / "old.onnx"
    path.write_bytes(model.SerializeToString())
    assert_one_line_error(effc("inspect", str(path)), "opset")


def test_missing_input_file(tmp_path: Path) -> None:
    assert_one_line_error(effc("run", str(DIGITS), "--input", str(tmp_path / "none.npy"),
                               "--output", str(tmp_path / "y.npy")), "does not exist")


def test_unknown_flag_is_one_line() -> None:
    assert_one_line_error(effc("inspect", str(DIGITS), "--bogus"))


@pytest.mark.parametrize("engine", ["host", "qemu"])
def test_engine_needs_compiled_folder(tmp_path: Path, engine: str) -> None:
    np.save(tmp_path / "x.npy", np.zeros((1, 1, 8, 8), np.float32))
    assert_one_line_error(effc("run", str(DIGITS), "--engine", engine, "--input",
                               str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")),
                          "effc compile")


# ------------------------------------------------ the issue-9 traceback list
# Each of these ended in a Python traceback before; now one line and exit 2.


def _save_model(tmp_path: Path, model: onnx.ModelProto, name: str = "m.onnx") -> Path:
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())
    return path


@pytest.fixture(scope="module")
def compiled_digits(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("digits") / "out"
    result = effc("compile", str(DIGITS), "-o", str(out), "--board", "--calib",
                  f"{EXAMPLES / 'digits' / 'digits_data.npz'}:x_train")
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize("engine", ["reference", "host", "qemu"])
def test_zero_samples(tmp_path: Path, compiled_digits: Path, engine: str) -> None:
    np.save(tmp_path / "x.npy", np.zeros((0, 1, 8, 8), np.float32))
    assert_one_line_error(effc("run", str(compiled_digits), "--engine", engine, "--input",
                               str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")),
                          "no samples")


def test_npy_header_with_huge_shape(tmp_path: Path) -> None:
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((1, 1, 8, 8), np.float32))
    data = path.read_bytes().replace(b"(1, 1, 8, 8)", b"(99999999999, 1, 8, 8)", 1)
    path.write_bytes(data)
    assert_one_line_error(effc("run", str(DIGITS), "--input", str(path), "--output",
                               str(tmp_path / "y.npy")), "x.npy")


def test_output_into_missing_folder(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((1, 1, 8, 8), np.float32))
    assert_one_line_error(effc("run", str(DIGITS), "--input", str(tmp_path / "x.npy"),
                               "--output", str(tmp_path / "no" / "such" / "y.npy")),
                          "does not exist")


def test_corrupt_manifest_and_truncated_weights(tmp_path: Path, compiled_digits: Path) -> None:
    import shutil

    np.save(tmp_path / "x.npy", np.zeros((1, 1, 8, 8), np.float32))
    bad_json, bad_npz = tmp_path / "j", tmp_path / "w"
    shutil.copytree(compiled_digits, bad_json)
    shutil.copytree(compiled_digits, bad_npz)
    (bad_json / "effc.json").write_text("{ not json")
    weights = bad_npz / "ir" / "weights.npz"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    for folder in (bad_json, bad_npz):
        assert_one_line_error(effc("run", str(folder), "--input", str(tmp_path / "x.npy"),
                                   "--output", str(tmp_path / "y.npy")), "effc compile")


def _io(name: str, dtype: int = TensorProto.FLOAT, shape=(1, 4)):
    return helper.make_tensor_value_info(name, dtype, list(shape))


@pytest.mark.parametrize("kind", ["output_is_input", "identity", "int8_identity", "int8_relu",
                                  "scalar"])
def test_degenerate_graphs(tmp_path: Path, kind: str) -> None:
    if kind == "output_is_input":
        model = _tiny([], [_io("x")], [_io("x")])
    elif kind == "identity":
        model = _tiny([helper.make_node("Identity", ["x"], ["y"])], [_io("x")], [_io("y")])
    elif kind == "int8_identity":
        model = _tiny([helper.make_node("Identity", ["x"], ["y"])],
                      [_io("x", TensorProto.INT8)], [_io("y", TensorProto.INT8)])
    elif kind == "int8_relu":
        model = _tiny([helper.make_node("Relu", ["x"], ["y"])],
                      [_io("x", TensorProto.INT8)], [_io("y", TensorProto.INT8)])
    else:
        model = _tiny([helper.make_node("Relu", ["x"], ["y"])], [_io("x", shape=())],
                      [_io("y", shape=())])
    path = _save_model(tmp_path, model)
    np.save(tmp_path / "x.npy", np.ones((2, 4), np.float32))
    for args in (["inspect", str(path)], ["compile", str(path), "-o", str(tmp_path / "o"),
                                          "--board"],
                 ["run", str(path), "--input", str(tmp_path / "x.npy"), "--output",
                  str(tmp_path / "y.npy")]):
        result = effc(*args)
        assert "Traceback" not in result.stderr, result.stderr
        if result.returncode != 0:
            assert_one_line_error(result)


def test_prune_target_macs_overflow(tmp_path: Path) -> None:
    assert_one_line_error(effc("prune", str(DIGITS), "-o", str(tmp_path / "p.onnx"),
                               "--prune-target-macs", "1e400"), "--prune-target-macs")


@pytest.mark.parametrize("offset,length", [(64, None), (0, 64), (8, 16)])
def test_external_data_past_end_of_file(tmp_path: Path, offset: int, length: int | None) -> None:
    (tmp_path / "w.bin").write_bytes(b"\0" * 16)
    path = _external_model(tmp_path, "w.bin")
    model = onnx.load(path, load_external_data=False)
    entries = model.graph.initializer[0].external_data
    entries.add(key="offset", value=str(offset))
    if length is not None:
        entries.add(key="length", value=str(length))
    path.write_bytes(model.SerializeToString())
    assert_one_line_error(effc("inspect", str(path)), "external data", "exceeds")


def test_external_data_inside_a_subgraph(tmp_path: Path) -> None:
    (tmp_path / "secret.bin").write_bytes(b"\0" * 16)
    (tmp_path / "m").mkdir()
    w = onnx.TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1, 4])
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value="../secret.bin")
    branch = helper.make_graph([helper.make_node("Identity", ["w"], ["b"])], "then", [],
                               [_io("b")], [w])
    cond = helper.make_tensor("c", TensorProto.BOOL, [], [True])
    model = _tiny([helper.make_node("If", ["c"], ["y"], then_branch=branch, else_branch=branch)],
                  [_io("x")], [_io("y")], [cond])
    path = _save_model(tmp_path / "m", model)
    assert_one_line_error(effc("inspect", str(path)), "outside the model's folder")


def test_prune_output_over_the_input_or_under_a_file(tmp_path: Path) -> None:
    import shutil

    model = tmp_path / "m.onnx"
    shutil.copyfile(DIGITS, model)
    before = model.read_bytes()
    assert_one_line_error(effc("prune", str(model), "-o", str(model), "--prune", "0.3"),
                          "overwrite the input")
    assert model.read_bytes() == before
    (tmp_path / "afile").write_text("x")
    assert_one_line_error(effc("prune", str(model), "-o", str(tmp_path / "afile" / "p.onnx"),
                               "--prune", "0.3"), "cannot be created")

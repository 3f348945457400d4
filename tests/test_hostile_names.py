"""Hostile model names: nothing from a model reaches generated code unescaped.

Each case was first reproduced against the old emitter: a node name closing the
per-layer comment injected code, ``/*`` and U+202E broke -Werror builds, rich
markup crashed ``effc inspect``, and a constant named ``sig:lut`` aliased the
lookup table of node ``sig``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.engines.host import run_host
from effc.errors import EffcError
from effc.names import KEYWORDS, Namer, c_identifier, comment_text, model_symbol
from effc.reference import run_samples

INJECTION = "relu */ out[0] = 1234.5f; return 0; /*"
IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def effc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "effc.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def relu_model(path: Path, node_name: str, tensor_name: str = "y",
               graph_name: str = "g") -> Path:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], [tensor_name], name=node_name),
         helper.make_node("LeakyRelu", [tensor_name], ["z"], name=node_name + "2")],
        graph_name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 8])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _host_equals_reference(folder: Path, x: np.ndarray) -> CompiledModel:
    compiled = CompiledModel.open(folder)
    np.testing.assert_array_equal(run_host(compiled, x).outputs, run_samples(compiled.graph, x))
    return compiled


# ------------------------------------------------------------------ the helper


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_becomes_a_safe_identifier(text: str) -> None:
    ident = c_identifier(text)
    assert IDENT.fullmatch(ident) and len(ident) <= 42
    assert ident not in KEYWORDS and not ident.lower().startswith("effc_")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_safe_in_a_comment(text: str) -> None:
    safe = comment_text(text, limit=0)
    assert safe.isascii() and safe.isprintable()
    assert "*" not in safe and "?" not in safe and "|" not in safe and "`" not in safe


def test_namer_is_unique_and_avoids_reserved_names() -> None:
    namer = Namer({"status_run"})
    got = [namer.unique(t) for t in ("a b", "a-b", "a_b", "status", "status run", "int",
                                     "effc_conv_s8", "EFFC_NN", "é", "")]
    assert len({g.lower() for g in got}) == len(got)
    assert "status" not in got and "status_run" not in got and "int" not in got
    assert not any(g.lower().startswith("effc") for g in got)


@pytest.mark.parametrize("name", ["effc_model", "effc_nn", "effc_conv_s8", "EFFC_NN", "effc",
                                  "stdint", "int", "in", "é", "a-b", "9lives", "_x", ""])
def test_model_symbol_refuses_effc_names_and_non_identifiers(name: str) -> None:
    with pytest.raises(EffcError):
        model_symbol(name, "--name")


# ------------------------------------------------------------- through compile


def test_node_name_cannot_inject_code(tmp_path: Path) -> None:
    model = relu_model(tmp_path / "m.onnx", INJECTION, graph_name=INJECTION)
    compile_model(model, tmp_path / "out", CompileOptions(board="mps2-an386"))
    source = (tmp_path / "out" / "c" / "m.c").read_text()
    code = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    assert "1234.5" in source and "1234.5" not in code  # kept in a comment, escaped
    x = -np.ones((3, 8), np.float32)  # the reference gives 0 for every output
    _host_equals_reference(tmp_path / "out", x)


@pytest.mark.qemu
def test_node_name_cannot_inject_code_in_firmware(tmp_path: Path) -> None:
    model = relu_model(tmp_path / "m.onnx", INJECTION)
    compile_model(model, tmp_path / "out", CompileOptions(board="mps2-an386"))
    compiled = CompiledModel.open(tmp_path / "out")
    x = -np.ones((2, 8), np.float32)
    np.testing.assert_array_equal(compiled.run("qemu", x).outputs, np.zeros((2, 8)))


@pytest.mark.parametrize("node_name", ["a /* b", "a // b \\", "evil\u202etxt.exe", "x\ny",
                                       "??/", "a*/b"])
def test_comment_breaking_names_build_with_werror(tmp_path: Path, node_name: str) -> None:
    """The host build uses -Wall -Wextra -Werror (-Wcomment, -Wbidi-chars, -Wtrigraphs)."""
    model = relu_model(tmp_path / "m.onnx", node_name, tensor_name=node_name + "t")
    compile_model(model, tmp_path / "out", CompileOptions(board="mps2-an386"))
    for path in (tmp_path / "out" / "c").iterdir():
        assert path.read_bytes().isascii(), path
    _host_equals_reference(tmp_path / "out", np.linspace(-2, 2, 16, dtype=np.float32)
                           .reshape(2, 8))


def test_inspect_prints_markup_names_as_text(tmp_path: Path) -> None:
    model = relu_model(tmp_path / "m.onnx", "[/]", tensor_name="[bold]y[/bold]",
                       graph_name="[/]")
    result = effc("inspect", str(model))
    assert result.returncode == 0, result.stderr
    assert "[/]" in result.stdout and "Traceback" not in result.stderr


def test_report_escapes_names(tmp_path: Path) -> None:
    model = relu_model(tmp_path / "m.onnx", "a|b<script>`x`")
    compile_model(model, tmp_path / "out")
    report = (tmp_path / "out" / "report.md").read_text()
    assert "<script>" not in report and "a|b" not in report


@pytest.mark.parametrize("name", ["effc_model", "effc_nn", "effc_conv_s8", "EFFC_NN", "é",
                                  "stdint"])
def test_name_clashing_with_effc_is_refused(tmp_path: Path, name: str) -> None:
    model = relu_model(tmp_path / "m.onnx", "r")
    result = effc("compile", str(model), "-o", str(tmp_path / "out"), "--board", "--name", name)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("stem,symbol", [("modèle", "modele"), ("effc_nn", "m_effc_nn"),
                                         ("EFFC_MODEL", "m_effc_model"), ("3d net", "m_3d_net"),
                                         ("stdint", "m_stdint")])
def test_model_stem_becomes_an_ascii_symbol(tmp_path: Path, stem: str, symbol: str) -> None:
    model = relu_model(tmp_path / f"{stem}.onnx", "r")
    result = effc("compile", str(model), "-o", str(tmp_path / "out"), "--board")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "c" / f"{symbol}.h").is_file()
    assert "#ifndef EFFC_NN_H" in (tmp_path / "out" / "c" / "effc_nn.h").read_text()
    _host_equals_reference(tmp_path / "out", np.ones((1, 8), np.float32))


def _sigmoid_add_model(path: Path) -> Path:
    """Node ``sig`` (an int8 lookup table) and a constant named ``sig:lut``."""
    c = numpy_helper.from_array(np.linspace(-1, 1, 8, dtype=np.float32).reshape(1, 8),
                                "sig:lut")
    graph = helper.make_graph(
        [helper.make_node("Sigmoid", ["x"], ["s"], name="sig"),
         helper.make_node("Add", ["s", "sig:lut"], ["y"], name="add")],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])], [c])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_constant_named_like_a_table_does_not_alias_it(tmp_path: Path) -> None:
    model = _sigmoid_add_model(tmp_path / "m.onnx")
    x = np.random.default_rng(0).uniform(-4, 4, (16, 8)).astype(np.float32)
    np.save(tmp_path / "calib.npy", x)
    compile_model(model, tmp_path / "out", CompileOptions(calib=str(tmp_path / "calib.npy"),
                                                          board="mps2-an386"))
    _host_equals_reference(tmp_path / "out", x)


def test_array_keys_cannot_collide_across_kinds() -> None:
    """The old emitter keyed tables as f"{node}:lut" next to tensors by name."""
    from effc.codegen.c.emit import _Arrays

    arrays = _Arrays(Namer())
    table = arrays.add(("lut", 0), np.arange(256, dtype=np.int8), "int8_t")
    const = arrays.add(("tensor", "sig:lut"), np.ones(8, np.int8), "int8_t")
    again = arrays.add(("tensor", "lut_0"), np.ones(8, np.int8), "int8_t")
    assert len({table, const, again}) == 3 and len(arrays.items) == 3

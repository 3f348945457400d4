"""K-split and the one-shift parameter words on the RTL accelerator.

A broadcast conv may give ``s = 2^ls`` lanes to one output channel (each its share of the
input channels; the drain adds the ``s`` sums before requantization), and a descriptor whose
channels share one shift reads one parameter word a channel. The scheduler picks the split
with the fewest predicted cycles; here each split is forced in turn (``SPLITS``) on a padded
3x3 conv, a 1x1 conv and dense layers with channel counts that leave lanes idle, and every
output must equal the integer reference under Verilator and Icarus, with the cycle model
exact a descriptor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from effc.boards import load_board
from effc.codegen.rtl import layers as rtl_layers
from effc.codegen.rtl.target import hw_config
from effc.compiler import CompileOptions, compile_model
from effc.reference import run_batches
from tests.conftest_c import require_tool


def _model(path: Path) -> np.ndarray:
    """conv 3x3 pad 1 (8 -> 13, bias) + ReLU, conv 1x1 (13 -> 16), global average pool,
    dense 16 -> 5 + ReLU, dense 5 -> 3; returns calibration inputs."""
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(12)
    consts = {"w0": rng.normal(0, 0.3, (13, 8, 3, 3)), "b0": rng.normal(0, 0.5, 13),
              "w1": rng.normal(0, 0.3, (16, 13, 1, 1)),
              "w2": rng.normal(0, 0.3, (5, 16)), "b2": rng.normal(0, 0.5, 5),
              "w3": rng.normal(0, 0.3, (3, 5))}
    nodes = [
        helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], name="conv3x3", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c0"], ["r0"], name="relu0"),
        helper.make_node("Conv", ["r0", "w1"], ["c1"], name="conv1x1"),
        helper.make_node("GlobalAveragePool", ["c1"], ["p"], name="gap"),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["d"], name="dense5", transB=1),
        helper.make_node("Relu", ["d"], ["r1"], name="relu1"),
        helper.make_node("Gemm", ["r1", "w3"], ["y"], name="dense3", transB=1)]
    graph = helper.make_graph(
        nodes, "ksplit", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 5, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor(k, TensorProto.FLOAT, v.shape, v.astype(np.float32).ravel())
         for k, v in consts.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return rng.standard_normal((16, 8, 5, 4)).astype(np.float32)


@pytest.mark.parametrize("ls", [0, 1, 2, 3])
def test_forced_k_split_is_bit_exact_on_verilator_and_icarus(ls, tmp_path: Path,
                                                             monkeypatch) -> None:
    require_tool("verilator")
    require_tool("iverilog")
    calib = _model(tmp_path / "m.onnx")
    monkeypatch.setattr(rtl_layers, "SPLITS", (ls,))
    compiled = compile_model(tmp_path / "m.onnx", tmp_path / "out",
                             CompileOptions(calib=calib, board="icebreaker", target="rtl"))
    rows = compiled.manifest["rtl"]["descriptors"]
    convs = [r for r in rows if r["kind"] in ("conv", "dense")]
    # the split where the layer's input channels allow it (conv1x1 has 13), else none
    for row, cin in zip(convs, (8, 13, 16, 5), strict=True):
        split = 1 << ls if cin % (1 << ls) == 0 else 1
        assert ("K-split" in row["tiling"]) == (split > 1), row
        if split > 1:
            assert f"x {split} lanes (K-split)" in row["tiling"], row
    x = np.random.default_rng(ls).standard_normal((6, 8, 5, 4)).astype(np.float32) * 2
    want = run_batches(compiled.graph, x)["y"]
    for engine in ("verilator", "icarus"):
        got = compiled.run(engine, x, profile=engine == "verilator")
        assert np.count_nonzero(got.values["y"] != want) == 0, engine
    for layer in compiled.run("verilator", x[:1], profile=True).metrics["layers"]:
        assert abs(layer["cycles"] - layer["predicted_cycles"]) <= 2, layer


def test_one_shift_descriptors_read_one_parameter_word_a_channel(tmp_path: Path) -> None:
    """Per-channel shifts keep two words a channel; a descriptor whose channels share a
    shift (the dense layers here: per-tensor) carries it and reads one."""
    require_tool("verilator")
    calib = _model(tmp_path / "m.onnx")
    compiled = compile_model(tmp_path / "m.onnx", tmp_path / "out",
                             CompileOptions(calib=calib, board="icebreaker", target="rtl"))
    hw, _ = hw_config(load_board("icebreaker"))
    prog = rtl_layers.plan_model(compiled.graph, hw)
    modes = set()
    for lay in prog.layers:
        if lay.params:
            shifts = {shift for _, _, shift in lay.params}
            assert bool(lay.fields.get("ushift")) == (len(shifts) == 1), lay.node
            modes.add(len(shifts) == 1)
            if len(shifts) == 1:
                assert lay.fields["ushv"] == shifts.pop() & 255
    assert modes == {True, False}

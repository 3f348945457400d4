"""The HLS estimator and the folding search (docs/hls-backend.md, "The estimator").

Estimates only: nothing here is timed. The cycle model is checked against the
C simulation's own loop counts (tests/hls_support.py), the FIFO depths against
the threaded C simulation with bounded FIFOs, the resource primitives by hand.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from effc.boards import FpgaBoard
from effc.codegen.hls import estimate as est
from effc.codegen.hls.dataflow import Dataflow
from effc.codegen.hls.folding import Budget, _Menu, choose_folding
from effc.codegen.hls.report import markdown
from effc.compiler import CompileOptions, compile_model
from effc.errors import EffcError
from effc.toolchain.hls import csim_binary
from tests.conftest import shared_models
from tests.hls_support import check_vectors, compile_hls, fpga_board


def tiny() -> FpgaBoard:
    """A board too small for most models: 4 DSP blocks, 2 BRAM36."""
    return dataclasses.replace(fpga_board(), name="tiny", lut=3000, ff=6000, dsp=4, bram36=2)


@pytest.fixture(scope="module")
def kws(tmp_path_factory: pytest.TempPathFactory):
    path = shared_models() / "mlperf-tiny" / "kws_ref_model.onnx"
    return compile_model(path, tmp_path_factory.mktemp("kws") / "out", CompileOptions()).graph


def _estimate(graph, board, fps=None):
    budget = Budget.of(board)
    flow = Dataflow(graph)
    return flow, choose_folding(flow, budget, fps), budget


def test_kws_on_pynq_z2_meets_ten_thousand_inferences_per_second(kws) -> None:
    flow, sel, budget = _estimate(kws, fpga_board())
    assert budget.clock_mhz * 1e6 / sel.interval >= 10_000
    assert not budget.over(sel.resources)
    assert sel.interval == max(f.cycles for f in sel.folds)
    assert sel.latency == sum(f.cycles for f in sel.folds)
    pointwise = [f for layer, f in zip(flow.layers, sel.folds, strict=True)
                 if layer.kind == "conv" and layer.node.attrs["kernel_shape"] == [1, 1]]
    assert pointwise and all(f.params["pe"] * f.params["simd"] > 1 for f in pointwise)


def test_kws_on_arty_fits_its_smaller_budget(kws) -> None:
    _, big, _ = _estimate(kws, fpga_board())
    _, small, budget = _estimate(kws, fpga_board("arty-a7-35t"))
    assert not budget.over(small.resources)
    assert small.resources.dsp <= 90 < big.resources.dsp
    assert small.interval > big.interval


def test_estimate_table_marks_the_bottleneck(tmp_path: Path) -> None:
    compiled = compile_hls(shared_models() / "mlperf-tiny" / "kws_ref_model.onnx",
                           tmp_path / "out")
    est_ = compiled.manifest["hls"]["estimate"]
    marked = [row for row in est_["layers"] if row["bottleneck"]]
    assert len(marked) == 1 and marked[0]["cycles"] == est_["interval_cycles"]
    table = markdown(est_)
    assert table.count("**bottleneck**") == 1 and "inferences/s" in table
    readme = (compiled.folder / "hls" / "README.md").read_text()
    assert "**bottleneck**" in readme and "xc7z020clg400-1" in readme
    check_vectors(compiled)  # every layer's counted cycles equal the estimate


def test_fps_takes_the_cheapest_folding_that_meets_it(kws) -> None:
    _, fastest, budget = _estimate(kws, fpga_board())
    flow, sel, _ = _estimate(kws, fpga_board(), fps=2000)
    target = int(100e6 // 2000)
    assert sel.interval <= target
    assert sel.resources.dsp < fastest.resources.dsp
    for layer, fold in zip(flow.layers, sel.folds, strict=True):
        cheaper = [f for f in layer.folds() if f.cycles <= target and
                   budget.cost(f.res) < budget.cost(fold.res)]
        assert not cheaper, (layer.index, fold.label(), cheaper[0].label())


def test_unreachable_fps_names_the_layer(kws) -> None:
    with pytest.raises(EffcError, match=r"--fps 1e\+06 needs every layer within 100 cycles.*"
                                        r"layer \d+ .* takes at least"):
        _estimate(kws, fpga_board(), fps=1e6)


def test_fps_that_does_not_fit_names_the_resource(kws) -> None:
    with pytest.raises(EffcError, match=r"--fps 11000 does not fit arty-a7-35t: DSP blocks: "
                                        r"\d+ needed of 90, \d+ over"):
        _estimate(kws, fpga_board("arty-a7-35t"), fps=11000)


def test_model_too_large_for_the_board_names_resource_and_excess(tmp_path: Path) -> None:
    path = shared_models() / "hls4ml" / "dense_big_keras.onnx"
    calib = np.random.default_rng(0).normal(0, 1, (8, 16)).astype(np.float32)
    graph = compile_model(path, tmp_path / "out", CompileOptions(calib=calib)).graph
    with pytest.raises(EffcError) as info:
        _estimate(graph, tiny())
    message = str(info.value)
    assert "\n" not in message
    assert re.search(r"does not fit tiny even at its smallest folding: DSP blocks: [\d,]+ "
                     r"needed of 4, [\d,]+ over", message), message


def test_memory_model() -> None:
    assert est.memory(36, 512) == est.Resources(bram=1)
    assert est.memory(8, 2048) == est.Resources(bram=1)  # 9 x 2048
    assert est.memory(64, 1024) == est.Resources(bram=4)  # 4 x (18 x 1024)
    assert est.memory(8, 4096, copies=3) == est.Resources(bram=6)
    assert est.memory(8, 256) == est.Resources(lut=32)  # 2 Kb: distributed RAM
    assert est.memory(512, 16) == est.Resources(lut=512)  # shallow: distributed RAM
    assert est.fifo(8, 2).bram == 0 and est.fifo(64, 4096).bram > 0
    assert est.products(9) == 5 and est.requantizers(2).dsp == 2 * est.REQUANT_DSP
    assert est.mvau_lut(4, 8, 64) < est.mvau_lut(8, 8, 64) < est.mvau_lut(8, 16, 64)


def test_menu_keeps_the_cheapest_within_each_interval(kws) -> None:
    budget = Budget.of(fpga_board())
    layer = Dataflow(kws).layers[2]  # a pointwise 64 -> 64 convolution
    menu = _Menu(layer.folds(), budget)
    for cycles in (2000, 8000, 32000, 10**9):
        best = menu.cheapest_within(cycles)
        within = [f for f in layer.folds() if f.cycles <= cycles]
        assert best is not None and best.cycles <= cycles
        assert budget.cost(best.res) == min(budget.cost(f.res) for f in within)
    assert menu.cheapest_within(menu.cycles[0] - 1) is None


def test_fifo_depths_are_needed_and_enough(tmp_path: Path) -> None:
    """ResNet-8's joins get FIFOs deeper than 2; with them the threaded C simulation
    (bounded FIFOs) runs (test_hls_models), and with one of them cut to 2 beats it
    deadlocks: the check can fail, and the depths matter."""
    compiled = compile_hls(shared_models() / "mlperf-tiny" / "pretrainedResnet_quant.onnx",
                           tmp_path / "out")
    folder = compiled.folder / "hls"
    top = folder / f"{compiled.manifest['hls']['name']}.cpp"
    source = top.read_text()
    deep = re.findall(r"EFFC_HLS_DEPTH\((\w+), (\d+)\);", source)
    deep = [(name, int(depth)) for name, depth in deep if int(depth) > 2]
    assert len(deep) >= 3
    name, depth = max(deep, key=lambda item: item[1])
    top.write_text(source.replace(f"EFFC_HLS_DEPTH({name}, {depth});",
                                  f"EFFC_HLS_DEPTH({name}, 2);"))
    info = compiled.manifest["hls"]
    binary = csim_binary(folder, info["name"], info["sources"],
                         [*info["cxxflags"], "-DEFFC_HLS_THREADED", "-pthread"])
    data = folder / "data"
    proc = subprocess.run([str(binary), str(data / "input.bin"), str(tmp_path / "y.bin")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 4 and "deadlock" in proc.stderr, proc.stderr

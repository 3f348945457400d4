"""ONNX's own backend test data: every pytorch-converted case whose ops effc supports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from effc.frontend.importer import import_model
from effc.frontend.loader import load_onnx
from effc.ops import supported_onnx_ops
from effc.passes.pipeline import frontend_pipeline
from effc.reference import run_graph

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data" / "pytorch-converted"
CASES = sorted(p.name for p in DATA.iterdir() if (p / "model.onnx").is_file())


def _unsupported(model: onnx.ModelProto) -> str | None:
    ops = {n.op_type for n in model.graph.node} - set(supported_onnx_ops())
    if ops:
        return f"ops {sorted(ops)} not supported"
    for value in model.graph.input:
        if len(value.type.tensor_type.shape.dim) > 4:
            return "3-D spatial (rank-5) tensors: effc targets 1-D and 2-D models"
    return None


def _load(case: str) -> tuple[onnx.ModelProto, list[tuple[list, list]]]:
    model = onnx.load(str(DATA / case / "model.onnx"))
    sets = []
    for folder in sorted((DATA / case).glob("test_data_set_*")):
        ins = [numpy_helper.to_array(onnx.load_tensor(str(p)))
               for p in sorted(folder.glob("input_*.pb"))]
        outs = [numpy_helper.to_array(onnx.load_tensor(str(p)))
                for p in sorted(folder.glob("output_*.pb"))]
        sets.append((ins, outs))
    return model, sets


@pytest.mark.parametrize("case", CASES)
def test_pytorch_converted(case: str) -> None:
    model, sets = _load(case)
    reason = _unsupported(model)
    if reason:
        pytest.skip(reason)
    shapes = {v.name: tuple(sets[0][0][i].shape) for i, v in enumerate(
        v for v in model.graph.input if v.name not in {t.name for t in model.graph.initializer})}
    loaded = load_onnx(DATA / case / "model.onnx", shapes)
    graph = frontend_pipeline(import_model(loaded))
    for ins, outs in sets:
        got = run_graph(graph, dict(zip(graph.inputs, ins, strict=True)))
        for name, expected in zip(graph.outputs, outs, strict=True):
            np.testing.assert_allclose(got[name], expected, rtol=1e-5, atol=1e-5)

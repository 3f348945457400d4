"""``effc compile``: frontend -> passes -> OUTDIR (IR, ONNX, manifest, report, code).

OUTDIR layout:
  model.onnx   the transformed model (QDQ for int8), opens in Netron, runs in onnxruntime
  effc.json    the manifest: model summary, interface, quantization parameters, memory
  report.md    the human-readable report
  ir/          the IR the reference engine runs (graph.json + weights.npz)
  c/, firmware/  with --board: the C library and the firmware (see effc/codegen/c/project.py)
  .effc-outdir the marker listing every file effc wrote (effc/outdir.py)

Every path in effc.json is relative to OUTDIR: the folder can be moved.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from effc.codegen.names import model_symbol
from effc.errors import EffcError
from effc.ir import Graph
from effc.ir_io import graph_files, load_graph
from effc.outdir import OutDir
from effc.passes.lower_int8 import WEIGHT_GRANULARITIES
from effc.reference.interpreter import Feeds

MANIFEST = "effc.json"


def add_compile_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="the .onnx model")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    p.add_argument("--quantize", choices=["int8", "none"], default=None,
                   help="int8 post-training quantization (default: int8 for QDQ models, "
                        "none for float models without --calib)")
    p.add_argument("--calib", metavar="FILE.npz|FILE.npy|random",
                   help="calibration samples on axis 0")
    p.add_argument("--calibrator", default="minmax",
                   help="minmax, percentile, mse or entropy; per tensor as NAME=KIND")
    p.add_argument("--weight-quant", choices=list(WEIGHT_GRANULARITIES), default="per-channel",
                   help="symmetric int8 weights with one scale per output channel (default) "
                        "or one per tensor; a QDQ model's weights keep their own")
    p.add_argument("--input-shape", action="append", metavar="NAME=DxD...")
    p.add_argument("--board", nargs="?", const="mps2-an386", default=None,
                   help="emit C (and firmware) for this board (see 'effc boards'); "
                        "--board alone means the default, mps2-an386")
    p.add_argument("--name", default=None,
                   help="C symbol prefix, also the file names and header guard: ASCII letters, "
                        "digits and _, not effc_* (default: the model's stem made such a name)")
    p.add_argument("--force", action="store_true",
                   help="reuse an OUTDIR that holds files effc did not write (they are kept)")
    p.add_argument("--winograd", choices=["auto", "on", "off"], default="off",
                   help="3x3 stride-1 convolutions as Winograd F(2x2,3x3) (int8, exact) or "
                        "F(4x4,3x3) (float): on, auto (per layer, where the cost model "
                        "calibrated on QEMU instruction counts predicts it faster) or off "
                        "(default; the transformed weights take 3.6x the flash)")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="with --board, skip the self-check (the library built for the host "
                        "against the reference on the calibration samples or 8 random inputs)")
    from effc.passes.prune_cli import add_prune_arguments

    add_prune_arguments(p)


@dataclass
class CompileOptions:
    quantize: str | None = None
    calib: str | np.ndarray | None = None
    calibrator: str = "minmax"
    weight_quant: str = "per-channel"  # or "per-tensor" (WEIGHT_GRANULARITIES)
    input_shapes: list[str] | None = None
    board: str | None = None
    name: str | None = None
    prune: dict[str, Any] | None = None  # prune_graph keywords + "fit_board" (prune_cli)
    force: bool = False  # reuse an OUTDIR holding files effc did not write
    verify: bool = True  # with a board: the host build against the reference (effc/verify.py)
    winograd: str = "off"  # "auto", "on" or "off" (effc/passes/winograd.py)


def compile_model(model: str | Path, outdir: str | Path,
                  options: CompileOptions | None = None) -> CompiledModel:
    """Compile ``model`` into ``outdir`` and return the opened result."""
    from effc.frontend.importer import load
    from effc.frontend.loader import parse_input_shapes
    from effc.onnx_export import to_onnx
    from effc.passes.pipeline import compile_pipeline
    from effc.report import report_text
    from effc.summary import summarize

    options = options or CompileOptions()
    inputs = (Path(model), *([Path(options.calib)] if isinstance(options.calib, str) and
                             options.calib != "random" else []))
    OutDir.check_path(outdir, inputs)
    graph = load(model, parse_input_shapes(options.input_shapes))
    if options.name:
        graph.name = model_symbol(options.name, "--name")
    prune_report = None
    if options.prune:
        from effc.passes.prune_cli import apply_prune

        estimate = budget = None
        if options.prune.get("fit_board") and options.board:
            from effc.codegen.c.project import board_usage_estimator
            from effc.firmware.boards import load_board

            board = load_board(options.board)
            budget = (board.flash.size, board.ram.size)
            estimate = board_usage_estimator(board, options)
        graph, prune_report = apply_prune(graph, options.prune, options.calib,
                                          estimate=estimate, budget=budget)
    check_finite_constants(graph)
    if not graph.nodes:
        raise EffcError("the model computes nothing (its output is its input, or only "
                        "Identity nodes); effc compiles models with at least one operation")
    float_graph = graph.clone()
    graph, quant_report = compile_pipeline(graph, options)
    for name in graph.inputs + graph.outputs:
        if graph.tensors[name].dtype == "int8" and graph.tensors[name].quant is None:
            raise EffcError(f"int8 tensor '{name}' at the model's interface has no scale or "
                            "zero point (no QuantizeLinear/DequantizeLinear next to it); give "
                            "the float model or a QDQ model")
    out = OutDir.prepare(outdir, inputs, force=options.force)
    for file, data in graph_files(graph).items():
        out.write(f"ir/{file}", data)
    out.write("model.onnx", to_onnx(graph).SerializeToString())
    float_summary = summarize(float_graph)
    manifest: dict[str, Any] = {
        "effc_version": "0.1.0",
        "source": Path(model).name,  # informational; no path outside OUTDIR
        "name": graph.name,
        "quantize": quant_report.get("mode", "none"),
        "summary": summarize(graph),
        "float_summary": {k: float_summary[k] for k in ("macs", "params")},
        "quantization": quant_report | quantization_parameters(graph),
    }
    if prune_report is not None:
        manifest["pruning"] = prune_report
    if options.winograd != "off":
        from effc.passes.winograd import winograd_report

        manifest["winograd"] = winograd_report(graph, options.winograd)
    if options.board:
        from effc.codegen.c.project import emit_c_project

        manifest.update(emit_c_project(graph, out, options.board, graph.name))
        _self_check(CompiledModel(out.root, graph, manifest), options, out)
    # Last, so that a folder without effc.json is one whose compile did not finish.
    out.write("report.md", report_text(manifest))
    out.write(MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return CompiledModel(out.root, graph, manifest)


def check_finite_constants(graph: Graph) -> None:
    """Refuse NaN and infinite weights in one line naming the tensor (an op's
    infinite bound, such as Clip's, is an attribute and stays allowed)."""
    for tensor in graph.tensors.values():
        data = tensor.data
        if data is None or data.dtype.kind != "f" or np.isfinite(data).all():
            continue
        bad = data[~np.isfinite(data)].reshape(-1)[0]
        raise EffcError(f"constant '{tensor.name}' holds {bad}; effc compiles finite weights "
                        "only (a BatchNormalization with variance 0 and epsilon 0 folds to "
                        "inf): fix the model's constants")


def _self_check(compiled: CompiledModel, options: CompileOptions, out: OutDir) -> None:
    """Record the self-check in the manifest. On failure report.md says so and there
    is no effc.json (the compile did not finish); then the one-line error."""
    from effc.report import report_text
    from effc.verify import verify_host

    manifest = compiled.manifest
    if not options.verify:
        manifest["verification"] = {"skipped": "--no-verify"}
        return
    try:
        manifest["verification"] = verify_host(compiled, options.calib)
    except EffcError as exc:
        manifest["verification"] = {"failed": str(exc)}
        out.write("report.md", report_text(manifest))
        raise


def quantization_parameters(graph: Graph) -> dict[str, Any]:
    """Every int8/int32 tensor's scale and zero point (weights per channel)."""
    activations, constants = {}, {}
    for tensor in graph.tensors.values():
        if tensor.quant is None or tensor.dtype not in ("int8", "int32"):
            continue
        entry = {"dtype": tensor.dtype, "shape": list(tensor.shape)} | tensor.quant.to_json()
        (constants if tensor.is_constant else activations)[tensor.name] = entry
    if not activations:
        return {}
    return {"activations": activations, "weights": constants}


def compile_from_args(args: argparse.Namespace) -> int:
    from effc.passes.prune_cli import prune_options_from_args

    options = CompileOptions(quantize=args.quantize, calib=args.calib,
                             calibrator=args.calibrator, weight_quant=args.weight_quant,
                             input_shapes=args.input_shape,
                             board=args.board, name=args.name,
                             prune=prune_options_from_args(args), force=args.force,
                             verify=args.verify, winograd=args.winograd)
    compiled = compile_model(args.model, args.output, options)
    m = compiled.manifest
    print(f"compiled {m['name']} ({m['quantize']}): {m['summary']['macs']:,} MACs, "
          f"{m['summary']['params']:,} params -> {args.output}")
    check = m.get("verification", {})
    if "differing_values" in check:
        print(f"self-check: host build vs the {check['compared_with']} on {check['inputs']}: "
              f"{check['differing_values']} differing values ({check['criterion']})")
    return 0


class CompiledModel:
    """An OUTDIR written by ``effc compile``."""

    def __init__(self, folder: Path, graph: Graph, manifest: dict[str, Any]) -> None:
        self.folder = folder
        self.graph = graph
        self.manifest = manifest

    @classmethod
    def open(cls, folder: str | Path) -> CompiledModel:
        folder = Path(folder)
        if not (folder / MANIFEST).is_file():
            raise EffcError(f"'{folder}' is not a compiled model folder (no {MANIFEST}); run "
                            "'effc compile MODEL -o OUTDIR' first")
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
        except (OSError, ValueError):
            manifest = None
        if not isinstance(manifest, dict) or not {"name", "summary"} <= manifest.keys():
            raise EffcError(f"'{folder / MANIFEST}' is corrupt (not an effc manifest); run "
                            "'effc compile MODEL -o OUTDIR' again")
        return cls(folder, load_graph(folder / "ir"), manifest)

    def run(self, engine: str, x: Feeds, profile: bool = False):
        """Run ``x`` (an array for a one-input model, else {input name: array}) on
        ``engine``: reference, host or qemu."""
        from effc.engines.run import run_reference

        if engine == "reference":
            return run_reference(self.graph, x)
        from effc.engines.native import run_native

        return run_native(self, engine, x, profile=profile)

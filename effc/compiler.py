"""``effc compile``: frontend -> passes -> OUTDIR (IR, ONNX, manifest, report, code).

OUTDIR layout:
  model.onnx   the transformed model (QDQ for int8), opens in Netron, runs in onnxruntime
  effc.json    the manifest: model summary, interface, quantization parameters, memory
  report.md    the human-readable report
  ir/          the IR the reference engine runs (graph.json + weights.npz)
  board.toml   with --board: the board's file (a user's own board file too)
  c/, firmware/  with an MCU board: the C library and the firmware (effc/codegen/c/target.py)
  hls/         with --target hls (FPGA boards): the HLS C++ project (effc/codegen/hls/target.py)
  .effc-outdir the marker listing every file effc wrote (effc/outdir.py)

Every path in effc.json is relative to OUTDIR: the folder can be moved.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from effc.artifact import BOARD_FILE, MANIFEST, Artifact
from effc.boards import load_board
from effc.codegen import Target, check_target_options, get_target
from effc.engines import EngineResult, get_engine
from effc.errors import EffcError
from effc.ir import Graph
from effc.ir_io import graph_files
from effc.names import model_symbol
from effc.outdir import OutDir
from effc.passes.prune import prune_graph, prune_to_fit
from effc.progress import note, step
from effc.reference.interpreter import Feeds
from effc.version import __version__


@dataclass
class CompileOptions:
    quantize: str | None = None
    calib: str | np.ndarray | None = None
    calibrator: str = "minmax"
    weight_quant: str = "per-channel"  # or "per-tensor" (WEIGHT_GRANULARITIES)
    input_shapes: list[str] | None = None
    board: str | None = None  # a board name (see effc boards) or the path of a board file
    target: str | None = None  # c, hls or rtl (effc.codegen); default: the board's kind's
    name: str | None = None
    prune: dict[str, Any] | None = None  # prune_graph keywords + "fit_board" (effc/cli/prune.py)
    force: bool = False  # reuse an OUTDIR holding files effc did not write
    verify: bool = True  # with a board: the build against the reference (effc/verify.py)
    fps: float | None = None  # --target hls: inferences/s to reach (default: the fastest fit)
    optimize: str | None = None  # --target c: "speed" (None) or "size" (effc/codegen/c/layouts.py)
    winograd: str = "off"  # "auto", "on" or "off" (effc/passes/winograd.py)
    arena: str | None = None  # --target c: "static" (None) or "user" (the caller's arena)
    export: list[str] | None = None  # --target c: cmake, make, zephyr, arduino, platformio
    flash_budget: int | None = None  # --target c, speed: the firmware's most bytes (layouts.py)


def compile_model(model: str | Path, outdir: str | Path,
                  options: CompileOptions | None = None) -> CompiledModel:
    """Compile ``model`` into ``outdir`` and return the opened result."""
    from effc.frontend.importer import load
    from effc.frontend.loader import parse_input_shapes
    from effc.onnx_export import to_onnx
    from effc.passes.pipeline import compile_pipeline
    from effc.report import report_text
    from effc.report_html import report_files
    from effc.summary import summarize

    options = options or CompileOptions()
    inputs = (Path(model), *([Path(options.calib)] if isinstance(options.calib, str) and
                             options.calib != "random" else []))
    OutDir.check_path(outdir, inputs)
    if options.target and not options.board:
        raise EffcError(f"--target {options.target} needs a board: add --board NAME (see "
                        "'effc boards')")
    board = load_board(options.board) if options.board else None
    target = get_target(board, options.target) if board else None
    target_options = check_target_options(target, board, options)
    with step(f"loading {Path(model).name}"):
        graph = load(model, parse_input_shapes(options.input_shapes))
    if options.calib is not None and _is_quantized(graph):
        note("--calib is ignored: the model is already quantized (its QuantizeLinear/"
             "DequantizeLinear or integer tensors carry the scales); drop --calib")
    if options.name:
        graph.name = model_symbol(options.name, "--name")
    prune_report = None
    if options.prune:
        estimate = budget = None
        if options.prune.get("fit_board") and target is not None:
            if target.fit is None:
                raise EffcError(f"--prune-fit-board is not available for the {target.name} "
                                "target; prune with --prune RATIO")
            budget, estimate = target.fit(board, options)
        with step("pruning"):
            graph, prune_report = apply_prune(graph, options.prune, options.calib,
                                              estimate=estimate, budget=budget)
    check_finite_constants(graph)
    if not graph.nodes:
        raise EffcError("the model computes nothing (its output is its input, or only "
                        "Identity nodes); effc compiles models with at least one operation")
    float_graph = graph.clone()
    with step("quantizing and optimizing" if options.calib is not None else "optimizing"):
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
        "effc_version": __version__,
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
    if target is not None:
        out.write(BOARD_FILE, board.source.read_bytes())
        with step(f"generating and building for {board.name}"):
            manifest.update(target.emit(graph, board, out, **target_options))
        manifest |= {"target": target.name, "board_kind": board.kind}
        with step("self-check against the reference"):
            _self_check(CompiledModel(out.root, graph, manifest), target, options, out)
    with step("writing the report"):
        for path, data in report_files(manifest).items():
            out.write(path, data)
    # Last, so that a folder without effc.json is one whose compile did not finish.
    out.write("report.md", report_text(manifest))
    out.write(MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return CompiledModel(out.root, graph, manifest)


def apply_prune(graph: Graph, options: dict[str, Any], calib: Any = None,
                estimate: Callable[[Graph], tuple[int, int]] | None = None,
                budget: tuple[int, int] | None = None) -> tuple[Graph, dict[str, Any]]:
    """Prune ``graph`` as ``effc.cli.prune.prune_options_from_args`` describes.

    With "fit_board", ``estimate(graph) -> (flash, ram)`` and ``budget`` =
    (flash bytes, RAM bytes) come from the target (``Target.fit``) and the board.
    """
    opts = dict(options)
    fit = opts.pop("fit_board", False)
    if not fit:
        return prune_graph(graph, calib=calib, **opts)
    if estimate is None or budget is None:
        raise EffcError("--prune-fit-board needs a board: use 'effc compile MODEL -o OUTDIR "
                        "--board NAME --prune-fit-board'")
    if opts.pop("ratio", 0.0) or opts.pop("target_macs", None) is not None:
        raise EffcError("--prune-fit-board chooses the ratio itself; drop --prune and "
                        "--prune-target-macs")
    return prune_to_fit(graph, budget[0], budget[1], estimate, calib=calib, **opts)


def _is_quantized(graph: Graph) -> bool:
    """A QDQ or QOperator model: its own scales decide the quantization."""
    return any(n.op_type in ("QuantizeLinear", "DequantizeLinear") or n.op_type.startswith(
        "QLinear") for n in graph.nodes) or any(
        t.dtype == "int8" and t.quant is not None for t in graph.tensors.values())


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


def _self_check(compiled: CompiledModel, target: Target, options: CompileOptions,
                out: OutDir) -> None:
    """Write the target's test vectors, if it has them, and record the self-check in the
    manifest. On failure report.md says so and there is no effc.json (the compile did
    not finish); then the one-line error."""
    from effc.report import report_text
    from effc.verify import verify_build, write_vectors

    manifest = compiled.manifest
    if target.vectors is not None:
        write_vectors(compiled, options.calib, target.vectors, manifest[target.name], out)
    if not options.verify:
        manifest["verification"] = {"skipped": "--no-verify"}
        return
    try:
        manifest["verification"] = verify_build(compiled, options.calib, target.check_engine)
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


class CompiledModel(Artifact):
    """An OUTDIR written by ``effc compile`` (``CompiledModel.open(folder)`` reads one)."""

    def run(self, engine: str, x: Feeds, profile: bool = False) -> EngineResult:
        """Run ``x`` (an array for a one-input model, else {input name: array}) on
        ``engine``: reference, host or qemu (``effc.engines``)."""
        result = get_engine(engine).run(self, x, profile)
        if profile and result.metrics.get("profile") and self.folder is not None:
            self.record_profile(engine, result.metrics)
        return result

    @property
    def report(self) -> str:
        """report.md's text (report.html beside it has the figures)."""
        assert self.folder is not None
        return (self.folder / "report.md").read_text()

    def flash_plan(self, board: str | None = None) -> Any:
        """What ``flash`` would write (a ``effc.toolchain.flash.FlashPlan``): the real-board
        image at the start of the board's flash, checked to fit."""
        from effc.boards import McuBoard
        from effc.toolchain.flash import FlashError, fpga_plan, mcu_plan

        compiled_for = self.board()
        chosen = load_board(board) if board else compiled_for
        if chosen.name != compiled_for.name:
            raise FlashError(f"'{self.folder}' was compiled for {compiled_for.name}, not "
                             f"{chosen.name}; compile it again with --board {chosen.name}")
        if not isinstance(chosen, McuBoard):
            assert self.folder is not None
            return fpga_plan(chosen, self.folder / "synth" / "board.bin")
        section = self.manifest.get("board_firmware") or self.manifest.get("firmware") or {}
        if not section.get("bin"):
            raise FlashError(f"'{self.folder}' holds no firmware image; compile with --board "
                             f"{chosen.name}")
        assert self.folder is not None
        return mcu_plan(chosen, self.folder / section["bin"])

    def flash(self, probe: str | None = None, board: str | None = None) -> str:
        """Write the image to the attached board (pyocd, or openocd when the board file
        names a config); returns the probe it went through."""
        from effc.toolchain.flash import flash

        return flash(self.flash_plan(board), probe)

    def record_profile(self, engine: str, metrics: dict[str, Any]) -> None:
        """Add measured instructions per layer to effc.json, report.md and report.html."""
        from effc.report import report_text
        from effc.report_html import report_files

        assert self.folder is not None
        self.manifest["profile"] = {
            "engine": engine, "instructions": metrics["instructions"],
            "per_layer_instructions": {str(row["index"]): row["instructions"]
                                       for row in metrics["profile"]}}
        out = OutDir.existing(self.folder)
        for path, data in report_files(self.manifest).items():
            out.write(path, data)
        out.write("report.md", report_text(self.manifest))
        out.write(MANIFEST, json.dumps(self.manifest, indent=1) + "\n")

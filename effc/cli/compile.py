"""``effc compile``: its arguments, and the compile they ask for."""

from __future__ import annotations

import argparse
from typing import NoReturn

from effc.cli.prune import add_prune_arguments, prune_options_from_args
from effc.codegen import target_names
from effc.compiler import CompileOptions, compile_model
from effc.errors import EffcError
from effc.passes.lower_int8 import WEIGHT_GRANULARITIES


def add_compile_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", help="the .onnx model")
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
                        "--board alone means the default, mps2-an386; or the path of a board "
                        "file such as ./myboard.toml")
    p.add_argument("--target", choices=target_names(), default=None,
                   help="what to generate for the board: c (MCU boards), hls (FPGA boards: an "
                        "HLS C++ dataflow accelerator) or rtl (FPGA boards: effc's programmable "
                        "int8 Verilog accelerator); default: the target of the board's kind")
    p.add_argument("--fps", type=float, default=None, metavar="N",
                   help="--target hls: the cheapest folding reaching N inferences/s at the "
                        "board's clock (default: the fastest folding that fits the board)")
    p.add_argument("--name", default=None,
                   help="C symbol prefix, also the file names and header guard: ASCII letters, "
                        "digits and _, not effc_* (default: the model's stem made such a name)")
    p.add_argument("--optimize", choices=["speed", "size"], default=None,
                   help="with --board: speed (default) gives convolutions and dense layers "
                        "pre-widened int16 weights where they run faster and fit the board's "
                        "flash; size keeps every weight int8")
    p.add_argument("--flash-budget", type=int, default=None, metavar="BYTES",
                   help="with --optimize speed: widen the layers with the most MACs whose "
                        "firmware image stays within BYTES (default: widen by MACs per extra "
                        "byte within the board's flash less a code reserve)")
    p.add_argument("--arena", choices=["static", "user"], default=None,
                   help="C target: one static arena inside the library (default), or the "
                        "caller's: <name>_init(ctx, arena, bytes) binds it to a context "
                        "passed to <name>_run, so models can share one arena and calls are "
                        "reentrant")
    p.add_argument("--export", action="append", metavar="KIND",
                   help="also lay the C library out for a build system under OUTDIR/export/KIND: "
                        "cmake (with a toolchain file for the board), make, zephyr (a module), "
                        "arduino (a library), platformio (a library); repeat for several")
    p.add_argument("--force", action="store_true",
                   help="reuse an OUTDIR that holds files effc did not write (they are kept)")
    p.add_argument("--winograd", choices=["auto", "on", "off"], default="off",
                   help="3x3 stride-1 convolutions as Winograd F(2x2,3x3) (int8, exact) or "
                        "F(4x4,3x3) (float): on, auto (per layer, where the cost model "
                        "calibrated on QEMU instruction counts predicts it faster) or off "
                        "(default; the transformed weights take 3.6x the flash)")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="with --board, skip the self-check (the library built for the host, "
                        "or the HLS C simulation, "
                        "against the reference on the calibration samples or 8 random inputs)")
    add_prune_arguments(p)


def options_from_args(args: argparse.Namespace) -> CompileOptions:
    """The ``CompileOptions`` that parsed ``effc compile`` arguments ask for."""
    return CompileOptions(quantize=args.quantize, calib=args.calib,
                          calibrator=args.calibrator, weight_quant=args.weight_quant,
                          input_shapes=args.input_shape,
                          board=args.board, target=args.target, name=args.name,
                          prune=prune_options_from_args(args), force=args.force,
                          verify=args.verify, optimize=args.optimize,
                          winograd=args.winograd, fps=args.fps,
                          arena=args.arena, export=args.export,
                          flash_budget=args.flash_budget)


class _RaisingParser(argparse.ArgumentParser):
    """A parser whose mistakes are ``EffcError``s (the caller names where they came from)."""

    def error(self, message: str) -> NoReturn:
        raise EffcError(message)


def compile_parser() -> argparse.ArgumentParser:
    """``effc compile``'s arguments, on a parser that raises instead of exiting."""
    parser = _RaisingParser(prog="effc compile", add_help=False)
    add_compile_arguments(parser)
    return parser


def options_from_argv(argv: list[str]) -> CompileOptions:
    """The ``CompileOptions`` of ``effc compile MODEL -o OUTDIR *argv`` (the sweep's points)."""
    return options_from_args(compile_parser().parse_args(["MODEL", "-o", "OUTDIR", *argv]))


def compile_from_args(args: argparse.Namespace) -> int:
    # "--board MODEL.onnx": --board alone (the default board), then the model.
    if args.board and args.board.lower().endswith(".onnx") and args.model is None:
        args.model, args.board = args.board, "mps2-an386"
    if args.model is None:
        raise EffcError("the model is missing: effc compile MODEL.onnx -o OUTDIR [--board NAME]")
    options = options_from_args(args)
    compiled = compile_model(args.model, args.output, options)
    m = compiled.manifest
    print(f"compiled {m['name']} ({m['quantize']}): {m['summary']['macs']:,} MACs, "
          f"{m['summary']['params']:,} params -> {args.output}")
    section = m.get(m.get("target", ""))
    if isinstance(section, dict) and "summary_line" in section:
        print(f"{m['target']}: {section['summary_line']}")
    check = m.get("verification", {})
    if "differing_values" in check:
        print(f"self-check: {check['checked']} vs the {check['compared_with']} on "
              f"{check['inputs']}: "
              f"{check['differing_values']} differing values ({check['criterion']})")
    return 0

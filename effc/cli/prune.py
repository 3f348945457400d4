"""``effc prune`` and the ``--prune*`` flags of ``effc prune`` and ``effc compile``.

``effc prune MODEL -o pruned.onnx [--calib FILE.npy|FILE.npz:ARRAY] [flags]``
loads the model, prunes it (``effc.passes.prune.prune_graph``), writes the
pruned float ONNX model, a JSON report next to it (``pruned.json``) and
prints a per-layer table. ``effc compile`` takes the same flags (see
``add_prune_arguments``) and prunes after the frontend, before quantization.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import Any

from effc.errors import EffcError
from effc.passes.prune import CRITERIA, prune_graph

_AMOUNT_FLAGS = ("prune", "prune_layer", "prune_target_macs", "prune_fit_board")
#: The CLI's --channel-multiple: pruned ResNet-8 with odd widths ran 1.74x fewer
#: instructions for 2.3x fewer MACs (issue 14); the kernels run channels in fours.
DEFAULT_CHANNEL_MULTIPLE = "4"
_SUFFIX = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}


def add_prune_arguments(parser: argparse.ArgumentParser, fit_board: bool = True) -> None:
    """The pruning flags shared by ``effc prune`` and ``effc compile`` (only the latter,
    which knows the board, has ``--prune-fit-board``)."""
    g = parser.add_argument_group("structured pruning (see docs/pruning.md)")
    g.add_argument("--prune", metavar="RATIO", default=None,
                   help="remove this fraction of the prunable channels, ranked globally")
    g.add_argument("--prune-layer", action="append", metavar="NAME=RATIO",
                   help="prune the output channels of layer NAME (or its index in 'effc "
                        "inspect', e.g. 3=0.5) by RATIO (repeatable)")
    g.add_argument("--prune-protect", action="append", metavar="NAME",
                   help="never change layer NAME's channels (a name or an index; repeatable)")
    g.add_argument("--prune-criterion", default="l1", choices=CRITERIA,
                   help="channel importance (default l1; activation needs --calib)")
    g.add_argument("--prune-target-macs", metavar="N", default=None,
                   help="prune the least important channels until MACs <= N (e.g. 2e6, 500k)")
    g.add_argument("--channel-multiple", metavar="K", default=None,
                   help="keep channel counts that are multiples of K (default 4: the Cortex-M "
                        "kernels run channels in fours; 1 keeps any count)")
    g.add_argument("--reconstruct", choices=["lsq", "none"], default=None,
                   help="refit the next layers by least squares on --calib (default: lsq "
                        "when --calib is given)")
    if fit_board:
        g.add_argument("--prune-fit-board", action="store_true",
                       help="with --board: raise the prune ratio until the model fits the "
                            "board's flash and RAM")


def add_prune_command_arguments(parser: argparse.ArgumentParser) -> None:
    """Everything ``effc prune`` takes: MODEL, -o, --calib, --input-shape and the flags."""
    parser.add_argument("model", help="the float .onnx model")
    parser.add_argument("-o", "--output", required=True, metavar="PRUNED.onnx")
    parser.add_argument("--calib", metavar="FILE.npy|FILE.npz:ARRAY",
                        help="calibration samples on axis 0 (reconstruction, error report)")
    parser.add_argument("--input-shape", action="append", metavar="NAME=DxD...")
    add_prune_arguments(parser, fit_board=False)


def _count(text: str, flag: str) -> int:
    match = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([kmg]?)\s*", str(text).lower())
    try:
        value = float(match.group(1)) * _SUFFIX[match.group(2)] if match else -1.0
    except ValueError:  # "1.2.3"
        value = -1.0
    if not math.isfinite(value) or value <= 0 or value != int(value):
        raise EffcError(f"{flag} '{text}' is not a positive whole number; write e.g. 250000, "
                        "250k or 1.5M")
    return int(value)


def _ratio(text: str, flag: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise EffcError(f"{flag} '{text}' is not a number; give a ratio in [0, 1), e.g. "
                        "0.3") from None


def prune_options_from_args(args: argparse.Namespace) -> dict[str, Any] | None:
    """Keyword arguments for ``prune_graph`` (plus "fit_board"), or None when not pruning."""
    if not any(getattr(args, f, None) for f in _AMOUNT_FLAGS):
        extra = [f"--{f.replace('_', '-')}" for f in ("prune_protect",)
                 if getattr(args, f, None)]
        if extra or getattr(args, "reconstruct", None) or \
                getattr(args, "channel_multiple", None) is not None:
            raise EffcError("pruning flags were given but no amount: add --prune RATIO, "
                            "--prune-layer NAME=RATIO or --prune-target-macs N")
        return None
    layer_ratios: dict[str, float] = {}
    for spec in args.prune_layer or []:
        name, sep, value = spec.rpartition("=")
        if not sep or not name:
            raise EffcError(f"bad --prune-layer '{spec}'; write NAME=RATIO, e.g. conv2=0.5")
        layer_ratios[name] = _ratio(value, f"--prune-layer {name}")
    multiple = _count(args.channel_multiple or DEFAULT_CHANNEL_MULTIPLE, "--channel-multiple")
    return {
        "ratio": _ratio(args.prune, "--prune") if args.prune is not None else 0.0,
        "layer_ratios": layer_ratios,
        "protect": list(args.prune_protect or []),
        "criterion": args.prune_criterion,
        "reconstruct": args.reconstruct or "auto",
        "target_macs": (_count(args.prune_target_macs, "--prune-target-macs")
                        if args.prune_target_macs is not None else None),
        "channel_multiple": multiple,
        "fit_board": bool(getattr(args, "prune_fit_board", False)),
    }


def _arrow(pair: list[int]) -> str:
    before, after = pair
    return f"{before:,}" if before == after else f"{before:,} -> {after:,}"


def print_report(report: dict[str, Any], title: str) -> None:
    """The per-layer table (channels, MACs, params before -> after) and the error."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("layer", "op", "in ch", "out ch", "MACs", "params"):
        table.add_column(col, justify="left" if col in ("layer", "op") else "right")
    for layer in report["layers"]:
        table.add_row(layer["name"][-40:], layer["op"], _arrow(layer["in_channels"]),
                      _arrow(layer["out_channels"]), _arrow(layer["macs"]),
                      _arrow(layer["params"]))
    table.add_section()
    macs, params = report["macs"], report["params"]
    table.add_row("total", "", "", "", _arrow([macs["before"], macs["after"]]),
                  _arrow([params["before"], params["after"]]))
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    console.print(table)
    ch = report["channels"]
    console.print(f"criterion {report['criterion']}: removed {ch['removed']} of {ch['prunable']} "
                  f"prunable channels; MACs x{macs['before'] / max(macs['after'], 1):.2f} "
                  f"smaller, params x{params['before'] / max(params['after'], 1):.2f} smaller")
    for key, label in (("error_without_reconstruction", "without reconstruction"),
                       ("error", f"reconstruct {report['reconstruct']}")):
        if key in report:
            err = report[key]
            console.print(f"output error on {report['calibration_samples']} calibration samples "
                          f"({label}): relative L2 {err['relative_l2']:.4f}, max abs "
                          f"{err['max_abs']:.4g}")
    for skip in report["skipped"]:
        who = (f"outputs of {', '.join(skip['producers'])}" if skip["producers"]
               else f"inputs of {', '.join(skip['consumers'])}")
        console.print(f"not pruned: {who[:80]}: {skip['reason']}")
    for warning in report["warnings"]:
        console.print(f"note: {warning}")


def prune_from_args(args: argparse.Namespace) -> int:
    """``effc prune``: load, prune, save ONNX + JSON report, print the table."""
    from effc.frontend.importer import load
    from effc.frontend.loader import parse_input_shapes
    from effc.onnx_export import save_onnx
    from effc.outdir import mkdirs, os_problem

    options = prune_options_from_args(args)
    if options is None:
        raise EffcError("nothing to prune: give --prune RATIO, --prune-layer NAME=RATIO or "
                        "--prune-target-macs N")
    if options.pop("fit_board"):
        raise EffcError("--prune-fit-board needs a board: use 'effc compile MODEL -o OUTDIR "
                        "--board NAME --prune-fit-board'")
    output = Path(args.output)
    if output.suffix.lower() != ".onnx":
        raise EffcError(f"-o '{output}' must name an .onnx file (the report goes next to it "
                        "as .json)")
    if output.is_dir():
        raise EffcError(f"-o '{output}' is a folder; give a file name such as pruned.onnx")
    report_path = output.with_suffix(".json")
    if Path(args.model).resolve() in (output.resolve(), report_path.resolve()):
        raise EffcError(f"-o '{output}' would overwrite the input model; give another name")
    graph = load(args.model, parse_input_shapes(args.input_shape))
    pruned, report = prune_graph(graph, calib=args.calib, **options)
    mkdirs(output.parent, "the folder of -o")
    report = {"source": str(args.model), "output": str(output), **report}
    try:
        save_onnx(pruned, output)
        report_path.write_text(json.dumps(report, indent=1))
    except OSError as exc:
        raise EffcError(f"cannot write '{output}' ({os_problem(exc)}); choose a writable "
                        "path") from None
    print_report(report, f"{graph.name}: pruned -> {output}")
    print(f"wrote {output} and {report_path}")
    return 0

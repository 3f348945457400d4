"""The ``effc`` command line. Every user mistake is one line on stderr and exit 2."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NoReturn

import numpy as np

from effc.arrays import member, open_arrays
from effc.errors import EffcError
from effc.outdir import os_problem


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"effc: error: {message} (see 'effc {self.prog.split()[-1]} --help')\n"
                         if " " in self.prog else f"effc: error: {message} (see 'effc --help')\n")
        sys.exit(2)


def _load_inputs(path: str) -> np.ndarray | dict[str, np.ndarray]:
    """``--input``: a .npy (a one-input model), or an .npz with one array per input
    named like it (an .npz holding a single array also feeds a one-input model)."""
    p = Path(path)
    if not p.is_file():
        raise EffcError(f"input file '{path}' does not exist; check the path")
    value = open_arrays(p, "input file")
    if isinstance(value, np.lib.npyio.NpzFile):
        keys = list(value.keys())
        if len(keys) == 1:
            return member(value, keys[0], f"input file '{path}'")
        return {k: member(value, k, f"input file '{path}'") for k in keys}
    return value


def _save_outputs(output: Path, values: dict[str, np.ndarray]) -> None:
    """``--output``: Y.npz holds every output by name; Y.npy the only output."""
    if output.suffix != ".npz" and len(values) != 1:
        raise EffcError(f"the model has {len(values)} outputs ({', '.join(values)}); give "
                        "--output Y.npz to get each by name")
    try:
        if output.suffix == ".npz":
            np.savez(output, **values)
        else:
            np.save(output, next(iter(values.values())))
    except OSError as exc:
        raise EffcError(f"cannot write --output '{output}' ({os_problem(exc)}); choose a "
                        "writable path") from None


def _output_path(path: str) -> Path:
    """``--output``: its folder must exist (checked before any work is done)."""
    p = Path(path)
    if not p.parent.is_dir():
        raise EffcError(f"the folder of --output '{path}' does not exist; create it first")
    if p.is_dir():
        raise EffcError(f"--output '{path}' is a folder; give a file name such as y.npy")
    return p


def cmd_inspect(args: argparse.Namespace) -> int:
    from effc.api import inspect_model

    summary = inspect_model(args.model, args.input_shape)
    if args.json:
        print(json.dumps({k: summary[k] for k in ("inputs", "outputs", "macs", "params")}
                         | {"layers": [{k: layer[k] for k in
                                        ("name", "op", "output_shape", "macs", "params")}
                                       for layer in summary["layers"]]}))
        return 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    # Model names are text, never rich markup.
    table = Table(title=escape(summary["name"]))
    for col in ("#", "layer", "op", "output shape", "MACs", "params", "weight bytes"):
        table.add_column(col, justify="right" if col in ("#", "MACs", "params",
                                                         "weight bytes") else "left")
    for i, layer in enumerate(summary["layers"]):
        table.add_row(str(i), escape(layer["name"][-40:]), layer["op"],
                      "x".join(map(str, layer["output_shape"])), f"{layer['macs']:,}",
                      f"{layer['params']:,}", f"{layer['weight_bytes']:,}")
    table.add_section()
    table.add_row("", "total", "", "", f"{summary['macs']:,}", f"{summary['params']:,}",
                  f"{summary['weight_bytes']:,}")
    console = Console()
    console.print(table)
    for io in ("inputs", "outputs"):
        for t in summary[io]:
            console.print(f"{io[:-1]} {escape(t['name'])}: {'x'.join(map(str, t['shape']))} "
                          f"{t['dtype']}", markup=True, highlight=False)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from effc.api import run_engine

    output = _output_path(args.output)
    x = _load_inputs(args.input)
    result = run_engine(args.model, args.engine, x, input_shapes=args.input_shape,
                        profile=args.profile)
    _save_outputs(output, result.values)
    if args.json:
        print(json.dumps(result.to_json() | {"output": str(args.output)}))
        return 0
    shapes = ", ".join(f"{list(v.shape)} {v.dtype}" for v in result.values.values())
    print(f"{args.engine}: {result.to_json()['samples']} sample(s) -> {args.output} {shapes}")
    m = result.metrics
    if m.get("instructions"):
        print(f"{m['instructions']:,} instructions per inference ({m['instructions_per_mac']} "
              f"per MAC), flash {m['flash_bytes']:,} B, static RAM {m['ram_bytes']:,} B "
              f"(arena {m['arena_bytes']:,} B), stack {m['stack_bytes']:,} B")
    if m.get("cycles_estimate"):
        model = m["cycle_model"]
        print(f"cycles_estimate {m['cycles_estimate']:,} on {model['core']} "
              f"({model['flash_wait_states']} flash wait states; model and limits: "
              f"{model['doc']})")
    if m.get("profile"):
        from rich.console import Console
        from rich.table import Table

        table = Table(title="instructions per layer (exact, first sample)")
        for col in ("#", "op", "kernel", "MACs", "instructions", "instr/MAC", "cycles est."):
            table.add_column(col, justify="left" if col in ("op", "kernel") else "right")
        for row in m["profile"]:
            per_mac = f"{row['instructions'] / row['macs']:.2f}" if row["macs"] else "-"
            table.add_row(str(row["index"]), row["op"], row["kernel"], f"{row['macs']:,}",
                          f"{row['instructions']:,}", per_mac,
                          f"{row['cycles_estimate']:,}" if row.get("cycles_estimate") else "-")
        Console().print(table)
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    from effc.cli.compile import compile_from_args

    return compile_from_args(args)


def cmd_boards(args: argparse.Namespace) -> int:
    from effc.boards import list_boards

    for board in list_boards():
        print(board.describe())
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from effc.cli.prune import prune_from_args

    return prune_from_args(args)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="effc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("inspect", help="per-layer table: op, shape, MACs, params")
    p.add_argument("model")
    p.add_argument("--input-shape", action="append", metavar="NAME=DxD...")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("run", help="run a model or a compiled OUTDIR on an engine")
    p.add_argument("model", help="an .onnx file or a folder written by 'effc compile'")
    from effc.engines import engine_names

    p.add_argument("--engine", default="reference", choices=engine_names())
    p.add_argument("--input", required=True,
                   help=".npy of shape [N, *input_shape[1:]], or .npz with one such array "
                        "per input, named like it")
    p.add_argument("--output", required=True,
                   help=".npy to write (one output), or .npz (every output by name)")
    p.add_argument("--input-shape", action="append", metavar="NAME=DxD...")
    p.add_argument("--json", action="store_true")
    p.add_argument("--profile", action="store_true", help="instructions per layer (qemu)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compile", help="compile a model into OUTDIR")
    from effc.cli.compile import add_compile_arguments

    add_compile_arguments(p)
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("prune", help="structured channel pruning: MODEL -> pruned ONNX + report")
    from effc.cli.prune import add_prune_command_arguments

    add_prune_command_arguments(p)
    p.set_defaults(func=cmd_prune)

    p = sub.add_parser("synth", help="synthesize an RTL OUTDIR (yosys; nextpnr for iCE40)")
    from effc.cli.synth import add_synth_arguments, cmd_synth

    add_synth_arguments(p)
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("boards", help="list the known boards")
    p.set_defaults(func=cmd_boards)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except EffcError as exc:
        sys.stderr.write(f"effc: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("effc: interrupted\n")
        return 130

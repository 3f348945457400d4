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
    key = None
    if not p.is_file() and ":" in path and Path(path.rsplit(":", 1)[0]).is_file():
        file, key = path.rsplit(":", 1)  # FILE.npz:ARRAY, as --calib takes it
        p = Path(file)
    if not p.is_file():
        raise EffcError(f"input file '{path}' does not exist; check the path")
    value = open_arrays(p, "input file")
    if key is not None:
        if not isinstance(value, np.lib.npyio.NpzFile):
            raise EffcError(f"'{path}': only an .npz holds named arrays; give the .npy alone")
        if key not in value.keys():
            raise EffcError(f"input file '{p}' has no array '{key}'; it holds "
                            f"{', '.join(value.keys())}")
        return member(value, key, f"input file '{p}'")
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


def _inspect_outdir(folder: Path, as_json: bool) -> int:
    """``effc inspect OUTDIR``: the compiled model's layers (kernel, arena offset,
    lifetime, in place), its memory and its board budget."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from effc.compiler import CompiledModel
    from effc.report_html import budget, layer_rows

    m = CompiledModel.open(folder).manifest
    rows = layer_rows(m)
    if as_json:
        print(json.dumps({"name": m["name"], "board": m.get("board"), "memory": {
            k: v for k, v in (m.get("memory") or {}).items() if k in (
                "arena_bytes", "lower_bound_bytes", "constant_bytes")},
            "budget": budget(m), "layers": rows}))
        return 0
    table = Table(title=escape(f"{m['name']} ({m['quantize']}) for {m.get('board', '-')}"))
    for col in ("#", "layer", "op", "output", "MACs", "kernel", "arena offset", "lifetime",
                "in place"):
        table.add_column(col, justify="left" if col in ("layer", "op", "kernel") else "right",
                         no_wrap=col == "kernel")
    for r in rows:
        life = "-" if r["lifetime"] is None else f"{r['lifetime'][0]}..{r['lifetime'][1]}"
        table.add_row(str(r["index"]), escape(r["name"][-40:]), r["op"], r["output"],
                      f"{r['macs']:,}", r["kernel"] or "-",
                      "-" if r["offset"] is None else str(r["offset"]), life,
                      "yes" if r["inplace"] else "")
    Console(width=None if sys.stdout.isatty() else 140).print(table)
    memory = m.get("memory")
    if memory:
        print(f"arena {memory['arena_bytes']:,} bytes (lower bound "
              f"{memory['lower_bound_bytes']:,}), constants {memory['constant_bytes']:,} bytes")
    for b in budget(m):
        print(f"{b['what']}: {b['used']:,} of {b['limit']:,} bytes ({b['percent']:.1f}%)")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from effc.api import inspect_model

    if Path(args.model).is_dir():
        return _inspect_outdir(Path(args.model), args.json)
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

    if args.workers is not None and args.ray is None:
        raise EffcError("--workers splits a run across Ray workers; add --ray [ADDRESS]")
    output = _output_path(args.output)
    x = _load_inputs(args.input)
    if args.ray is not None:
        from effc.sweep.shard import run_sharded

        if not Path(args.model).is_dir():
            raise EffcError("--ray runs a compiled folder; first run 'effc compile "
                            f"{args.model} -o OUTDIR', then 'effc run OUTDIR --ray'")
        result = run_sharded(args.model, args.engine, x, args.profile, args.ray or None,
                             args.workers)
    else:
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
    if m.get("cycles_per_inference"):  # the board engine: measured by the DWT
        mhz = m["clock_hz"] / 1e6
        print(f"{m['cycles']:,} cycles per inference, measured by the DWT on {m['board']} at "
              f"{mhz:g} MHz ({1000 * m['cycles'] / m['clock_hz']:.3f} ms; min "
              f"{m['cycles_min']:,}, max {m['cycles_max']:,} over {m['inferences']} "
              f"inference(s)), {m['cycles_per_mac']} per MAC, through probe {m['probe']}")
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


def cmd_validate(args: argparse.Namespace) -> int:
    from effc.validate import validate

    report = validate(args.model, args.outdir, args.data, engine=args.engine,
                      inputs_key=args.inputs_key, labels_key=args.labels_key, limit=args.limit)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"validate: {report['samples']} samples, the float model against {args.outdir} on "
          f"{report['engine']}")
    for name, m in report["outputs"].items():
        parts = [f"output {name}:"]
        if "top1_agreement" in m:
            parts.append(f"top-1 agreement {100 * m['top1_agreement']:.2f}%")
        if "accuracy_float" in m:
            parts.append(f"accuracy float {100 * m['accuracy_float']:.2f}% / compiled "
                         f"{100 * m['accuracy_compiled']:.2f}%")
        l2 = m["l2_relative_error"]
        cos = m["cosine"]
        parts.append(f"L2 relative error {'-' if l2 is None else f'{l2:.4g}'}")
        parts.append(f"cosine {'-' if cos is None else f'{cos:.6f}'}")
        parts.append(f"SQNR {m['sqnr_db']:.2f} dB")
        print(f"  {parts[0]} {', '.join(parts[1:])}")
    return 0


def cmd_flash(args: argparse.Namespace) -> int:
    from effc.compiler import CompiledModel

    model = CompiledModel.open(args.outdir)
    plan = model.flash_plan(args.board)
    if args.dry_run:
        folder = Path(args.outdir).absolute()
        image = plan.image.relative_to(folder) if plan.image.is_relative_to(folder) \
            else plan.image
        room = (f" of {plan.limit:,} ({100 * plan.size / plan.limit:.1f}%)" if plan.limit
                else "")
        print(f"flash (dry run): {image} -> {plan.board.name} flash at 0x{plan.address:08X}, "
              f"{plan.size:,} bytes{room}, with {plan.tool} (target {plan.target}); nothing "
              "written")
        return 0
    probe = model.flash(args.probe, args.board)
    print(f"flashed {plan.describe()} through {probe}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from effc.cli.sweep import cmd_sweep as sweep

    return sweep(args)


def build_parser() -> argparse.ArgumentParser:
    from effc.version import __version__

    parser = _Parser(prog="effc", description=__doc__)
    parser.add_argument("--version", action="version", version=f"effc {__version__}")
    loud = parser.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", action="store_true",
                      help="no progress and no warnings: only the results and errors")
    loud.add_argument("-v", "--verbose", action="store_true",
                      help="print every step and its time on stderr")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("inspect", help="per-layer table: op, shape, MACs, params (of a model, "
                                       "or of a compiled OUTDIR with kernels and memory)")
    p.add_argument("model", help="an .onnx model or a folder written by 'effc compile'")
    p.add_argument("--input-shape", action="append", metavar="NAME=DxD...")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("run", help="run a model or a compiled OUTDIR on an engine")
    p.add_argument("model", help="an .onnx file or a folder written by 'effc compile'")
    from effc.engines import engine_names

    p.add_argument("--engine", default="reference", choices=engine_names())
    p.add_argument("--input", required=True,
                   help=".npy of shape [N, *input_shape[1:]], .npz with one such array "
                        "per input, named like it, or FILE.npz:ARRAY")
    p.add_argument("--output", required=True,
                   help=".npy to write (one output), or .npz (every output by name)")
    p.add_argument("--input-shape", action="append", metavar="NAME=DxD...")
    p.add_argument("--json", action="store_true")
    p.add_argument("--profile", action="store_true", help="instructions per layer (qemu)")
    from effc.cli.sweep import add_ray_arguments, add_sweep_arguments

    add_ray_arguments(p, "split the samples across a Ray cluster's workers (same bytes as "
                         "one process)")
    p.epilog = ("--engine board runs on the attached board through pyocd (EFFC_PROBE=ID picks "
                "one probe of several) and reports the cycles its DWT counter measured")
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

    p = sub.add_parser("validate", help="the float model against a compiled OUTDIR on data: "
                                        "top-1 agreement, accuracy, L2, cosine, SQNR")
    p.add_argument("model", help="the float .onnx model the OUTDIR was compiled from")
    p.add_argument("outdir", help="a folder written by 'effc compile'")
    p.add_argument("--data", required=True,
                   help=".npz with the samples (named like the input, or x) and optional labels "
                        "(y), or a .npy of samples")
    p.add_argument("--inputs-key", default=None, help="the .npz array holding the samples")
    p.add_argument("--labels-key", default=None, help="the .npz array holding the labels")
    p.add_argument("--engine", default="host", choices=engine_names())
    p.add_argument("--limit", type=int, default=None, help="validate on the first N samples")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("flash", help="write a compiled OUTDIR's image to the attached board "
                                     "(pyocd; openocd when the board file names a config)")
    p.add_argument("outdir", help="a folder written by 'effc compile --board NAME'")
    p.add_argument("--board", default=None,
                   help="the board (default: the one OUTDIR was compiled for)")
    p.add_argument("--probe", default=None, help="the debug probe's ID (see 'pyocd list')")
    p.add_argument("--dry-run", action="store_true",
                   help="print the image, address and size, check the fit, write nothing")
    p.set_defaults(func=cmd_flash)

    p = sub.add_parser("sweep", help="compile and measure a grid of compile options: "
                                     "accuracy, cycles, flash, RAM, Pareto frontier")
    add_sweep_arguments(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("boards", help="list the known boards")
    p.set_defaults(func=cmd_boards)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from effc import progress

    progress.set_level(progress.QUIET if args.quiet else
                       progress.VERBOSE if args.verbose else progress.NORMAL)
    try:
        return int(args.func(args) or 0)
    except EffcError as exc:
        sys.stderr.write(f"effc: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("effc: interrupted\n")
        return 130

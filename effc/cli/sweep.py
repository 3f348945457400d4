"""``effc sweep``: its arguments, the sweep, and the summary it prints (docs/sweep.md)."""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path

from effc.cli.compile import compile_parser, options_from_argv


def add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="the float .onnx model")
    p.add_argument("-o", "--output", required=True, metavar="SWEEPDIR",
                   help="results.jsonl (one line per point, as points finish), frontier.png, "
                        "summary.json")
    p.add_argument("--calib", metavar="FILE.npz|FILE.npy|random",
                   help="calibration samples, as for effc compile (FILE.npz:ARRAY picks one)")
    p.add_argument("--data", required=True, metavar="LABELLED.npz",
                   help="the samples to measure accuracy on and their labels")
    p.add_argument("--inputs-key", default=None,
                   help="the --data array of samples (default: named like the model input, "
                        "or x)")
    p.add_argument("--labels-key", default=None, help="the --data array of labels (default y)")
    p.add_argument("--grid", required=True, metavar="GRID.toml",
                   help="effc compile options and their values, e.g. prune = [0.25, 0.5]")
    p.add_argument("--budget-board", metavar="NAME",
                   help="report the most accurate point that fits this board's flash and RAM")
    add_ray_arguments(p, "run the points on a Ray cluster")
    p.add_argument("--retry-failed", action="store_true",
                   help="run again the points results.jsonl records as failed")


def add_ray_arguments(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help=f"{what} (ADDRESS: auto, HOST:PORT; default RAY_ADDRESS, else a local "
                        "Ray instance); needs pip install effc[ray]")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="points or shards at a time (default: the CPUs, or the Ray cluster's)")


def compile_flags() -> dict[str, str]:
    """Every ``effc compile`` flag (no dashes) -> switch, repeat or value (effc.sweep.grid)."""
    from effc.sweep.grid import REPEAT, SWITCH, VALUE

    flags = {}
    for action in compile_parser()._actions:
        kind = SWITCH if action.nargs == 0 else REPEAT if isinstance(
            action, argparse._AppendAction) else VALUE
        for option in action.option_strings:
            if option.startswith("--"):
                flags[option[2:]] = kind
    return flags


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_sweep(args: argparse.Namespace) -> int:
    from effc.sweep import SweepConfig, run_sweep
    from effc.sweep.summary import PLOT, best_fit, compile_command, frontier, plot, print_table

    config = SweepConfig(model=args.model, calib=args.calib, data=args.data, grid=args.grid,
                         folder=args.output, inputs_key=args.inputs_key,
                         labels_key=args.labels_key, workers=args.workers,
                         ray=args.ray is not None, ray_address=args.ray or None,
                         retry_failed=args.retry_failed)
    if args.budget_board:
        from effc.boards import load_board

        load_board(args.budget_board)  # an unknown board is refused before any work
    # A kill (SIGTERM) ends the sweep as Ctrl-C does: the workers are stopped, every
    # finished point is already in results.jsonl.
    signal.signal(signal.SIGTERM, _interrupt)
    result = run_sweep(config, compile_flags(), options_from_argv)
    records, folder = result.records, Path(args.output)
    title = f"{Path(args.model).name}: {len(records)} points"
    print_table(records, result.swept, title)
    path = plot(records, folder / PLOT, title)
    ok = sum(r.get("status") == "ok" for r in records)
    print(f"{ok} of {len(records)} points ok ({result.ran} run now, {result.skipped} from "
          f"{folder / 'results.jsonl'}); plot: {path}")
    summary = {"points": len(records), "ok": ok,
               "frontier": {cost: [r["key"] for r in frontier(records, cost)]
                            for cost in ("cycles", "flash_bytes", "ram_bytes")}}
    if args.budget_board:
        best = best_fit(records, args.budget_board)
        if best is None:
            print(f"no point fits {args.budget_board}'s flash and RAM")
        else:
            command = compile_command(args.model, args.calib, best["args"], str(folder / "best"))
            summary["best"] = {"budget_board": args.budget_board, "key": best["key"],
                               "command": command}
            print(f"best point that fits {args.budget_board}: accuracy "
                  f"{100 * best['accuracy']:.2f}%, {best.get('cycles') or 0:,} cycles, flash "
                  f"{best['flash_bytes']:,} B, RAM {best['ram_bytes']:,} B")
            print(f"reproduce it: {command}")
    (folder / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return 0

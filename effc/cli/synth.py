"""``effc synth OUTDIR``: yosys (and for iCE40 boards nextpnr-ice40 and icepack) on the
RTL target's Verilog, with the board's memory sizes."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from effc.artifact import Artifact
from effc.boards import FpgaBoard
from effc.errors import EffcError
from effc.outdir import OutDir
from effc.toolchain.fpga import synthesize

#: What the flow leaves in OUTDIR/synth/ (the netlist and the .asc stay in a temp folder).
KEPT = ("synth.ys", "yosys.log", "board.pcf", "nextpnr.log", "board.bin")


def add_synth_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("outdir", help="a folder written by 'effc compile --target rtl'")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-place", action="store_true",
                   help="stop after yosys (no place-and-route, no bitstream)")


def cmd_synth(args: argparse.Namespace) -> int:
    artifact = Artifact.open(args.outdir)
    info = artifact.manifest.get("rtl")
    if not info:
        raise EffcError(f"'{args.outdir}' holds no Verilog; compile with --target rtl "
                        "--board NAME (an FPGA board such as icebreaker)")
    board = artifact.board()
    assert isinstance(board, FpgaBoard)
    folder = artifact.folder / info["folder"]
    sources = [folder / s for s in info["sources"]]
    out = OutDir.existing(artifact.folder)
    with tempfile.TemporaryDirectory(prefix="effc-synth-") as tmp:
        try:
            report = synthesize(Path(tmp), sources, info["top"], info["params"], board,
                                place=not args.no_place)
        except EffcError as exc:
            _keep(out, Path(tmp))
            raise EffcError(str(exc).replace(tmp, str(artifact.folder / "synth"))) from None
        _keep(out, Path(tmp))
    report["folder"] = "synth"
    out.write("synth/report.json", json.dumps(report, indent=1) + "\n")
    if args.json:
        print(json.dumps(report))
        return 0
    cells = ", ".join(f"{k} {v:,}" for k, v in sorted(report["yosys_cells"].items()))
    print(f"yosys ({report['flow']}) for {board.name} ({board.part}): {cells}")
    for name, u in report.get("utilization", {}).items():
        print(f"  {name}: {u['used']:,} / {u['available']:,}")
    if "fmax_mhz" in report:
        met = "met" if report["timing_met"] else f"MISSED (board clock {board.clock_mhz:g} MHz)"
        print(f"fmax {report['fmax_mhz']:.1f} MHz, timing {met}; bitstream "
              f"{artifact.folder / 'synth' / report['bitstream']}")
    return 0


def _keep(out: OutDir, tmp: Path) -> None:
    for name in KEPT:
        if (tmp / name).is_file():
            out.write(f"synth/{name}", (tmp / name).read_bytes())

"""Synthesis and place-and-route of an RTL OUTDIR with the open tools.

``synthesize(folder, sources, top, params, board)`` runs yosys for the board's family
(``synth_ice40 -dsp`` with the SPRAM memories, ``synth_xilinx``, ``synth_ecp5``) and
reports its cells; for iCE40 boards it then runs nextpnr-ice40 (utilization, fmax
at the board's clock), icepack (the ``.bin``) and names the resource a design that
does not fit ran out of. A timing miss is reported, not fatal (the bitstream is
written with --timing-allow-fail).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from effc.boards import FpgaBoard
from effc.errors import EffcError

YOSYS_FLOW = {"ice40": "synth_ice40 -dsp", "zynq7": "synth_xilinx -family xc7",
              "artix7": "synth_xilinx -family xc7",
              "zynquplus": "synth_xilinx -family xcup", "ecp5": "synth_ecp5"}
#: yosys cell -> the report's resource name
CELLS = {"SB_LUT4": "lc_lut4", "SB_MAC16": "dsp", "SB_RAM40_4K": "ebr",
         "SB_SPRAM256KA": "spram", "DSP48E1": "dsp", "DSP48E2": "dsp", "RAMB36E1": "bram36",
         "RAMB18E1": "bram18", "RAMB36E2": "bram36", "RAMB18E2": "bram18",
         "MULT18X18D": "dsp", "DP16KD": "bram"}
#: nextpnr's device utilization names -> the report's
PNR = {"ICESTORM_LC": "lc", "ICESTORM_RAM": "ebr", "ICESTORM_DSP": "dsp",
       "ICESTORM_SPRAM": "spram", "SB_IO": "io"}
PNR_NAMES = {"lc": "logic cells (LC)", "ebr": "EBR block RAMs", "dsp": "DSP blocks (SB_MAC16)",
             "spram": "SPRAM blocks", "io": "I/O pins"}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise EffcError(f"'{name}' is not installed; run ./scripts/setup.sh (it installs "
                        "yosys, nextpnr-ice40 and fpga-icestorm)")
    return path


def _family(board: FpgaBoard) -> str:
    fam = board.family
    if fam.startswith("ice40"):
        return "ice40"
    if fam in YOSYS_FLOW:
        return fam
    raise EffcError(f"board '{board.name}' is of family '{fam}', for which effc knows no "
                    f"yosys flow (known: {', '.join(sorted(YOSYS_FLOW))})")


def yosys_cells(log: str) -> dict[str, int]:
    """The cell counts of yosys' last ``stat``."""
    tail = log[log.rfind("Number of cells"):]
    cells: dict[str, int] = {}
    for name, count in re.findall(r"^\s+(\S+)\s+(\d+)$", tail, re.M):
        if name.startswith(("SB_", "LUT", "FD", "DSP", "RAMB", "CARRY", "MUX", "TRELLIS",
                            "MULT", "DP16", "CCU2", "L6", "FDRE", "SRL")):
            cells[name] = cells.get(name, 0) + int(count)
    return cells


def nextpnr_utilization(log: str) -> dict[str, tuple[int, int]]:
    """{resource: (used, available)} from nextpnr's device utilization table."""
    found = {}
    for name, used, avail in re.findall(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)", log, re.M):
        if name in PNR:
            found[PNR[name]] = (int(used), int(avail))
    return found


def nextpnr_fmax(log: str) -> float | None:
    found = re.findall(r"Max frequency for clock\s+'[^']*':\s+([\d.]+) MHz", log)
    return float(found[-1]) if found else None


def synthesize(folder: Path, sources: list[Path], top: str, params: dict[str, int],
               board: FpgaBoard, place: bool = True) -> dict[str, Any]:
    """Run the flow in ``folder``; returns the report (raises EffcError on a non-fit)."""
    family = _family(board)
    yosys = _tool("yosys")
    defines = "-DSYNTHESIS" + (" -DEFFC_ICE40_SPRAM -DEFFC_ICE40" if family == "ice40" else "")
    script = [f"read_verilog {defines} " + " ".join(str(s) for s in sources),
              f"hierarchy -top {top}",
              f"{YOSYS_FLOW[family]} -top {top}",
              f"write_json {folder / 'synth.json'}",
              "stat"]
    (folder / "synth.ys").write_text("\n".join(script) + "\n")
    proc = subprocess.run([yosys, "-q", "-l", str(folder / "yosys.log"), "-s",
                           str(folder / "synth.ys")], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if proc.returncode:
        raise EffcError(f"yosys failed on the generated Verilog: "
                        f"{(proc.stderr or proc.stdout).strip()[-300:]}; this is an effc bug")
    log = (folder / "yosys.log").read_text()
    cells = yosys_cells(log)
    report: dict[str, Any] = {"board": board.name, "part": board.part, "family": family,
                              "flow": YOSYS_FLOW[family], "yosys_cells": cells,
                              "params": params}
    if family != "ice40":
        report["utilization"] = {k: {"used": u, "available": a}
                                 for k, (u, a) in _check_yosys_fit(cells, board).items()}
    if family != "ice40" or not place:
        return report
    pcf = folder / "board.pcf"
    pcf.write_text("set_io clk 35\nset_io rx 6\nset_io tx 9\nset_io led 39\n")
    asc = folder / "board.asc"
    cmd = [_tool("nextpnr-ice40"), "--up5k", "--package", "sg48", "--json",
           str(folder / "synth.json"), "--pcf", str(pcf), "--asc", str(asc),
           "--freq", f"{board.clock_mhz:g}", "--timing-allow-fail", "--seed", "1",
           "-l", str(folder / "nextpnr.log")]
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    pnr_log = (folder / "nextpnr.log").read_text() if (folder / "nextpnr.log").is_file() \
        else proc.stderr
    util = nextpnr_utilization(pnr_log)
    report["utilization"] = {k: {"used": u, "available": a} for k, (u, a) in util.items()}
    over = [k for k, (u, a) in util.items() if u > a]
    if proc.returncode or over:
        what = over[0] if over else None
        if what is None:
            m = re.search(r"ERROR: (.*)", pnr_log)
            raise EffcError(f"nextpnr-ice40 failed: {m.group(1) if m else 'see nextpnr.log'}")
        used, avail = util[what]
        raise EffcError(f"the design does not fit {board.part}: it needs {used:,} "
                        f"{PNR_NAMES[what]} and the part has {avail:,} (see "
                        f"{folder / 'nextpnr.log'})")
    fmax = nextpnr_fmax(pnr_log)
    report["fmax_mhz"] = fmax
    report["timing_met"] = fmax is not None and fmax >= board.clock_mhz
    binary = folder / "board.bin"
    subprocess.run([_tool("icepack"), str(asc), str(binary)], check=True,
                   stdin=subprocess.DEVNULL, capture_output=True)
    report["bitstream"] = binary.name
    return report


def _check_yosys_fit(cells: dict[str, int], board: FpgaBoard) -> dict[str, tuple[int, int]]:
    """Without place-and-route (AMD, ECP5): the yosys cells against the board's budget;
    returns {resource: (used, available)} for the resources the board file budgets (LUTs
    count the shift registers yosys maps to SRL16E/SRLC32E, which occupy LUTs)."""
    used = {
        "lut": sum(v for k, v in cells.items() if re.fullmatch(r"LUT\d|SRLC?(16E|32E)", k)),
        "ff": sum(v for k, v in cells.items() if k in ("FDRE", "FDSE", "FDCE", "FDPE")),
        "dsp": sum(v for k, v in cells.items() if k.startswith(("DSP48", "MULT18"))),
        "bram36": sum(v for k, v in cells.items() if k.startswith("RAMB36")) +
        (sum(v for k, v in cells.items() if k.startswith("RAMB18")) + 1) // 2,
    }
    for name, count in used.items():
        budget = getattr(board, name, 0)
        if budget and count > budget:
            raise EffcError(f"the design does not fit {board.part}: it needs {count:,} {name} "
                            f"and board '{board.name}' has {budget:,}")
    return {name: (count, getattr(board, name)) for name, count in used.items()
            if getattr(board, name, 0)}

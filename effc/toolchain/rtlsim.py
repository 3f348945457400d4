"""Simulators of the RTL accelerator: a Verilator C++ testbench and an Icarus testbench,
each built once and cached by the content of its sources and parameters.

One simulation build serves every model: the program (descriptors, parameters and
weights) is a ``$readmemh`` file given at run time (``+weights=FILE``), and the
memories are sized by ``SIM_PARAMS`` (the largest configuration), not per board.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from effc.errors import EffcError
from effc.toolchain.host import cache_dir

CORE = ["effc_accel.v", "effc_mul2.v", "effc_rq.v", "effc_mem.v"]  # the accelerator's Verilog
#: Simulation memories: a 64 KiB activation arena, 64 Ki weight words.
SIM_PARAMS = {"P": 8, "LP": 3, "AW": 16, "WAW": 16, "PAW": 8, "BANK_DEPTH": 8192}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise EffcError(f"'{name}' is not installed; run ./scripts/setup.sh (it installs "
                        "verilator, iverilog, yosys and nextpnr-ice40)")
    return path


def _key(files: list[Path], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:20]


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if proc.returncode:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise EffcError(f"{what} failed: {' | '.join(tail)}")


#: Board parameters the simulation takes over (datapath widths; memories stay large).
BOARD_WIDTHS = ("ACCW", "CW")


def sim_params(board: dict[str, int]) -> dict[str, int]:
    """The simulation's parameters: the accumulator and counter widths are the board's."""
    return SIM_PARAMS | {k: board[k] for k in BOARD_WIDTHS if k in board}


def verilator_binary(src: Path, board: dict[str, int]) -> Path:
    """The Verilator testbench (``src/tb_verilator.cpp``), built on first use."""
    verilator = _tool("verilator")
    files = [src / f for f in [*CORE, "tb_verilator.cpp"]]
    version = subprocess.run([verilator, "--version"], capture_output=True, text=True).stdout
    params = sim_params(board)
    key = _key(files, version + repr(sorted(params.items())))
    folder = cache_dir() / f"verilator-{key}"
    binary = folder / "obj" / "Veffc_accel"
    if binary.is_file():
        return binary
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cmd = [verilator, "--cc", "--exe", "--build", "-O2", "-Wno-fatal", "-Wno-lint",
           "-Wno-style", "--top-module", "effc_accel", "-Mdir", "obj", "-CFLAGS", "-O1"]
    cmd += [f"-G{k}={v}" for k, v in params.items()]
    cmd += [str(f) for f in files]
    _run(cmd, tmp, "the Verilator build of the accelerator")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return binary


def icarus_binary(src: Path, board: dict[str, int]) -> Path:
    """The Icarus testbench (``src/tb_icarus.v``), compiled on first use."""
    iverilog = _tool("iverilog")
    files = [src / f for f in [*CORE, "tb_icarus.v"]]
    params = sim_params(board)
    key = _key(files, repr(sorted(params.items())))
    folder = cache_dir() / f"icarus-{key}"
    out = folder / "tb.vvp"
    if out.is_file():
        return out
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [iverilog, "-g2005", "-o", str(out) + ".tmp", "-s", "tb"]
    cmd += [f"-Ptb.dut.{k}={v}" for k, v in params.items()]
    cmd += [str(f) for f in files]
    _run(cmd, folder, "the Icarus build of the accelerator")
    Path(str(out) + ".tmp").rename(out)
    return out


def simulate(engine: str, src: Path, weights: Path, inputs: Path, outputs: Path, count: int,
             in_addr: int, in_size: int, out_addr: int, out_size: int,
             board: dict[str, int]) -> str:
    """Run ``count`` inferences of the sources in ``src`` (with the datapath widths of
    ``board``'s parameters); returns the cycle lines."""
    if engine == "verilator":
        cmd = [str(verilator_binary(src, board)), f"+weights={weights}", str(inputs), str(outputs),
               str(count), str(in_addr), str(in_size), str(out_addr), str(out_size)]
    else:
        cmd = [_tool("vvp"), "-n", str(icarus_binary(src, board)), f"+weights={weights}",
               f"+input={inputs}", f"+output={outputs}", f"+n={count}",
               f"+in_addr={in_addr}", f"+in_size={in_size}", f"+out_addr={out_addr}",
               f"+out_size={out_size}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode or "ERROR" in proc.stdout:
        raise EffcError(f"the {engine} simulation failed (exit {proc.returncode}): "
                        f"{(proc.stderr or proc.stdout).strip()[-300:]}; this is an effc bug")
    return proc.stdout

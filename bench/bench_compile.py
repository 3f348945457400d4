"""`effc compile --board` wall time on KWS, with a cold and a warm build cache.

Usage: .venv/bin/python -m bench.bench_compile [--board mps2-an386]
(bench_qemu --write adds its lines to docs/benchmarks.md).

Issue 14 states this figure in seconds, so it is wall time (the one wall-time
figure in bench/): the command line a user types, run as a subprocess. "Cold"
uses an empty build cache (every runtime object compiled by arm-none-eabi-gcc
and the host compiler); "warm" is the same command again, where the runtime
objects come from the cache (keyed by content, compiler and flags) and only the
model's own sources are compiled. CPU seconds (user + system of the children)
and the load average are printed next to it: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KWS = ROOT.parent / "shared" / "models" / "mlperf-tiny" / "kws_ref_model.onnx"
EFFC = Path(sys.executable).with_name("effc")


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run that must succeed."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system
                                                          - before.children_system)
    return wall, cpu


def measure(board: str = "mps2-an386", warm_runs: int = 3) -> dict:
    """Cold and warm (best of ``warm_runs``) wall and CPU seconds."""
    with tempfile.TemporaryDirectory(prefix="effc-compile-") as tmp:
        env = dict(os.environ, EFFC_CACHE=str(Path(tmp) / "cache"))
        command = [str(EFFC), "compile", str(KWS), "-o", str(Path(tmp) / "kws"),
                   "--board", board, "--force"]
        cold = _timed(command, env)
        warm = min((_timed(command, env) for _ in range(warm_runs)), key=lambda t: t[0])
    return {"board": board, "cold_wall": cold[0], "cold_cpu": cold[1],
            "warm_wall": warm[0], "warm_cpu": warm[1], "load": os.getloadavg()[0]}


def markdown(r: dict) -> str:
    return "\n".join([
        "## Compile time (wall seconds)",
        "",
        "`.venv/bin/python -m bench.bench_compile`: `effc compile "
        f"../shared/models/mlperf-tiny/kws_ref_model.onnx -o OUT --board {r['board']} "
        "--force` (quantize, plan, emit, firmware build, host self-check), as a subprocess.",
        "",
        "| build cache | wall s | CPU s (user + sys) |",
        "|---|---|---|",
        f"| cold (empty: every runtime object compiled) | {r['cold_wall']:.2f} | "
        f"{r['cold_cpu']:.2f} |",
        f"| warm (runtime objects cached by content; best of 3) | {r['warm_wall']:.2f} | "
        f"{r['warm_cpu']:.2f} |",
        "",
        f"Load average {r['load']:.2f} on this shared 2-core machine when measured.",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2-an386")
    print(markdown(measure(parser.parse_args().board)))


if __name__ == "__main__":
    main()

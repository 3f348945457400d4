"""Issue 16's acceptance sweep: the digits CNN at 4 pruning ratios x 2 criteria x 2
calibrators, locally and on a Ray cluster started here, with identical records.

Usage: .venv/bin/python -m bench.sweep_digits [-o SWEEPDIR] [--workers N]

Runs ``effc sweep`` with a local process pool into SWEEPDIR/local, starts a Ray head
node on this machine (``ray start --head``, two CPUs; bench/ray_cluster.py), runs the
same sweep with ``--ray auto`` into SWEEPDIR/ray, stops the cluster, and compares
the two results.jsonl files record by record. Figures are QEMU instruction counts,
estimated Cortex-M4 cycles, flash and RAM (no wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.ray_cluster import local_ray_cluster

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "digits"
GRID = """# bench/sweep_digits.py: 4 ratios x 2 criteria x 2 calibrators
board = "mps2-an386"
prune = [0.25, 0.5, 0.625, 0.75]
prune-criterion = ["l1", "activation"]
calibrator = ["minmax", "percentile"]
no-verify = true  # each point's QEMU run is compared with the reference instead
"""


def sweep(folder: Path, *extra: str) -> None:
    cmd = [sys.executable, "-m", "effc.cli", "sweep", str(DIGITS / "digits_cnn.onnx"),
           "--calib", f"{DIGITS / 'digits_data.npz'}:x_calib", "--data",
           str(DIGITS / "digits_data.npz"), "--inputs-key", "x_test", "--labels-key", "y_test",
           "--grid", str(folder.parent / "grid.toml"), "-o", str(folder), "--budget-board",
           "nucleo-l4r5zi", *extra]
    print("$", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, env=dict(os.environ, COLUMNS="150"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="/tmp/effc-sweep-digits")
    parser.add_argument("--workers", default="2")
    args = parser.parse_args()
    root = Path(args.output)
    root.mkdir(parents=True, exist_ok=True)
    (root / "grid.toml").write_text(GRID)
    sweep(root / "local", "--workers", args.workers)
    with local_ray_cluster(root / "ray.log") as address:
        print(f"Ray head node at {address}", flush=True)
        sweep(root / "ray", "--ray", "auto")
    records = {}
    for name in ("local", "ray"):
        lines = (root / name / "results.jsonl").read_text().splitlines()
        records[name] = {r["key"]: r for r in map(json.loads, lines)}
    same = records["local"] == records["ray"]
    print(f"local {len(records['local'])} records, Ray {len(records['ray'])} records: "
          f"{'identical' if same else 'DIFFERENT'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

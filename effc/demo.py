"""The main job: the digits example compiled for a Cortex-M4 board and run under QEMU.

Compiles examples/digits/digits_cnn.onnx to int8 (calibrated on its own
calibration split), builds the firmware for mps2-an386, runs it under
qemu-system-arm on every held-out test digit, and prints the accuracy next
to float, the exact instructions per inference, flash and RAM.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from effc.errors import EffcError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "digits"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2-an386")
    parser.add_argument("-o", "--output", type=Path, help="keep the compiled folder here")
    args = parser.parse_args(argv)
    from effc.api import run
    from effc.compiler import CompileOptions, compile_model

    console = Console()
    data = np.load(EXAMPLE / "digits_data.npz")
    x_test, y_test = data["x_test"], data["y_test"]
    with tempfile.TemporaryDirectory(prefix="effc-demo-") as tmp:
        outdir = args.output or Path(tmp) / "digits"
        console.print(f"[bold]effc demo[/]: {EXAMPLE.relative_to(ROOT)}/digits_cnn.onnx -> "
                      f"int8 firmware for {args.board}")
        model = compile_model(EXAMPLE / "digits_cnn.onnx", outdir,
                              CompileOptions(calib=data["x_calib"], board=args.board))
        float_top1 = float(np.mean(run(EXAMPLE / "digits_cnn.onnx", x_test).argmax(1) == y_test))
        result = model.run("qemu", x_test)
        qemu_top1 = float(np.mean(result.outputs.argmax(1) == y_test))
        m = result.metrics
        table = Table(title=f"digits CNN on {args.board} under QEMU ({len(y_test)} held-out "
                            "digits)")
        table.add_column("figure")
        table.add_column("value", justify="right")
        table.add_row("top-1, float reference", f"{float_top1:.2%}")
        table.add_row("top-1, int8 firmware under QEMU", f"{qemu_top1:.2%}")
        table.add_row("MACs per inference", f"{m['macs']:,}")
        table.add_row("instructions per inference (exact)", f"{m['instructions']:,}")
        table.add_row("instructions per MAC", f"{m['instructions_per_mac']:.2f}")
        table.add_row("flash (text + rodata + data)", f"{m['flash_bytes']:,} B")
        table.add_row("static RAM (data + bss)", f"{m['ram_bytes']:,} B")
        table.add_row("  of which activation arena", f"{m['arena_bytes']:,} B")
        table.add_row("peak stack (painted)", f"{m['stack_bytes']:,} B")
        console.print(table)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except EffcError as exc:
        sys.stderr.write(f"effc: error: {exc}\n")
        sys.exit(2)

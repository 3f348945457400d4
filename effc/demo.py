"""The main job: compile the digits example and run it on real held-out digits."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from rich.console import Console

from effc.errors import EffcError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "digits"


def main() -> int:
    console = Console()
    from effc.api import inspect_model, run

    model = EXAMPLE / "digits_cnn.onnx"
    data = np.load(EXAMPLE / "digits_data.npz")
    summary = inspect_model(model)
    console.print(f"[bold]effc demo[/]: {model.relative_to(ROOT)} — {summary['macs']:,} MACs, "
                  f"{summary['params']:,} parameters")
    logits = run(model, data["x_test"])
    accuracy = float((logits.argmax(axis=1) == data["y_test"]).mean())
    console.print(f"float reference on {len(data['y_test'])} held-out digits: "
                  f"top-1 {accuracy:.2%}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except EffcError as exc:
        sys.stderr.write(f"effc: error: {exc}\n")
        sys.exit(2)

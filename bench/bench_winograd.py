"""Winograd benchmarks: exact QEMU instruction counts (mps2-an386), never wall time.

  .venv/bin/python -m bench.bench_winograd --calibrate
      measures one-convolution models over a grid of layer shapes with every
      kernel (direct, F(2), and F(4) for float) and writes
      effc/passes/winograd_costs.json, the data of the --winograd auto cost model;
  .venv/bin/python -m bench.bench_winograd --resnet [--write docs/winograd.md]
      ResNet-8 (MLPerf Tiny) int8 with --winograd off, on and auto: per 3x3 layer
      instructions, whole-model instructions per MAC, flash and arena, and the
      outputs against TFLite Micro's; float ResNet-8 off vs on (F(4x4,3x3))
      against onnxruntime.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.layer_models import Shape, measure
from effc.passes.winograd_cost import COSTS

#: (h, w, c_in, c_out) of 2-D layers ('same' 3x3): ResNet-8's shapes, then a spread
#: of sizes and channel counts (odd ones included) from 1x1 maps to 32x32.
SHAPES_2D = [(32, 32, 3, 16), (32, 32, 16, 16), (16, 16, 32, 32), (8, 8, 64, 64),
             (16, 16, 16, 32), (8, 8, 32, 64), (4, 4, 64, 64), (2, 2, 64, 64), (2, 2, 8, 8),
             (3, 3, 4, 4), (6, 6, 12, 12), (5, 7, 5, 7), (12, 12, 8, 24), (8, 8, 1, 8),
             (16, 16, 2, 4), (4, 4, 128, 32), (1, 1, 16, 16), (10, 10, 24, 8),
             (7, 7, 48, 16), (24, 20, 6, 6), (14, 14, 32, 32), (4, 4, 16, 16),
             (2, 2, 32, 32), (9, 9, 3, 8), (5, 5, 64, 16), (16, 16, 8, 8), (6, 6, 96, 32),
             (11, 13, 10, 12)]
#: (w, c_in, c_out) of 1-D layers (3 taps, 'same').
SHAPES_1D = [(40, 8, 8), (64, 16, 16), (125, 32, 32), (16, 64, 64), (8, 4, 4), (4, 1, 8),
             (64, 3, 24), (32, 12, 12), (100, 64, 32), (10, 128, 16), (49, 10, 5), (2, 16, 16),
             (20, 2, 8), (64, 8, 8), (30, 24, 24), (200, 8, 16), (8, 32, 32), (12, 5, 7),
             (96, 16, 4), (3, 64, 16), (50, 48, 48), (16, 3, 3), (128, 1, 16), (24, 96, 8)]
TILES = {"int8": (0, 2), "float32": (0, 2, 4)}


def grid() -> list[Shape]:
    return ([Shape(2, h, w, ci, co) for h, w, ci, co in SHAPES_2D] +
            [Shape(1, 1, w, ci, co) for w, ci, co in SHAPES_1D])


def calibrate(out: Path) -> list[dict]:
    rows = []
    for dtype, tiles in TILES.items():
        for shape in grid():
            for tile in tiles:
                count = measure(shape, dtype, tile)
                rows.append({"dtype": dtype, "rank": shape.rank, "batch": 1,
                             "out_h": shape.h, "out_w": shape.w, "c_in": shape.c_in,
                             "c_out": shape.c_out, "kernel": "direct" if tile == 0 else
                             f"F{tile}", "instructions": count})
                print(f"{dtype} {shape} {rows[-1]['kernel']}: {count:,}", flush=True)
    doc = {"about": "Exact instructions of one 3x3 (3-tap) stride-1 'same' convolution "
                    "layer under QEMU (mps2-an386, Cortex-M4), per kernel. Written by "
                    "'python -m bench.bench_winograd --calibrate'; read by "
                    "effc/passes/winograd_cost.py.",
           "board": "mps2-an386", "measurements": rows}
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--resnet", action="store_true")
    parser.add_argument("--write", type=Path, help="with --resnet: write the markdown here")
    args = parser.parse_args()
    if args.calibrate:
        calibrate(COSTS)
        print(f"wrote {COSTS}")
    if args.resnet:
        from bench.bench_resnet_winograd import report

        text = report()
        print(text)
        if args.write:
            args.write.write_text(text)
    if not (args.calibrate or args.resnet):
        parser.print_help()
        sys.exit(2)


if __name__ == "__main__":
    main()

"""The op support table (docs/op-support.md), generated from the code: the op registry
(which IR ops have float and integer reference math, which ONNX ops import as them) and
the target registry (which IR ops each target generates code for).

    python -m effc.opsupport > docs/op-support.md    (tests/test_docs.py checks it is current)
"""

from __future__ import annotations

from effc import ops as op_registry
from effc.codegen import PLANNED, targets

YES, NO, LOWERED = "yes", "-", "lowered"


def _overrides(cls: type, method: str) -> bool:
    return getattr(cls, method) is not getattr(op_registry.Op, method)


def op_rows() -> list[dict[str, str]]:
    """One row per IR op: its ONNX ops and a yes/- per stage."""
    op_registry.supported_onnx_ops()  # loads every op file
    importers: dict[str, list[str]] = {}
    for onnx_type in op_registry.supported_onnx_ops():
        cls = op_registry.onnx_importer(onnx_type)
        if cls is not None:
            importers.setdefault(cls.op_type, []).append(onnx_type)
    registered = targets()
    rows = []
    for name in sorted(op_registry._OPS):
        cls = type(op_registry._OPS[name])
        f, i = _overrides(cls, "run_float"), _overrides(cls, "run_int")
        row = {"op": name, "onnx": ", ".join(sorted(importers.get(name, []))) or "(internal)"}
        if not f and not i and _overrides(cls, "from_onnx"):
            # An import-only op: the frontend rewrites it into the IR ops of other rows.
            rows.append(row | dict.fromkeys(("reference", "int8", "c_float", "c_int8", "hls",
                                             "rtl"), LOWERED))
            continue
        row |= {"reference": YES if f else NO, "int8": YES if i else NO}
        c = registered.get("c")
        row["c_float"] = YES if c and name in c.ops and f else NO
        row["c_int8"] = YES if c and name in c.ops and i else NO
        for target in ("hls", "rtl"):
            t = registered.get(target)
            row[target] = (YES if name in t.ops else NO) if t else "planned"
        rows.append(row)
    return rows


def op_support_markdown() -> str:
    planned = [n for n in ("hls", "rtl") if n in PLANNED and n not in targets()]
    lines = [
        "# Op support",
        "",
        "Generated from the code by `python -m effc.opsupport` (the op registry and the",
        "target registry); `tests/test_docs.py` fails when this file is stale. One row per",
        "IR op; an ONNX op imports as the IR op named in its row (Gemm and MatMul become",
        "Dense, BatchNormalization folds into the convolution before it, and so on).",
        "",
        "- reference: float math (`effc run MODEL`, the oracle for float code)",
        "- int8: integer math, bit-exact with TFLite Micro's int8 kernels",
        "- C float / C int8: a kernel in the C target (`--quantize none` / int8)",
        "- HLS / RTL: code in the FPGA targets (RTL: the accelerator's int8 layers and the",
        "  ops at its edges, which the host runs: QuantizeLinear, Softmax, ...)"
        + (f" ({', '.join(planned)}: planned, not registered yet)" if planned else ""),
        "- lowered: an op the frontend rewrites into the IR ops of other rows (QOperator",
        "  ops become their QDQ form), so it runs wherever those run",
        "",
        "Where a stage has the op, the random-model differential test",
        "(`tests/differential/`) checks particular attribute combinations against the",
        "reference; combinations a kernel refuses are refused in one line at compile time.",
        "",
        "| IR op | ONNX ops | reference | int8 | C float | C int8 | HLS | RTL |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in op_rows():
        lines.append(f"| {r['op']} | {r['onnx']} | {r['reference']} | {r['int8']} | "
                     f"{r['c_float']} | {r['c_int8']} | {r['hls']} | {r['rtl']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(op_support_markdown(), end="")

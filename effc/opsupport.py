"""The op support table, docs/ops.md: per ONNX op effc imports, the stages that run it,
the newest version of its schema the importer reads, its pass rate in onnx's backend
tests and what a stage does not cover.

Each stage's answer comes from the predicate the stage refuses a node with: the op
registry's float math (the reference), ``lower_int8``'s ``int8_form`` (the int8
reference), and each target's ``accepts`` (``effc.codegen.Target``; the C target's
``dispatch.has_kernel``, the HLS ``make_layer``'s and the RTL ``partition``'s sets). The
pass rates come from ``docs/ops-conformance.json``, which the conformance test
(``tests/test_onnx_conformance.py``) writes and keeps current::

    python -m effc.opsupport --write docs/ops.md    (tests/test_docs.py checks it is current)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from effc.codegen import targets
from effc.ops import ALWAYS_FOLDED, Op, get_op, onnx_importer, supported_onnx_ops
from effc.passes.fuse_activation import FUSABLE
from effc.passes.lower_int8 import int8_form

STAGES = ("float ref", "int8 ref", "C float", "C int8", "HLS", "RTL")
#: The columns each target's ``accepts`` fills (a test fails on a target missing here).
COLUMNS = {"c": ("C float", "C int8"), "hls": ("HLS",), "rtl": ("RTL",)}
#: The pass rates per ONNX op, beside the table (written by the conformance test).
RATES = "ops-conformance.json"

#: ONNX ops whose import produces other IR ops than the importer's op type (besides the
#: QuantizeLinear / DequantizeLinear around the QOperator ops' quantized values).
PRODUCES: dict[str, tuple[str, ...]] = {
    "Gemm": ("Dense", "MatMul"), "MatMul": ("Dense", "MatMul"),  # either one
    "Mean": ("Add", "Mul"),  # a chain of Add and a Mul by 1/n
    "BatchNormalization": ("Conv",),  # folded, or a depthwise 1x1 Conv
    "QLinearConv": ("Conv",), "ConvInteger": ("Conv",), "QLinearMatMul": ("Dense",),
    "MatMulInteger": ("Dense",), "com.microsoft.QGemm": ("Dense",),
    "com.microsoft.QLinearAdd": ("Add",), "com.microsoft.QLinearMul": ("Mul",),
    "com.microsoft.QLinearAveragePool": ("AveragePool",),
    "com.microsoft.QLinearGlobalAveragePool": ("GlobalAveragePool",),
    "com.microsoft.QLinearConcat": ("Concat",), "com.microsoft.QLinearLeakyRelu": ("LeakyRelu",),
    "com.microsoft.QLinearSigmoid": ("Sigmoid",), "com.microsoft.QLinearSoftmax": ("Softmax",),
}
#: ONNX ops with a float result effc cannot quantize: the int32 accumulator of
#: ConvInteger / MatMulInteger is a float value between their DequantizeLinear and the
#: next QuantizeLinear, which ``lower_int8`` refuses (only their float forms run).
FLOAT_RESULT = ("ConvInteger", "MatMulInteger")
#: Gemm and MatMul run where either IR op does (RTL: a Dense layer, constant weights).
EITHER = ("Gemm", "MatMul")
#: What a stage does not cover (each refusal is one line).
LIMITS: dict[str, str] = {
    "Conv": "1-D and 2-D", "ConvTranspose": "1-D and 2-D",
    "MaxPool": "1-D and 2-D", "AveragePool": "1-D and 2-D",
    "Gather": "C: no gather of a computed value by computed indices",
    "Resize": "int8: nearest and linear (TFLite's integer form), no cubic; C: one axis or "
              "two neighbours",
    "Upsample": "as Resize",
    "Pow": "int8: a constant exponent (a table)",
    "LSTM": "int8: TFLM's integer LSTM (default activations, no peepholes, clip, "
            "input_forget, Y_c output or shorter sequences)",
    "GRU": "int8: effc's exact scheme (default activations, no clip or shorter sequences)",
    "Relu": "RTL: fused into the Conv, Dense or Add before it",
    "Clip": "RTL: fused into the Conv, Dense or Add before it",
    "Add": "RTL: of two activations of one shape (residual), no constant operand",
    "Sum": "as Add", "Mean": "RTL: the Mul by 1/n has no accelerator layer",
    "Gemm": "RTL: constant weights (a Dense layer)", "MatMul": "RTL: constant weights",
    "Div": "int8: a constant divisor (a Mul by its reciprocal)",
    "Dropout": "inference mode (training refused)",
    "Split": "outputs within the graph", "ArgMax": "int64 outputs", "ArgMin": "int64 outputs",
    "QuantizeLinear": "HLS, RTL: at the model's float interface (the host converts)",
    "DequantizeLinear": "HLS, RTL: at the model's float interface (the host converts)",
    "ConvInteger": "int8 stages: the int32 accumulator stays float (refused in one line)",
    "MatMulInteger": "int8 stages: the int32 accumulator stays float (refused in one line)",
    "BatchNormalization": "folds into the convolution before it (else a depthwise 1x1 Conv)",
    "Softmax": "RTL: at the model's end (the host runs it)",
    "Transpose": "RTL: at the model's edges (the host runs it)",
}


def _ir_ops(onnx_op: str) -> tuple[str, ...]:
    if onnx_op in PRODUCES:
        return PRODUCES[onnx_op]
    importer = onnx_importer(onnx_op)
    assert importer is not None, onnx_op
    return (importer.op_type,)


def _float_math(ir: str) -> bool:
    return type(get_op(ir)).run_float is not Op.run_float


def stages(onnx_op: str) -> dict[str, bool]:
    """Which stages run a node of ``onnx_op``: each stage's predicate holds for every IR op
    its import produces (int8 stages: for the op each lowers to, or it fuses away)."""
    if onnx_op in ALWAYS_FOLDED:
        return dict.fromkeys(STAGES, True)
    irs = _ir_ops(onnx_op)
    combine = any if onnx_op in EITHER else all
    quantizable = onnx_op not in FLOAT_RESULT
    int8 = [int8_form(ir) for ir in irs]
    found = targets()
    result = {"float ref": all(_float_math(ir) for ir in irs),
              "int8 ref": quantizable and combine(f is not None for f in int8)}
    for name, columns in COLUMNS.items():
        target = found.get(name)
        if target is None:
            result |= dict.fromkeys(columns, False)
            continue
        runs_int8 = quantizable and combine(
            f is not None and (target.accepts(f, True) or f in FUSABLE) for f in int8)
        if name == "c":
            result["C float"] = combine(target.accepts(ir, False) for ir in irs)
            result["C int8"] = runs_int8
        else:
            result[columns[0]] = runs_int8
    return {stage: result[stage] for stage in STAGES}


def _rate(rates: dict[str, dict[str, int]], op: str) -> str:
    tally = rates.get(op)
    if tally is None:
        return "—"
    run = tally["cases"] - tally["out_of_scope"]
    passed = f"{tally['passed']}/{run}" if run else "-"
    return f"{passed} ({tally['out_of_scope']} out of scope)"


HEADER = """# Supported ONNX ops

Generated by `python -m effc.opsupport --write docs/ops.md`; `tests/test_docs.py`
fails when this file is stale, and `tests/test_ops_table.py` runs a sample of its
cells through their stage (each "yes" must run, each "—" must be refused in one line).

Stages: the float reference (`effc run MODEL`, `--quantize none`), the int8 reference
(post-training quantization, `--calib`, or a quantized model; TFLite Micro's integer
arithmetic where TFLite has the op), the C library's float and int8 kernels (host and
Cortex-M), the HLS target (int8 only: a streaming dataflow of the layers it has
templates for, every int8 activation as a lookup table; docs/hls-backend.md) and the
RTL target (int8 only: the accelerator's layers, Conv, Dense, pools and Add with
Relu/Clip fused, and Softmax, Quantize/Dequantize and layout ops on the host at the
model's edges; docs/rtl-backend.md). Each answer is the predicate the stage refuses a
node with (the op registry, `lower_int8`, each target's `accepts`), for the IR ops the
ONNX op imports as: a stage that cannot run a node refuses it in one line.

*Conformance*: onnx's backend test cases (node, pytorch-converted and
pytorch-operator) through the float reference, passed of those in scope (from
`docs/ops-conformance.json`, which `tests/test_onnx_conformance.py` keeps current);
`tests/conformance/scope.py` says why a case is out of scope (3-D data, sequences,
strings, training mode, element types effc does not compute). *Reads up to*: the
newest version of the op's schema whose semantics the importer implements (a model
selecting a newer one is refused).
"""


def render(rates: dict[str, dict[str, int]]) -> str:
    """docs/ops.md from the stages' predicates and the conformance ``rates``."""
    lines = [HEADER, f"| ONNX op | reads up to | {' | '.join(STAGES)} | conformance | limits |",
             "|" + "---|" * (len(STAGES) + 4)]
    for op in supported_onnx_ops():
        importer = onnx_importer(op)
        version = str(importer.onnx_types[op]) if importer is not None else "folded"
        marks = " | ".join("yes" if ok else "—" for ok in stages(op).values())
        lines.append(f"| {op} | {version} | {marks} | {_rate(rates, op)} | {LIMITS.get(op, '')} |")
    return "\n".join(lines) + "\n"


def read_rates(doc: Path) -> dict[str, dict[str, int]]:
    """The conformance tallies beside ``doc`` (``RATES``), as the conformance test wrote
    them: per ONNX op its cases, passed and out of scope."""
    return json.loads((doc.parent / RATES).read_text())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m effc.opsupport", description=__doc__
                                     .split("\n\n")[0])
    parser.add_argument("--write", metavar="DOC", type=Path, default=Path("docs/ops.md"),
                        help="the table to write (its conformance rates are read from "
                             f"{RATES} beside it)")
    args = parser.parse_args(argv)
    args.write.write_text(render(read_rates(args.write)))
    print(f"wrote {args.write}")


if __name__ == "__main__":
    main()

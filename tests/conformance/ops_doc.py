"""docs/ops.md, generated: every ONNX op effc imports, the stages that run it (from
the op registry, the int8 lowerings and the C kernel table) and its pass rate in
onnx's backend tests. ``tests/test_onnx_conformance.py`` checks the file is
current; regenerate it with::

    .venv/bin/python -m tests.conformance.ops_doc
"""

from __future__ import annotations

from pathlib import Path

from effc.codegen.c.dispatch import all_calls
from effc.codegen.c.kernels import FLOAT_UNARY
from effc.codegen.c.kernels_ops import UNARY_KINDS
from effc.ops import ALWAYS_FOLDED, Op, get_op, onnx_importer, supported_onnx_ops
from effc.ops.activation import FUNCTIONS as ACTIVATIONS
from effc.passes.lower_int8 import LOWERINGS
from tests.conformance.report import per_op

DOC = Path(__file__).resolve().parents[2] / "docs" / "ops.md"
STAGES = ("float ref", "int8 ref", "C float", "C int8", "HLS", "RTL")

#: ONNX ops whose import produces other IR ops than the importer's class names.
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
#: ONNX ops that describe quantization: the float reference simulates them, the C
#: library runs them as int8 only.
QUANTIZATION = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "ConvInteger",
                "QLinearMatMul", "MatMulInteger"}
#: What a stage does not cover (the refusals are one-line errors).
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
    "Relu": "RTL: fused into the layer before it", "Clip": "RTL: fused into the layer before it",
    "Add": "RTL: of two values (residual), no constant operand", "Sum": "as Add",
    "Gemm": "RTL: constant weights (a Dense layer)", "MatMul": "RTL: constant weights",
    "ReduceLogSumExp": "no C kernel", "Div": "int8: a constant divisor (a Mul by its "
                                                     "reciprocal)",
    "LogSoftmax": "float reference only", "Dropout": "inference mode (training refused)",
    "Split": "outputs within the graph", "ArgMax": "int64 outputs", "ArgMin": "int64 outputs",
}


def _ir_ops(onnx_op: str) -> tuple[str, ...]:
    if onnx_op in PRODUCES:
        return PRODUCES[onnx_op]
    importer = onnx_importer(onnx_op)
    assert importer is not None, onnx_op
    return (importer.op_type,)


def _float_ref(ir: str) -> bool:
    return type(get_op(ir)).run_float is not Op.run_float


def _int8_ref(ir: str) -> bool:
    return ir in LOWERINGS or ir in ("QuantizeLinear",
                                                                "DequantizeLinear", "Div")


def _c_float(ir: str) -> bool:
    if ir in ACTIVATIONS:
        return ir in FLOAT_UNARY or ir in UNARY_KINDS or ir == "Gelu"
    return ir in all_calls()


def _c_int8(ir: str) -> bool:
    return ir in all_calls() and _int8_ref(ir)


#: The targets this file knows how to fill columns for (a test fails on any other).
KNOWN_TARGETS = {"c": ("C float", "C int8"), "hls": ("HLS",), "rtl": ("RTL",)}
#: Activations the int8 passes fuse into the layer before them (the RTL runs them there).
FUSED = {"Relu", "Clip"}


def _rtl(ir: str) -> bool:
    """Does the RTL target run an int8 node of ``ir`` (a layer of its accelerator, or
    an op at the model's boundary it runs around the accelerator)?"""
    from effc.codegen.rtl.layers import ACCEL, HEAD, TAIL

    return ir in ACCEL | HEAD | TAIL | FUSED and _int8_ref(ir)


def _hls(ir: str) -> bool:
    """The HLS target's op table (its layers' templates, every int8 activation as a
    lookup table, and the boundary ops the host converts)."""
    from effc.codegen.hls.layers_misc import OPS

    return ir in OPS and _int8_ref(ir)


def stages(onnx_op: str) -> dict[str, bool]:
    """Which stages run the ONNX op: every IR op its import produces runs there (the
    RTL: a Gemm or MatMul with constant weights, a Dense layer)."""
    if onnx_op in ALWAYS_FOLDED:
        return dict.fromkeys(STAGES, True)
    irs = _ir_ops(onnx_op)
    quant = onnx_op in QUANTIZATION
    return {"float ref": all(_float_ref(i) for i in irs),
            "int8 ref": all(_int8_ref(i) for i in irs),
            "C float": all(_c_float(i) for i in irs) and not quant,
            "C int8": all(_c_int8(i) for i in irs),
            "HLS": (any if onnx_op in ("Gemm", "MatMul") else all)(_hls(i) for i in irs),
            "RTL": (any if onnx_op in ("Gemm", "MatMul") else all)(
                _rtl(i) for i in irs)}


def render() -> str:
    tallies = per_op()
    lines = [
        "# Supported ONNX ops",
        "",
        "Generated by `tests/conformance/ops_doc.py` from the op registry, the int8",
        "lowerings and the C kernel table; `tests/test_onnx_conformance.py` checks it is",
        "current (regenerate: `.venv/bin/python -m tests.conformance.ops_doc`).",
        "",
        "Stages: the float reference (`--quantize none`), the int8 reference",
        "(post-training quantization or a quantized model, TFLite Micro's integer",
        "arithmetic where TFLite has the op), the C library's float and int8 kernels",
        "(host and Cortex-M), and the RTL target (int8 only: the layers of its",
        "accelerator, Conv, Dense, pools and Add with Relu/Clip fused, and Softmax,",
        "Quantize/Dequantize and layout ops at the model's boundary; docs/rtl-backend.md).",
        "The HLS target (int8 only: a streaming dataflow of the layers it has templates",
        "for, every int8 activation as a lookup table; docs/hls-backend.md). A stage",
        "that cannot run a node refuses it in one line.",
        "",
        "*Conformance*: onnx's backend test cases (node, pytorch-converted and",
        "pytorch-operator) through the float reference, passed of those in scope;",
        "`tests/conformance/scope.py` says why a case is out of scope (3-D data,",
        "sequences, strings, training mode, element types effc does not compute).",
        "*Reads up to*: the newest version of the op's schema whose semantics the",
        "importer implements (a model selecting a newer one is refused).",
        "",
        f"| ONNX op | reads up to | {' | '.join(STAGES)} | conformance | limits |",
        "|" + "---|" * (len(STAGES) + 4),
    ]
    for op in supported_onnx_ops():
        importer = onnx_importer(op)
        version = str(importer.onnx_types[op]) if importer is not None else "folded"
        marks = " | ".join("yes" if ok else "—" for ok in stages(op).values())
        tally = tallies.get(op)
        rate = f"{tally.rate} ({tally.out_of_scope} out of scope)" if tally else "—"
        lines.append(f"| {op} | {version} | {marks} | {rate} | {LIMITS.get(op, '')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    DOC.write_text(render())
    print(f"wrote {DOC}")

"""What effc leaves out of onnx's backend tests, and why: each reason once.

Three kinds of entries:

* ``UNSUPPORTED_OPS``: ONNX ops effc does not import, by family, with the reason;
* ``RULES``: properties of a case that put it out of scope whatever its op
  (element types effc does not compute, scalar model inputs, sequences), checked
  on the case itself before it runs;
* ``CASES``: cases of supported ops that effc refuses on purpose (a glob on the
  case key), with the reason. A listed case must still be refused: one that passes
  fails the conformance test until its line is removed.

Everything else must pass.
"""

from __future__ import annotations

import fnmatch

import numpy as np
import onnx

from tests.conformance.cases import Case
from tests.conformance.runner import fed_inputs, feeds_of

_FAMILIES: dict[str, tuple[str, ...]] = {
    "training (optimizers, losses, random sampling)": (
        "Adagrad", "Adam", "Momentum", "Gradient", "NegativeLogLikelihoodLoss",
        "SoftmaxCrossEntropyLoss", "Bernoulli", "RandomNormal", "RandomUniform",
        "RandomNormalLike", "RandomUniformLike", "Multinomial"),
    "the ai.onnx.ml domain (classical ML)": (
        "ArrayFeatureExtractor", "Binarizer", "LabelEncoder", "TreeEnsemble"),
    "strings": ("RegexFullMatch", "StringConcat", "StringNormalizer", "StringSplit",
                "TfIdfVectorizer"),
    "sequences, optionals and control flow (effc compiles static dataflow graphs)": (
        "If", "Loop", "Scan", "SequenceInsert", "SequenceMap", "SplitToSequence",
        "SequenceEmpty", "SequenceLength", "OptionalGetElement", "OptionalHasElement"),
    "data-dependent output shapes (effc plans memory at compile time)": (
        "NonZero", "Unique", "Compress", "NonMaxSuppression", "TopK", "EyeLike",
        "ConstantOfShape", "Range"),
    "signal processing (DFT and windows)": (
        "DFT", "STFT", "BlackmanWindow", "HammingWindow", "HannWindow", "MelWeightMatrix"),
    "integer, bitwise and boolean logic (effc computes float32 and quantized int8)": (
        "BitShift", "BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor", "BitCast", "Mod",
        "And", "Or", "Xor", "Not", "IsInf", "IsNaN", "Equal", "Greater", "GreaterOrEqual",
        "Less", "LessOrEqual", "Where", "DynamicQuantizeLinear"),
    "not implemented: geometry and sampling ops no target model uses": (
        "GridSample", "AffineGrid", "RoiAlign", "DeformConv", "Col2Im", "CenterCropPad",
        "ImageDecoder", "MaxUnpool", "SpaceToDepth", "DepthToSpace"),
    "not implemented: normalization layers other than BatchNormalization": (
        "LayerNormalization", "GroupNormalization", "InstanceNormalization",
        "RMSNormalization", "LRN", "LpNormalization", "MeanVarianceNormalization"),
    "not implemented: transformer blocks": (
        "Attention", "FlexAttention", "LinearAttention", "RotaryEmbedding", "SwiGLU",
        "CausalConvWithState", "TensorScatter"),
    "not implemented: trigonometry and other math no target model uses": (
        "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Cos", "Cosh", "Sin", "Sinh", "Tan",
        "CumSum", "CumProd", "Det", "Einsum", "Hardmax", "LpPool", "Shrink", "Trilu",
        "ReverseSequence", "Scatter", "ScatterElements", "ScatterND", "GatherElements",
        "GatherND", "OneHot"),
}

#: ONNX op -> why effc does not import it.
UNSUPPORTED_OPS: dict[str, str] = {op: reason for reason, ops in _FAMILIES.items()
                                   for op in ops}

_DTYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.INT8}
_INDICES = {onnx.TensorProto.INT64, onnx.TensorProto.INT32}
#: Ops whose model inputs or outputs may be integer indices.
INDEX_OPS = {"ArgMax", "ArgMin", "Gather"}


def _rule(case: Case) -> str | None:
    """A reason that puts ``case`` out of scope whatever its op, or None."""
    if any(o.domain not in ("", "ai.onnx") for o in case.model.opset_import):
        return "ops outside the ai.onnx domain (ai.onnx.ml, preview training)"
    values = [*case.model.graph.input, *case.model.graph.output]
    if any(v.type.WhichOneof("value") != "tensor_type" for v in values):
        return "sequences, optionals and maps"
    for v in [*fed_inputs(case), *case.model.graph.output]:
        elem = v.type.tensor_type.elem_type
        if elem in _INDICES and set(case.ops) <= INDEX_OPS:
            continue  # an index: ArgMax's result, the input of an embedding
        if elem == onnx.TensorProto.UINT8:
            return "uint8 model inputs or outputs: effc's integer interface is int8"
        if elem not in _DTYPES:
            name = onnx.TensorProto.DataType.Name(elem)
            return f"element type {name}: effc computes float32 and int8"
    for inputs, _ in case.data_sets:
        if any(np.ndim(x) == 0 for x in feeds_of(case, inputs).values()):
            return "a scalar model input: effc runs batches of samples ([N, ...] inputs)"
        if any(np.size(x) == 0 for x in inputs if isinstance(x, np.ndarray)):
            return "an empty tensor (a dimension of size 0)"
    return None


_INT_MATH = ("ONNX integer arithmetic on int8 tensors (wrapping; effc's int8 values are "
             "quantized reals)")

#: Cases of supported ops that effc refuses on purpose: glob on the case key -> reason.
CASES: dict[str, str] = {
    "node/test_averagepool_3d_*": "3-D pooling: effc targets 1-D and 2-D models",
    "node/test_maxpool_3d_*": "3-D pooling: effc targets 1-D and 2-D models",
    "pytorch-converted/test_AvgPool3d*": "3-D pooling: effc targets 1-D and 2-D models",
    "pytorch-converted/test_MaxPool3d*": "3-D pooling: effc targets 1-D and 2-D models",
    "pytorch-converted/test_Conv3d*": "3-D convolution: effc targets 1-D and 2-D models",
    "node/test_convtranspose_3d": "3-D convolution: effc targets 1-D and 2-D models",
    "node/test_batchnorm_*_training_mode": "training mode (batch statistics)",
    "node/test_training_dropout*": "training mode (random)",
    "node/test_constant": "a model whose output is a constant (effc compiles functions of "
                          "their inputs)",
    "node/test_add_int8": _INT_MATH, "node/test_sub_int8": _INT_MATH,
    "node/test_mul_int8": _INT_MATH, "node/test_div_int8": _INT_MATH,
    "node/test_clip_default_int8_min": _INT_MATH, "node/test_clip_default_int8_max": _INT_MATH,
    "node/test_clip_default_int8_inbounds": _INT_MATH,
    "node/test_slice_start_out_of_bounds": "an empty slice (a dimension of size 0)",
    **{f"node/test_rotary_embedding{variant}_expanded": "an empty tensor in the function body "
       "(a Split part of size 0)" for variant in ("", "_3d_input", "_interleaved",
                                                   "_no_position_ids",
                                                   "_no_position_ids_interleaved")},
}


def case_reason(case: Case) -> str | None:
    """The listed reason for a refused case of supported ops (``CASES``), or None."""
    return next((reason for pattern, reason in CASES.items()
                 if fnmatch.fnmatchcase(case.key, pattern)), None)


def scope_reason(case: Case, supported: set[str]) -> str | None:
    """Why ``case`` is out of scope before it runs (a rule or an unsupported op)."""
    rule = _rule(case)
    if rule:
        return rule
    missing = sorted({n.op_type for n in case.model.graph.node} - supported)
    if missing:
        return UNSUPPORTED_OPS.get(missing[0], f"op {missing[0]} has no listed reason")
    return None

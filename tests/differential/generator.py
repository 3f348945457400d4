"""The hypothesis strategy: random valid ONNX models from every supported op.

A model is an input (image N C H W, signal N C W or vector N F; NCHW or NHWC
with its Transpose; batch 1 or 2; sometimes a second input), a stem
(Conv or pool), up to three more conv-stage blocks, a head (to a vector
and dense layers, or an output in any layout or shape), sometimes a second
output. Every choice is a hypothesis draw, so a failing model shrinks.
``RandomModel`` prints as the list of its layers, which is what a failing
test shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
from hypothesis import strategies as st

from tests.differential import blocks, blocks_ops, structure
from tests.differential.blocks import CHANNELS, Draw, chance, pick
from tests.differential.onnx_builder import Builder, Value
from tests.differential.support import enabled

OPSETS = range(13, 25)  # onnxruntime 1.32 runs up to 24; effc loads up to onnx's newest
NAMINGS = ("unique", "unique", "empty", "adversarial")

#: Conv-stage blocks and how often each is drawn.
CONV_BLOCKS = {
    blocks.conv: 4, blocks.pool: 2, blocks.activation: 3, blocks.batchnorm: 1,
    blocks.binary_const: 2, structure.residual: 2, structure.gate: 1, structure.concat: 2,
    structure.pad: 1, structure.softmax: 1, blocks.global_pool: 1,
    blocks_ops.reduce: 1, blocks_ops.slice_: 1, blocks_ops.split: 1, blocks_ops.gather: 1,
    blocks_ops.resize: 2, blocks_ops.conv_transpose: 1, blocks_ops.matmul: 1,
    blocks_ops.expand_tile: 1, blocks_ops.min_max: 1, blocks_ops.pow_: 1,
    blocks_ops.sqrt_reciprocal: 1, blocks_ops.function: 2, blocks_ops.recurrent: 1,
}
VECTOR_BLOCKS = {
    structure.dense: 3, blocks.activation: 3, blocks.binary_const: 2, blocks.batchnorm: 1,
    structure.residual: 1, structure.concat: 1, structure.softmax: 1,
    blocks_ops.min_max: 1, blocks_ops.pow_: 1, blocks_ops.function: 2,
    blocks_ops.sqrt_reciprocal: 1,
}


@dataclass
class RandomModel:
    """A generated model, what it contains and how to feed it."""

    model: onnx.ModelProto
    features: frozenset[str]
    layers: list[str]
    seed: int
    inputs: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    #: index inputs (an embedding's token ids) -> n: their samples are in [-n, n)
    index_bounds: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        body = "\n    ".join(self.layers)
        return (f"RandomModel(opset {self.model.opset_import[0].version}, seed {self.seed}, "
                f"features {sorted(self.features)}):\n    {body}")

    def samples(self, count: int, offset: int = 0, scale: float = 1.0
                ) -> dict[str, np.ndarray]:
        """``count`` seeded standard-normal samples per input (every valid index of an
        index input), stacked on axis 0."""
        rng = np.random.default_rng([self.seed, offset])
        out = {}
        for name, shape in self.inputs:
            rows = (count * shape[0], *shape[1:])
            bound = self.index_bounds.get(name)
            out[name] = rng.integers(-bound, bound, rows).astype(np.int64) if bound else \
                (rng.standard_normal(rows) * scale).astype(np.float32)
        return out


#: Blocks of issue 17's ops, drawn only while the feature they stand for is enabled (a
#: target's own random test, e.g. the RTL accelerator's, disables what it cannot run).
BLOCK_FEATURE = {
    blocks_ops.reduce: "reduce_mean", blocks_ops.slice_: "slice", blocks_ops.split: "split",
    blocks_ops.gather: "gather", blocks_ops.resize: "resize_nearest",
    blocks_ops.conv_transpose: "conv_transpose", blocks_ops.matmul: "matmul_batched",
    blocks_ops.expand_tile: "expand", blocks_ops.min_max: "min_max", blocks_ops.pow_: "pow",
    blocks_ops.sqrt_reciprocal: "sqrt_reciprocal", blocks_ops.function: "erf",
    blocks_ops.recurrent: "gru",
}


def _weighted(draw: Draw, table: dict) -> object:
    return draw(st.sampled_from([fn for fn, weight in table.items() for _ in range(weight)
                                 if fn not in BLOCK_FEATURE or enabled(BLOCK_FEATURE[fn])]))


def _input(draw: Draw, b: Builder) -> Value:
    kind = pick(draw, ("image", "image", "signal", "vector"))
    batch = 2 if enabled("batch2") and chance(draw, 10) else 1
    b.features.add(f"input_{kind}")
    if batch > 1:
        b.features.add("batch2")
    if kind == "vector":
        shape: tuple[int, ...] = (batch, draw(st.integers(1, 24)))
    else:
        sizes = [draw(st.integers(1, 10)) for _ in range(2 if kind == "image" else 1)]
        if kind == "signal":
            sizes = [draw(st.integers(1, 24))]
        shape = (batch, pick(draw, CHANNELS), *sizes)
    nhwc = kind != "vector" and not chance(draw, 3)
    stored = (shape[0], *shape[2:], shape[1]) if nhwc else shape
    x = b.input(stored)
    if enabled("multi_input") and chance(draw, 12):
        other = b.input(stored)
        b.features.add("multi_input")
        x = b.op("Add", [x.name, other.name], stored, "the two inputs")
    if kind == "vector":
        return x
    b.features.add("input_nhwc" if nhwc else "input_nchw")
    if not nhwc:
        return Value(x.name, x.shape, "cf")
    perm = [0, x.rank - 1, *range(1, x.rank - 1)]
    return b.op("Transpose", [x.name], shape, f"perm={perm}", "cl", perm=perm)


@st.composite
def random_models(draw: Draw) -> RandomModel:
    opset = draw(st.sampled_from(OPSETS))
    seed = draw(st.integers(0, 2**32 - 1))
    naming = draw(st.sampled_from([n for n in NAMINGS if n == "unique" or
                                   enabled(f"names_{n}")]))
    b = Builder(opset, np.random.default_rng(seed), naming)
    if naming != "unique":
        b.features.add(f"names_{naming}")
    x = _input(draw, b)
    seen: list[Value] = []
    if x.rank > 2:
        x = pick(draw, (blocks.conv, blocks.conv, blocks.pool))(draw, b, x)
        for _ in range(draw(st.integers(0, 4))):
            seen.append(x)
            x = _weighted(draw, CONV_BLOCKS)(draw, b, x)
        seen.append(x)
        x = structure.conv_head(draw, b, x)
    else:
        x = structure.dense(draw, b, x)
    flattened = b.pending_flatten
    if x.rank == 2:
        for _ in range(draw(st.integers(0, 3))):
            seen.append(x)
            block = _weighted(draw, VECTOR_BLOCKS)
            if b.pending_flatten and block is not structure.dense:
                b.features.add("transpose_mid")
            b.pending_flatten = None
            x = block(draw, b, x)
        if chance(draw, 4):
            x = structure.reshape_out(draw, b, x)
    if b.pending_flatten:
        b.features.add("transpose_output")
    if x.shape[0] != 1:
        b.features.add("output_leading_dim")
    b.output(x)
    # A second output that is only a view of the first is a feature of its own.
    extra = [v for v in seen if b.root(v.name) != b.root(x.name)]
    if enabled("output_alias") and chance(draw, 16):
        b.features.update({"multi_output", "output_alias"})
        b.output(b.op("Identity", [x.name], x.shape, layout=x.layout))
    elif enabled("argmax") and seen and chance(draw, 10):
        b.features.add("multi_output")
        b.output(blocks_ops.argmax_output(draw, b, pick(draw, seen)))
    elif enabled("multi_output") and extra and chance(draw, 8):
        other = pick(draw, extra)
        if other.channels_last or other.name == flattened:
            b.features.add("transpose_output")
        b.features.add("multi_output")
        b.output(other)
    # Drawn last, so the models before it stay as they were without it.
    if enabled("embedding") and "multi_output" not in b.features and chance(draw, 12):
        b.features.add("multi_output")
        b.output(blocks_ops.embedding_output(draw, b))
    return RandomModel(b.model(), frozenset(b.features), b.layers, seed,
                       [(v.name, v.shape) for v in b.inputs], dict(b.index_bounds))


@st.composite
def one_step_models(draw: Draw) -> RandomModel:
    """Conv stacks whose convolutions all have one even channel count S: an NHWC image,
    one to three same-padded Convs to S channels (the first from C_in = S, 7 or 3; a 1x1
    from 64 or a 3x3 from 7 has k = 64 or 63, the two-channel loop's 16 groups), an
    activation between some, then a head. Their packed layers store at one step
    (kernel_set's -DEFFC_MM_2X4_FULL_STEP: the stack loop's full form and the budget
    compact form), which random_models' channel counts almost never give."""
    seed = draw(st.integers(0, 2**32 - 1))
    b = Builder(draw(st.sampled_from(OPSETS)), np.random.default_rng(seed), "unique")
    step = pick(draw, (64, 2, 4, 8, 16))
    c_in = pick(draw, (step, 7, 3))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    x = b.input((1, h, w, c_in))
    b.features.update({"input_image", "input_nhwc"})
    x = b.op("Transpose", [x.name], (1, c_in, h, w), "perm=[0, 3, 1, 2]", "cl",
             perm=[0, 3, 1, 2])
    for layer in range(draw(st.integers(1, 3))):
        if layer and chance(draw, 2):
            x = blocks.activation(draw, b, x)
        x = blocks.conv_same(draw, b, x, step)
    x = structure.conv_head(draw, b, x)
    b.output(x)
    return RandomModel(b.model(), frozenset(b.features), b.layers, seed,
                       [(v.name, v.shape) for v in b.inputs], dict(b.index_bounds))

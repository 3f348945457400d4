"""The resource model of the HLS target (docs/hls-backend.md, "The estimator").

Everything here is an estimate made before synthesis, FINN-style: cycles come
from each layer's folding and loop structure, resources from per-unit costs:

* DSP: two int8 x int8 multiplies share one DSP block (DSP48E1/E2 and the
  iCE40 SB_MAC16 each hold two 8-bit products with a shared operand); every
  TFLite requantization (a 32 x 32-bit high multiply) takes REQUANT_DSP blocks.
* BRAM: counted in 18 Kb blocks (a 36 Kb block is two). A memory of
  ``width`` bits x ``depth`` words takes the cheapest of the block's aspect
  ratios (16K x 1 ... 512 x 36). Small memories (at most LUTRAM_BITS bits, or
  fewer than LUTRAM_DEPTH words) become distributed RAM: one LUT per bit of
  width per 64 words.
* LUT: FINN-R's analytic model of a matrix-vector unit (Blott et al., TRETS
  2018) with int8 operands on DSPs: an adder tree of (2 * SIMD - 1) adders of
  16 bits per PE plus its accumulator, times 1.1, plus 300; fixed costs per
  requantizer, window generator, FIFO and element-wise lane below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: DSP blocks of one TFLite requantization: a 32 x 32-bit signed product
#: (two 25/27 x 18 multipliers are too narrow; four partial products).
REQUANT_DSP = 4
#: int8 products per DSP block.
PRODUCTS_PER_DSP = 2
#: Distributed RAM instead of block RAM at or below this many bits, or below LUTRAM_DEPTH words.
LUTRAM_BITS = 2048
LUTRAM_DEPTH = 32
#: FIFOs of at most this depth are shift registers (SRL32: one LUT per bit per 32 words).
SRL_DEPTH = 64
#: 18 Kb block aspect ratios: (width bits, depth words).
BRAM18_SHAPES = ((1, 16384), (2, 8192), (4, 4096), (9, 2048), (18, 1024), (36, 512))

#: LUTs of one requantizer (rounding shift, zero point, clamp), of an element-wise
#: lane's control, of a window generator's address logic, of a rounding divider
#: (average pooling), and the fixed cost of any process (FSM, stream handshakes).
REQUANT_LUT = 150
LANE_LUT = 30
WINDOW_LUT = 250
DIVIDER_LUT = 450
PROCESS_LUT = 60
#: FINN-R's matrix-vector unit model: fixed cost, factor, adder/accumulator widths.
MVAU_BASE_LUT = 300
MVAU_FACTOR = 1.1
PRODUCT_BITS = 16


@dataclass(frozen=True)
class Resources:
    dsp: int = 0
    bram: int = 0  # 18 Kb blocks
    lut: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.dsp + other.dsp, self.bram + other.bram, self.lut + other.lut)


def memory(width: int, depth: int, copies: int = 1) -> Resources:
    """``copies`` memories of ``width`` bits x ``depth`` words (ROM or RAM)."""
    if width <= 0 or depth <= 0 or copies <= 0:
        return Resources()
    if width * depth <= LUTRAM_BITS or depth < LUTRAM_DEPTH:
        return Resources(lut=copies * width * math.ceil(depth / 64))
    blocks = min(math.ceil(width / w) * math.ceil(depth / d) for w, d in BRAM18_SHAPES)
    return Resources(bram=copies * blocks)


def fifo(width: int, depth: int) -> Resources:
    """A stream FIFO of ``depth`` beats of ``width`` bits."""
    if depth <= SRL_DEPTH:
        return Resources(lut=width * math.ceil(depth / 32) + PROCESS_LUT // 2)
    return memory(width, depth) + Resources(lut=PROCESS_LUT)


def products(count: int) -> int:
    """DSP blocks of ``count`` parallel int8 x int8 products."""
    return math.ceil(count / PRODUCTS_PER_DSP)


def mvau_lut(pe: int, simd: int, dot_length: int) -> int:
    """FINN-R's LUT estimate of a PE x SIMD unit with its products on DSPs."""
    adder_tree = PRODUCT_BITS * (2 * simd - 1)
    accumulator = PRODUCT_BITS + math.ceil(math.log2(max(2, dot_length)))
    return int(MVAU_BASE_LUT + MVAU_FACTOR * pe * (adder_tree + accumulator))


def requantizers(units: int) -> Resources:
    return Resources(dsp=units * REQUANT_DSP, lut=units * REQUANT_LUT)


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def smallest_divisor_at_least(n: int, low: float) -> int:
    """The smallest divisor of ``n`` that is >= ``low`` (``n`` itself at most)."""
    return next(d for d in divisors(n) if d >= low)

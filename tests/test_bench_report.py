"""bench_qemu's issue 14 per-layer figures: the worst layer of each kind is reported."""

from __future__ import annotations

from bench.bench_layers import LAYERS
from bench.bench_qemu import issue_14_layer_figures


def _row(kernel: str, macs: int, instructions: int) -> dict:
    return {"kernel": kernel, "macs": macs, "instructions": instructions}


def test_worst_layer_of_each_kind() -> None:
    kws = [_row("conv_s8", 100, 300),  # the first conv: not a pointwise layer
           _row("dw_conv_s8", 100, 200), _row("conv_s8", 100, 81),
           _row("dw_conv_s8", 100, 215), _row("conv_s8", 100, 79),
           _row("pool_s8", 0, 50)]
    single = [{"layer": ly, "instructions": 100 * (i + 1), "macs": 100}
              for i, ly in enumerate(LAYERS)]
    figures = issue_14_layer_figures(kws, single)
    assert figures["depthwise"] == 2.15
    assert figures["pointwise"] == 0.81
    stride2 = [i + 1 for i, ly in enumerate(LAYERS) if ly.group > 1 and ly.stride == 2]
    assert stride2 and figures["stride2"] == max(stride2)

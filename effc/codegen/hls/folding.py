"""Folding chosen for the board: every layer's PE/SIMD (or lanes) from its estimates.

The dataflow's initiation interval is its slowest layer's cycles, so a target
interval T asks each layer for its cheapest folding that takes at most T
cycles, cheapest by ``cost`` (the fractions of the board's DSP, BRAM and LUT
budgets it uses, summed). With ``--fps N`` T is the clock divided by N; by
default T runs from the fastest reachable interval upwards and the first
selection whose whole design (layers, FIFOs, converters, fan-outs) fits the
budget wins. Nothing fitting even at the slowest folding, or an ``--fps`` that
a layer cannot reach or that does not fit, is a one-line error naming the
layer or the resource and how far over it is.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from effc.codegen.hls.dataflow import Dataflow, Plan
from effc.codegen.hls.estimate import Resources
from effc.codegen.hls.layers import Fold, Layer
from effc.errors import EffcError
from effc.names import comment_text

#: Share of each resource a design may use: LUTs keep room for routing and the
#: AXI infrastructure (DMA, interconnect) of a block design around the IP.
UTILIZATION = {"dsp": 1.0, "bram": 1.0, "lut": 0.85}
RESOURCE_NAMES = {"dsp": "DSP blocks", "bram": "18 Kb block RAMs", "lut": "LUTs"}


@dataclass(frozen=True)
class Budget:
    """An FPGA board as the HLS target sees it."""

    name: str
    part: str
    clock_mhz: float
    lut: int
    ff: int
    dsp: int
    bram18: int

    @classmethod
    def of(cls, board: Any) -> Budget:
        """From a board file's fields (name, part, clock_mhz, lut, ff, dsp, bram36)."""
        return cls(board.name, board.part, float(board.clock_mhz), board.lut, board.ff,
                   board.dsp, 2 * board.bram36)

    def total(self, resource: str) -> int:
        return {"dsp": self.dsp, "bram": self.bram18, "lut": self.lut}[resource]

    def limit(self, resource: str) -> int:
        return int(self.total(resource) * UTILIZATION[resource])

    def over(self, res: Resources) -> list[str]:
        """What exceeds the budget, each as 'DSP blocks: X needed of Y, Z over'."""
        problems = []
        for key in ("dsp", "bram", "lut"):
            need, limit = getattr(res, key), self.limit(key)
            if need > limit:
                share = "" if UTILIZATION[key] == 1 else \
                    f" ({UTILIZATION[key]:.0%} of {self.total(key):,})"
                problems.append(f"{RESOURCE_NAMES[key]}: {need:,} needed of {limit:,}{share}, "
                                f"{need - limit:,} over")
        return problems

    def cost(self, res: Resources) -> float:
        return res.dsp / max(1, self.dsp) + res.bram / max(1, self.bram18) + \
            res.lut / max(1, self.lut)


@dataclass
class Selection:
    folds: list[Fold]
    plan: Plan
    target: int  # the interval the folds were chosen for

    @property
    def layer_resources(self) -> Resources:
        total = Resources()
        for fold in self.folds:
            total += fold.res
        return total

    @property
    def resources(self) -> Resources:
        return self.layer_resources + self.plan.resources()

    @property
    def interval(self) -> int:
        return max(fold.cycles for fold in self.folds)

    @property
    def latency(self) -> int:
        return sum(fold.cycles for fold in self.folds)

    @property
    def bottleneck(self) -> int:
        return max(range(len(self.folds)), key=lambda i: self.folds[i].cycles)


class _Menu:
    """One layer's foldings sorted by cycles, with the cheapest up to each."""

    def __init__(self, folds: list[Fold], budget: Budget) -> None:
        self.folds = sorted(folds, key=lambda f: (f.cycles, budget.cost(f.res)))
        self.cycles = [f.cycles for f in self.folds]
        self.best: list[int] = []
        for i, fold in enumerate(self.folds):
            better = not self.best or budget.cost(fold.res) < budget.cost(
                self.folds[self.best[-1]].res)
            self.best.append(i if better else self.best[-1])

    def cheapest_within(self, cycles: int) -> Fold | None:
        i = bisect.bisect_right(self.cycles, cycles) - 1
        return self.folds[self.best[i]] if i >= 0 else None


#: Picks a layer's folding from its menu instead of the search (tests explore foldings).
Pick = Callable[[Layer, list[Fold]], Fold]


def choose_folding(flow: Dataflow, budget: Budget, fps: float | None = None,
                   pick: Pick | None = None) -> Selection:
    if not flow.layers:
        raise EffcError("the int8 core of the model has no layer (only reshapes); the HLS "
                        "target needs at least one computing layer")
    menus = [_Menu(layer.folds(), budget) for layer in flow.layers]
    if pick is not None:
        folds = [pick(layer, menu.folds) for layer, menu in zip(flow.layers, menus, strict=True)]
        return Selection(folds, flow.plan(folds), max(f.cycles for f in folds))
    clock = budget.clock_mhz * 1e6
    if fps is not None:
        target = int(clock // fps)
        for layer, menu in zip(flow.layers, menus, strict=True):
            if menu.cycles[0] > target:
                raise EffcError(
                    f"--fps {fps:g} needs every layer within {target:,} cycles at "
                    f"{budget.clock_mhz:g} MHz, but layer {layer.index} "
                    f"'{comment_text(layer.node.name)}' ({layer.kind}) takes at least "
                    f"{menu.cycles[0]:,} ({clock / menu.cycles[0]:,.0f} inferences/s at most)")
        selection = _select(flow, menus, target)
        problems = budget.over(selection.resources)
        if problems:
            raise EffcError(f"--fps {fps:g} does not fit {budget.name}: {'; '.join(problems)}; "
                            "ask for fewer inferences/s or pick a larger board")
        return selection
    floor = max(menu.cycles[0] for menu in menus)
    targets = sorted({c for menu in menus for c in menu.cycles if c >= floor})
    for target in targets:
        layers = Resources()
        for menu in menus:
            fold = menu.cheapest_within(target)
            assert fold is not None
            layers += fold.res
        if budget.over(layers):
            continue
        selection = _select(flow, menus, target)
        if not budget.over(selection.resources):
            return selection
    slowest = _select(flow, menus, targets[-1])
    raise EffcError(f"the model does not fit {budget.name} even at its smallest folding: "
                    f"{'; '.join(budget.over(slowest.resources))}; prune or quantize it "
                    "further, or pick a larger board")


def _select(flow: Dataflow, menus: list[_Menu], target: int) -> Selection:
    folds = [menu.cheapest_within(target) for menu in menus]
    assert all(f is not None for f in folds)
    chosen = [f for f in folds if f is not None]
    return Selection(chosen, flow.plan(chosen), target)

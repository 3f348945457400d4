"""``--flash-budget``: the layers ``--optimize speed`` widens so that the firmware
image fits a byte budget with the most widened MACs.

The image's bytes are modelled from measured builds: the all-int8 image (the
floor), plus each widened layer's constant bytes (``WideOption.extra_bytes``,
exact at the arrays' alignment), plus the code the wide layouts pull in. That
code depends only on which runtime variants the firmware links
(``kernel_set.firmware_cflags``), so it is measured once per set of kernel
paths: an image widening the cheapest layer of each path, less the floor and
those layers' constant bytes. The choice is then an exact 0/1 knapsack per set
of paths: the most widened MACs whose bytes fit, the fewest bytes among those.
The model does not depend on the budget, so a larger budget only adds choices
and never gives fewer widened MACs. The chosen image is built and checked:
should it exceed the budget (the model missed bytes), the miss is charged to
its paths and the choice is made again, down to the all-int8 image at worst.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from effc.codegen.c.kernel_set import firmware_cflags
from effc.codegen.c.kernels import Call
from effc.codegen.c.layouts import S8, CTarget, WideOption
from effc.toolchain.firmware import Firmware

#: an image (its facts and firmware), and a build of the image with the layers at these
#: positions widened
Built = tuple[dict[str, Any], Firmware]
Build = Callable[[frozenset[int]], Built]
Paths = frozenset[str]


def kernel_paths(calls: list[Call], widen: Iterable[WideOption], target: CTarget) -> Paths:
    """The firmware flags (kernel_set.py) that differ from the all-int8 image's when the
    layers ``widen`` are widened: the code paths they pull in."""
    def flags(chosen: dict[int, int]) -> set[str]:
        laid = [dataclasses.replace(c, fields={**c.fields, "layout": chosen.get(i, S8)})
                if c.macro in ("conv_s8", "dense_s8") else c for i, c in enumerate(calls)]
        return set(firmware_cflags(laid, dataclasses.replace(target,
                                                             widen=frozenset(chosen))))

    return frozenset(flags({o.position: o.layout for o in widen}) ^ flags({}))


def knapsack(items: list[WideOption], room: int) -> frozenset[int]:
    """The positions of the items with the most MACs whose extra bytes sum to at most
    ``room`` (among those, the fewest bytes): exact, by dynamic programming over the
    bytes in units of their greatest common divisor. Items adding no bytes are taken."""
    if room < 0:
        return frozenset()
    free = {o.position for o in items if o.extra_bytes <= 0}
    paid = [o for o in items if 0 < o.extra_bytes <= room]
    if not paid:
        return frozenset(free)
    unit = math.gcd(*(o.extra_bytes for o in paid))
    sizes = [o.extra_bytes // unit for o in paid]
    cap = min(room // unit, sum(sizes))
    best = np.full(cap + 1, -1, np.int64)  # the most MACs at exactly that many units
    best[0] = 0
    took = np.zeros((len(paid), cap + 1), bool)
    for i, (o, size) in enumerate(zip(paid, sizes, strict=True)):
        before = best[:cap + 1 - size]
        gain = np.where(before >= 0, before + o.macs, -1)
        better = gain > best[size:]
        best[size:] = np.where(better, gain, best[size:])
        took[i, size:] = better
    at = int(np.argmax(best))  # the first of the most MACs: the fewest bytes
    chosen = set(free)
    for i in reversed(range(len(paid))):
        if took[i, at]:
            chosen.add(paid[i].position)
            at -= sizes[i]
    return frozenset(chosen)


@dataclasses.dataclass
class SizeModel:
    """The image's bytes as a function of the widened layers (measured, see above)."""

    floor: int
    options: list[WideOption]
    paths: dict[int, Paths]  # by position: each layer's kernel paths
    code: dict[Paths, int]  # the code bytes each set of paths adds to the floor

    def own_paths(self, widen: Iterable[int]) -> Paths:
        return frozenset().union(*(self.paths[p] for p in widen))

    def bytes(self, widen: frozenset[int]) -> int:
        extra = sum(o.extra_bytes for o in self.options if o.position in widen)
        return self.floor + self.code[self.own_paths(widen)] + extra

    def best(self, budget: int) -> frozenset[int]:
        """The layers whose image has the most widened MACs within ``budget`` (then the
        fewest bytes, then the earliest positions)."""
        macs = {o.position: o.macs for o in self.options}
        ranked = []
        for paths, code in self.code.items():
            items = [o for o in self.options if self.paths[o.position] <= paths]
            widen = knapsack(items, budget - self.floor - code)
            if self.own_paths(widen) in self.code and self.bytes(widen) <= budget:
                ranked.append((-sum(macs[p] for p in widen), self.bytes(widen),
                               sorted(widen)))
        return frozenset(min(ranked, default=(0, 0, []))[2])


def measure(calls: list[Call], options: list[WideOption], target: CTarget, build: Build,
            floor: int, budget: int) -> tuple[SizeModel, tuple[frozenset[int], Built] | None]:
    """The size model, with the code of every set of kernel paths that some choice within
    ``budget`` could need (one build each), and the last build made (its layers, the
    image), if any."""
    paths = {o.position: kernel_paths(calls, [o], target) for o in options}
    cheapest: dict[Paths, WideOption] = {}
    for o in sorted(options, key=lambda o: (o.extra_bytes, o.position)):
        cheapest.setdefault(paths[o.position], o)
    model = SizeModel(floor, options, paths, {frozenset(): 0})
    last: tuple[frozenset[int], Built] | None = None
    kinds = sorted(cheapest, key=sorted)
    for n in range(1, len(kinds) + 1):
        for kind in itertools.combinations(kinds, n):
            reps = [cheapest[k] for k in kind]
            union = frozenset().union(*kind)
            extra = sum(o.extra_bytes for o in reps)
            if union in model.code or floor + extra > budget:
                continue  # measured, or no choice with these paths fits
            widen = frozenset(o.position for o in reps)
            built = build(widen)
            model.code[union] = built[1].flash_bytes - floor - extra
            last = (widen, built)
    return model, last


def fit_budget(calls: list[Call], options: list[WideOption], target: CTarget, build: Build,
               budget: int) -> Built:
    """The image with the most widened MACs within ``budget`` (module docstring); the
    all-int8 image when even that exceeds it. ``target`` is the all-int8 one."""
    built = build(frozenset())
    floor = built[1].flash_bytes
    options = [o for o in options if o.extra_bytes <= budget - floor]
    if not options:
        return built
    model, measured = measure(calls, options, target, build, floor, budget)
    last, built = measured or (frozenset(), built)
    while True:
        widen = model.best(budget)
        if widen != last:
            built, last = build(widen), widen
        if built[1].flash_bytes <= budget:
            return built
        # the model missed bytes: charge them to these paths, choose again
        model.code[model.own_paths(widen)] += built[1].flash_bytes - model.bytes(widen)

"""Structured channel pruning with data-driven reconstruction.

Contract: ``prune_graph`` expects a float, channels-last IR graph (after the
frontend; BatchNormalization may be present). It never changes its input; it
returns a new graph that passes ``validate()``, whose tensors all have their
new shapes, and that computes the same function as the input graph with the
removed channels' contributions dropped (and, with reconstruction, the next
layers refit), plus a JSON-able report. Channels are removed per dependency
group (``effc.passes.prune_groups``), so every coupled slice goes together.

Criteria (importance of one channel; summed over the group's producers after
dividing each producer's scores by their mean, then divided by the group's
mean so one global ranking compares groups fairly):
  ``l1``        sum |w| of the filter (Li et al., "Pruning Filters for Efficient
                ConvNets", ICLR 2017); ``l2`` its Euclidean norm;
  ``bn-gamma``  |gamma| of the BatchNormalization after the producer (Liu et
                al., "Learning Efficient Convolutional Networks through Network
                Slimming", ICCV 2017); groups without a BN fall back to l1 (noted
                in the report); a model without any BN is an error;
  ``fpgm``      distance of the filter to the others, i.e. to their geometric
                median (He et al., "Filter Pruning via Geometric Median", CVPR 2019);
  ``activation`` mean |activation| of the channel over the calibration data.
Reconstruction (``reconstruct="lsq"``, the default when calibration data is
given): in topological order, each layer whose input channels were removed is
refit on the pruned network's own calibration activations X so that its
pre-activation output matches the unpruned model's Y: with A = [im2col(X), 1]
and theta_0 the layer's pruned weights and bias, (A^T A + lambda I) theta =
A^T Y + lambda theta_0, lambda = 1e-3 * trace(A^T A) / d * max(1, d / rows)^2
(He et al., "Channel Pruning for Accelerating Very Deep Neural Networks", ICCV
2017; Luo et al., "ThiNet", ICCV 2017). See docs/pruning.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from effc.errors import EffcError
from effc.ir import Graph
from effc.passes.prune_groups import (
    ChannelAnalysis,
    Group,
    analyze_channels,
    apply_keep,
    estimate_macs,
)
from effc.passes.prune_reconstruct import output_error, reconstruct_layers, run_batched
from effc.summary import summarize

CRITERIA = ("l1", "l2", "bn-gamma", "fpgm", "activation")
RECONSTRUCT = ("auto", "lsq", "none")


# --------------------------------------------------------------- importance


def _filter_scores(w: np.ndarray, criterion: str) -> np.ndarray:
    rows = w.reshape(w.shape[0], -1).astype(np.float64)
    if criterion == "l2":
        return np.sqrt((rows ** 2).sum(axis=1))
    if criterion == "fpgm":
        sq = (rows ** 2).sum(axis=1)
        return np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * rows @ rows.T, 0.0)).sum(1)
    return np.abs(rows).sum(axis=1)


class _Scores:
    """Per-unit importance: each contribution is averaged per unit, divided by its mean."""

    def __init__(self, n_units: int) -> None:
        self.total = np.zeros(n_units)
        self.n_units = n_units

    def add(self, units: np.ndarray, score: np.ndarray) -> None:
        sums = np.bincount(units, weights=score, minlength=self.n_units)
        counts = np.bincount(units, minlength=self.n_units)
        present = counts > 0
        per_unit = sums[present] / counts[present]
        mean = per_unit.mean() if per_unit.size else 0.0
        self.total[present] += per_unit / mean if mean > 0 else 1.0


def importance(graph: Graph, analysis: ChannelAnalysis, criterion: str,
               data: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Normalized per-unit importance (mean 1 in every prunable group) and warnings."""
    scores = _Scores(analysis.num_units)
    warnings: list[str] = []
    prunable = [g for g in analysis.groups if g.prunable]
    nodes = {n.name: n for n in graph.nodes}

    def add_filters(groups: Iterable[Group], crit: str) -> None:
        for name in dict.fromkeys(p for g in groups for p in g.producers):
            node = nodes[name]
            scores.add(analysis.maps[node.outputs[0]], _filter_scores(graph.const(node.inputs[1]), crit))

    if criterion in ("l1", "l2", "fpgm"):
        add_filters(prunable, criterion)
    elif criterion == "bn-gamma":
        with_bn = set()
        for node in graph.nodes:
            if node.op_type == "BatchNormalization":
                units = analysis.maps[node.inputs[0]]
                scores.add(units, np.abs(graph.const(node.inputs[1]).astype(np.float64)))
                with_bn.update(analysis.unit_group[units].tolist())
        if not with_bn & {g.id for g in prunable}:
            raise EffcError("criterion bn-gamma needs BatchNormalization layers after the pruned "
                            "convolutions, and this model has none (folded at export?); use "
                            "--prune-criterion l1, l2, fpgm or activation")
        missing = [g for g in prunable if g.id not in with_bn]
        add_filters(missing, "l1")
        warnings += [f"group of {g.producers[0]!r} has no BatchNormalization: ranked by l1"
                     for g in missing if g.producers]
    elif criterion == "activation":
        assert data is not None
        stats: dict[str, list[np.ndarray]] = {}
        wanted = {nodes[c].inputs[0] for g in prunable for c in g.consumers}

        def record(name: str, y: np.ndarray) -> None:
            if name in wanted:
                flat = np.abs(y.astype(np.float64)).reshape(-1, y.shape[-1])
                stats.setdefault(name, []).append(flat.mean(axis=0))

        run_batched(graph, data, record)
        for name, parts in stats.items():
            scores.add(analysis.maps[name], np.mean(parts, axis=0))
    total = scores.total
    for group in prunable:
        mean = total[group.units].mean()
        total[group.units] = total[group.units] / mean if mean > 0 else 1.0
    return total, warnings


# --------------------------------------------------------------- selection


def _round_keep(kept: int, n: int, multiple: int) -> int:
    """Kept channels rounded to a multiple of ``multiple`` (at least one multiple, at most n)."""
    if n <= multiple:
        return n
    k = max(multiple, multiple * int(np.floor(kept / multiple + 0.5)))
    return min(max(k, 1), n)


def _keep_top(keep: np.ndarray, group: Group, scores: np.ndarray, kept: int) -> None:
    order = group.units[np.lexsort((group.units, -scores[group.units]))]
    keep[group.units] = False
    keep[order[:kept]] = True


class _Plan:
    """Which units to keep, for a growing number of globally removed units."""

    def __init__(self, analysis: ChannelAnalysis, scores: np.ndarray, local: dict[int, float],
                 frozen: set[int], multiple: int) -> None:
        self.analysis, self.scores, self.multiple = analysis, scores, multiple
        self.local = local
        self.global_groups = [g for g in analysis.groups
                              if g.prunable and g.id not in frozen and g.id not in local]
        units = np.concatenate([g.units for g in self.global_groups] or [np.zeros(0, np.int64)])
        self.candidates = len(units)
        order = units[np.lexsort((units, scores[units]))]
        removed: dict[int, int] = {}
        self.sequence: list[int] = []
        for u in order.tolist():
            gid = int(analysis.unit_group[u])
            n = analysis.groups[gid].size
            if n - removed.get(gid, 0) > min(n, multiple):
                removed[gid] = removed.get(gid, 0) + 1
                self.sequence.append(u)

    def keep(self, removals: int) -> np.ndarray:
        keep = np.ones(self.analysis.num_units, dtype=bool)
        for gid, ratio in self.local.items():
            g = self.analysis.groups[gid]
            _keep_top(keep, g, self.scores,
                      _round_keep(g.size - round(ratio * g.size), g.size, self.multiple))
        removed: dict[int, int] = {}
        for u in self.sequence[:removals]:
            gid = int(self.analysis.unit_group[u])
            removed[gid] = removed.get(gid, 0) + 1
        for gid, count in removed.items():
            g = self.analysis.groups[gid]
            _keep_top(keep, g, self.scores, _round_keep(g.size - count, g.size, self.multiple))
        return keep


def _for_target(plan: _Plan, graph: Graph, target: int) -> np.ndarray:
    def macs(m: int) -> int:
        return estimate_macs(graph, plan.analysis, plan.keep(m))

    top = len(plan.sequence)
    if macs(top) > target:
        raise EffcError(f"target {target:,} MACs cannot be met: the smallest reachable is "
                        f"{macs(top):,} MACs (every prunable group keeps at least "
                        f"{max(plan.multiple, 1)} channel(s)); raise --prune-target-macs")
    lo, hi = 0, top
    while lo < hi:
        mid = (lo + hi) // 2
        if macs(mid) <= target:
            hi = mid
        else:
            lo = mid + 1
    while macs(lo) > target:
        lo += 1
    return plan.keep(lo)


# --------------------------------------------------------------- API


def _names_hint(graph: Graph) -> str:
    names = [n.name for n in graph.nodes if n.op_type in ("Conv", "Dense")][:3]
    return ", ".join(f"'{n}'" for n in names)


def _check_ratio(value: Any, what: str) -> float:
    try:
        ratio = float(value)
    except (TypeError, ValueError):
        raise EffcError(f"{what} '{value}' is not a number; give a ratio in [0, 1)") from None
    if not 0.0 <= ratio < 1.0:
        raise EffcError(f"{what} {ratio:g} is outside [0, 1); give e.g. 0.3 to remove 30% of "
                        "the channels")
    return ratio


def _check_name(graph: Graph, name: str, flag: str) -> None:
    if name not in {n.name for n in graph.nodes}:
        raise EffcError(f"{flag} names layer '{name}', which the model does not have; layers "
                        f"include {_names_hint(graph)} (see 'effc inspect MODEL')")


def _layer_rows(graph: Graph) -> dict[str, dict[str, Any]]:
    summary = summarize(graph)
    rows = {}
    for node, layer in zip(graph.nodes, summary["layers"], strict=True):
        if node.op_type in ("Conv", "Dense", "BatchNormalization"):
            rows[node.name] = {"op": node.op_type,
                               "in": int(graph.tensors[node.inputs[0]].shape[-1]),
                               "out": int(graph.tensors[node.outputs[0]].shape[-1]),
                               "macs": layer["macs"], "params": layer["params"]}
    return rows


def _validate_options(graph: Graph, ratio: Any, layer_ratios: dict[str, Any] | None,
                      protect: Iterable[str], criterion: str, reconstruct: str,
                      target_macs: Any, channel_multiple: Any) -> tuple[float, dict[str, float], int]:
    ratio = _check_ratio(ratio, "prune ratio")
    if criterion not in CRITERIA:
        raise EffcError(f"unknown pruning criterion '{criterion}'; choose one of "
                        f"{', '.join(CRITERIA)}")
    if reconstruct not in RECONSTRUCT:
        raise EffcError(f"unknown reconstruction '{reconstruct}'; choose lsq or none")
    try:
        multiple = int(channel_multiple)
    except (TypeError, ValueError):
        multiple = 0
    if multiple < 1 or multiple != channel_multiple:
        raise EffcError(f"channel multiple '{channel_multiple}' must be a positive integer "
                        "(e.g. 4 or 8 for SIMD-friendly channel counts)")
    if target_macs is not None:
        if isinstance(target_macs, bool) or not isinstance(target_macs, (int, np.integer)) \
                or target_macs <= 0:
            raise EffcError(f"target MACs '{target_macs}' must be a positive integer")
        if ratio > 0:
            raise EffcError("give either a prune ratio or target MACs, not both (the target "
                            "chooses the global ratio)")
    ratios = {}
    for name, value in (layer_ratios or {}).items():
        _check_name(graph, name, "--prune-layer")
        ratios[name] = _check_ratio(value, f"ratio of layer '{name}'")
    for name in protect:
        _check_name(graph, name, "--prune-protect")
    return ratio, ratios, multiple


def _plan_groups(analysis: ChannelAnalysis, layer_ratios: dict[str, float],
                 protect: Iterable[str]) -> tuple[dict[int, float], dict[int, str]]:
    frozen: dict[int, str] = {}
    for name in protect:
        for g in analysis.groups:
            if name in g.members and g.prunable:
                frozen.setdefault(g.id, f"protected ('{name}')")
    local: dict[int, float] = {}
    for name, ratio in layer_ratios.items():
        groups = [g for g in analysis.groups if name in g.producers]
        prunable = [g for g in groups if g.prunable]
        if not prunable:
            why = "; ".join(r for g in groups for r in g.reasons) or "it produces no channels"
            raise EffcError(f"--prune-layer '{name}': its output channels cannot be pruned ({why})")
        for g in prunable:
            local[g.id] = max(ratio, local.get(g.id, 0.0))
    return local, frozen


def layer_name(graph: Graph, name: str, flag: str) -> str:
    """A layer given by name, or by its index in 'effc inspect MODEL' (``3`` or ``#3``)."""
    if any(n.name == name for n in graph.nodes):
        return name
    index = re.fullmatch(r"#?(\d+)", name.strip())
    if index is None:
        return name  # _check_name names the problem
    i = int(index[1])
    if i >= len(graph.nodes):
        raise EffcError(f"{flag} names layer index {i}, but the model has {len(graph.nodes)} "
                        f"layers (0..{len(graph.nodes) - 1}); see 'effc inspect MODEL'")
    return graph.nodes[i].name


def _prune(graph: Graph, *, ratio: float = 0.0, layer_ratios: dict[str, Any] | None = None,
           protect: Iterable[str] = (), criterion: str = "l1", calib: Any = None,
           reconstruct: str = "auto", target_macs: int | None = None, channel_multiple: int = 1,
           evaluate: bool = True) -> tuple[Graph, dict[str, Any]]:
    protect = [layer_name(graph, n, "--prune-protect") for n in protect]
    layer_ratios = {layer_name(graph, k, "--prune-layer"): v
                    for k, v in (layer_ratios or {}).items()}
    ratio, ratios, multiple = _validate_options(graph, ratio, layer_ratios, protect, criterion,
                                                reconstruct, target_macs, channel_multiple)
    data = None
    if calib is not None:
        if len(graph.inputs) != 1:
            raise EffcError("pruning with calibration data handles models with one input")
        from effc.passes.quantize import load_calibration

        data = load_calibration(calib, graph)[graph.inputs[0]]
    mode = "lsq" if reconstruct == "lsq" or (reconstruct == "auto" and data is not None) else "none"
    if data is None and (mode == "lsq" or criterion == "activation"):
        what = "reconstruction lsq" if mode == "lsq" else "criterion activation"
        raise EffcError(f"{what} needs calibration data; give --calib FILE.npy (samples on "
                        "axis 0)" + (" or --reconstruct none" if mode == "lsq" else ""))
    work = graph.clone()
    work.toposort()
    analysis = analyze_channels(work)
    scores, warnings = importance(work, analysis, criterion, data)
    local, frozen = _plan_groups(analysis, ratios, protect)
    plan = _Plan(analysis, scores, local, set(frozen), multiple)
    if (ratio > 0 or target_macs is not None) and not plan.sequence:
        warnings.append("no channel can be removed by the global ranking (see 'skipped')")
    if target_macs is not None:
        keep = _for_target(plan, work, int(target_macs))
    else:
        keep = plan.keep(min(round(ratio * plan.candidates), len(plan.sequence)))
    pruned = apply_keep(work, analysis, keep)
    measured: dict[str, Any] = {}
    if (data is not None and evaluate) or mode == "lsq":
        assert data is not None
        reference = run_batched(work, data)
        measured["calibration_samples"] = int(data.shape[0])
        if mode == "lsq":
            measured["error_without_reconstruction"] = output_error(reference,
                                                                    run_batched(pruned, data))
            targets = {n.name: keep[analysis.maps[n.outputs[0]]] for n in work.nodes
                       if n.op_type in ("Conv", "Dense") and int(n.attrs.get("group", 1)) == 1
                       and not keep[analysis.maps[n.inputs[0]]].all()}
            measured["reconstruction"] = reconstruct_layers(work, pruned, targets, data)
        measured["error"] = output_error(reference, run_batched(pruned, data))
    report = _report(work, pruned, analysis, keep, local, frozen)
    report.update({"criterion": criterion, "ratio": ratio, "layer_ratios": ratios,
                   "protect": protect, "target_macs": target_macs,
                   "channel_multiple": multiple, "reconstruct": mode, "warnings": warnings,
                   **measured})
    return pruned, report


def prune_graph(graph: Graph, *, ratio: float = 0.0, layer_ratios: dict[str, float] | None = None,
                protect: Iterable[str] = (), criterion: str = "l1",
                calib: str | np.ndarray | None = None, reconstruct: str = "auto",
                target_macs: int | None = None,
                channel_multiple: int = 1) -> tuple[Graph, dict[str, Any]]:
    """Prune channels of a float IR graph; returns (new valid graph, report).

    ``ratio``: fraction of the prunable channels removed by one global ranking
    (importance normalized per group). ``layer_ratios``: {layer name: ratio}
    prunes that layer's output group by its own ratio instead. ``protect``:
    layers that keep all their input and output channels. ``target_macs``:
    remove globally ranked channels until the MACs are at most this (instead of
    ``ratio``). ``channel_multiple``: kept channel counts are multiples of K
    (a group smaller than K is not pruned). ``calib``: samples (array, or a
    .npy/.npz path as for ``effc compile --calib``) for the activation
    criterion, the reconstruction and the error in the report.
    ``reconstruct``: "auto" (lsq when ``calib`` is given), "lsq" or "none".
    The report holds per-layer channels/MACs/params before and after, the
    groups (skipped ones with reasons) and, with ``calib``, the float output
    error against the unpruned graph (relative L2 and max abs).
    """
    return _prune(graph, ratio=ratio, layer_ratios=layer_ratios, protect=protect,
                  criterion=criterion, calib=calib, reconstruct=reconstruct,
                  target_macs=target_macs, channel_multiple=channel_multiple)


def _report(before: Graph, after: Graph, analysis: ChannelAnalysis, keep: np.ndarray,
            local: dict[int, float], frozen: dict[int, str]) -> dict[str, Any]:
    rows_b, rows_a = _layer_rows(before), _layer_rows(after)
    layers = [{"name": name, "op": b["op"], "in_channels": [b["in"], rows_a[name]["in"]],
               "out_channels": [b["out"], rows_a[name]["out"]],
               "macs": [b["macs"], rows_a[name]["macs"]],
               "params": [b["params"], rows_a[name]["params"]]}
              for name, b in rows_b.items()]
    groups, skipped = [], []
    for g in analysis.groups:
        if not (g.producers or g.consumers):
            continue
        entry = g.to_json()
        entry["kept"] = int(keep[g.units].sum())
        entry["mode"] = ("skipped" if not g.prunable else "protected" if g.id in frozen
                         else "layer" if g.id in local else "global")
        groups.append(entry)
        reason = entry["reason"] or frozen.get(g.id)
        if reason:
            skipped.append({"group": g.id, "producers": g.producers, "consumers": g.consumers,
                            "reason": reason})
    sb, sa = summarize(before), summarize(after)
    prunable = [g for g in analysis.groups if g.prunable]
    return {"macs": {"before": sb["macs"], "after": sa["macs"]},
            "params": {"before": sb["params"], "after": sa["params"]},
            "channels": {"prunable": int(sum(g.size for g in prunable)),
                         "removed": int(sum((~keep[g.units]).sum() for g in prunable))},
            "layers": layers, "groups": groups, "skipped": skipped}


def prune_to_fit(graph: Graph, flash_bytes: int, ram_bytes: int,
                 estimate: Callable[[Graph], tuple[int, int]], *, max_ratio: float = 0.95,
                 tolerance: float = 0.01, **options: Any) -> tuple[Graph, dict[str, Any]]:
    """Prune with the smallest global ratio whose ``estimate(graph) -> (flash, ram)`` fits.

    Bisection on the ratio (each probe without reconstruction), then one
    ``prune_graph`` with ``options`` at the chosen ratio. Raises EffcError when
    even ``max_ratio`` does not fit. The report gains a "fit" entry.
    """
    if "ratio" in options or "target_macs" in options:
        raise EffcError("fitting a board chooses the prune ratio itself; drop --prune and "
                        "--prune-target-macs")
    steps: list[dict[str, Any]] = []

    def usage(g: Graph, ratio: float) -> bool:
        flash, ram = (int(v) for v in estimate(g))
        steps.append({"ratio": round(ratio, 4), "flash": flash, "ram": ram})
        return flash <= flash_bytes and ram <= ram_bytes

    def probe(ratio: float) -> bool:
        g, _ = _prune(graph, **{**options, "ratio": ratio, "reconstruct": "none"}, evaluate=False)
        return usage(g, ratio)

    lo, hi = 0.0, float(max_ratio)
    if usage(graph, 0.0):
        hi = 0.0
    elif not probe(hi):
        last = steps[-1]
        raise EffcError(f"the model does not fit even with {hi:.0%} of its channels pruned: it "
                        f"needs {last['flash']:,} B flash and {last['ram']:,} B RAM, the board "
                        f"has {flash_bytes:,} B and {ram_bytes:,} B")
    while hi - lo > tolerance:
        mid = (lo + hi) / 2
        if probe(mid):
            hi = mid
        else:
            lo = mid
    while True:
        pruned, report = _prune(graph, **{**options, "ratio": hi})
        if usage(pruned, hi) or hi >= max_ratio:
            break
        hi = min(max_ratio, hi + tolerance)
    report["fit"] = {"flash_budget": int(flash_bytes), "ram_budget": int(ram_bytes),
                     "ratio": round(hi, 4), "flash": steps[-1]["flash"], "ram": steps[-1]["ram"],
                     "probes": steps}
    return pruned, report

"""``effc sweep``: compile a model at every point of a grid of ``effc compile`` options,
measure each, and keep the results in SWEEPDIR (docs/sweep.md).

Points run in a local process pool (``concurrent.futures``), or on a Ray cluster
(``effc.sweep.ray_runner``, imported only then: Ray is the optional extra
``effc[ray]``). Each finished point is appended to SWEEPDIR/results.jsonl, keyed by
its options and the contents of the model, the calibration and the labelled data:
a rerun skips the points already there.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from effc.arrays import member, open_arrays
from effc.boards import McuBoard, load_board
from effc.compiler import CompileOptions
from effc.errors import EffcError
from effc.sweep.grid import Point, load_grid
from effc.sweep.point import MEASURE_SAMPLES, SweepInputs, run_point
from effc.sweep.store import ResultStore

#: The programs each kind of point needs on a worker (checked up front on Ray).
HOST_TOOLS = ["gcc"]
MCU_TOOLS = ["arm-none-eabi-gcc", "arm-none-eabi-objcopy", "arm-none-eabi-size"]
ENGINE_TOOLS = {"qemu": ["qemu-system-arm", "arm-none-eabi-nm", "arm-none-eabi-objdump", "gcc"],
                "verilator": ["verilator", "g++", "make"], "icarus": ["iverilog", "vvp"],
                "host": ["gcc"], "hls": ["g++"], "reference": []}


@dataclass
class SweepConfig:
    model: str
    calib: str | None
    data: str
    grid: str
    folder: str
    inputs_key: str | None = None
    labels_key: str | None = None
    workers: int | None = None
    ray: bool = False
    ray_address: str | None = None  # None: RAY_ADDRESS, else a local Ray instance
    retry_failed: bool = False
    measure_samples: int = MEASURE_SAMPLES


@dataclass
class SweepResult:
    records: list[dict[str, Any]]  # every point's, in grid order
    swept: list[str]  # the options the grid varies
    skipped: int  # points found finished in results.jsonl
    ran: int  # points run now


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def _array_bytes(a: np.ndarray) -> bytes:
    return json.dumps([str(a.dtype), list(a.shape)]).encode() + np.ascontiguousarray(a).tobytes()


def load_labelled(path: str, inputs: list[str], inputs_key: str | None,
                  labels_key: str | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The samples (by model input) and labels of ``--data``."""
    p = Path(path)
    if not p.is_file():
        raise EffcError(f"--data '{path}' does not exist; give an .npz with samples and labels")
    archive = open_arrays(p, "--data file")
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise EffcError(f"--data '{path}' is a .npy; give an .npz holding the samples and the "
                        "labels (e.g. np.savez(path, x=samples, y=labels))")
    keys = list(archive.keys())
    if inputs_key is not None:
        wanted = {inputs[0]: inputs_key} if len(inputs) == 1 else {}
    else:
        wanted = {n: n for n in inputs} if all(n in keys for n in inputs) else {inputs[0]: "x"}
    label = labels_key or "y"
    missing = [k for k in [*wanted.values(), label] if k not in keys]
    if missing or len(wanted) != len(inputs):
        raise EffcError(f"--data '{path}' holds arrays {keys}, not {missing or inputs}; name "
                        "the samples with --inputs-key and the labels with --labels-key")
    x = {n: member(archive, k, f"--data '{path}'") for n, k in wanted.items()}
    labels = member(archive, label, f"--data '{path}'")
    count = len(next(iter(x.values())))
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or len(labels) != count:
        raise EffcError(f"--data labels '{label}' must be {count} whole numbers (one class per "
                        f"sample), not shape {list(labels.shape)} {labels.dtype}; fix "
                        "--labels-key")
    return x, labels


def prepare_inputs(config: SweepConfig) -> tuple[SweepInputs, str]:
    """What every point needs, and the digest of the model, calibration and data."""
    from effc.frontend.importer import load
    from effc.passes.quantize import load_calibration
    from effc.reference.interpreter import as_feeds, inference_count

    model = Path(config.model)
    if not model.is_file():
        raise EffcError(f"model '{config.model}' does not exist; check the path")
    graph = load(model)
    x, labels = load_labelled(config.data, list(graph.inputs), config.inputs_key,
                              config.labels_key)
    feeds = as_feeds(graph, x)
    if inference_count(graph, feeds) != len(labels):
        raise EffcError(f"--data holds {inference_count(graph, feeds)} inferences but "
                        f"{len(labels)} labels; give one label per inference")
    calib: Any = config.calib
    if calib is not None and calib != "random":
        calib = load_calibration(calib, graph)
    calib_bytes = (b"".join(k.encode() + _array_bytes(v) for k, v in sorted(calib.items()))
                   if isinstance(calib, dict) else str(calib).encode())
    data_bytes = b"".join(k.encode() + _array_bytes(v) for k, v in sorted(feeds.items()))
    inputs = SweepInputs(model.read_bytes(), model.name, calib, dict(feeds), labels,
                         config.measure_samples)
    digest = _digest(inputs.model, calib_bytes, data_bytes, _array_bytes(labels),
                     str(config.measure_samples).encode())
    return inputs, digest


def point_key(point: Point, digest: str) -> str:
    options = json.dumps([[k, v] for k, v in point.options], sort_keys=True)
    return _digest(options.encode(), digest.encode())[:24]


def tools_for(points: list[Point]) -> list[str]:
    """The programs the points need on every worker."""
    tools = list(HOST_TOOLS)
    for point in points:
        options = dict(point.options)
        try:
            board = load_board(str(options["board"]))
        except EffcError:
            continue  # the point fails and says why
        if isinstance(board, McuBoard):
            tools += MCU_TOOLS + (ENGINE_TOOLS["qemu"] if board.qemu else [])
        else:
            tools += ENGINE_TOOLS["hls" if options.get("target") == "hls" else "verilator"]
    return list(dict.fromkeys(tools))


# ----------------------------------------------------------------- local pool

_INPUTS: SweepInputs | None = None


def _init_worker(inputs: SweepInputs) -> None:
    global _INPUTS
    _INPUTS = inputs


def _local_point(args: list[str], make_options: Callable[[list[str]], CompileOptions]
                 ) -> dict[str, Any]:
    assert _INPUTS is not None
    return run_point(args, make_options, _INPUTS)


def run_local(todo: list[tuple[str, Point]], make_options: Callable[[list[str]], CompileOptions],
              inputs: SweepInputs, workers: int,
              on_record: Callable[[str, dict[str, Any]], None]) -> None:
    """Every point of ``todo`` in a pool of ``workers`` processes, each given the inputs
    once; ``on_record(key, record)`` as each finishes. Interrupted, it ends the workers."""
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_init_worker, initargs=(inputs,))
    try:
        pending: dict[Future, str] = {pool.submit(_local_point, list(point.args), make_options):
                                      key for key, point in todo}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                key = pending.pop(future)
                try:
                    record = future.result()
                except Exception as exc:  # the worker died (killed, out of memory)
                    record = {"status": "failed", "error": f"the worker process failed: {exc}"}
                on_record(key, record)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for child in multiprocessing.active_children():
            child.terminate()
        raise
    pool.shutdown()


def run_sweep(config: SweepConfig, flags: dict[str, str],
              make_options: Callable[[list[str]], CompileOptions],
              report: Callable[[str], None] | None = None) -> SweepResult:
    """Run every point of the grid not yet in SWEEPDIR/results.jsonl; all records.
    ``report`` gets a line per finished point (default: printed at once)."""
    report = report or (lambda line: print(line, flush=True))
    points, swept = load_grid(config.grid, flags)
    for point in points:  # a mistake in the grid is found before any work
        try:
            make_options(list(point.args))
        except EffcError as exc:
            every = point.label([k for k, _ in point.options])
            raise EffcError(f"grid file '{config.grid}': the point {every} is not a valid "
                            f"compile: {exc}; fix the grid") from None
    if config.workers is not None and config.workers < 1:
        raise EffcError(f"--workers {config.workers}: give 1 or more")
    inputs, digest = prepare_inputs(config)
    store = ResultStore(Path(config.folder))
    finished = store.load()
    keyed = [(point_key(p, digest), p) for p in points]
    todo = [(k, p) for k, p in keyed if k not in finished or
            (config.retry_failed and finished[k].get("status") != "ok")]
    skipped = len(keyed) - len(todo)
    if skipped:
        report(f"sweep: {skipped} of {len(keyed)} points already in {store.path}; running "
               f"the other {len(todo)}")
    by_key = dict(keyed)
    done = [0]

    def on_record(key: str, record: dict[str, Any]) -> None:
        point = by_key[key]
        record = {"key": key, "options": dict(point.options), "args": list(point.args),
                  "board": dict(point.options)["board"]} | record
        store.append(record)
        finished[key] = record
        done[0] += 1
        report(f"[{done[0]}/{len(todo)}] {point.label(swept) or 'point'}: {describe(record)}")

    if todo and config.ray:
        from effc.sweep import ray_runner

        ray_runner.run_points(todo, make_options, inputs, tools_for([p for _, p in todo]),
                              config.ray_address, config.workers, on_record)
    elif todo:
        workers = min(config.workers or os.cpu_count() or 1, len(todo))
        run_local(todo, make_options, inputs, workers, on_record)
    records = [finished[k] for k, _ in keyed]
    return SweepResult(records, swept, skipped, len(todo))


def describe(record: dict[str, Any]) -> str:
    if record.get("status") != "ok":
        return f"failed: {record.get('error')}"
    parts = [f"accuracy {100 * record['accuracy']:.2f}%"]
    for key, label in (("instructions", "instructions"), ("cycles", "cycles"),
                       ("flash_bytes", "B flash"), ("ram_bytes", "B RAM")):
        if record.get(key) is not None:
            parts.append(f"{record[key]:,} {label}")
    if record.get("differing_values"):
        parts.append(f"{record['differing_values']} values differ from the reference")
    return ", ".join(parts)

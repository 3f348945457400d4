"""Sweep points and simulation shards on a Ray cluster: the only module that imports Ray.

``effc sweep --ray`` and ``effc run --ray`` import it; nothing else does (Ray is the
optional extra ``pip install effc[ray]``). ``ray.init(address)`` joins the cluster
(``auto``, ``HOST:PORT``, or RAY_ADDRESS when no address is given; with neither, a
Ray instance local to this process). The model and the data go into the object store
once; before any work, one task on every node checks the programs the work needs.
"""

from __future__ import annotations

import io
import os
import socket
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from effc.compiler import CompiledModel, CompileOptions
from effc.engines import EngineResult
from effc.errors import EffcError
from effc.sweep.grid import Point
from effc.sweep.point import SweepInputs, run_point

INSTALL = "pip install effc[ray]"
PROBE_SECONDS = 5.0


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EffcError(f"--ray needs Ray, an optional extra of effc: {INSTALL}") from None
    return ray


def _check_reachable(address: str | None) -> None:
    """Refuse in one line a cluster address where nothing answers: ``ray.init`` would
    retry it for minutes (a stopped cluster leaves its address behind for ``auto``)."""
    try:  # Ray's own resolution of None, "auto" and RAY_ADDRESS (not a public API)
        from ray._private.services import canonicalize_bootstrap_address

        found = canonicalize_bootstrap_address(address)
    except ConnectionError:
        raise EffcError(f"no Ray cluster is running for --ray {address}; start one with 'ray "
                        "start --head' or give --ray HOST:PORT") from None
    except Exception:
        return  # ray.init reports it
    if not found or "://" in found:
        return  # a Ray instance of our own, or a Ray client address
    host, _, port = found.rpartition(":")
    where = ("RAY_ADDRESS" if os.environ.get("RAY_ADDRESS") else
             f"--ray {address}" if address else "the last Ray cluster started here")
    try:
        socket.create_connection((host, int(port)), timeout=PROBE_SECONDS).close()
    except (OSError, ValueError):
        raise EffcError(f"no Ray cluster answers at {found} ({where}); start one with 'ray "
                        "start --head' or give --ray HOST:PORT") from None


def connect(address: str | None) -> Any:
    """The ``ray`` module, initialized on the cluster at ``address``."""
    ray = _ray()
    if ray.is_initialized():
        return ray
    _check_reachable(address)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 configure_logging=True, logging_level="ERROR")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = address or "RAY_ADDRESS"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EffcError(f"cannot join the Ray cluster at {where} ({first}); start one with "
                        "'ray start --head' or give --ray HOST:PORT") from None
    return ray


def _node_check(tools: list[str]) -> tuple[str, list[str]]:
    """On a worker: its name, and which of ``tools`` it lacks."""
    import shutil
    import socket

    return socket.gethostname(), [t for t in tools if shutil.which(t) is None]


def check_tools(ray: Any, tools: list[str]) -> int:
    """One task on every live node checks ``tools``; the one-line error names the first
    missing tool and its node. Returns the cluster's CPU count."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    task = ray.remote(num_cpus=0, max_retries=0)(_node_check)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    for node in nodes:
        address = node.get("NodeManagerAddress", "?")
        strategy = NodeAffinitySchedulingStrategy(node_id=node["NodeID"], soft=False)
        try:
            host, missing = ray.get(task.options(scheduling_strategy=strategy).remote(tools),
                                    timeout=120)
        except Exception as exc:
            line = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
            raise EffcError(f"Ray worker {address} cannot run effc ({line[:160]}); install "
                            "effc (and its tools: scripts/setup.sh) on every worker") from None
        if missing:
            raise EffcError(f"Ray worker {host} ({address}) lacks {', '.join(missing)}; install "
                            "it there (scripts/setup.sh installs effc's tools) or leave that "
                            "worker out of the cluster")
    return int(ray.cluster_resources().get("CPU", 1)) or 1


def _ray_point(args: list[str], make_options: Callable[[list[str]], CompileOptions],
               inputs: SweepInputs) -> dict[str, Any]:
    return run_point(args, make_options, inputs)


def run_points(todo: list[tuple[str, Point]],
               make_options: Callable[[list[str]], CompileOptions], inputs: SweepInputs,
               tools: list[str], address: str | None, workers: int | None,
               on_record: Callable[[str, dict[str, Any]], None]) -> None:
    """Every point of ``todo`` as a Ray task, at most ``workers`` (default: the cluster's
    CPUs) at a time; ``on_record(key, record)`` as each finishes."""
    ray = connect(address)
    try:
        limit = workers or check_tools(ray, tools)
        if workers:  # the tools are checked all the same
            check_tools(ray, tools)
        inputs_ref = ray.put(inputs)  # once; every task reads the same object
        task = ray.remote(num_cpus=1, max_retries=0)(_ray_point)
        queue = list(todo)
        running: dict[Any, str] = {}
        try:
            while queue or running:
                while queue and len(running) < limit:
                    key, point = queue.pop(0)
                    running[task.remote(list(point.args), make_options, inputs_ref)] = key
                ready, _ = ray.wait(list(running), num_returns=1)
                for ref in ready:
                    key = running.pop(ref)
                    try:
                        record = ray.get(ref)
                    except Exception as exc:  # the worker died
                        line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                        record = {"status": "failed", "error": f"the Ray task failed: {line}"}
                    on_record(key, record)
        except BaseException:
            for ref in running:
                ray.cancel(ref, force=True)
            raise
    finally:
        ray.shutdown()


# ---------------------------------------------------------------- sharded runs


def pack_folder(folder: Path) -> bytes:
    """A compiled OUTDIR as an uncompressed tar (what the workers unpack)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(folder, arcname="outdir")
    return buf.getvalue()


_UNPACKED: dict[int, tuple[Any, Path]] = {}


def _run_shard(packed: bytes, engine: str, feeds: dict[str, Any], profile: bool
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    """On a worker: unpack the OUTDIR (once per worker process) and run the shard."""
    import numpy as np

    key = hash(packed)
    if key not in _UNPACKED:
        tmp = tempfile.TemporaryDirectory(prefix="effc-shard-")
        with tarfile.open(fileobj=io.BytesIO(packed)) as tar:
            tar.extractall(tmp.name, filter="data")
        _UNPACKED[key] = (tmp, Path(tmp.name) / "outdir")
    compiled = CompiledModel.open(_UNPACKED[key][1])
    result = compiled.run(engine, {k: np.array(v) for k, v in feeds.items()}, profile)
    return result.values, result.metrics


def run_shards(folder: Path, engine: str, shards: list[dict[str, Any]], profile: bool,
               tools: list[str], address: str | None) -> list[EngineResult]:
    """Each shard's inferences on ``engine`` in a Ray task; results in shard order."""
    ray = connect(address)
    try:
        check_tools(ray, tools)
        packed = ray.put(pack_folder(folder))
        task = ray.remote(num_cpus=1, max_retries=0)(_run_shard)
        refs = [task.remote(packed, engine, shard, profile) for shard in shards]
        try:
            outs = ray.get(refs)
        except Exception as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, EffcError):
                raise EffcError(str(cause)) from None
            line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise EffcError(f"a Ray task of the sharded run failed ({line[:200]}); see the "
                            "worker's log") from None
        return [EngineResult(values, engine, metrics) for values, metrics in outs]
    finally:
        ray.shutdown()

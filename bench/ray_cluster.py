"""A Ray head node on this machine for the tests and bench/sweep_digits.py.

``ray start --head --block`` in a session of its own: every process the cluster
starts shares its process group, which is ended afterwards by its id (``ray stop``
would end every Ray process of the user, other people's clusters too). The address
file it leaves for ``--ray auto`` is removed with it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_ray_cluster(log: Path, num_cpus: int = 2) -> Iterator[str]:
    """A head node with ``num_cpus`` CPUs; yields its address (127.0.0.1:PORT)."""
    port = free_port()
    with log.open("w") as f:
        head = subprocess.Popen([str(RAY), "start", "--head", "--block", "--num-cpus",
                                 str(num_cpus), "--port", str(port), "--include-dashboard=false",
                                 "--disable-usage-stats", "--object-store-memory",
                                 str(100 * 1024 * 1024)], stdout=f, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "will now block" not in log.read_text():
            if head.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray start --head failed: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(head.pid, sig)
            except ProcessLookupError:
                break
            try:
                head.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
        current = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
        if current.is_file() and current.read_text().strip().endswith(f":{port}"):
            current.unlink()

"""Progress of long steps (loading, calibration, pruning, compiling, QEMU batches).

On a terminal a step shows a transient rich spinner; elsewhere nothing, so piped output
stays plain. ``--verbose`` prints each finished step and its time on stderr, ``--quiet``
shows nothing but errors. The CLI sets the level; the library default is quiet.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

QUIET, NORMAL, VERBOSE = 0, 1, 2
_level = QUIET


def set_level(level: int) -> None:
    global _level
    _level = level


def level() -> int:
    return _level


@contextmanager
def step(what: str) -> Iterator[None]:
    """Show ``what`` while the block runs."""
    if _level == QUIET:
        yield
        return
    start = time.monotonic()
    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status(f"{what}...", spinner="dots"):
            yield
    else:
        yield
    if _level >= VERBOSE:
        sys.stderr.write(f"effc: {what}: {time.monotonic() - start:.2f} s\n")


def note(message: str) -> None:
    """A warning the user should see (not under --quiet), on stderr."""
    if _level != QUIET:
        sys.stderr.write(f"effc: warning: {message}\n")

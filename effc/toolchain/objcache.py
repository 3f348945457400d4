"""Object files cached by content, so the runtime is compiled once per compiler and flags.

Every generated library carries a copy of ``runtime_c/`` (about 4,000 lines)
next to its model file. Compiling a source is deterministic in its text, the
text of the headers it includes, the compiler and the flags; an object keyed
by all of those is reused by every later build, whichever folder the copy
sits in. Only the model's own file is compiled per model; the link then sees
the same objects, in the same order, as one ``cc a.c b.c ...`` command would.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: Builds the exception raised for a failed compile from (source, command, compiler output).
Failure = Callable[[Path, list[str], str], Exception]

_INCLUDE = re.compile(rb'^\s*#\s*include\s+(["<])([^">]+)[">]', re.M)


@functools.cache
def compiler_identity(cc: str) -> str:
    """The compiler's path and ``--version`` text: part of every cache key."""
    proc = subprocess.run([cc, "--version"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    return f"{cc}\n{proc.stdout}"


def _include_dirs(flags: list[str]) -> list[Path]:
    return [Path(f[2:]) for f in flags if f.startswith("-I") and len(f) > 2]


def _headers(source: Path, dirs: list[Path]) -> list[Path]:
    """The includes of ``source`` found in its folder or the -I folders, transitively,
    resolved as the compiler would (system headers belong to the compiler)."""
    seen: dict[Path, None] = {}
    todo = [source]
    while todo:
        current = todo.pop()
        for quote, name in _INCLUDE.findall(current.read_bytes()):
            for folder in ((current.parent, *dirs) if quote == b'"' else dirs):
                candidate = folder / name.decode()
                if candidate.is_file():
                    if candidate not in seen:
                        seen[candidate] = None
                        todo.append(candidate)
                    break
    return list(seen)


#: Flags that only say where the build happens: the headers found in the -I folders
#: are keyed by content instead, and a prefix map only rewrites debug-info paths.
_PLACE_FLAGS = ("-I", "-ffile-prefix-map=")


def object_key(cc: str, source: Path, flags: list[str], cwd: Path) -> str:
    """The cache key: compiler, flags (but where the build happens), the source as
    named on the command line and by content, and every header it includes.
    Without a prefix map an object's debug info names the folder it was built in;
    a cached object may carry another folder's name there (nothing else differs)."""
    digest = hashlib.sha256(compiler_identity(cc).encode())
    digest.update("\0".join(f for f in flags if not f.startswith(_PLACE_FLAGS)).encode())
    path = cwd / source
    digest.update(str(source).encode() + b"\0" + path.read_bytes())
    dirs = [cwd / d for d in _include_dirs(flags)]
    for header in sorted(_headers(path, dirs), key=lambda p: p.name):
        digest.update(header.name.encode() + b"\0" + header.read_bytes())
    return digest.hexdigest()[:24]


def first_error(stderr: str) -> str:
    """The line of a compiler's output worth showing in a one-line error."""
    lines = stderr.strip().splitlines() or ["(no output)"]
    return next((line for line in lines if "error:" in line), lines[0]).strip()


def _compile(cc: str, source: Path, flags: list[str], out: Path, fail: Failure,
             cwd: Path) -> None:
    tmp = out.with_suffix(f".{os.getpid()}.{id(source)}.tmp")
    cmd = [cc, "-c", *flags, str(source), "-o", str(tmp)]
    result = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            cwd=cwd)
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise fail(source, cmd, result.stdout + result.stderr)
    out.with_suffix(".out").write_text(result.stdout + result.stderr)  # before the object
    tmp.replace(out)


def compiler_output(obj: Path) -> str:
    """What the compiler printed while making a cached object (warnings, usually none)."""
    path = obj.with_suffix(".out")
    return path.read_text() if path.is_file() else ""


def compile_objects(cc: str, sources: list[Path], flags: list[str], folder: Path,
                    fail: Failure, cwd: Path | None = None) -> list[Path]:
    """Objects for ``sources`` (in order; paths as given to the compiler, relative to
    ``cwd``), compiled with ``cc -c *flags`` in ``cwd`` into the cache ``folder`` when
    not already there; cache misses compile in parallel. A failed compile raises
    ``fail(source, command, compiler output)``."""
    cwd = cwd or Path.cwd()
    folder.mkdir(parents=True, exist_ok=True)
    objects = [folder / f"{src.stem}-{object_key(cc, src, flags, cwd)}.o" for src in sources]
    missing = [(src, obj) for src, obj in zip(sources, objects, strict=True)
               if not obj.is_file()]
    if len(missing) == 1:
        _compile(cc, missing[0][0], flags, missing[0][1], fail, cwd)
    elif missing:
        workers = min(len(missing), os.cpu_count() or 1)
        with ThreadPoolExecutor(workers) as pool:
            jobs = [pool.submit(_compile, cc, src, flags, obj, fail, cwd)
                    for src, obj in missing]
            for job in jobs:
                job.result()
    return objects

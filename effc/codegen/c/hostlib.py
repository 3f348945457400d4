"""Host builds of C code through cffi (ABI mode), cached by source hash.

Used by the planner (to ask the runtime's ``*_scratch_size`` functions, so
allocation and kernel dispatch cannot disagree) and by the host engine.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import cffi

from effc.errors import EffcError

RUNTIME_DIR = Path(__file__).resolve().parents[3] / "runtime_c"


def cache_dir() -> Path:
    """effc's build cache: $EFFC_CACHE, else $XDG_CACHE_HOME/effc or ~/.cache/effc,
    else a per-user folder in the temp directory when those are not writable."""
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "effc"
    root = Path(os.environ.get("EFFC_CACHE", default))
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        root = Path(tempfile.gettempdir()) / f"effc-cache-{os.getuid()}"
        root.mkdir(parents=True, exist_ok=True)
    return root


def runtime_api() -> str:
    """The plain declarations between effc-api-begin and effc-api-end in effc_nn.h."""
    text = (RUNTIME_DIR / "effc_nn.h").read_text()
    body = text.split("effc-api-begin", 1)[1].split("*/", 1)[1]
    return body.split("/* effc-api-end", 1)[0]


def build_shared(sources: list[Path], flags: list[str], tag: str) -> Path:
    """Compile ``sources`` into a shared library (cached by content and flags).

    Each source becomes a position-independent object cached by its content
    (``objcache``): the runtime files every library carries are compiled once,
    and a new model only compiles its own file and links.
    """
    from effc.codegen.c.objcache import compile_objects, first_error

    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if cc is None:
        raise EffcError("no host C compiler found; install gcc (apt-get install gcc)")
    digest = hashlib.sha256()
    for src in sorted(sources):
        digest.update(src.name.encode())
        digest.update(src.read_bytes())
    digest.update(" ".join(flags).encode())
    out = cache_dir() / f"{tag}-{digest.hexdigest()[:16]}.so"
    if out.is_file():
        return out

    def fail(source: Path, cmd: list[str], output: str) -> EffcError:
        return EffcError(f"host C build failed: {first_error(output)}")

    objects = compile_objects(cc, sources, ["-fPIC", "-std=c99", *flags],
                              cache_dir() / "objects", fail)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    cmd = [cc, "-shared", *(f for f in flags if f.startswith("-fsanitize")),
           *map(str, objects), "-o", str(tmp), "-lm"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise EffcError(f"host C build failed: {first_error(result.stderr)}")
    tmp.replace(out)
    return out


@functools.cache
def runtime_library() -> tuple[cffi.FFI, object]:
    ffi = cffi.FFI()
    ffi.cdef(runtime_api())
    sources = sorted(RUNTIME_DIR.glob("*.c"))
    so = build_shared(sources, ["-O1", f"-I{RUNTIME_DIR}"], "effc-runtime")
    return ffi, ffi.dlopen(str(so))

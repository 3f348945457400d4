"""Host builds of C code through cffi (ABI mode), cached by source hash.

Used by the planner (to ask the runtime's ``*_scratch_size`` functions, so
allocation and kernel dispatch cannot disagree) and by the host engine.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import cffi

from effc.errors import EffcError
from effc.toolchain.objcache import compiler_identity

RUNTIME_DIR = Path(__file__).resolve().parents[1] / "runtime_c"  # package data


def _private_dir(root: Path) -> Path | None:
    """``root`` created (mode 0700) or checked: a real folder owned by this user that
    no one else can write. None when it cannot be created; EffcError when it is
    unsafe (someone else's, a symlink, or writable by others)."""
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    info = root.lstat()
    if (stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode)
            or info.st_uid != os.getuid() or info.st_mode & 0o022):
        raise EffcError(f"build cache '{root}' is not a private folder of this user (owner "
                        f"uid {info.st_uid}, mode {stat.S_IMODE(info.st_mode):o}); remove it "
                        "or set EFFC_CACHE to a folder of your own")
    if info.st_mode & 0o077:
        root.chmod(0o700)  # ours and only readable by others: tighten it
    return root


def cache_dir() -> Path:
    """effc's build cache: $EFFC_CACHE, else $XDG_CACHE_HOME/effc or ~/.cache/effc,
    else ``effc-cache-<uid>`` in the temp directory when those cannot be created.
    Always a private folder (mode 0700, owned by this user); refused otherwise."""
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "effc"
    root = _private_dir(Path(os.environ.get("EFFC_CACHE", default)))
    if root is None:
        root = _private_dir(Path(tempfile.gettempdir()) / f"effc-cache-{os.getuid()}")
    if root is None:
        raise EffcError("no writable folder for effc's build cache; set EFFC_CACHE to a "
                        "writable folder")
    return root


API_HEADERS = ("effc_nn.h", "effc_nn_ext.h")  # the public API, in include order


def runtime_api() -> str:
    """The plain declarations between effc-api-begin and effc-api-end in the
    public API headers (effc_nn.h, then effc_nn_ext.h)."""
    bodies = []
    for header in API_HEADERS:
        text = (RUNTIME_DIR / header).read_text()
        body = text.split("effc-api-begin", 1)[1].split("*/", 1)[1]
        bodies.append(body.split("/* effc-api-end", 1)[0])
    return "\n".join(bodies)


def build_shared(sources: list[Path], flags: list[str], tag: str) -> Path:
    """Compile ``sources`` into a shared library (cached by content and flags).

    Each source becomes a position-independent object cached by its content
    (``objcache``): the runtime files every library carries are compiled once,
    and a new model only compiles its own file and links.
    """
    from effc.toolchain.objcache import compile_objects, first_error

    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if cc is None:
        raise EffcError("no host C compiler found; install gcc (apt-get install gcc)")
    # The key is everything that went in: the compiler, the flags, and every
    # source and header of the folders involved, by name and full content.
    digest = hashlib.sha256(compiler_identity(cc).encode())
    digest.update(json.dumps(flags).encode())
    folders = {src.parent for src in sources} | {Path(f[2:]) for f in flags
                                                  if f.startswith("-I")}
    for src in sorted(sources):
        digest.update(f"source {src.name} {src.stat().st_size}\n".encode())
        digest.update(src.read_bytes())
    for folder in sorted(folders):
        for header in sorted(folder.glob("*.h")):
            digest.update(f"header {header.name} {header.stat().st_size}\n".encode())
            digest.update(header.read_bytes())
    safe_tag = re.sub(r"[^A-Za-z0-9_-]", "_", tag)  # never a path: a manifest may be edited
    out = cache_dir() / f"{safe_tag}-{digest.hexdigest()}.so"
    if out.is_file():
        return out

    def fail(source: Path, cmd: list[str], output: str) -> EffcError:
        return EffcError(f"host C build failed: {first_error(output)}")

    objects = []
    for folder in dict.fromkeys(src.parent for src in sources):  # by name, in its folder
        names = [Path(src.name) for src in sources if src.parent == folder]
        objects += compile_objects(cc, names, ["-fPIC", "-std=c99", *flags],
                                   cache_dir() / "objects", fail, cwd=folder)
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

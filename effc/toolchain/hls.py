"""The HLS C simulation: a project's testbench and top function built with g++.

Processes run one after the other (Vitis HLS csim semantics) unless the flags
ask for a variant (``-DEFFC_HLS_COUNT``: counted loop iterations;
``-DEFFC_HLS_THREADED -pthread``: one thread per process, bounded FIFOs). The
build is cached by content (compiler, flags, every source of the project) in
effc's private build cache, so a project compiles once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from effc.errors import EffcError
from effc.toolchain.host import cache_dir
from effc.toolchain.objcache import compiler_identity, first_error

CXX = "g++"
#: The C simulation's flags (the project's Makefile uses the same).
CXXFLAGS = ("-std=c++14", "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unknown-pragmas")
#: Seconds a C simulation may take before it counts as hung.
RUN_TIMEOUT = 600


def csim_binary(folder: Path, name: str, sources: list[str], flags: list[str]) -> Path:
    """Build (or find in the cache) the C simulation of the project in ``folder``."""
    if shutil.which(CXX) is None:
        raise EffcError(f"the HLS C simulation needs {CXX}, which is not installed; install "
                        "g++ (apt-get install g++)")
    digest = hashlib.sha256(compiler_identity(CXX).encode())
    digest.update("\0".join(flags).encode())
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".h", ".cpp")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    target = cache_dir() / "hls-csim" / digest.hexdigest()[:32] / f"{name}_csim"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        built = Path(tmp) / target.name
        proc = subprocess.run([CXX, *flags, "-I.", "-o", str(built), *sources], cwd=folder,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise EffcError(f"the HLS C simulation of '{folder}' does not compile "
                            f"({first_error(proc.stderr)}); this is an effc bug: please report "
                            "it with the model")
        os.replace(built, target)
    return target


def run_csim(binary: Path, data: bytes, output_bytes: int) -> bytes:
    """Run the testbench on ``data`` (inferences one after the other); its outputs."""
    with tempfile.TemporaryDirectory(prefix="effc-hls-") as tmp:
        x, y = Path(tmp) / "input.bin", Path(tmp) / "output.bin"
        x.write_bytes(data)
        try:
            proc = subprocess.run([str(binary), str(x), str(y)], capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise EffcError(f"the HLS C simulation ran longer than {RUN_TIMEOUT} s; this is "
                            "an effc bug: please report it with the model") from None
        if proc.returncode != 0:
            why = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
            raise EffcError(f"the HLS C simulation stopped: {why}; this is an effc bug: please "
                            "report it with the model")
        out = y.read_bytes()
    if len(out) != output_bytes:
        raise EffcError(f"the HLS C simulation wrote {len(out)} bytes, expected {output_bytes}")
    return out

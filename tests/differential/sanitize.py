"""The generated C under AddressSanitizer and UBSan, for every random model, cheaply.

A sanitized library must be loaded in a process that preloads the ASan
runtime. One such child process serves the whole session: it reads one job
per line (library, entry point, input file), runs it and writes the outputs;
the first sanitizer report aborts it (``-fno-sanitize-recover=all``), and the
parent turns the report into a failed assertion.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from effc.compiler import CompiledModel
from effc.engines.native import CTYPE, build_host_library

WORKER = r"""
import json, sys
import cffi
import numpy as np
for line in sys.stdin:
    job = json.loads(line)
    ffi = cffi.FFI()
    ffi.cdef(f"int {job['entry']}(const {job['in_ctype']} *in, {job['out_ctype']} *out);")
    lib = ffi.dlopen(job["so"])
    fn = getattr(lib, job["entry"])
    x = np.load(job["input"])
    rows, shape = job["rows"], tuple(job["output_shape"])
    outs = []
    for i in range(0, x.shape[0], rows):
        sample = np.ascontiguousarray(x[i:i + rows])
        y = np.zeros(shape, dtype=job["output_dtype"])
        status = fn(ffi.cast(f"const {job['in_ctype']} *", sample.ctypes.data),
                    ffi.cast(f"{job['out_ctype']} *", y.ctypes.data))
        if status != 0:
            print(json.dumps({"status": status}), flush=True)
            break
        outs.append(y)
    else:
        np.save(job["output"], np.concatenate(outs))
        print(json.dumps({"status": 0}), flush=True)
    ffi.dlclose(lib)
"""


class SanitizedHost:
    """The child process that runs sanitized host builds (started on first use)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.proc: subprocess.Popen[str] | None = None
        self.jobs = 0

    def _start(self) -> subprocess.Popen[str]:
        runtime = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        env = dict(os.environ, LD_PRELOAD=runtime, ASAN_OPTIONS="detect_leaks=0",
                   UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
        self.stderr = tempfile.TemporaryFile("w+", dir=self.folder)
        return subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=self.stderr, text=True,
                                env=env)

    def run(self, compiled: CompiledModel, x: np.ndarray) -> np.ndarray:
        """Outputs of the sanitized library on ``x`` (as ``--engine host`` gives them)."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        so, entry = build_host_library(compiled, sanitize=True)
        graph = compiled.graph
        tin, out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
        self.jobs += 1
        stem = self.folder / f"job{self.jobs}"
        np.save(f"{stem}-in.npy", x)
        job = {"so": str(so), "entry": entry, "in_ctype": CTYPE[tin.dtype],
               "out_ctype": CTYPE[out.dtype], "input": f"{stem}-in.npy",
               "output": f"{stem}-out.npy", "rows": tin.shape[0],
               "output_shape": list(out.shape), "output_dtype": out.dtype}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            self.proc.wait()
            self.stderr.seek(0)
            report = self.stderr.read()
            self.proc = None
            raise AssertionError(f"the sanitized host build of {compiled.folder} stopped: "
                                 f"{_summary(report)}")
        status = json.loads(reply)["status"]
        assert status == 0, f"the sanitized host build refused a layer (status {status})"
        return np.load(f"{stem}-out.npy")

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def _summary(report: str) -> str:
    lines = [ln for ln in report.splitlines() if "runtime error" in ln or "ERROR:" in ln]
    return (lines[0] if lines else report[-2000:]).strip()

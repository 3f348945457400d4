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

from effc.artifact import entry_ports
from effc.compiler import CompiledModel
from effc.engines.host import build_host_library
from effc.reference.interpreter import inference_count

WORKER = r"""
import json, sys
import cffi
import numpy as np
CTYPE = {"int8": "int8_t", "float32": "float", "int64": "int64_t", "int32": "int32_t"}
for line in sys.stdin:
    job = json.loads(line)
    ins, outs = job["inputs"], job["outputs"]
    params = [f"const {CTYPE[p['dtype']]} *" for p in ins]
    params += [f"{CTYPE[p['dtype']]} *" for p in outs]
    ffi = cffi.FFI()
    ffi.cdef(f"int {job['entry']}({', '.join(params)});")
    lib = ffi.dlopen(job["so"])
    fn = getattr(lib, job["entry"])
    xs = dict(np.load(job["input"]))
    results = {p["name"]: [] for p in outs}
    status = 0
    for i in range(job["inferences"]):
        rows = [np.ascontiguousarray(xs[p["name"]][i * p["shape"][0]:(i + 1) * p["shape"][0]])
                for p in ins]
        ys = [np.zeros(p["shape"], dtype=p["dtype"]) for p in outs]
        args = [ffi.cast(f"const {CTYPE[p['dtype']]} *", r.ctypes.data)
                for p, r in zip(ins, rows)]
        args += [ffi.cast(f"{CTYPE[p['dtype']]} *", y.ctypes.data) for p, y in zip(outs, ys)]
        status = fn(*args)
        if status != 0:
            break
        for p, y in zip(outs, ys):
            results[p["name"]].append(y)
    if status == 0:
        np.savez(job["output"], **{k: np.concatenate(v) for k, v in results.items()})
    print(json.dumps({"status": status}), flush=True)
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

    def run(self, compiled: CompiledModel, feeds: dict[str, np.ndarray]
            ) -> dict[str, np.ndarray]:
        """Outputs of the sanitized library (as ``--engine host`` gives them)."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        so, entry = build_host_library(compiled, sanitize=True)
        inputs, outputs = entry_ports(compiled)
        self.jobs += 1
        stem = self.folder / f"job{self.jobs}"
        np.savez(f"{stem}-in.npz", **feeds)
        job = {"so": str(so), "entry": entry, "inputs": inputs, "outputs": outputs,
               "input": f"{stem}-in.npz", "output": f"{stem}-out.npz",
               "inferences": inference_count(compiled.graph, feeds)}
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
        return dict(np.load(f"{stem}-out.npz"))

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def _summary(report: str) -> str:
    lines = [ln for ln in report.splitlines() if "runtime error" in ln or "ERROR:" in ln]
    return (lines[0] if lines else report[-2000:]).strip()

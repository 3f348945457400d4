"""Helpers for the runtime_c tests: kernel cases as data, one C driver for them.

A :class:`Case` is one kernel call: its arrays, its parameter structs (as
designated initializers), the scratch-size expression and the call. The same
list of cases becomes one generated C driver (:func:`emit_driver`) that is
built three ways: a host shared library loaded with cffi (ABI mode), a host
executable under ``-fsanitize=address,undefined``, and a Cortex-M firmware
``model_run`` run under QEMU. Every build runs the same C text; only the
kernel bodies differ (portable on the host, DSP on Cortex-M4).

Every writable region of a case (its output, including in-place cases whose
output is also their input; its scratch, the tail of the arena; its extra
``buffers``) sits in RAM between GUARD_BYTES of GUARD_FILL on each side. The
driver re-arms them before each call and counts the changed bytes after it;
every result reader (:func:`run_host`, :func:`split_results`) fails naming the
case, the region and the side, so writes past a buffer fail on every build.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from effc.toolchain.host import API_HEADERS, runtime_api
from tests.kernel_guards import (
    GUARD_BYTES,
    GUARD_C,
    GUARD_FILL,
    guard_damage,
    guard_regions,
    guard_report,
    guard_words,
    guarded,
)

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_C = ROOT / "effc" / "runtime_c"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
HOST_CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"]
ARENA_BYTES = 64 * 1024  # scratch arena of the driver; each case uses its tail

_CTYPES = {np.dtype(np.int8): "int8_t", np.dtype(np.int16): "int16_t",
           np.dtype(np.int32): "int32_t", np.dtype(np.int64): "int64_t",
           np.dtype(np.float32): "float"}


def require_tool(name: str) -> str:
    """Path of a command-line tool; skip the test without it (fail in CI)."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (scripts/setup.sh installs it)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def runtime_sources() -> list[Path]:
    return sorted(RUNTIME_C.glob("*.c"))


def api_cdef() -> str:
    """The declarations between the effc-api markers of the public API headers
    (effc_nn.h, effc_nn_ext.h), for cffi."""
    for header in API_HEADERS:
        text = (RUNTIME_C / header).read_text()
        assert re.search(r"/\* effc-api-begin.*?\*/.*/\* effc-api-end \*/", text, re.S), \
            f"{header} lost its effc-api markers"
    return re.sub(r"/\*.*?\*/", "", runtime_api(), flags=re.S)


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    path = base / "effc" / "tests"
    path.mkdir(parents=True, exist_ok=True)
    return path


def digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    for src in sorted(RUNTIME_C.glob("*.[ch]")):
        h.update(src.read_bytes())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------- cases


@dataclass
class Case:
    """One kernel call. ``@name`` in ``call``/``scratch``/struct fields is the
    array ``name`` (NULL when the array is None); ``y`` is the output buffer
    and ``&s`` the scratch descriptor; ``buffers`` are writable arrays (a kernel's
    other outputs, given by shape and dtype) named like the inputs."""

    name: str
    kind: str
    arrays: dict[str, np.ndarray | None]
    structs: list[tuple[str, str, dict[str, Any]]]
    call: str
    out_shape: tuple[int, ...]
    out_dtype: Any = np.int8
    scratch: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    buffers: dict[str, tuple[tuple[int, ...], Any]] = field(default_factory=dict)

    @property
    def out_bytes(self) -> int:
        return int(np.prod(self.out_shape)) * np.dtype(self.out_dtype).itemsize


def _c_value(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, (float, np.floating)):
        return repr(float(np.float32(v))) + "f" if np.isfinite(v) else "0.0f"
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(_c_value(x) for x in v) + "}"
    return str(int(v))


def _c_array(sym: str, a: np.ndarray) -> str:
    ctype = _CTYPES[a.dtype]
    flat = a.reshape(-1)
    if a.dtype == np.float32:
        vals = [repr(float(v)) + "f" if np.isfinite(v) else
                ("__builtin_nanf(\"\")" if np.isnan(v) else
                 ("__builtin_inff()" if v > 0 else "-__builtin_inff()"))
                for v in flat]
    elif a.dtype == np.int32:
        vals = [f"(int32_t){int(v)}" if v == -(2**31) else str(int(v)) for v in flat]
    else:
        vals = [str(int(v)) for v in flat]
    body = ",\n  ".join(", ".join(vals[i:i + 16]) for i in range(0, len(vals), 16))
    return f"static const {ctype} {sym}[{max(len(vals), 1)}] EFFC_ALIGN4 = {{\n  {body}}};\n"


def _subst(text: str, syms: dict[str, str]) -> str:
    return re.sub(r"@(\w+)", lambda m: syms[m.group(1)], text)


def _emit_case(idx: int, case: Case) -> str:
    syms: dict[str, str] = {}
    out: list[str] = [f"/* case {idx}: {case.name} */\n"]
    for name, arr in case.arrays.items():
        if arr is None:
            syms[name] = "NULL"
            continue
        sym = f"c{idx}_{name}"
        syms[name] = sym
        out.append(_c_array(sym, np.ascontiguousarray(arr)))
    buffers = []
    for name, (shape, dtype) in case.buffers.items():
        nbytes = max(1, int(np.prod(shape))) * np.dtype(dtype).itemsize
        decl, syms[name] = guarded(_CTYPES[np.dtype(dtype)], f"c{idx}_{name}", nbytes)
        buffers.append((f"c{idx}_{name} + EFFC_GUARD", nbytes))
        out.append(decl)
    ctype = _CTYPES[np.dtype(case.out_dtype)]
    decl, _ = guarded(ctype, f"c{idx}_y", case.out_bytes)
    out.append(decl)
    out.append(f"static int case_{idx}(size_t *used_scratch)\n{{\n")
    for stype, var, fields in case.structs:
        inits = ", ".join(f".{k} = {_subst(_c_value(v), syms)}" for k, v in fields.items())
        out.append(f"    const {stype} {var} = {{{inits}}};\n")
    out.append(f"    {ctype} *y = ({ctype} *)(c{idx}_y + EFFC_GUARD);\n"
               "    effc_scratch s;\n    int rc;\n")
    need = _subst(case.scratch, syms) if case.scratch else "0"
    out.append(f"    const size_t need = ({need} + 3u) & ~(size_t)3u;\n")
    out.append("    effc_guard_scratch(used_scratch, need);\n")
    out.append("    if (need > EFFC_ARENA) {\n        return -100;\n    }\n")
    out.append("    s.buf = need ? effc_test_arena + EFFC_GUARD + EFFC_ARENA - need"
               " : NULL;\n    s.size = need;\n    (void)s;\n")
    for ptr, nbytes in buffers:
        out.append(f"    effc_guard_arm({ptr}, {nbytes});\n")
    out.append(f"    rc = {_subst(case.call, syms)};\n")
    for r, (ptr, nbytes) in enumerate(buffers, start=2):
        out.append(f"    effc_guard_hits[{r}] = effc_guard_check({ptr}, {nbytes});\n")
    out.append("    return rc;\n}\n\n")
    return "".join(out)


def emit_driver(cases: list[Case]) -> str:
    """C source running every case: ``effc_test_run(i, out, &scratch_bytes)``, then
    ``effc_test_guard_hits(r)`` per guarded region (see :func:`guard_report`)."""
    parts = ["/* Generated by tests/conftest_c.py: one call per kernel test case. */\n",
             "#include <stddef.h>\n#include <stdint.h>\n#include \"effc_nn.h\"\n\n",
             "#define EFFC_ALIGN4 __attribute__((aligned(4), unused))\n",
             "#define EFFC_GUARDED __attribute__((aligned(8)))\n",
             f"#define EFFC_ARENA {ARENA_BYTES}u\n#define EFFC_GUARD {GUARD_BYTES}\n",
             f"#define EFFC_GUARD_FILL 0x{GUARD_FILL:02X}u\n",
             f"#define EFFC_GUARD_REGIONS {guard_regions(cases)}\n", GUARD_C, "\n"]
    parts += [_emit_case(i, c) for i, c in enumerate(cases)]
    parts.append("typedef int (*effc_case_fn)(size_t *);\n")
    table = ", ".join(f"case_{i}" for i in range(len(cases)))
    outs = ", ".join(f"c{i}_y + EFFC_GUARD" for i in range(len(cases)))
    sizes = ", ".join(str(c.out_bytes) for c in cases)
    parts.append(f"static const effc_case_fn effc_cases[] = {{{table}}};\n")
    parts.append(f"static unsigned char *const effc_case_out[] = {{{outs}}};\n")
    parts.append(f"static const uint32_t effc_case_bytes[] = {{{sizes}}};\n\n")
    parts.append(
        f"int effc_test_num_cases(void) {{ return {len(cases)}; }}\n"
        "uint32_t effc_test_case_bytes(int i) { return effc_case_bytes[i]; }\n"
        "uint32_t effc_test_guard_hits(int r) { return effc_guard_hits[r]; }\n"
        "int effc_test_run(int i, void *out, size_t *used_scratch)\n"
        "{\n    unsigned char *y = effc_case_out[i];\n    int r, rc;\n"
        "    for (r = 0; r < EFFC_GUARD_REGIONS; r++) {\n"
        "        effc_guard_hits[r] = 0;\n    }\n"
        "    *used_scratch = 0;\n    effc_guard_arm(y, effc_case_bytes[i]);\n"
        "    rc = effc_cases[i](used_scratch);\n"
        "    effc_guard_hits[0] = effc_guard_check(y, effc_case_bytes[i]);\n"
        "    if (*used_scratch <= EFFC_ARENA) {\n"
        "        effc_guard_hits[1] = effc_guard_check(effc_test_arena + EFFC_GUARD"
        " + EFFC_ARENA - *used_scratch, *used_scratch);\n    }\n"
        "    effc_copy(out, y, effc_case_bytes[i]);\n    return rc;\n}\n")
    return "".join(parts)


DRIVER_CDEF = """
int effc_test_num_cases(void);
uint32_t effc_test_case_bytes(int i);
uint32_t effc_test_guard_hits(int r);
int effc_test_run(int i, void *out, size_t *used_scratch);
"""


# Result layout of a whole run (host executable and firmware alike): per case,
# int32 return code, int32 scratch bytes used, the uint16 guard words (one per
# region, padded to 4 bytes), then the output bytes.


def split_results(cases: list[Case], blob: bytes, where: str = "host"
                  ) -> list[tuple[int, int, np.ndarray]]:
    """Parse a run's result blob into (rc, scratch bytes, output) per case; fail if a
    case wrote past a guarded region."""
    res, pos, words, damage = [], 0, guard_words(cases), []
    for c in cases:
        rc, used = np.frombuffer(blob, "<i4", 2, pos)
        hits = np.frombuffer(blob, "<u2", words, pos + 8)
        pos += 8 + 2 * words
        y = np.frombuffer(blob, c.out_dtype, int(np.prod(c.out_shape)), pos).reshape(c.out_shape)
        pos += c.out_bytes
        damage += guard_damage(c, [int(h) for h in hits])
        res.append((int(rc), int(used), y.copy()))
    assert pos == len(blob), f"result blob has {len(blob)} bytes, expected {pos}"
    guard_report(damage, where)
    return res


RUN_ALL_C = """
/* Runs every case; layout per case: int32 rc, int32 scratch bytes, the uint16
   guard words (padded to 4 bytes), output. */
static unsigned long effc_test_run_all(unsigned char *dst)
{
    const unsigned long words = (EFFC_GUARD_REGIONS + 1) / 2 * 2;
    unsigned long pos = 0;
    int i;
    for (i = 0; i < effc_test_num_cases(); i++) {
        size_t used = 0;
        int32_t rc = effc_test_run(i, dst + pos + 8 + 2 * words, &used);
        int32_t u = (int32_t)used;
        effc_copy(dst + pos, &rc, 4);
        effc_copy(dst + pos + 4, &u, 4);
        effc_copy(dst + pos + 8, effc_guard_hits, 2 * EFFC_GUARD_REGIONS);
        pos += 8u + 2 * words + effc_test_case_bytes(i);
    }
    return pos;
}
"""


def results_bytes(cases: list[Case]) -> int:
    return sum(8 + 2 * guard_words(cases) + c.out_bytes for c in cases)


# -------------------------------------------------------------- host builds


def _build(out: Path, sources: list[Path], flags: list[str]) -> Path:
    if out.exists():
        return out
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    cmd = ["gcc", *HOST_CFLAGS, *flags, f"-I{RUNTIME_C}", *map(str, sources), "-o", str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"host build failed:\n{' '.join(cmd)}\n{proc.stderr}"
    os.replace(tmp, out)
    return out


def write_driver(cases: list[Case], folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "effc_test_driver.c"
    path.write_text(emit_driver(cases) + extra)
    return path


def host_library(cases: list[Case]) -> tuple[Any, Any]:
    """(ffi, lib) of runtime_c + the cases' driver, built for the host."""
    import cffi

    require_tool("gcc")
    src = emit_driver(cases)
    key = digest(src, "lib")
    folder = cache_dir() / f"host-{key}"
    driver = write_driver(cases, folder)
    so = _build(folder / "libeffc_test.so", [*runtime_sources(), driver],
                ["-shared", "-fPIC"])
    ffi = cffi.FFI()
    ffi.cdef(api_cdef() + DRIVER_CDEF)
    return ffi, ffi.dlopen(str(so))


def run_host(cases: list[Case], where: str = "host") -> list[tuple[int, int, np.ndarray]]:
    """Run every case in the host library; (rc, scratch bytes, output) each. Fails
    naming the case if it wrote into the guard bytes around a region."""
    ffi, lib = host_library(cases)
    res, regions, damage = [], guard_regions(cases), []
    for i, c in enumerate(cases):
        buf = ffi.new("char[]", max(c.out_bytes, 1))
        used = ffi.new("size_t *")
        rc = lib.effc_test_run(i, buf, used)
        damage += guard_damage(c, [lib.effc_test_guard_hits(r) for r in range(regions)])
        y = np.frombuffer(ffi.buffer(buf, c.out_bytes), c.out_dtype).reshape(c.out_shape)
        res.append((int(rc), int(used[0]), y.copy()))
    guard_report(damage, where)
    return res


def run_host_sanitized(cases: list[Case]) -> tuple[list[tuple[int, int, np.ndarray]], str]:
    """Run the cases in a host executable built with ASan + UBSan."""
    require_tool("gcc")
    main = RUN_ALL_C + f"""
#include <stdio.h>
static unsigned char effc_results[{results_bytes(cases)}];
int main(int argc, char **argv)
{{
    unsigned long n = effc_test_run_all(effc_results);
    FILE *f = fopen(argc > 1 ? argv[1] : "results.bin", "wb");
    if (f == NULL || fwrite(effc_results, 1, n, f) != n) {{
        return 3;
    }}
    fclose(f);
    return 0;
}}
"""
    with tempfile.TemporaryDirectory(prefix="effc-asan-") as tmp:
        folder = Path(tmp)
        driver = write_driver(cases, folder, main)
        exe = _build(folder / "driver", [*runtime_sources(), driver],
                     ["-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                      "-fno-omit-frame-pointer"])
        out = folder / "results.bin"
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
        proc = subprocess.run([str(exe), str(out)], capture_output=True, text=True,
                              timeout=300, env=env, stdin=subprocess.DEVNULL)
        log = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"sanitized driver failed ({proc.returncode}):\n{log}"
        return split_results(cases, out.read_bytes(), "host (sanitized)"), log


# ------------------------------------------------------------ case builders


def rand_i8(rng: np.random.Generator, shape: tuple[int, ...], lo: int = -128,
            hi: int = 127) -> np.ndarray:
    return rng.integers(lo, hi + 1, size=shape).astype(np.int8)


def rand_quant(rng: np.random.Generator, n: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (multiplier, shift) for real multipliers around ``scale``."""
    from effc.quant.fixedpoint import quantize_multiplier_array

    reals = scale * rng.uniform(0.5, 2.0, size=n)
    m, s = quantize_multiplier_array(reals)
    return m.astype(np.int32), s.astype(np.int32)


def out_size(size: int, k: int, stride: int, dil: int, pad_a: int, pad_b: int) -> int:
    return (size + pad_a + pad_b - dil * (k - 1) - 1) // stride + 1


def _dims(d: tuple[int, int, int, int]) -> dict[str, int]:
    return dict(zip("nhwc", d, strict=True))


CONV_PATHS = {
    "conv": ("effc_conv_s8", "effc_conv_s8_scratch_size(&p, &in, &f, &o)"),
    "conv_1x1": ("effc_conv_1x1_s8", "effc_conv_1x1_s8_scratch_size(&f)"),
    "conv_3x3": ("effc_conv_3x3_s8", "effc_conv_3x3_s8_scratch_size(&f)"),
    "conv_generic": ("effc_conv_generic_s8", "effc_conv_generic_s8_scratch_size(&f)"),
}


def edge_multipliers(rng: np.random.Generator, channels: int) -> np.ndarray:
    """Requantization multipliers at the edges of their range, one per channel: 2^30
    (exact ties), 2^31 - 1, 0, and random ones in [2^30, 2^31 - 1) between them."""
    m = rng.integers(1 << 30, (1 << 31) - 1, size=channels).astype(np.int32)
    m[0::5] = 1 << 30
    m[1::7] = (1 << 31) - 1
    m[2::11] = 0
    return m


def conv_case(name: str, seed: int, *, n: int = 1, h: int, w: int, cin: int, cout: int,
              k: tuple[int, int] = (3, 3), stride: tuple[int, int] = (1, 1),
              pads: tuple[int, int, int, int] = (0, 0, 0, 0), dil: tuple[int, int] = (1, 1),
              izp: int = 0, ozp: int = 0, act: tuple[int, int] = (-128, 127),
              depthwise: int = 0, bias: bool = True, bias_scale: int = 1 << 12,
              real: float | None = None, path: str = "conv", groups: int = 1) -> Case:
    """int8 conv (or depthwise conv with multiplier ``depthwise``, or grouped conv)
    with random data.

    ``pads`` = (top, left, bottom, right)."""
    rng = np.random.default_rng(seed)
    x = rand_i8(rng, (n, h, w, cin))
    if depthwise:
        cout = cin * depthwise
    kin = 1 if depthwise else cin // groups
    wt = rand_i8(rng, (cout, k[0], k[1], kin), -127, 127)
    kprod = k[0] * k[1] * kin
    m, s = rand_quant(rng, cout, real if real is not None else 0.01 / np.sqrt(kprod))
    b = rng.integers(-bias_scale, bias_scale + 1, size=cout).astype(np.int32) if bias else None
    oh = out_size(h, k[0], stride[0], dil[0], pads[0], pads[2])
    ow = out_size(w, k[1], stride[1], dil[1], pads[1], pads[3])
    geo = {"stride_h": stride[0], "stride_w": stride[1], "pad_top": pads[0],
           "pad_left": pads[1], "dilation_h": dil[0], "dilation_w": dil[1]}
    q = {"input_zero_point": izp, "output_zero_point": ozp, "activation_min": act[0],
         "activation_max": act[1]}
    if depthwise:
        ptype, fn = "effc_dw_conv_params", "effc_dw_conv_s8"
        fields = {**geo, "depth_multiplier": depthwise, **q}
        scratch = "effc_dw_conv_s8_scratch_size(&p, &in, &f, &o)"
    else:
        ptype, fields = "effc_conv_params", {**geo, **q}
        fn, scratch = CONV_PATHS[path]
    call_groups = ""
    if groups > 1:
        fn, call_groups = "effc_grouped_conv_s8", f"{groups}, "
        scratch = f"effc_grouped_conv_s8_scratch_size(&p, {groups}, &in, &f, &o)"
    return Case(
        name, "dw" if depthwise else "conv",
        {"input": x, "filter": wt, "bias": b, "multiplier": m, "shift": s},
        [(ptype, "p", fields),
         ("effc_per_channel_quant", "q", {"multiplier": "@multiplier", "shift": "@shift"}),
         ("effc_dims", "in", _dims((n, h, w, cin))),
         ("effc_dims", "f", _dims((cout, k[0], k[1], kin))),
         ("effc_dims", "o", _dims((n, oh, ow, cout)))],
        f"{fn}(&s, &p, {call_groups}&q, &in, @input, &f, @filter, @bias, &o, y)",
        (n, oh, ow, cout),
        scratch=scratch,
        meta={"strides": stride, "dil": dil, "pads": pads, "izp": izp, "ozp": ozp,
              "act": act, "group": cin if depthwise else groups})


def dense_case(name: str, seed: int, *, batches: int, fin: int, fout: int,
               per_channel: bool = True, izp: int = 0, ozp: int = 0,
               act: tuple[int, int] = (-128, 127), bias: bool = True,
               real: float | None = None, bias_scale: int = 1 << 12) -> Case:
    rng = np.random.default_rng(seed)
    x = rand_i8(rng, (batches, fin))
    wt = rand_i8(rng, (fout, fin), -127, 127)
    m, s = rand_quant(rng, fout if per_channel else 1,
                      real if real is not None else 0.01 / np.sqrt(fin))
    b = rng.integers(-bias_scale, bias_scale + 1, size=fout).astype(np.int32) if bias else None
    params = {"input_zero_point": izp, "output_zero_point": ozp, "activation_min": act[0],
              "activation_max": act[1]}
    dims = {"batches": batches, "in_features": fin, "out_features": fout}
    if per_channel:
        quant = ("effc_per_channel_quant", "q", {"multiplier": "@multiplier", "shift": "@shift"})
        fn = "effc_dense_per_channel_s8"
    else:
        quant = ("effc_per_tensor_quant", "q", {"multiplier": int(m[0]), "shift": int(s[0])})
        fn = "effc_dense_s8"
    return Case(name, "dense", {"input": x, "weights": wt, "bias": b, "multiplier": m,
                                "shift": s},
                [("effc_dense_params", "p", params), quant, ("effc_dense_dims", "d", dims)],
                f"{fn}(&s, &p, &q, &d, @input, @weights, @bias, y)", (batches, fout),
                scratch="effc_dense_s8_scratch_size(&p, &d)",
                meta={"izp": izp, "ozp": ozp, "act": act})


def pool_case(name: str, seed: int, kind: str, *, n: int = 1, h: int, w: int, c: int,
              k: tuple[int, int], stride: tuple[int, int],
              pads: tuple[int, int, int, int] = (0, 0, 0, 0), dil: tuple[int, int] = (1, 1),
              ceil: tuple[int, int] = (0, 0), include_pad: int = 0, zp: int = 0,
              act: tuple[int, int] = (-128, 127)) -> Case:
    """kind: max_pool, avg_pool or global_avg_pool (k, stride and pads unused).
    ``ceil`` adds output rows/columns beyond the floor rule (ONNX ceil_mode)."""
    rng = np.random.default_rng(seed)
    x = rand_i8(rng, (n, h, w, c))
    ind = ("effc_dims", "in", _dims((n, h, w, c)))
    if kind == "global_avg_pool":
        return Case(name, kind, {"input": x}, [ind],
                    f"effc_global_avg_pool_s8(&in, @input, {act[0]}, {act[1]}, y)",
                    (n, 1, 1, c), meta={"act": act})
    oh = out_size(h, k[0], stride[0], dil[0], pads[0], pads[2]) + ceil[0]
    ow = out_size(w, k[1], stride[1], dil[1], pads[1], pads[3]) + ceil[1]
    p = {"filter_h": k[0], "filter_w": k[1], "stride_h": stride[0], "stride_w": stride[1],
         "dilation_h": dil[0], "dilation_w": dil[1], "pad_top": pads[0], "pad_left": pads[1],
         "pad_bottom": pads[2], "pad_right": pads[3], "count_include_pad": include_pad,
         "pad_value": zp, "activation_min": act[0], "activation_max": act[1]}
    return Case(name, kind, {"input": x},
                [("effc_pool_params", "p", p), ind, ("effc_dims", "o", _dims((n, oh, ow, c)))],
                f"effc_{kind}_s8(&p, &in, @input, &o, y)", (n, oh, ow, c),
                meta={"k": k, "strides": stride, "pads": pads, "act": act, "dil": dil,
                      "out": (oh, ow), "include_pad": include_pad, "zp": zp})


def broadcast_fields(shape1: tuple[int, ...], shape2: tuple[int, ...]
                     ) -> tuple[tuple[int, ...], dict[str, Any]]:
    """Output shape and effc_broadcast fields for numpy-broadcast inputs."""
    out = np.broadcast_shapes(shape1, shape2)
    if len(out) > 4:
        raise ValueError("effc_broadcast handles up to 4 dims")
    dims = (1,) * (4 - len(out)) + tuple(out)

    def strides(shape: tuple[int, ...]) -> list[int]:
        full = (1,) * (4 - len(shape)) + tuple(shape)
        st, acc = [0] * 4, 1
        for i in range(3, -1, -1):
            st[i] = 0 if full[i] == 1 and dims[i] != 1 else acc
            acc *= full[i]
        return st

    return tuple(out), {"dims": list(dims), "in1_strides": strides(shape1),
                        "in2_strides": strides(shape2)}


def binary_case(name: str, seed: int, kind: str, shape1: tuple[int, ...],
                shape2: tuple[int, ...], params: dict[str, int], ptype: str) -> Case:
    """int8 add/sub (ptype effc_add_params) or mul (effc_mul_params)."""
    rng = np.random.default_rng(seed)
    a, b = rand_i8(rng, shape1), rand_i8(rng, shape2)
    out, bc = broadcast_fields(shape1, shape2)
    return Case(name, kind, {"a": a, "b": b},
                [(ptype, "p", params), ("effc_broadcast", "bc", bc)],
                f"effc_{kind}_s8(&p, &bc, @a, @b, y)", out, meta={"params": params})


def unary_case(name: str, kind: str, x: np.ndarray, call: str, out_dtype: Any = np.int8,
               meta: dict[str, Any] | None = None, extra: dict[str, np.ndarray] | None = None,
               structs: list[tuple[str, str, dict[str, Any]]] | None = None) -> Case:
    """Element-wise kernels: ``call`` uses @x, n (the count as a literal) and y."""
    call = call.replace("{n}", str(x.size))
    return Case(name, kind, {"x": x, **(extra or {})}, structs or [], call, x.shape,
                out_dtype=out_dtype, meta=meta or {})

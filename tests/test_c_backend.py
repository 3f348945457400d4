"""The generated C library on the host: bit-exact int8, float within 1e-4, clean builds."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from effc.engines.host import build_host_library, run_host
from effc.frontend.loader import load_onnx
from tests.c_models import FLOAT_MLPERF, HLS4ML, INT8_MODELS, compiled, model_path, tflm_vectors
from tests.conftest import onnx_oracle

ARM_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
             "-ffreestanding"]


@pytest.mark.parametrize("name", INT8_MODELS)
def test_int8_host_bit_exact_with_tflite_micro(tmp_path_factory, name: str) -> None:
    model = compiled(tmp_path_factory, name)
    x, expected = tflm_vectors(name)
    got = run_host(model, x).outputs
    differing = int(np.count_nonzero(got != expected))
    print(f"{name}: {differing} differing values of {expected.size}")
    assert differing == 0


@pytest.mark.parametrize("name", [*FLOAT_MLPERF, *HLS4ML])
def test_float_host_matches_onnxruntime(tmp_path_factory, name: str) -> None:
    model = compiled(tmp_path_factory, name, quantize="none")
    shape = model.graph.tensors[model.graph.inputs[0]].shape
    x = np.random.default_rng(5).standard_normal((2, *shape[1:])).astype(np.float32)
    got = run_host(model, x).outputs
    ref = onnx_oracle(load_onnx(model_path(name)), x).reshape(got.shape)
    assert float(np.abs(got - ref).max()) <= 1e-4 * max(1.0, float(np.abs(ref).max()))


def test_digits_int8_host_equals_reference(tmp_path_factory) -> None:
    model = compiled(tmp_path_factory, "digits_cnn")
    x = np.load(model_path("digits_cnn").parent / "digits_data.npz")["x_test"][:64]
    from effc.reference import run_samples

    assert np.array_equal(run_host(model, x).outputs, run_samples(model.graph, x))


@pytest.mark.parametrize("name", ["kws_ref_model", "pretrainedResnet_quant", "digits_cnn"])
def test_sanitizers_clean(tmp_path_factory, name: str) -> None:
    model = compiled(tmp_path_factory, name)
    so, entry = build_host_library(model, sanitize=True)
    graph = model.graph
    inp, out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    ctype = {"int8": "int8_t", "float32": "float"}
    script = (
        "import sys, numpy as np, cffi\n"
        "ffi = cffi.FFI()\n"
        f"ffi.cdef('int {entry}(const {ctype[inp.dtype]} *in, {ctype[out.dtype]} *out);')\n"
        f"lib = ffi.dlopen(sys.argv[1])\n"
        f"x = np.random.default_rng(0).integers(-128, 128, {inp.size}).astype(np.int8)\n"
        f"x = x.astype(np.{inp.dtype}) / (64.0 if '{inp.dtype}' == 'float32' else 1)\n"
        f"x = np.ascontiguousarray(x.astype(np.{inp.dtype}))\n"
        f"y = np.zeros({out.size}, np.{out.dtype})\n"
        f"rc = lib.{entry}(ffi.cast('const {ctype[inp.dtype]} *', x.ctypes.data), "
        f"ffi.cast('{ctype[out.dtype]} *', y.ctypes.data))\n"
        "sys.exit(rc)\n"
    )
    runtime = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                             text=True).stdout.strip()
    env = {"LD_PRELOAD": runtime, "ASAN_OPTIONS": "detect_leaks=0",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1", "PATH": "/usr/bin:/bin"}
    import sys

    result = subprocess.run([sys.executable, "-c", script, str(so)], capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "runtime error" not in result.stderr and "AddressSanitizer" not in result.stderr


@pytest.mark.parametrize("compiler,flags", [("gcc", ["-O2"]), ("arm-none-eabi-gcc",
                                                                 ["-O2", *ARM_FLAGS])])
@pytest.mark.parametrize("name", ["kws_ref_model", "pretrainedResnet", "digits_cnn"])
def test_generated_code_is_warning_free(tmp_path_factory, compiler: str, flags: list[str],
                                        name: str) -> None:
    quantize = "none" if name == "pretrainedResnet" else None
    folder = compiled(tmp_path_factory, name, quantize=quantize).folder / "c"
    for source in sorted(folder.glob("*.c")):
        cmd = [compiler, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", *flags, "-c",
               str(source), "-o", "/dev/null"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def test_no_malloc_and_libc_limited(tmp_path_factory) -> None:
    folder = compiled(tmp_path_factory, "kws_ref_model").folder / "c"
    text = "\n".join(p.read_text() for p in folder.glob("*.[ch]"))
    for banned in ("malloc(", "calloc(", "realloc(", "free(", "printf("):
        assert banned not in text


def test_kws_runs_depthwise_and_pointwise_in_place(tmp_path_factory) -> None:
    """TinyEngine-style in-place layers keep the KWS arena under 16,000 bytes."""
    model = compiled(tmp_path_factory, "kws_ref_model")
    memory = model.manifest["memory"]
    ops = {layer["name"]: layer["op"] for layer in model.manifest["summary"]["layers"]}
    assert len(memory["inplace_nodes"]) == 8  # four depthwise + four pointwise convs
    assert all(ops[name] == "Conv" for name in memory["inplace_nodes"])
    assert memory["arena_bytes"] <= 16000
    assert memory["lower_bound_bytes"] <= memory["arena_bytes"]


def test_library_builds_with_its_own_makefile_and_cmake(tmp_path_factory, tmp_path) -> None:
    import shutil

    folder = compiled(tmp_path_factory, "digits_cnn").folder / "c"
    work = tmp_path / "c"
    shutil.copytree(folder, work)
    result = subprocess.run(["make", "-C", str(work), "CC=gcc", "CFLAGS=-O2 -Werror"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (work / "libdigits_cnn.a").is_file()
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed; the Makefile build above passed")
    build = tmp_path / "build"
    for cmd in (["cmake", "-S", str(folder), "-B", str(build)], ["cmake", "--build", str(build)]):
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr

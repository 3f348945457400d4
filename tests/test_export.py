"""--export: the CMake export built with gcc (and run bit-exact) and with arm-none-eabi-gcc
through its toolchain file (DSP paths on), the Makefile under a user's CFLAGS and with
board.mk, and the files Zephyr, Arduino and PlatformIO require."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from effc.compiler import CompiledModel, CompileOptions, compile_model
from tests.c_models import model_path, tflm_vectors
from tests.conftest_c import require_tool

MAIN = """#include <stdio.h>
#include "kws.h"

int main(int argc, char **argv)
{
    static int8_t in[KWS_INPUT_SIZE];
    static int8_t out[KWS_OUTPUT_SIZE];
    FILE *fi = fopen(argv[1], "rb");
    FILE *fo = fopen(argv[2], "wb");
    (void)argc;
    while (fread(in, 1, sizeof in, fi) == sizeof in) {
        if (kws_run(in, out) != 0) {
            return 1;
        }
        fwrite(out, 1, sizeof out, fo);
    }
    fclose(fi);
    fclose(fo);
    return 0;
}
"""
APP = """cmake_minimum_required(VERSION 3.15)
project(app C)
add_subdirectory({export} kws)
add_executable(app main.c)
target_link_libraries(app kws)
"""


@pytest.fixture(scope="module")
def kws(tmp_path_factory) -> CompiledModel:
    out = tmp_path_factory.mktemp("export") / "kws"
    return compile_model(model_path("kws_ref_model"), out, CompileOptions(
        board="nucleo-l4r5zi", name="kws",
        export=["cmake", "make", "zephyr", "arduino", "platformio"]))


def _run(cmd: list[str], cwd: Path) -> str:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_cmake_export_builds_with_gcc_and_runs_bit_exact(kws: CompiledModel, tmp_path) -> None:
    cmake = require_tool("cmake")
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.c").write_text(MAIN)
    (app / "CMakeLists.txt").write_text(APP.format(export=kws.folder / "export" / "cmake"))
    _run([cmake, "-S", str(app), "-B", str(app / "build"), "-DCMAKE_C_COMPILER=gcc"], app)
    _run([cmake, "--build", str(app / "build")], app)
    x, expected = tflm_vectors("kws_ref_model")
    (tmp_path / "x.bin").write_bytes(x.astype(np.int8).tobytes())
    _run([str(app / "build" / "app"), str(tmp_path / "x.bin"), str(tmp_path / "y.bin")], app)
    got = np.frombuffer((tmp_path / "y.bin").read_bytes(), np.int8).reshape(expected.shape)
    assert np.count_nonzero(got != expected) == 0


@pytest.mark.qemu
def test_cmake_export_builds_with_arm_gcc_and_the_board_toolchain(kws: CompiledModel,
                                                                 tmp_path) -> None:
    cmake = require_tool("cmake")
    require_tool("arm-none-eabi-gcc")
    export = kws.folder / "export" / "cmake"
    toolchain = export / "toolchain-nucleo-l4r5zi.cmake"
    assert "-mcpu=cortex-m4" in toolchain.read_text()
    build = tmp_path / "build"
    _run([cmake, "-S", str(export), "-B", str(build), f"-DCMAKE_TOOLCHAIN_FILE={toolchain}"],
         tmp_path)
    _run([cmake, "--build", str(build)], tmp_path)
    runtime, model = build / "libeffc_runtime.a", build / "libkws.a"
    assert runtime.is_file() and model.is_file()
    dump = _run([require_tool("arm-none-eabi-objdump"), "-d", str(runtime)], tmp_path)
    assert "file format elf32-littlearm" in dump
    assert "smlad" in dump  # the core's flags turned the DSP paths on
    # the model's shifted WIDE2 records take the one-shift loops (SMMLA, no SMMLAR + ASR)
    loop = dump.split("<effc_mm_2x4_wide>:")[1].split("\n\n")[0]
    assert "smmla\t" in loop and "smmlar" not in loop


def test_every_export_carries_the_definitions_the_records_need(kws: CompiledModel) -> None:
    """KWS's WIDE2 records are scaled for EFFC_WIDE2_RQ_SHIFT: every build file passes it
    (without it the runtime reads them exactly but on the C path, ~48x the instructions)."""
    definitions = kws.manifest["c"]["library_definitions"]
    assert definitions == ["EFFC_WIDE2_RQ_SHIFT=9"]
    export = kws.folder / "export"
    assert "EFFC_CFLAGS = -std=c99 -I. -DEFFC_WIDE2_RQ_SHIFT=9\n" in (
        export / "make/Makefile").read_text()
    assert "target_compile_definitions(effc_runtime PRIVATE EFFC_WIDE2_RQ_SHIFT=9)" in (
        export / "cmake/CMakeLists.txt").read_text()
    assert "zephyr_library_compile_definitions(EFFC_WIDE2_RQ_SHIFT=9)" in (
        export / "zephyr/kws/CMakeLists.txt").read_text()
    lib = json.loads((export / "platformio/kws/library.json").read_text())
    assert lib["build"]["flags"] == ["-DEFFC_WIDE2_RQ_SHIFT=9"]
    header = (export / "arduino/kws/src/effc_mm_internal.h").read_text()
    assert header.startswith("#define EFFC_WIDE2_RQ_SHIFT 9\n")


TWO_MODELS = """cmake_minimum_required(VERSION 3.15)
project(app C)
add_subdirectory({first} first)
add_subdirectory({second} second)
"""


def test_cmake_warns_when_a_model_joins_a_runtime_without_its_definitions(
        kws: CompiledModel, tmp_path) -> None:
    """Two models in one CMake project share the first one's effc_runtime: KWS added after
    a model that needs no definitions (a size build) would run its shifted WIDE2 layers
    on the C path, and configuring says so; added first, it does not."""
    cmake = require_tool("cmake")
    size = compile_model(model_path("ad01_int8"), tmp_path / "ad", CompileOptions(
        board="nucleo-l4r5zi", name="ad", optimize="size"))
    assert size.manifest["c"]["library_definitions"] == []
    warnings = {}
    for order, (first, second) in {"size first": (size, kws), "kws first": (kws, size)}.items():
        app = tmp_path / order.replace(" ", "-")
        app.mkdir()
        (app / "CMakeLists.txt").write_text(TWO_MODELS.format(
            first=first.folder / "c", second=second.folder / "c"))
        r = subprocess.run([cmake, "-S", str(app), "-B", str(app / "build"),
                            "-DCMAKE_C_COMPILER=gcc"], cwd=app, capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        warnings[order] = r.stderr
    assert "kws: the shared effc_runtime (defined by an earlier model) is built without" \
        in " ".join(warnings["size first"].split())
    assert "EFFC_WIDE2_RQ_SHIFT=9" in warnings["size first"]
    assert "effc_runtime" not in warnings["kws first"]


def test_make_export_keeps_its_flags_under_user_cflags(kws: CompiledModel, tmp_path) -> None:
    make = require_tool("make")
    folder = tmp_path / "make"
    shutil.copytree(kws.folder / "export" / "make", folder)
    out = _run([make, "CC=gcc", "CFLAGS=-O3"], folder)
    assert "-O3" in out and "-std=c99 -I. -DEFFC_WIDE2_RQ_SHIFT=9" in out
    assert (folder / "libkws.a").is_file() and (folder / "libeffc_runtime.a").is_file()


@pytest.mark.qemu
def test_make_export_with_board_mk_cross_compiles(kws: CompiledModel, tmp_path) -> None:
    make = require_tool("make")
    require_tool("arm-none-eabi-gcc")
    folder = tmp_path / "make"
    shutil.copytree(kws.folder / "export" / "make", folder)
    out = _run([make, "-f", "Makefile", "-f", "board.mk", "libkws.a"], folder)
    assert "arm-none-eabi-gcc" in out and "-mcpu=cortex-m4" in out


def test_zephyr_arduino_and_platformio_exports_have_their_files(kws: CompiledModel) -> None:
    export = kws.folder / "export"
    module = yaml.safe_load((export / "zephyr/kws/zephyr/module.yml").read_text())
    assert module == {"name": "kws", "build": {"cmake": ".", "kconfig": "Kconfig"}}
    assert "config EFFC_KWS\n\tbool" in (export / "zephyr/kws/Kconfig").read_text()
    cmake = (export / "zephyr/kws/CMakeLists.txt").read_text()
    sources = sorted(p.name for p in (export / "zephyr/kws/src").glob("*.c"))
    assert all(f"src/{s}" in cmake for s in sources) and "zephyr_library_named(kws)" in cmake
    props = dict(line.split("=", 1) for line in
                 (export / "arduino/kws/library.properties").read_text().splitlines())
    for key in ("name", "version", "author", "maintainer", "sentence", "paragraph",
                "category", "architectures"):
        assert props[key], key
    assert "url" in props  # effc has no project page yet: the field is there, empty
    assert props["name"] == "kws" and props["includes"] == "kws.h"
    assert (export / "arduino/kws/src/kws.h").is_file()
    assert (export / "arduino/kws/src/effc_nn.h").is_file()
    lib = json.loads((export / "platformio/kws/library.json").read_text())
    assert lib["name"] == "kws" and lib["build"]["srcDir"] == "src"
    assert (export / "platformio/kws/src/kws.c").is_file()
    assert kws.manifest["exports"]["zephyr"] == "export/zephyr"


def test_unknown_export_is_refused(tmp_path) -> None:
    from effc.errors import EffcError

    with pytest.raises(EffcError, match="--export mbed is not known; choose one of cmake, make"):
        compile_model(model_path("kws_ref_model"), tmp_path / "o",
                      CompileOptions(board="mps2-an386", export=["mbed"]))

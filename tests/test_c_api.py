"""The generated C API as an integrator uses it: --arena user (a context and the caller's
arena), placement macros, model-prefixed names, two models in one firmware under QEMU."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import cffi
import numpy as np
import pytest

from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.engines.qemu import run_qemu
from effc.errors import EffcError
from effc.toolchain.firmware import build_firmware
from effc.toolchain.host import build_shared
from tests.c_models import model_path, tflm_vectors
from tests.conftest_c import require_tool

_CACHE: dict[tuple[str, str], CompiledModel] = {}
TWO = {"kws": "kws_ref_model", "ad": "ad01_int8"}  # C name -> shared model


def _compiled(tmp_factory: pytest.TempPathFactory, name: str, arena: str) -> CompiledModel:
    if (name, arena) not in _CACHE:
        out = tmp_factory.mktemp(f"{name}-{arena}")
        _CACHE[name, arena] = compile_model(
            model_path(TWO[name]), out / name,
            CompileOptions(board="mps2-an386", name=name, arena=arena))
    return _CACHE[name, arena]


def _pad(n: int) -> int:
    return -(-n // 4) * 4


ENTRY = """#include <stdint.h>
#include "effc_model.h"
#include "kws.h"
#include "ad.h"

int effc_model_entry(const int8_t *in, int8_t *out);
{arena}
/* Both models on one inference: KWS's input then AD's, each 4-byte aligned. */
int effc_model_entry(const int8_t *in, int8_t *out)
{{
{init}    int status = kws_run({kws}in, out);
    if (status != 0) {{
        return status;
    }}
    return ad_run({ad}in + {kws_in}, out + {kws_out});
}}
"""
SHARED_ARENA = """
#define SHARED_BYTES (KWS_ARENA_BYTES > AD_ARENA_BYTES ? KWS_ARENA_BYTES : AD_ARENA_BYTES)
static uint8_t arena[SHARED_BYTES] KWS_ALIGNED(16); /* one arena for both models */
"""
SHARED_INIT = """    kws_ctx kws;
    ad_ctx ad;
    if (kws_init(&kws, arena, sizeof arena) != 0 || ad_init(&ad, arena, sizeof arena) != 0) {
        return -100;
    }
"""


@pytest.mark.qemu
@pytest.mark.parametrize("arena", ["static", "user"])
def test_two_models_link_into_one_firmware_and_run_bit_exact(tmp_path_factory, tmp_path,
                                                             arena: str) -> None:
    """KWS and the AD autoencoder, each compiled alone, linked together with one copy of
    the runtime; with --arena user both share one arena. Both match TFLite Micro."""
    models = {name: _compiled(tmp_path_factory, name, arena) for name in TWO}
    folder = tmp_path / "app"
    folder.mkdir()
    for model in models.values():
        for src in (model.folder / "c").iterdir():
            if src.suffix not in (".c", ".h"):
                continue
            if (folder / src.name).exists():  # the runtime: one copy, the same bytes
                assert (folder / src.name).read_bytes() == src.read_bytes(), src.name
            shutil.copy(src, folder / src.name)
    x = {name: tflm_vectors(TWO[name]) for name in TWO}
    sizes = {name: (int(x[name][0][0].size), int(x[name][1][0].size)) for name in TWO}
    kws_in, kws_out = _pad(sizes["kws"][0]), _pad(sizes["kws"][1])
    in_bytes, out_bytes = kws_in + sizes["ad"][0], kws_out + sizes["ad"][1]
    (folder / "effc_model.h").write_text(
        f"#define EFFC_MODEL_INPUT_SIZE {in_bytes}u\n#define EFFC_MODEL_OUTPUT_SIZE "
        f"{out_bytes}u\n#define EFFC_MODEL_ENTRY effc_model_entry\n")
    user = arena == "user"
    (folder / "two_models.c").write_text(ENTRY.format(
        arena=SHARED_ARENA if user else "", init=SHARED_INIT if user else "",
        kws="&kws, " if user else "", ad="&ad, " if user else "", kws_in=kws_in,
        kws_out=kws_out))
    fw = build_firmware(folder, "mps2-an386", tmp_path / "fw", runtime=False)
    samples = 4
    blob = bytearray()
    for i in range(samples):
        one = bytearray(in_bytes)
        one[:sizes["kws"][0]] = x["kws"][0][i].astype(np.int8).tobytes()
        one[kws_in:] = x["ad"][0][i].astype(np.int8).tobytes()
        blob += one
    run = run_qemu(fw.elf, "mps2-an386", bytes(blob), out_bytes)
    got = np.frombuffer(run.outputs, np.int8).reshape(samples, out_bytes)
    kws_got = got[:, :sizes["kws"][1]]
    ad_got = got[:, kws_out:]
    assert np.count_nonzero(kws_got != x["kws"][1][:samples].reshape(samples, -1)) == 0
    assert np.count_nonzero(ad_got != x["ad"][1][:samples].reshape(samples, -1)) == 0
    nm = subprocess.run([require_tool("arm-none-eabi-nm"), str(fw.elf)], capture_output=True,
                        text=True, check=True).stdout
    symbols = {line.split()[-1] for line in nm.splitlines() if line.split()[1:2] == ["T"]}
    assert {"kws_run", "ad_run"} <= symbols
    assert ({"kws_init", "ad_init"} <= symbols) == user
    print(f"{arena}: KWS + AD in one firmware, flash {fw.flash_bytes}, RAM {fw.ram_bytes}, "
          f"{run.instructions} instructions for both; 0 differing values")


def _load(model: CompiledModel, extra_flags: list[str] | None = None) -> tuple[cffi.FFI, object]:
    c = model.folder / "c"
    info = model.manifest["c"]
    so = build_shared([c / s for s in info["sources"]],
                      ["-O2", f"-I{c}", *(extra_flags or [])], f"capi-{info['name']}")
    ffi = cffi.FFI()
    ffi.cdef(f"typedef struct {{ uint8_t *arena; }} {info['context']};\n"
             f"int {info['init']}({info['context']} *, void *, uint32_t);\n"
             f"int {info['entry']}({info['context']} *, const int8_t *, int8_t *);")
    return ffi, ffi.dlopen(str(so))


def test_user_arena_init_checks_size_and_alignment(tmp_path_factory) -> None:
    model = _compiled(tmp_path_factory, "kws", "user")
    size = model.manifest["memory"]["arena_bytes"]
    header = (model.folder / "c" / "kws.h").read_text()
    assert f"#define KWS_ARENA_BYTES {size}u" in header
    assert "#define KWS_ARENA_MIN_ALIGN 16u" in header
    ffi, lib = _load(model)
    block = ffi.new("uint8_t[]", size + 32)
    base = block + (-int(ffi.cast("uintptr_t", block)) % 16)
    ctx = ffi.new("kws_ctx *")
    assert lib.kws_init(ctx, base + 4, size) == -1  # misaligned
    assert lib.kws_init(ctx, base, size - 1) == -1  # too small
    assert lib.kws_init(ctx, ffi.NULL, size) == -1
    assert ctx.arena == ffi.NULL  # refused: unchanged
    assert lib.kws_init(ctx, base, size) == 0 and ctx.arena == base


def test_user_arena_calls_are_reentrant_across_contexts(tmp_path_factory) -> None:
    """Four threads, each with its own context and arena, run KWS at the same time (cffi
    releases the GIL during the call); every output matches TFLite Micro."""
    model = _compiled(tmp_path_factory, "kws", "user")
    ffi, lib = _load(model)
    x, expected = tflm_vectors("kws_ref_model")
    size = model.manifest["memory"]["arena_bytes"]
    failures: list[str] = []

    def worker(k: int) -> None:
        block = ffi.new("uint8_t[]", size + 16)
        ctx = ffi.new("kws_ctx *")
        lib.kws_init(ctx, block + (-int(ffi.cast("uintptr_t", block)) % 16), size)
        for rep in range(25):
            i = (k * 5 + rep) % len(x)
            xi = np.ascontiguousarray(x[i], np.int8)
            y = np.zeros(expected[i].shape, np.int8)
            status = lib.kws_run(ctx, ffi.cast("const int8_t *", xi.ctypes.data),
                                 ffi.cast("int8_t *", y.ctypes.data))
            if status != 0 or not np.array_equal(y, expected[i]):
                failures.append(f"thread {k} sample {i}: status {status}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def _sections(obj: Path) -> dict[str, int]:
    out = subprocess.run([require_tool("arm-none-eabi-size"), "-A", "-d", str(obj)],
                         capture_output=True, text=True, check=True).stdout
    return {p[0]: int(p[1]) for p in (ln.split() for ln in out.splitlines())
            if len(p) >= 2 and p[0].startswith(".") and p[1].isdigit()}


@pytest.mark.qemu
def test_placement_macros_move_weights_and_arena(tmp_path_factory, tmp_path) -> None:
    model = _compiled(tmp_path_factory, "kws", "static")
    c = model.folder / "c"
    gcc = require_tool("arm-none-eabi-gcc")
    base = [gcc, "-mcpu=cortex-m4", "-mthumb", "-O2", "-std=c99", f"-I{c}", "-c",
            str(c / "kws.c")]
    obj = tmp_path / "kws.o"
    subprocess.run([*base, "-o", str(obj), '-DKWS_WEIGHTS_SECTION=".ext_flash"',
                    '-DKWS_ARENA_SECTION=".dtcm"', "-DKWS_ARENA_ALIGN=64"], check=True)
    sections = _sections(obj)
    assert sections[".ext_flash"] == pytest.approx(model.manifest["memory"]["constant_bytes"],
                                                   rel=0.05)
    assert sections[".dtcm"] == model.manifest["memory"]["arena_bytes"]
    symtab = subprocess.run([require_tool("arm-none-eabi-readelf"), "-s", "-S", str(obj)],
                            capture_output=True, text=True, check=True).stdout
    assert "kws_arena" in symtab
    dtcm = next(ln for ln in symtab.splitlines() if " .dtcm " in ln)
    assert dtcm.split()[-1] == "64"  # the section's alignment follows KWS_ARENA_ALIGN
    bad = subprocess.run([*base, "-o", str(tmp_path / "bad.o"), "-DKWS_WEIGHTS_ALIGN=2"],
                         capture_output=True, text=True)
    assert bad.returncode != 0
    assert "KWS_WEIGHTS_ALIGN must be a power of two, at least 4" in bad.stderr


def test_every_generated_library_file_and_symbol_is_prefixed(tmp_path_factory) -> None:
    """The library folder holds the model's files (named after it) and effc's runtime
    (effc_*): nothing else; the glue to effc's harness lives with the harness."""
    model = _compiled(tmp_path_factory, "kws", "user")
    c = model.folder / "c"
    for f in c.iterdir():
        assert f.name.startswith(("kws.", "effc_")) or f.name in ("Makefile",
                                                                  "CMakeLists.txt"), f.name
    assert (model.folder / "firmware" / "src" / "effc_model_entry.c").is_file()
    gcc = shutil.which("gcc")
    assert gcc is not None
    obj = model.folder.parent / "kws_host.o"
    subprocess.run([gcc, "-O1", "-std=c99", f"-I{c}", "-c", str(c / "kws.c"), "-o", str(obj)],
                   check=True)
    nm = subprocess.run(["nm", "-g", "--defined-only", str(obj)], capture_output=True,
                        text=True, check=True).stdout
    exported = sorted(ln.split()[-1] for ln in nm.splitlines() if ln.strip())
    assert exported == ["kws_init", "kws_run"]


def test_arena_option_is_refused_where_it_means_nothing(tmp_path) -> None:
    with pytest.raises(EffcError, match="--arena is an option of the c target: add --board"):
        compile_model(model_path("kws_ref_model"), tmp_path / "o", CompileOptions(arena="user"))
    with pytest.raises(EffcError, match="--arena bogus is not known; choose one of static, "
                                        "user"):
        compile_model(model_path("kws_ref_model"), tmp_path / "o",
                      CompileOptions(board="mps2-an386", arena="bogus"))

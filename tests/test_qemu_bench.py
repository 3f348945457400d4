"""Instruction counts of the DSP kernels on Cortex-M4 (mps2-an386, exact counts).

A hand-written int8 MLPerf Tiny KWS DS-CNN (random weights, realistic
requantization) plus a 640->128 dense layer, one EFFC_LAYER marker per
layer, with prepared requantization records as the code generator emits
them: at "speed" the convolutions and dense layers take the wide (int16)
weight layouts, at "size" the int8 rows. Checks the outputs against the host
build and the effc.quant.int8 chain, then the instructions per MAC against
the budgets. Run with -s to see the tables:
.venv/bin/python -m pytest tests/test_qemu_bench.py -s
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from effc.quant import int8 as q8
from effc.quant.int8_pool import avg_pool_int8
from tests.conftest_c import RUNTIME_C, _c_array, rand_i8, rand_quant, require_tool
from tests.prepared_cases import LAYOUTS, channel_records, wide_filter

FIRMWARE = Path(__file__).resolve().parents[1] / "effc" / "firmware"
KWS_MACS = 2_656_768


@dataclass
class Layer:
    name: str
    kind: str  # conv, dw, pw, pool, fc, softmax
    macs: int
    arrays: dict[str, np.ndarray]
    c: str  # the C statement (uses the layer's arrays as <name>_<key>)


def _prepared(name: str, wt: np.ndarray, b: np.ndarray, m: np.ndarray, s: np.ndarray,
              layout: str) -> tuple[dict[str, np.ndarray], str, str, str]:
    """Arrays, quant initializer, weight and bias arguments of a prepared layer."""
    arrays = {"w": wt, "rq": channel_records(wt, b, m, s, -128, -128)}
    quant = f"{{NULL, NULL, (const effc_channel_rq *){name}_rq}}"
    if layout == "s8":
        return arrays, quant, f"{name}_w", "NULL"
    arrays["wide"] = wide_filter(layout, wt, arrays["rq"], -128)
    return arrays, quant, f"{name}_wide", "NULL"


def _conv(name: str, rng: np.random.Generator, kind: str, shape: tuple[int, int, int],
          cout: int, k: tuple[int, int], stride: int, pads: tuple[int, int, int, int],
          src: str, dst: str, layout: str) -> tuple[Layer, tuple[int, int, int]]:
    h, w, cin = shape
    dw = kind == "dw"
    kin = 1 if dw else cin
    wt = rand_i8(rng, (cout, k[0], k[1], kin), -127, 127)
    m, s = rand_quant(rng, cout, 0.01 / np.sqrt(k[0] * k[1] * kin))
    b = rng.integers(-2000, 2000, cout).astype(np.int32)
    oh = (h + pads[0] + pads[2] - k[0]) // stride + 1
    ow = (w + pads[1] + pads[3] - k[1]) // stride + 1
    arrays, quant, warg, barg = _prepared(name, wt, b, m, s, "s8" if dw else layout)
    ptype = "effc_dw_conv_params" if dw else "effc_conv_params"
    extra = ".depth_multiplier = 1, " if dw else f".filter_layout = {LAYOUTS[layout]}, "
    fn = "effc_dw_conv_s8" if dw else "effc_conv_s8"
    size = "effc_dw_conv_s8_scratch_size" if dw else "effc_conv_s8_scratch_size"
    c = f"""{{
        const {ptype} p = {{.stride_h = {stride}, .stride_w = {stride}, .pad_top = {pads[0]},
            .pad_left = {pads[1]}, .dilation_h = 1, .dilation_w = 1, {extra}
            .input_zero_point = -128, .output_zero_point = -128,
            .activation_min = -128, .activation_max = 127}};
        const effc_per_channel_quant q = {quant};
        const effc_dims di = {{1, {h}, {w}, {cin}}}, f = {{{cout}, {k[0]}, {k[1]}, {kin}}},
            o = {{1, {oh}, {ow}, {cout}}};
        effc_scratch s = {{scratch, {size}(&p, &di, &f, &o)}};
        if (s.size > sizeof scratch) return -1;
        rc |= {fn}(&s, &p, &q, &di, {src}, &f, {warg}, {barg}, &o, {dst});
    }}"""
    macs = oh * ow * cout * k[0] * k[1] * kin
    return Layer(name, kind, macs, {**arrays, "m": m, "s": s, "b": b}, c), (oh, ow, cout)


def _fc(name: str, rng: np.random.Generator, fin: int, fout: int, src: str, dst: str,
        layout: str) -> Layer:
    wt = rand_i8(rng, (fout, fin), -127, 127)
    m, s = rand_quant(rng, fout, 0.01 / np.sqrt(fin))
    b = rng.integers(-2000, 2000, fout).astype(np.int32)
    arrays, quant, warg, barg = _prepared(name, wt, b, m, s,
                                          "wide4" if layout != "s8" else "s8")
    c = f"""{{
        const effc_dense_params p = {{-128, -128, -128, 127, {LAYOUTS["wide4"] if layout != "s8" else 0}}};
        const effc_per_channel_quant q = {quant};
        const effc_dense_dims d = {{1, {fin}, {fout}}};
        effc_scratch s = {{scratch, effc_dense_s8_scratch_size(&p, &d)}};
        rc |= effc_dense_per_channel_s8(&s, &p, &q, &d, {src}, {warg}, {barg}, {dst});
    }}"""
    return Layer(name, "fc", fin * fout, {**arrays, "m": m, "s": s, "b": b}, c)


def kws_layers(seed: int = 0, layout: str = "wide2") -> list[Layer]:
    """DS-CNN (MLPerf Tiny KWS) on a 49x10x1 input, then the 640->128 dense;
    ``layout`` "wide2" (speed) or "s8" (size)."""
    rng = np.random.default_rng(seed)
    layers, shape = [], (49, 10, 1)
    first, shape = _conv("conv1", rng, "conv", shape, 64, (10, 4), 2, (4, 1, 5, 1), "in", "a",
                         layout)
    layers.append(first)
    for i in range(4):
        dw, shape = _conv(f"dw{i}", rng, "dw", shape, 64, (3, 3), 1, (1, 1, 1, 1), "a", "b",
                          layout)
        pw, shape = _conv(f"pw{i}", rng, "pw", shape, 64, (1, 1), 1, (0, 0, 0, 0), "b", "a",
                          layout)
        layers += [dw, pw]
    layers.append(Layer("avgpool", "pool", 0, {}, """{
        const effc_pool_params p = {.filter_h = 25, .filter_w = 5, .stride_h = 25,
            .stride_w = 5, .dilation_h = 1, .dilation_w = 1, .activation_min = -128,
            .activation_max = 127};
        const effc_dims di = {1, 25, 5, 64}, o = {1, 1, 1, 64};
        rc |= effc_avg_pool_s8(&p, &di, a, &o, b);
    }"""))
    layers.append(_fc("fc", rng, 64, 12, "b", "a", layout))
    layers.append(Layer("softmax", "softmax", 0, {}, """{
        const effc_softmax_params p = {1518500250, 22, -248};
        rc |= effc_softmax_s8(&p, 1, 12, a, out);
    }"""))
    layers.append(_fc("fc640", rng, 640, 128, "in640", "b", layout))
    return layers


def kws_model_c(layers: list[Layer]) -> str:
    arrays = "".join(_c_array(f"{ly.name}_{k}", v) for ly in layers for k, v in ly.arrays.items())
    body = "\n".join(f"    EFFC_LAYER({i});\n    {ly.c}" for i, ly in enumerate(layers))
    return f"""#include <stdint.h>
#include "effc_firmware.h"
#include "effc_model.h"
#include "effc_nn.h"
#define EFFC_ALIGN4 __attribute__((aligned(4), unused))
{arrays}
static int8_t a[8000] __attribute__((aligned(4)));
static int8_t b[8000] __attribute__((aligned(4)));
static int32_t scratch[1024];
int model_run(const int8_t *in, int8_t *out)
{{
    const int8_t *in640 = a; /* the 640 -> 128 layer reads 640 bytes of activations */
    int rc = 0;
{body}
    (void)in640;
    return rc;
}}
"""


def kws_reference(layers: list[Layer], x: np.ndarray) -> np.ndarray:
    """The same network through effc.quant.int8 (the TFLM model)."""
    y = x.reshape(1, 49, 10, 1)
    for ly in layers[:9]:
        a = ly.arrays
        pads = [4, 1, 5, 1] if ly.kind == "conv" else ([1, 1, 1, 1] if ly.kind == "dw" else None)
        y = q8.conv_int8(y, a["w"], a["b"], strides=[2, 2] if ly.kind == "conv" else [1, 1],
                         pads=pads, group=64 if ly.kind == "dw" else 1, input_zero_point=-128,
                         output_zero_point=-128, multiplier=a["m"], shift=a["s"])
    y = avg_pool_int8(y, [25, 5], [25, 5]).reshape(1, 64)
    fc = layers[10].arrays
    y = q8.dense_int8(y, fc["w"], fc["b"], input_zero_point=-128, output_zero_point=-128,
                      multiplier=fc["m"], shift=fc["s"])
    return q8.softmax_int8(y, q8.SoftmaxParams(1518500250, 22, -248)).reshape(-1)


def _write_model(folder: Path, layers: list[Layer]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.c").write_text(kws_model_c(layers))
    (folder / "effc_model.h").write_text(
        "#define EFFC_MODEL_INPUT_SIZE 490\n#define EFFC_MODEL_OUTPUT_SIZE 12\n")


def _host_run(folder: Path, x: np.ndarray) -> np.ndarray:
    import cffi

    so = folder / "libkws.so"
    subprocess.run(["gcc", "-std=c99", "-O2", "-shared", "-fPIC", f"-I{folder}",
                    f"-I{RUNTIME_C}", f"-I{FIRMWARE}", str(folder / "model.c"),
                    *map(str, sorted(RUNTIME_C.glob("*.c"))), "-o", str(so)], check=True)
    ffi = cffi.FFI()
    ffi.cdef("int model_run(const int8_t *in, int8_t *out);")
    lib = ffi.dlopen(str(so))
    out = np.zeros(12, np.int8)
    xi = np.ascontiguousarray(x)
    assert lib.model_run(ffi.from_buffer("int8_t[]", xi), ffi.from_buffer("int8_t[]", out)) == 0
    return out


@pytest.mark.parametrize("layout", ["wide2", "s8"], ids=["speed", "size"])
def test_kws_ds_cnn_instructions_per_mac(layout: str, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    from effc.engines.qemu import run_qemu
    from effc.toolchain.firmware import build_firmware

    layers = kws_layers(layout=layout)
    assert sum(ly.macs for ly in layers[:-1]) == KWS_MACS
    _write_model(tmp_path / "model", layers)
    x = rand_i8(np.random.default_rng(1), (490,))
    fw = build_firmware(tmp_path / "model", "mps2-an386", tmp_path / "fw", profile=True)
    run = run_qemu(fw.elf, "mps2-an386", x.tobytes(), 12, profile=True)
    y = np.frombuffer(run.outputs, np.int8)
    np.testing.assert_array_equal(y, _host_run(tmp_path / "model", x))
    np.testing.assert_array_equal(y, kws_reference(layers, x))
    per = run.per_layer_instructions
    rows = [(ly.name, ly.macs, per[i]) for i, ly in enumerate(layers)]
    kws_instr = sum(n for _, _, n in rows[:-1]) + per.get(-1, 0)
    print(f"\n{'layer':<9}{'MACs':>10}{'instr':>11}{'instr/MAC':>11}")
    for name, macs, n in rows:
        print(f"{name:<9}{macs:>10,}{n:>11,}{n / macs if macs else 0:>11.3f}")
    print(f"KWS DS-CNN total: {KWS_MACS:,} MACs, {kws_instr:,} instructions, "
          f"{kws_instr / KWS_MACS:.3f} instr/MAC; stack {run.stack_bytes} B; "
          f"flash {fw.flash_bytes} B, static RAM {fw.ram_bytes} B")
    ipm = {name: n / macs for name, macs, n in rows if macs}
    assert ipm["conv1"] < 3.47  # reference library: 3.47
    assert max(ipm[f"dw{i}"] for i in range(4)) < 8.33  # 8.33
    assert max(ipm[f"pw{i}"] for i in range(4)) < 2.09  # 2.09
    assert ipm["fc640"] < 1.95  # 1.95
    assert kws_instr / KWS_MACS <= 2.95
    again = run_qemu(fw.elf, "mps2-an386", x.tobytes(), 12, profile=True)
    assert again.per_layer_instructions == per and again.instructions == run.instructions

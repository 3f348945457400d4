"""The RTL target: effc's Verilog accelerator, bit-exact under Verilator and Icarus.

Real models compile once per module (each compile's self-check already runs 8 inputs
through Verilator); the tests then compare with the integer reference and with
TFLite Micro's outputs, check the cycle model against the measured cycles, and the
KWS figures on icebreaker. The requantization unit alone is checked against the
reference's MultiplyByQuantizedMultiplier on edge and random vectors.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from effc.compiler import CompileOptions, compile_model
from effc.errors import EffcError
from effc.quant.fixedpoint import multiply_by_quantized_multiplier
from effc.reference import run_batches
from effc.toolchain.rtlsim import CORE
from tests.conftest import EXAMPLES, shared_models
from tests.conftest_c import require_tool

VERILOG = Path(__file__).resolve().parents[1] / "effc" / "codegen" / "rtl" / "verilog"
DIGITS = EXAMPLES / "digits" / "digits_cnn.onnx"
DIGITS_DATA = EXAMPLES / "digits" / "digits_data.npz"


@pytest.fixture(scope="module")
def tools() -> None:
    require_tool("verilator")
    require_tool("iverilog")


@pytest.fixture(scope="module")
def digits(tools, tmp_path_factory):
    return compile_model(DIGITS, tmp_path_factory.mktemp("rtl") / "digits",
                         CompileOptions(calib=f"{DIGITS_DATA}:x_calib", board="pynq-z2",
                                        target="rtl"))


@pytest.fixture(scope="module")
def kws(tools, tmp_path_factory):
    model = shared_models() / "mlperf-tiny" / "kws_ref_model.onnx"
    return compile_model(model, tmp_path_factory.mktemp("rtl") / "kws",
                         CompileOptions(board="icebreaker", target="rtl"))


@pytest.fixture(scope="module")
def resnet(tools, tmp_path_factory):
    model = shared_models() / "mlperf-tiny" / "pretrainedResnet_quant.onnx"
    return compile_model(model, tmp_path_factory.mktemp("rtl") / "resnet",
                         CompileOptions(board="pynq-z2", target="rtl"))


def _npz(name: str) -> dict[str, np.ndarray]:
    data = np.load(shared_models() / "mlperf-tiny" / f"{name}.npz")
    return {k: data[k] for k in data.files}


def test_self_check_ran_on_verilator(digits, kws) -> None:
    for compiled in (digits, kws):
        check = compiled.manifest["verification"]
        assert check["engine"] == "verilator" and check["differing_values"] == 0
        assert check["samples"] == 8


def test_digits_bit_exact_on_verilator_and_icarus(digits) -> None:
    x = np.load(DIGITS_DATA)["x_test"][:12]
    ref = run_batches(digits.graph, x)
    for engine in ("verilator", "icarus"):
        got = digits.run(engine, x)
        name = next(iter(ref))
        assert np.count_nonzero(got.values[name] != ref[name]) == 0, engine
        assert got.metrics["cycles"] > 0 and 0 < got.metrics["pe_utilization"] <= 1


@pytest.mark.parametrize("name", ["kws", "resnet"])
def test_mlperf_tiny_bit_exact_with_reference_and_tflite_micro(name, request) -> None:
    compiled = request.getfixturevalue(name)
    data = _npz("kws_ref_model" if name == "kws" else "pretrainedResnet_quant")
    count = 16 if name == "kws" else 4  # ResNet-8: 1.7 M cycles an inference
    x = data["inputs"][:count].reshape(count, *data["inputs"].shape[2:])
    got = compiled.run("verilator", x)
    y = got.outputs.reshape(count, -1)
    assert np.count_nonzero(y != run_batches(compiled.graph, x)[compiled.graph.outputs[0]]
                            .reshape(count, -1)) == 0
    assert np.count_nonzero(y != data["outputs"][:count].reshape(count, -1)) == 0


def test_kws_on_icebreaker_meets_the_cycle_and_utilization_targets(kws) -> None:
    x = _npz("kws_ref_model")["inputs"][:1].reshape(1, 49, 10, 1)
    got = kws.run("verilator", x, profile=True)
    m = got.metrics
    assert m["cycles"] <= 500_000, m["cycles"]
    info = kws.manifest["rtl"]
    assert info["arena_bytes"] <= info["arena_capacity"] == 12_288
    for layer in m["layers"]:
        if layer["kind"] in ("conv", "dense"):  # the 64 -> 12 dense layer: K-split
            assert layer["pe_utilization"] >= 0.70, layer
        if layer["kind"] == "depthwise":
            assert layer["pe_utilization"] >= 0.40, layer


@pytest.mark.parametrize("name", ["digits", "kws"])
def test_measured_cycles_match_the_schedule(name, request) -> None:
    """The report's per-layer prediction is the controller's exact cycle count
    (within 2 cycles a descriptor: fetch overlap of the last one)."""
    compiled = request.getfixturevalue(name)
    shape = compiled.graph.tensors[compiled.graph.inputs[0]].shape
    x = np.zeros(shape, np.float32 if name == "digits" else np.int8)
    got = compiled.run("verilator", x, profile=True)
    for layer in got.metrics["layers"]:
        assert abs(layer["cycles"] - layer["predicted_cycles"]) <= 2, layer
    assert abs(got.metrics["cycles"] - got.metrics["predicted_cycles"]) <= 16


def test_the_report_has_the_schedule(kws) -> None:
    text = (kws.folder / "report.md").read_text()
    assert "## Accelerator schedule" in text and "predicted cycles" in text
    assert "depthwise" in text and "on the host: " in text


RQ_TB = """
module rq_tb;
    reg clk = 0; reg v = 0; reg [31:0] x, m; reg [4:0] l, r; reg [7:0] zp, lo, hi;
    wire ov, rv; wire [7:0] y; wire [31:0] raw; wire [23:0] tag, rtag;
    effc_rq #(.TAGW(24)) dut(.clk(clk), .in_valid(v), .x(x), .m(m), .left(l), .right(r),
        .zp(zp), .amin(lo), .amax(hi), .tag(24'd0), .raw_valid(rv), .y_raw(raw),
        .raw_tag(rtag), .out_valid(ov), .y(y), .out_tag(tag));
    reg [31:0] vx [0:4095]; reg [31:0] vm [0:4095]; reg [15:0] vs [0:4095];
    integer i, n, fd, fy, got;
    always #5 clk = ~clk;
    initial begin
        $readmemh("vx.hex", vx); $readmemh("vm.hex", vm); $readmemh("vs.hex", vs);
        fd = $fopen("out.txt", "w"); fy = $fopen("y.txt", "w"); got = 0;
        if (!$value$plusargs("n=%d", n)) n = 0;
        zp = 8'd3; lo = -8'd100; hi = 8'd90;
        for (i = 0; i < n + 8; i = i + 1) begin
            @(negedge clk);
            v = i < n; x = vx[i % 4096]; m = vm[i % 4096]; l = vs[i % 4096][12:8];
            r = vs[i % 4096][4:0];
        end
        #20 $fclose(fd); $fclose(fy); $finish;
    end
    always @(posedge clk) if (rv) $fdisplay(fd, "%08x", raw);
    always @(posedge clk) if (ov) $fdisplay(fy, "%02x", y);
endmodule
"""


def test_requantizer_matches_multiply_by_quantized_multiplier(tools, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    edges = np.array([0, 1, -1, 2**31 - 1, -2**31, 2**30, -2**30, 12345, -12345], np.int64)
    xs = np.concatenate([np.repeat(edges, 8), rng.integers(-2**31, 2**31, 2000)])
    ms = np.concatenate([np.tile([2**30, 2**31 - 1, 1 << 30 | 12345, 1518500250, 0, 1,
                                  1073741825, 2147483000], len(edges)),
                         rng.integers(2**30, 2**31, 2000)])
    shifts = np.concatenate([np.tile([0, -1, -31, 1, 3, -7, -15, 2], len(edges)),
                             rng.integers(-31, 4, 2000)])
    n = xs.size
    (tmp_path / "vx.hex").write_text("".join(f"{int(v) & 0xFFFFFFFF:08x}\n" for v in xs))
    (tmp_path / "vm.hex").write_text("".join(f"{int(v):08x}\n" for v in ms))
    (tmp_path / "vs.hex").write_text("".join(
        f"{max(int(s), 0) << 8 | max(-int(s), 0):04x}\n" for s in shifts))
    (tmp_path / "tb.v").write_text(RQ_TB)
    subprocess.run(["iverilog", "-g2005", "-o", "tb.vvp", "tb.v", str(VERILOG / "effc_rq.v")],
                   cwd=tmp_path, check=True)
    subprocess.run(["vvp", "-n", "tb.vvp", f"+n={n}"], cwd=tmp_path, check=True,
                   capture_output=True)
    got = np.array([int(v, 16) for v in (tmp_path / "out.txt").read_text().split()],
                   np.uint32).view(np.int32)
    want = multiply_by_quantized_multiplier(xs, ms, shifts)
    assert got.size == n
    assert np.array_equal(got.astype(np.int64), want), np.nonzero(got != want)[0][:5]
    # the zero point (3) and the clamp (-100..90) on the int8 output
    y = np.array([int(v, 16) for v in (tmp_path / "y.txt").read_text().split()],
                 np.uint8).view(np.int8)
    assert np.array_equal(y.astype(np.int64), np.clip(want + 3, -100, 90))


MUL2_TB = """
module mul2_tb;
    reg clk = 0; reg [7:0] xa, wa, xb, wb; wire [15:0] pa, pb;
    integer i, j, bad;
    effc_mul2 dut(.clk(clk), .xa(xa), .wa(wa), .xb(xb), .wb(wb), .pa(pa), .pb(pb));
    initial begin
        bad = 0;
        for (i = -128; i < 128; i = i + 1)
            for (j = -128; j < 128; j = j + 1) begin
                // the two halves get different pairs: (i, j) and (j, -1 - i)
                xa = i; wa = j; xb = j; wb = -1 - i;
                #1 clk = 1; #1 clk = 0; #1 clk = 1; #1 clk = 0;
                if ($signed(pa) !== i * j || $signed(pb) !== j * (-1 - i)) bad = bad + 1;
            end
        $display("pairs %0d differing %0d", 256 * 256, bad);
        $finish;
    end
endmodule
"""
ICE40_SIM = Path("/usr/share/yosys/ice40/cells_sim.v")


@pytest.mark.parametrize("ice40", [False, True], ids=["behavioural", "sb_mac16"])
def test_dual_8x8_multiplier_is_exact_on_every_operand_pair(tools, tmp_path: Path,
                                                            ice40: bool) -> None:
    """effc_mul2, both halves, all 65,536 signed int8 pairs: the simulation model, and the
    iCE40 build (one SB_MAC16, dual 8x8 signed) through yosys' SB_MAC16 model."""
    (tmp_path / "tb.v").write_text(MUL2_TB)
    extra = ["-DEFFC_ICE40", "-DNO_ICE40_DEFAULT_ASSIGNMENTS", str(ICE40_SIM)] if ice40 else []
    if ice40 and not ICE40_SIM.is_file():
        pytest.fail(f"{ICE40_SIM} is missing: run ./scripts/setup.sh (yosys)")
    subprocess.run(["iverilog", "-g2005", "-s", "mul2_tb", "-o", "tb.vvp", *extra, "tb.v",
                    str(VERILOG / "effc_mul2.v")], cwd=tmp_path, check=True)
    out = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=tmp_path, check=True,
                         capture_output=True, text=True).stdout
    assert "pairs 65536 differing 0" in out, out


def test_a_model_too_big_for_icebreaker_names_the_memory(tools, tmp_path: Path) -> None:
    model = shared_models() / "mlperf-tiny" / "pretrainedResnet_quant.onnx"
    with pytest.raises(EffcError, match=r"activation memory.*'icebreaker' has 12,288 B"):
        compile_model(model, tmp_path / "out", CompileOptions(board="icebreaker",
                                                              target="rtl"))


def test_an_op_the_accelerator_cannot_run_names_the_layer(tools, tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], np.eye(4, dtype=np.float32).ravel())
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"], name="fc"),
         helper.make_node("Sigmoid", ["h"], ["s"], name="gate"),
         helper.make_node("MatMul", ["s", "w"], ["y"], name="fc2")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    with pytest.raises(EffcError, match=r"layer 'gate' \(Sigmoid\) cannot run on the RTL"):
        compile_model(path, tmp_path / "out", CompileOptions(calib="random", board="pynq-z2",
                                                             target="rtl"))


def test_a_sum_beyond_icebreakers_24_bit_accumulators_names_the_layer(tools,
                                                                      tmp_path: Path) -> None:
    """iCE40 accumulators are 24-bit: a channel that can sum 1,024 x 127 x 128 is refused
    there in one line; pynq-z2's 32-bit accumulators take it (and the compile's
    self-check runs it bit-exact on Verilator)."""
    import onnx
    from onnx import TensorProto, helper

    w = np.sign(np.random.default_rng(0).standard_normal((1024, 4))).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1024])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor("w", TensorProto.FLOAT, [1024, 4], w.ravel())])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    with pytest.raises(EffcError, match=r"layer 'fc' \(Dense\) can sum up to 16,646,144 .*"
                                        r"24-bit accumulators"):
        compile_model(path, tmp_path / "ice", CompileOptions(calib="random", board="icebreaker",
                                                             target="rtl"))
    compile_model(path, tmp_path / "pynq", CompileOptions(calib="random", board="pynq-z2",
                                                          target="rtl"))


UART_TB = """
`timescale 1ns/1ps
module uart_tb;
    localparam DIV = 4;
    reg clk = 0; reg rx = 1; wire tx, led;
    effc_uart_top #(.P(8), .LP(3), .AW(16), .WAW(16), .PAW(8),
                    .BANK_DEPTH(8192), .DIV(DIV)) dut(.clk(clk), .rx(rx), .tx(tx), .led(led));
    always #5 clk = ~clk;
    reg [7:0] pre [0:1048575]; reg [7:0] post [0:15];
    integer npre, npost, i, b, fd, got, want;
    task send(input [7:0] v); begin
        rx = 0; repeat (DIV) @(posedge clk);
        for (b = 0; b < 8; b = b + 1) begin rx = v[b]; repeat (DIV) @(posedge clk); end
        rx = 1; repeat (DIV * 2) @(posedge clk);
    end endtask
    reg [7:0] r;
    task recv; begin
        @(negedge tx); repeat (DIV + DIV / 2) @(posedge clk);
        for (b = 0; b < 8; b = b + 1) begin r[b] = tx; repeat (DIV) @(posedge clk); end
        $fdisplay(fd, "%02x", r); got = got + 1;
    end endtask
    initial begin
        $readmemh("pre.hex", pre); $readmemh("post.hex", post);
        if (!$value$plusargs("npre=%d", npre) || !$value$plusargs("npost=%d", npost) ||
            !$value$plusargs("want=%d", want)) $finish;
        fd = $fopen("reply.hex", "w"); got = 0;
        repeat (10) @(posedge clk);
        for (i = 0; i < npre; i = i + 1) send(pre[i]);
        recv;                                  // 'D' when the run is done
        fork
            for (i = 0; i < npost; i = i + 1) send(post[i]);
            while (got < want) recv;
        join
        $fclose(fd); $finish;
    end
    initial begin #400000000; $display("TIMEOUT"); $finish; end
endmodule
"""


def _small_model(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(5)
    w = rng.normal(0, 0.3, (8, 1, 3, 3)).astype(np.float32)
    d = rng.normal(0, 0.3, (5, 8 * 3 * 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1],
                          strides=[2, 2]),
         helper.make_node("Relu", ["c"], ["r"], name="relu"),
         helper.make_node("Flatten", ["r"], ["f"], name="flat"),
         helper.make_node("Gemm", ["f", "d"], ["y"], name="fc", transB=1)], "small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel()),
         helper.make_tensor("d", TensorProto.FLOAT, d.shape, d.ravel())])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def test_uart_loader_runs_a_model_end_to_end(tools, tmp_path: Path) -> None:
    """Weights, program and input go in over the UART ('W', 'A'), 'S' runs it, 'R'
    reads the output back: the bytes equal the integer reference's."""
    _small_model(tmp_path / "m.onnx")
    compiled = compile_model(tmp_path / "m.onnx", tmp_path / "out",
                             CompileOptions(calib="random", board="pynq-z2", target="rtl"))
    info = compiled.manifest["rtl"]
    x = np.random.default_rng(1).standard_normal((1, 1, 6, 6)).astype(np.float32)
    from effc.engines.rtl import _run_nodes

    values = {"x": x}
    _run_nodes(compiled.graph, info["head"], values)
    xq = np.asarray(values[info["input"]["name"]], np.int8).reshape(-1)
    words = (tmp_path / "out" / info["program"]).read_text().split()
    pre = bytearray()
    for addr, word in enumerate(words):
        pre += b"W" + addr.to_bytes(2, "little") + int(word, 16).to_bytes(8, "little")
    pre += b"A" + info["input"]["addr"].to_bytes(2, "little") + \
        xq.size.to_bytes(2, "little") + xq.tobytes() + b"S"
    post = b"R" + info["output"]["addr"].to_bytes(2, "little") + \
        info["output"]["size"].to_bytes(2, "little")
    (tmp_path / "pre.hex").write_text("".join(f"{b:02x}\n" for b in pre))
    (tmp_path / "post.hex").write_text("".join(f"{b:02x}\n" for b in post))
    (tmp_path / "tb.v").write_text(UART_TB)
    sources = [str(VERILOG / f) for f in ("effc_uart_top.v", *CORE)]
    subprocess.run(["iverilog", "-g2005", "-o", "tb.vvp", "-s", "uart_tb", "tb.v", *sources],
                   cwd=tmp_path, check=True, capture_output=True)
    want = info["output"]["size"]
    run = subprocess.run(["vvp", "-n", "tb.vvp", f"+npre={len(pre)}", f"+npost={len(post)}",
                          f"+want={want + 1}"], cwd=tmp_path, capture_output=True, text=True,
                         check=True)
    assert "TIMEOUT" not in run.stdout
    reply = [int(v, 16) for v in (tmp_path / "reply.hex").read_text().split()]
    assert reply[0] == ord("D")
    got = np.array(reply[1:], np.uint8).view(np.int8)
    want_values = compiled.run("reference", x)
    values = {"x": x}
    _run_nodes(compiled.graph, [n.name for n in compiled.graph.nodes], values)
    ref = np.asarray(values[info["output"]["name"]], np.int8).reshape(-1)
    assert np.array_equal(got, ref)
    assert want_values.outputs.shape == (1, 5)


@pytest.mark.slow
def test_up5k_synthesis_and_place_and_route_fit_and_meet_24_mhz(tools, kws) -> None:
    """The whole flow on the UP5K (yosys synth_ice40 -dsp, nextpnr-ice40, icepack) for
    KWS's icebreaker build: it fits the part (logic cells, EBR, DSP, SPRAM) and nextpnr's
    fmax reaches the board's 24 MHz (seed 1); the bitstream and logs stay in OUTDIR/synth."""
    require_tool("yosys")
    require_tool("nextpnr-ice40")
    require_tool("icepack")
    proc = subprocess.run([str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "effc"),
                           "synth", str(kws.folder), "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    util = report["utilization"]
    for name, avail in (("lc", 5280), ("ebr", 30), ("dsp", 8), ("spram", 4)):
        assert util[name]["available"] == avail
        assert 0 < util[name]["used"] <= avail, (name, util[name])
    assert report["yosys_cells"]["SB_MAC16"] == 8
    assert report["fmax_mhz"] >= 24.0 and report["timing_met"], report["fmax_mhz"]
    assert (kws.folder / "synth" / "board.bin").stat().st_size > 100_000


@pytest.mark.slow
def test_pynq_z2_synthesis_reports_utilization_against_the_board(tools, digits) -> None:
    """yosys synth_xilinx (no place-and-route for AMD parts here): LUTs (logic and SRL
    shift registers), flip-flops, DSP48E1 and BRAM36 against the board file's budget."""
    require_tool("yosys")
    proc = subprocess.run([str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "effc"),
                           "synth", str(digits.folder), "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    cells, util = report["yosys_cells"], report["utilization"]
    assert {n: util[n]["available"] for n in util} == {"lut": 53200, "ff": 106400, "dsp": 220,
                                                       "bram36": 140}
    assert util["lut"]["used"] == sum(v for k, v in cells.items()
                                      if k.startswith(("LUT", "SRL")))
    assert util["dsp"]["used"] == cells["DSP48E1"] > 0
    assert all(0 < u["used"] <= u["available"] for u in util.values()), util


def test_rtl_commands_on_a_folder_without_verilog(tmp_path: Path) -> None:
    from tests.test_cli_errors import assert_one_line_error, effc

    out = str(tmp_path / "out")
    compile_model(DIGITS, out, CompileOptions(calib=f"{DIGITS_DATA}:x_calib"))
    x = tmp_path / "x.npy"
    np.save(x, np.load(DIGITS_DATA)["x_test"][:1])
    assert_one_line_error(effc("run", out, "--engine", "verilator", "--input", str(x),
                               "--output", str(tmp_path / "y.npy")),
                          "holds no RTL program", "--target rtl")
    assert_one_line_error(effc("synth", out), "holds no Verilog", "--target rtl")


def test_grouped_conv_wide_dense_and_an_nchw_input(tools, tmp_path: Path) -> None:
    """A grouped conv (a descriptor a group), a dense layer wider than the parameter RAM
    (two slices), and a 6-channel NCHW input whose transpose runs on the host."""
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(7)
    consts = {"wc": rng.normal(0, 0.3, (12, 2, 3, 3)), "w2": rng.normal(0, 0.3, (20, 12)),
              "w1": rng.normal(0, 0.2, (300, 20))}
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "wc"], ["c"], name="grouped", group=3,
                          pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["r"], name="relu"),
         helper.make_node("GlobalAveragePool", ["r"], ["p"], name="gap"),
         helper.make_node("Flatten", ["p"], ["f"], name="flat"),
         helper.make_node("Gemm", ["f", "w2"], ["h"], name="fc0", transB=1),
         helper.make_node("Gemm", ["h", "w1"], ["y"], name="wide", transB=1)], "wide",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 300])],
        [helper.make_tensor(k, TensorProto.FLOAT, v.shape, v.astype(np.float32).ravel())
         for k, v in consts.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              tmp_path / "m.onnx")
    calib = rng.standard_normal((16, 6, 5, 5)).astype(np.float32)
    compiled = compile_model(tmp_path / "m.onnx", tmp_path / "out",
                             CompileOptions(calib=calib, board="pynq-z2", target="rtl"))
    kinds = [d["kind"] for d in compiled.manifest["rtl"]["descriptors"]]
    assert kinds == ["conv"] * 3 + ["avgpool"] + ["dense"] * 3
    x = rng.standard_normal((5, 6, 5, 5)).astype(np.float32)
    got = compiled.run("verilator", x).outputs
    assert np.count_nonzero(got != run_batches(compiled.graph, x)["y"]) == 0

"""The RTL target: programs effc's own int8 accelerator (Verilog in ``verilog/``).

``emit`` plans the model onto the accelerator (``layers.plan_model``), checks the
board's memories, and writes under OUTDIR/rtl/: the Verilog (copied, so the folder
builds anywhere), the board top (jinja2: the UART loader with the board's sizes),
the program as ``program.hex`` ($readmemh, one weight word a line) and
``program.bin`` (the same words, little-endian, for the UART loader), and the
manifest section "rtl" (addresses, sizes, per-layer tiling and predicted cycles).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from effc.boards import Board, FpgaBoard
from effc.codegen import Target, register_target
from effc.codegen.rtl.layers import accepts, plan_model, predict
from effc.codegen.rtl.schedule import HwConfig
from effc.errors import EffcError
from effc.ir import Graph
from effc.outdir import OutDir
from effc.toolchain.rtlsim import CORE

HERE = Path(__file__).resolve().parent
VERILOG = [*CORE, "effc_uart_top.v", "tb_verilator.cpp", "tb_icarus.v"]
SYNTH_SOURCES = [*CORE, "effc_uart_top.v"]  # what a board build synthesizes (+ its top)
LANES = 8


def hw_config(board: Board) -> tuple[HwConfig, dict[str, int]]:
    """The accelerator for ``board``: (sizes the compiler checks, Verilog parameters)."""
    assert isinstance(board, FpgaBoard)
    if board.family.startswith("ice40"):
        # requantizer: 4 SB_MAC16; 8 lanes on the other 4 (dual 8x8); 24-bit accumulators
        # (the compiler bounds every channel's sum), 12-bit counters. Activations: 8 banks of
        # 3 EBR (1,536 B each); parameter RAM 5 EBR; weights and program in the 4 SPRAM.
        if board.dsp < 8 or board.ebr < 29 or board.spram < 4:
            raise EffcError(f"board '{board.name}' has {board.dsp} DSP, {board.ebr} EBR and "
                            f"{board.spram} SPRAM; the iCE40 accelerator needs 8, 29 and 4")
        bank = 1536
        params = {"P": LANES, "LP": 3, "AW": 14, "WAW": 14, "PAW": 8, "BANK_DEPTH": bank,
                  "ACCW": 24, "CW": 12}
        return HwConfig(LANES, LANES, LANES * bank, 1 << 14, acc_bits=24,
                        count_bits=12), params
    # AMD parts: every lane on a DSP; a 64 KiB arena (16 BRAM36), the parameter RAM (2),
    # and the weight words the other BRAM36 hold (512 words of 8 B each), a few spare
    words = min(1 << 16, max(0, board.bram36 - 24) * 512) // 1024 * 1024
    if words < 4096:
        raise EffcError(f"board '{board.name}' has {board.bram36} BRAM36; the accelerator "
                        "needs at least 32 for its memories")
    params = {"P": LANES, "LP": 3, "AW": 16, "WAW": 16, "PAW": 8, "BANK_DEPTH": 8192,
              "WDEPTH": words}
    return HwConfig(LANES, LANES, 1 << 16, words), params


def _check_fit(prog, hw: HwConfig, board: Board, graph: Graph) -> None:
    if prog.arena > hw.act_bytes:
        sizes = {n: graph.tensors[n].size for n in prog.offsets}
        big = max(sizes, key=lambda n: sizes[n])
        raise EffcError(f"the activations need {prog.arena:,} B of the accelerator's "
                        f"activation memory, and board '{board.name}' has {hw.act_bytes:,} B "
                        f"(largest tensor '{big}', {sizes[big]:,} B): use a smaller model or "
                        "a board with more block RAM")
    if len(prog.weight_words) > hw.weight_words:
        big = max(prog.layers, key=lambda lay: 0 if lay.weights is None else
                  lay.weights.shape[0])
        raise EffcError(f"the weights and program need {len(prog.weight_words):,} words of "
                        f"{hw.lanes} B, and board '{board.name}' holds {hw.weight_words:,} "
                        f"(largest layer '{big.node}'): use a smaller model or a larger board")


def _render_top(board: Board, params: dict[str, int]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    div = max(1, round(board.clock_mhz * 1e6 / 115200))
    return env.get_template("board_top.v.j2").render(board=board, params=params, div=div)


def emit(graph: Graph, board: Board, out: OutDir) -> dict[str, Any]:
    hw, params = hw_config(board)
    prog = plan_model(graph, hw)
    _check_fit(prog, hw, board, graph)
    for name in VERILOG:
        out.write(f"rtl/{name}", (HERE / "verilog" / name).read_bytes())
    out.write("rtl/board_top.v", _render_top(board, params))
    width = 2 * hw.lanes
    out.write("rtl/program.hex", "".join(f"{w:0{width}x}\n" for w in prog.weight_words))
    out.write("rtl/program.bin", b"".join(w.to_bytes(hw.lanes, "little")
                                          for w in prog.weight_words))
    rows = predict(prog, hw)
    tin, tout = graph.tensors[prog.input], graph.tensors[prog.output]
    return {"rtl": {
        "folder": "rtl", "sources": [*SYNTH_SOURCES, "board_top.v"], "top": "board_top",
        "program": "rtl/program.hex", "image": "rtl/program.bin", "params": params,
        "lanes": hw.lanes, "dsp_lanes": hw.dsp_lanes,
        "input": {"name": prog.input, "addr": prog.offsets[prog.input], "size": tin.size,
                  "shape": list(tin.shape)},
        "output": {"name": prog.output, "addr": prog.offsets[prog.output],
                   "size": tout.size, "shape": list(tout.shape)},
        "head": prog.head, "tail": prog.tail,
        "arena_bytes": prog.arena, "arena_capacity": hw.act_bytes,
        "weight_words": len(prog.weight_words), "weight_capacity": hw.weight_words,
        "descriptors": rows, "layers": prog.graph_layers,
        "predicted_cycles": sum(r["predicted_cycles"] for r in rows),
        "host_fallback": [n for n in prog.tail if graph_op(graph, n) == "Softmax"],
    }}


def graph_op(graph: Graph, name: str) -> str:
    return next(n.op_type for n in graph.nodes if n.name == name)


register_target(Target("rtl", "fpga", "Verilog accelerator (Verilator/Icarus, yosys, "
                       "nextpnr-ice40)", emit, accepts=accepts,
                       check_engine="verilator", default=True))

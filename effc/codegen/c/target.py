"""The C target (``effc compile --board`` an MCU board): the C library, the firmware and
the board's budget check.

For every board the library is linked with effc's startup code and
semihosting harness into ``OUTDIR/firmware/firmware.{elf,bin,hex}`` (QEMU
boards run it; on hardware it runs under a debugger with semihosting), and
the image's flash and RAM (static data plus the reserved stack) are checked
against the board's memory.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from effc.boards import Board, McuBoard
from effc.codegen import Target, register_target
from effc.codegen.c.emit import generate_c
from effc.codegen.c.layouts import CTarget
from effc.errors import EffcError
from effc.ir import Graph
from effc.outdir import OutDir
from effc.passes.pipeline import compile_pipeline
from effc.toolchain.firmware import FIRMWARE_DIR, FIRMWARE_FILES, FIRMWARE_SRC, outdir_firmware

GLUE_HEADER = """/* effc_model.h - binds {name} to the effc firmware harness (generated). */
#ifndef EFFC_MODEL_H
#define EFFC_MODEL_H
#define EFFC_MODEL_INPUT_SIZE {input_bytes}u
#define EFFC_MODEL_OUTPUT_SIZE {output_bytes}u
#define EFFC_MODEL_ENTRY effc_model_entry
#endif
"""
GLUE_SOURCE = """/* effc_model_entry.c - the harness's entry point for {name} (generated). */
#include <stdint.h>

#include "effc_model.h"
#include "{name}.h"

int effc_model_entry(const int8_t *in, int8_t *out);

/* One inference's ports packed one after the other, each 4-byte aligned. */
int effc_model_entry(const int8_t *in, int8_t *out)
{{
    return {entry}({args});
}}
"""

CTYPE = {"int8": "int8_t", "float32": "float", "int64": "int64_t",  # int64/int32: index
         "int32": "int32_t"}  # ports (ArgMax results, embedding token ids)


def harness_glue(c: dict[str, Any]) -> dict[str, bytes]:
    """effc_model.h / effc_model_entry.c: what the firmware harness links against."""
    entry = c["float_entry"] or c["entry"]
    args = [f"(const {CTYPE[p['dtype']]} *)(const void *)(in + {p['offset']})"
            for p in c["inputs"]]
    args += [f"({CTYPE[p['dtype']]} *)(void *)(out + {p['offset']})" for p in c["outputs"]]
    return {"effc_model.h": GLUE_HEADER.format(name=c["name"], input_bytes=c["input_bytes"],
                                               output_bytes=c["output_bytes"]).encode(),
            "effc_model_entry.c": GLUE_SOURCE.format(name=c["name"], entry=entry,
                                                     args=", ".join(args)).encode()}


def check_fit(board: McuBoard, flash: int, ram: int, arena: int) -> None:
    """Raise the one-line error naming the shortfall when the image exceeds the board."""
    if flash <= board.flash.size and ram <= board.ram.size:
        return
    short = []
    if flash > board.flash.size:
        short.append(f"flash needs {flash:,} of {board.flash.size:,} bytes "
                     f"({flash - board.flash.size:,} over)")
    if ram > board.ram.size:
        short.append(f"RAM needs {ram:,} (arena {arena:,}, stack {board.stack_size:,}) of "
                     f"{board.ram.size:,} bytes ({ram - board.ram.size:,} over)")
    raise EffcError(f"the model does not fit {board.name}: {'; '.join(short)}; prune it "
                    "(--prune, --prune-fit-board) or pick a larger board")


def c_target(board: Board, optimize: str) -> CTarget:
    """What the generated library is optimized for on ``board``."""
    return CTarget(board.cpu, board.flash.size, optimize)


def write_c_project(graph: Graph, out: OutDir, name: str,
                    target: CTarget | None = None) -> dict[str, Any]:
    """OUTDIR/c (library + harness glue) and OUTDIR/firmware/src (startup, harness)."""
    files, facts = generate_c(graph, name, target)
    files |= harness_glue(facts["c"])
    for file, data in sorted(files.items()):
        out.write(f"{facts['c']['folder']}/{file}", data)
    for file in FIRMWARE_FILES:
        out.write(f"{FIRMWARE_SRC}/{file}", (FIRMWARE_DIR / file).read_bytes())
    return facts


def emit_c(graph: Graph, board: Board, out: OutDir, optimize: str | None = None
           ) -> dict[str, Any]:
    """The target's entry point: OUTDIR/c, OUTDIR/firmware and the manifest section.
    ``optimize`` (--optimize): speed (default) or size."""
    assert isinstance(board, McuBoard)  # the registry gives the C target MCU boards only
    optimize = optimize or "speed"
    facts = write_c_project(graph, out, graph.name, c_target(board, optimize))
    facts["board"] = board.name
    facts["optimize"] = optimize
    fw = outdir_firmware(board, out, facts["c"])
    ram = fw.ram_bytes + fw.stack_reserved
    rel = {k: getattr(fw, k).relative_to(out.root).as_posix() for k in ("elf", "bin", "hex")}
    facts["firmware"] = rel | {"sources": FIRMWARE_SRC, "flash_bytes": fw.flash_bytes,
                               "ram_bytes": fw.ram_bytes, "stack_reserved": fw.stack_reserved}
    facts["fit"] = {"flash_bytes": fw.flash_bytes, "ram_bytes": ram,
                    "flash_limit": board.flash.size, "ram_limit": board.ram.size}
    check_fit(board, fw.flash_bytes, ram, facts["memory"]["arena_bytes"])
    return facts


def fit_c(board: Board, options: Any
          ) -> tuple[tuple[int, int], Callable[[Graph], tuple[int, int]]]:
    """The board's (flash, RAM) and ``graph -> (flash bytes, RAM bytes)`` of a float graph
    once compiled for ``board``.

    Used by ``--prune-fit-board``: the candidate is quantized like the real
    build (when calibration data is given), its C is generated and linked into
    the firmware image in a scratch folder. RAM counts static data and the stack.
    """
    assert isinstance(board, McuBoard)

    def estimate(graph: Graph) -> tuple[int, int]:
        quick = dataclasses.replace(options, board=None, prune=None)
        lowered, _ = compile_pipeline(graph.clone(), quick)
        with tempfile.TemporaryDirectory(prefix="effc-fit-") as tmp:
            out = OutDir.prepare(Path(tmp) / "fit")
            facts = write_c_project(lowered, out, "fit",
                                    c_target(board, options.optimize or "speed"))
            fw = outdir_firmware(board, out, facts["c"])
        return fw.flash_bytes, fw.ram_bytes + fw.stack_reserved

    return (board.flash.size, board.ram.size), estimate


register_target(Target("c", "mcu", "a C99 library and Cortex-M firmware", emit_c, fit_c,
                       options=("optimize",)))

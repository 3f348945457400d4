"""``effc compile --board``: the C library, the board's budget check, the firmware.

For a board that QEMU models, the library is linked with effc's startup code
and semihosting harness into ``OUTDIR/firmware/firmware.{elf,bin,hex}``. For
hardware-only boards the library is compiled for the board's CPU and its
flash and RAM needs are checked against the board's memory.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from effc.codegen.c.emit import generate_c
from effc.errors import EffcError
from effc.firmware.boards import Board, load_board
from effc.ir import Graph

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

int effc_model_entry(const int8_t *in, int8_t *out)
{{
    return {entry}((const {ctype} *)(const void *)in, ({ctype} *)(void *)out);
}}
"""


def write_harness_glue(folder: Path, c: dict[str, Any], graph: Graph) -> None:
    """effc_model.h / effc_model_entry.c: what the firmware harness links against."""
    tin = graph.tensors[graph.inputs[0]]
    tout = graph.tensors[graph.outputs[0]]
    entry = c["float_entry"] or c["entry"]
    ctype = {"int8": "int8_t", "float32": "float"}[tin.dtype]
    (folder / "effc_model.h").write_text(GLUE_HEADER.format(
        name=c["name"], input_bytes=tin.nbytes, output_bytes=tout.nbytes))
    (folder / "effc_model_entry.c").write_text(GLUE_SOURCE.format(
        name=c["name"], entry=entry, ctype=ctype))


def firmware(board: Board, outdir: Path, profile: bool = False):
    """Build (or rebuild) the firmware of a compiled OUTDIR."""
    from effc.engines.qemu import build_firmware

    target = outdir / ("firmware-profile" if profile else "firmware")
    return build_firmware(outdir / "c", board, target, profile=profile, runtime=False)


def _library_size(board: Board, folder: Path, sources: list[str]) -> int:
    """Flash bytes of the library compiled for ``board`` (text + rodata + data)."""
    from effc.engines.qemu import COMMON_CFLAGS, _section_sizes, _tool

    objects = []
    for src in sources:
        obj = folder / (Path(src).stem + f".{board.name}.o")
        cmd = [_tool("arm-none-eabi-gcc"), *board.cflags, *COMMON_CFLAGS, f"-I{folder}",
               "-c", str(folder / src), "-o", str(obj)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise EffcError(f"arm-none-eabi-gcc failed on {src} for {board.name}: "
                            f"{(result.stderr.splitlines() or ['?'])[0]}")
        objects.append(obj)
    total = 0
    for obj in objects:
        sizes = _section_sizes(obj)
        total += sum(v for k, v in sizes.items()
                     if k.startswith((".text", ".rodata", ".data")))
        obj.unlink()
    return total


def emit_c_project(graph: Graph, outdir: Path, board_name: str, name: str) -> dict[str, Any]:
    board = load_board(board_name)
    facts = generate_c(graph, outdir / "c", name)
    facts["board"] = board.name
    write_harness_glue(outdir / "c", facts["c"], graph)
    arena = facts["memory"]["arena_bytes"]
    if board.runs_in_qemu:
        fw = firmware(board, outdir)
        facts["firmware"] = {"elf": str(fw.elf), "bin": str(fw.bin), "hex": str(fw.hex),
                             "flash_bytes": fw.flash_bytes, "ram_bytes": fw.ram_bytes,
                             "stack_reserved": fw.stack_reserved}
        return facts
    flash = _library_size(board, outdir / "c", facts["c"]["sources"])
    ram = arena + board.stack_size
    facts["fit"] = {"flash_bytes": flash, "ram_bytes": ram, "flash_limit": board.flash.size,
                    "ram_limit": board.ram.size}
    if flash > board.flash.size or ram > board.ram.size:
        short = []
        if flash > board.flash.size:
            short.append(f"flash needs {flash:,} of {board.flash.size:,} bytes "
                         f"({flash - board.flash.size:,} over)")
        if ram > board.ram.size:
            short.append(f"RAM needs {ram:,} (arena {arena:,} + stack {board.stack_size:,}) "
                         f"of {board.ram.size:,} bytes ({ram - board.ram.size:,} over)")
        raise EffcError(f"the model does not fit {board.name}: {'; '.join(short)}; prune it "
                        "(--prune, --prune-fit-board) or pick a larger board")
    return facts


def board_usage_estimator(board: Board, options: Any):
    """``graph -> (flash bytes, RAM bytes)`` of a float graph once compiled for ``board``.

    Used by ``--prune-fit-board``: the candidate is quantized like the real
    build (when calibration data is given), its C is generated into a scratch
    folder and compiled for the board's CPU. RAM counts the arena and the stack.
    """
    import dataclasses
    import tempfile

    from effc.passes.pipeline import compile_pipeline

    def estimate(graph: Graph) -> tuple[int, int]:
        quick = dataclasses.replace(options, board=None, prune=None)
        lowered, _ = compile_pipeline(graph.clone(), quick)
        with tempfile.TemporaryDirectory(prefix="effc-fit-") as tmp:
            facts = generate_c(lowered, Path(tmp), "fit")
            flash = _library_size(board, Path(tmp), facts["c"]["sources"])
        return flash, facts["memory"]["arena_bytes"] + board.stack_size

    return estimate

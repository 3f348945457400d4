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

import numpy as np

from effc.boards import Board, McuBoard
from effc.codegen import Target, register_target
from effc.codegen.c.budget import fit_budget
from effc.codegen.c.dispatch import has_kernel
from effc.codegen.c.emit import ARENA_MODES, generate_c, layer_calls
from effc.codegen.c.export import EXPORTS, export_files
from effc.codegen.c.layouts import DSP_CPUS, FORMS, CTarget, wide_options
from effc.errors import EffcError
from effc.ir import Graph
from effc.outdir import OutDir
from effc.passes.pipeline import compile_pipeline
from effc.toolchain.firmware import (
    BOARD_FILES,
    FIRMWARE_DIR,
    FIRMWARE_FILES,
    FIRMWARE_SRC,
    Firmware,
    board_firmware,
    outdir_firmware,
)

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
{context}
/* One inference's ports packed one after the other, each 4-byte aligned. */
int effc_model_entry(const int8_t *in, int8_t *out)
{{
{init}    return {entry}({args});
}}
"""
GLUE_CONTEXT = """
/* --arena user: the harness owns the arena and the context. */
static uint8_t arena[{arena_bytes}] {NAME}_ALIGNED({NAME}_ARENA_ALIGN);
static {name}_ctx ctx;
"""
GLUE_INIT = """    if (ctx.arena == 0 && {name}_init(&ctx, arena, sizeof arena) != 0) {{
        return -1;
    }}
"""

CTYPE = {"int8": "int8_t", "float32": "float", "int64": "int64_t",  # int64/int32: index
         "int32": "int32_t"}  # ports (ArgMax results, embedding token ids)


def harness_glue(c: dict[str, Any], arena_bytes: int) -> dict[str, bytes]:
    """effc_model.h / effc_model_entry.c: what the firmware harness links against
    (they live with the harness in OUTDIR/firmware/src, not in the library)."""
    entry = c["float_entry"] or c["entry"]
    args = ["&ctx"] if c.get("context") else []
    args += [f"(const {CTYPE[p['dtype']]} *)(const void *)(in + {p['offset']})"
             for p in c["inputs"]]
    args += [f"({CTYPE[p['dtype']]} *)(void *)(out + {p['offset']})" for p in c["outputs"]]
    name = c["name"]
    user = bool(c.get("context"))
    context = GLUE_CONTEXT.format(name=name, NAME=name.upper(),
                                  arena_bytes=max(arena_bytes, 16)) if user else ""
    return {"effc_model.h": GLUE_HEADER.format(name=name, input_bytes=c["input_bytes"],
                                               output_bytes=c["output_bytes"]).encode(),
            "effc_model_entry.c": GLUE_SOURCE.format(
                name=name, entry=entry, args=", ".join(args), context=context,
                init=GLUE_INIT.format(name=name) if user else "").encode()}


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


def write_c_project(graph: Graph, out: OutDir, name: str, target: CTarget | None = None,
                    arena: str = "static") -> dict[str, Any]:
    """OUTDIR/c (the library) and OUTDIR/firmware/src (startup, harness and the glue
    binding the library to the harness)."""
    files, facts = generate_c(graph, name, target, arena)
    for file, data in sorted(files.items()):
        out.write(f"{facts['c']['folder']}/{file}", data)
    glue = harness_glue(facts["c"], facts["memory"]["arena_bytes"])
    for file, data in sorted(glue.items()):
        out.write(f"{FIRMWARE_SRC}/{file}", data)
    for file in FIRMWARE_FILES:
        out.write(f"{FIRMWARE_SRC}/{file}", (FIRMWARE_DIR / file).read_bytes())
    return facts


OPTIMIZE = ("speed", "size")


def _one_of(flag: str, value: str, accepted: tuple[str, ...]) -> None:
    if value not in accepted:
        raise EffcError(f"{flag} {value} is not known; choose one of {', '.join(accepted)}")


def check_c(board: Board, optimize: str | None = None, arena: str | None = None,
            export: list[str] | tuple[str, ...] | None = None,
            flash_budget: int | None = None) -> None:
    """Refuses an unknown --optimize, --arena or --export value in one line (the CLI's
    choices do it for the flags; this serves CompileOptions and effc.compile), and a
    --flash-budget that is not a positive byte count or comes with --optimize size."""
    _one_of("--optimize", optimize or "speed", OPTIMIZE)
    if flash_budget is not None:
        if isinstance(flash_budget, bool) or not isinstance(flash_budget, int) or \
                flash_budget <= 0:
            raise EffcError(f"--flash-budget {flash_budget}: give the image's most bytes, "
                            "a whole number > 0")
        if optimize == "size":
            raise EffcError("--flash-budget chooses the layers --optimize speed widens; "
                            "--optimize size widens none: drop one of them")
    _one_of("--arena", arena or "static", ARENA_MODES)
    for kind in export or ():
        _one_of("--export", kind, EXPORTS)


def _project(graph: Graph, board: McuBoard, out: OutDir, target: CTarget,
             arena: str) -> tuple[dict[str, Any], Firmware]:
    facts = write_c_project(graph, out, graph.name, target, arena)
    return facts, outdir_firmware(board, out, facts["c"])


def _within_budget(graph: Graph, board: McuBoard, out: OutDir, arena: str,
                   budget: int) -> tuple[dict[str, Any], Firmware]:
    """``--optimize speed --flash-budget``: the image with the most widened MACs within
    the budget (budget.py), every try built in ``out``: in each code form
    (``layouts.FORMS``, fastest first) until one widens every layer, the image of the
    form widening the most MACs (the faster form on a tie); an image within the budget
    before any that is not (a size-compiled form's int8 image is smaller than the fast
    form's)."""
    calls = layer_calls(graph)
    options = wide_options(calls, graph.tensors, packed=True) if board.cpu in DSP_CPUS else []
    every = sum(o.macs for o in options)
    last: list[CTarget] = []  # the target of the last image built (fit_budget's)
    best: tuple[tuple[bool, int], CTarget] | None = None
    for form in FORMS:
        int8 = CTarget(board.cpu, board.flash.size, "speed", widen=frozenset(),
                       form=form)  # -O2, unlike size

        def build(widen: frozenset[int], int8: CTarget = int8) -> tuple[dict[str, Any],
                                                                        Firmware]:
            last[:] = [dataclasses.replace(int8, widen=widen)]
            return _project(graph, board, out, last[0], arena)

        built = fit_budget(calls, options, int8, build, budget)
        macs = int(built[0]["memory"]["widened_macs"])
        rank = (built[1].flash_bytes <= budget, macs)
        if best is None or rank > best[0]:
            best = (rank, last[0])
        if macs == every:
            break
    assert best is not None
    return built if best[1] == last[0] else _project(graph, board, out, best[1], arena)


def emit_c(graph: Graph, board: Board, out: OutDir, optimize: str | None = None,
           arena: str | None = None, export: list[str] | tuple[str, ...] | None = None,
           flash_budget: int | None = None) -> dict[str, Any]:
    """The target's entry point: OUTDIR/c, OUTDIR/firmware and the manifest section.
    ``optimize`` (``--optimize``): speed (default) or size; ``arena`` (``--arena``):
    "static" (default) or "user" (the caller passes the arena); ``export``
    (``--export``): build-system layouts under OUTDIR/export/<kind>;
    ``flash_budget`` (``--flash-budget``): the firmware image's most bytes at speed."""
    assert isinstance(board, McuBoard)  # the registry gives the C target MCU boards only
    optimize = optimize or "speed"
    arena = arena or "static"
    if flash_budget is not None:
        facts, fw = _within_budget(graph, board, out, arena, flash_budget)
        facts["flash_budget"] = {"bytes": flash_budget, "met": fw.flash_bytes <= flash_budget}
    else:
        facts, fw = _project(graph, board, out, c_target(board, optimize), arena)
    export = tuple(dict.fromkeys(export or ()))
    if export:
        library = {p.name: p.read_bytes() for p in out.path(facts["c"]["folder"]).iterdir()}
        summary = (f"{len(facts['c']['layers'])} layers, arena "
                   f"{facts['memory']['arena_bytes']} bytes")
        for kind in export:
            for rel, data in sorted(export_files(kind, library, facts["c"], board,
                                                 summary).items()):
                out.write(f"export/{kind}/{rel}", data)
        facts["exports"] = {kind: f"export/{kind}" for kind in export}
    facts["board"] = board.name
    facts["optimize"] = optimize
    ram = fw.ram_bytes + fw.stack_reserved
    rel = {k: getattr(fw, k).relative_to(out.root).as_posix() for k in ("elf", "bin", "hex")}
    facts["firmware"] = rel | {"sources": FIRMWARE_SRC, "flash_bytes": fw.flash_bytes,
                               "ram_bytes": fw.ram_bytes, "stack_reserved": fw.stack_reserved}
    facts["fit"] = {"flash_bytes": fw.flash_bytes, "ram_bytes": ram,
                    "flash_limit": board.flash.size, "ram_limit": board.ram.size}
    check_fit(board, fw.flash_bytes, ram, facts["memory"]["arena_bytes"])
    if board.hardware is not None:
        for file in BOARD_FILES:
            out.write(f"{FIRMWARE_SRC}/{file}", (FIRMWARE_DIR / file).read_bytes())
        sample = [_board_sample(facts["c"])]
        measured = board_firmware(board, out, facts["c"], sample, measure=True)
        check_fit(board, measured.flash_bytes, measured.ram_bytes + measured.stack_reserved,
                  facts["memory"]["arena_bytes"])
        hw = board_firmware(board, out, facts["c"], sample)  # at the real sizes
        facts["board_firmware"] = {
            k: getattr(hw, k).relative_to(out.root).as_posix() for k in ("elf", "bin", "hex")
        } | {"flash_bytes": hw.flash_bytes, "ram_bytes": hw.ram_bytes,
             "stack_reserved": hw.stack_reserved, "samples": 1}
    return facts


def _board_sample(c: dict[str, Any]) -> bytes:
    """One input compiled into the board image (seeded: uniform int8, or standard normal
    floats), packed like the harness's buffer."""
    rng = np.random.default_rng(0)
    data = bytearray(c["input_bytes"])
    for port in c["inputs"]:
        if port["dtype"] == "int8":
            values = rng.integers(-128, 128, port["size"]).astype(np.int8).tobytes()
        else:
            values = rng.standard_normal(port["size"]).astype(np.float32).tobytes()
        data[port["offset"]:port["offset"] + len(values)] = values
    return bytes(data)


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
            images = [outdir_firmware(board, out, facts["c"])]
            if board.hardware is not None:  # the board image must fit too
                for file in BOARD_FILES:
                    out.write(f"{FIRMWARE_SRC}/{file}", (FIRMWARE_DIR / file).read_bytes())
                images.append(board_firmware(board, out, facts["c"],
                                             [_board_sample(facts["c"])], measure=True))
        return (max(fw.flash_bytes for fw in images),
                max(fw.ram_bytes + fw.stack_reserved for fw in images))

    return (board.flash.size, board.ram.size), estimate


register_target(Target("c", "mcu", "a C99 library and Cortex-M firmware", emit_c, fit_c,
                       options=("optimize", "arena", "export", "flash_budget"), check=check_c,
                       accepts=has_kernel))

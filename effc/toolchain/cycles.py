"""Estimated core cycles of a firmware run, from exact per-instruction counts.

QEMU is not cycle-accurate. Its TCG plugin (``effc/firmware/qemu_count_plugin.c``,
``pcs=1``) counts how often every instruction address ran and how often the
instruction after it was not the next one in memory (a taken branch). This
module weights those counts by the core's documented instruction timings
(``docs/cycle-model.md`` states every rule and its source):

- every instruction 1 cycle, except
- single loads (LDR, LDRB, LDRH, LDRSB, LDRSH, LDREX, VLDR) 2; 1 when the
  instruction before it in memory is a single load and the execution fell
  through from it (pipelined), unless that load's destination is one of this
  load's address registers;
- stores with a register offset 2 (1 after a single load); other single
  stores 1;
- LDRD / STRD 3; LDM / STM / PUSH / POP / VLDM / VSTM / VPUSH / VPOP 1 + N
  (N registers; a D register counts as two words);
- a load or store whose address register was written by the data-processing
  instruction just before it (fall-through): 1 more (no forwarding path);
- SDIV / UDIV ``divide`` cycles (2..12 on the M4; 7 used);
- every taken branch (B, BL, BX, CBZ, a POP or LDR into PC, ...) P more
  cycles of pipeline refill (P = 1..3 on the M4; 2 used); an unconditional one
  is taken on every execution, also where its target is the next instruction;
- ``flash_wait_states`` W > 0 (board TOML): W more per taken branch (the
  refetch from flash) and per PC-relative literal load.

Exact execution counts and taken counts come from the plugin; which
instruction ran before is known exactly for fall-through executions
(count(prev) - taken(prev)); executions entered by a branch are never
pipelined. Not modelled: load-use stalls beyond the address rule, bus
contention, wait states of data loads from flash, the M7's dual issue and
the M55's beat overlap (see the doc).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from effc.errors import EffcError

CONDITIONS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge",
              "lt", "gt", "le", "al")
ALIASES = {"sb": "r9", "sl": "r10", "fp": "r11", "ip": "r12"}
LOADS = ("ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrex", "ldrexb", "ldrexh", "ldrt",
         "ldrbt", "ldrht", "ldrsbt", "ldrsht", "vldr")
STORES = ("str", "strb", "strh", "strex", "strexb", "strexh", "strt", "strbt", "strht",
          "vstr")
MULTIPLE = ("ldm", "ldmia", "ldmfd", "ldmdb", "ldmea", "stm", "stmia", "stmea", "stmdb",
            "stmfd", "push", "pop", "vldm", "vldmia", "vldmdb", "vstm", "vstmia", "vstmdb",
            "vpush", "vpop")
DOUBLE = ("ldrd", "strd")
DIVIDES = ("sdiv", "udiv")
NO_DEST = ("cmp", "cmn", "tst", "teq", "it", "b", "bl", "bx", "blx", "cbz", "cbnz", "nop",
           "bkpt", "dsb", "dmb", "isb", "svc", "msr", "vcmp", "vcmpe", "tbb", "tbh")
# Every mnemonic the classifier knows, so that a condition suffix is split
# off only where the rest is a real instruction ("bls" = b + ls, not "bl" + "s").
KNOWN = frozenset(LOADS + STORES + MULTIPLE + DOUBLE + DIVIDES + NO_DEST)


@dataclass(frozen=True)
class CoreTiming:
    """A core's timings (cycles) as the model uses them."""

    name: str
    load: int = 2           # single load, not pipelined
    load_pipelined: int = 1
    store: int = 1          # immediate offset
    store_register: int = 2  # register offset
    double: int = 3         # LDRD / STRD
    divide: int = 7         # SDIV / UDIV (2..12 on the M4)
    refill: int = 2         # P, per taken branch
    address_stall: int = 1  # an address register written by the instruction before
    multiple_per_register: float = 1.0
    vector: int = 1         # an MVE (Helium) instruction
    fp_divide: int = 14     # VDIV / VSQRT
    #: objdump's -m for the core's code: its default (the ELF's attributes) does
    #: not decode MVE, which it prints as coprocessor instructions (LDC, CDP)
    objdump_machine: str | None = None


CORES: dict[str, CoreTiming] = {
    # Cortex-M4 TRM (DDI 0439), table 3-1 and "load/store timings".
    "cortex-m4": CoreTiming("cortex-m4"),
    # The M33 (Armv8-M mainline) keeps a 3-stage pipeline; Arm publishes no
    # table, so the M4's is used.
    "cortex-m33": CoreTiming("cortex-m33"),
    # Cortex-M7: 6-stage dual-issue with branch prediction, 64-bit loads.
    # Modelled single-issue: loads 1 (no pipelining bonus needed), LDRD 1,
    # LDM 1 + N/2, a taken branch 1 more (predicted), divide 7.
    "cortex-m7": CoreTiming("cortex-m7", load=1, load_pipelined=1, store_register=1,
                            double=1, refill=1, address_stall=0, multiple_per_register=0.5),
    # Cortex-M55: the scalar pipeline taken as the M4's; a 128-bit MVE
    # instruction on the dual-beat datapath 2 cycles, overlap between
    # consecutive vector instructions ignored.
    # LE (the low-overhead loop's end) is an ordinary 1-cycle instruction with
    # no refill: the core's loop cache branches in the fetch stage.
    "cortex-m55": CoreTiming("cortex-m55", vector=2, objdump_machine="armv8.1-m.main"),
}


@dataclass(frozen=True)
class Insn:
    """One disassembled instruction."""

    address: int
    size: int
    mnemonic: str  # as printed, e.g. "ldr.w", "addls", "vldrb.s16"
    operands: str
    base: str      # classified mnemonic: width, condition and size suffixes removed


def base_mnemonic(mnemonic: str) -> str:
    """``ldr.w`` -> ``ldr``, ``bne.n`` -> ``b``, ``movlt`` -> ``mov``, ``vldrb.s16`` -> ``vldrb``."""
    m = mnemonic.lower().split(".")[0]
    if m in KNOWN:
        return m
    for cond in CONDITIONS:
        if m.endswith(cond) and len(m) > len(cond):
            stem = m[:-len(cond)]
            if stem in KNOWN or stem in ("mov", "add", "sub", "and", "orr", "eor", "mvn",
                                         "adds", "subs", "movs", "rsb", "lsl", "lsr", "asr"):
                return stem
    return m


def _objdump() -> str:
    tool = shutil.which("arm-none-eabi-objdump")
    if tool is None:
        raise EffcError("arm-none-eabi-objdump not found: install it with scripts/setup.sh "
                        "(apt-get install binutils-arm-none-eabi)")
    return tool


LINE = re.compile(r"^\s*([0-9a-f]+):\s+((?:[0-9a-f]{4,8} ?)+)\s+(\S+)\s*(.*)$")


def objdump_text(elf: str | Path, core: CoreTiming | None = None) -> str:
    """``arm-none-eabi-objdump -d`` of ``elf`` (``-m`` the core's machine, if it needs one)."""
    machine = ["-m", core.objdump_machine] if core is not None and core.objdump_machine else []
    out = subprocess.run([_objdump(), "-d", *machine, str(elf)], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise EffcError(f"arm-none-eabi-objdump could not read {elf}: {out.stderr.strip()}")
    return out.stdout


def disassemble(elf: str | Path, core: CoreTiming | None = None) -> dict[int, Insn]:
    """Every instruction of ``elf``'s code (for ``core``), by address."""
    return parse_disassembly(objdump_text(elf, core))


def parse_disassembly(text: str) -> dict[int, Insn]:
    insns: dict[int, Insn] = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if not m or m[3].startswith("."):  # .word, .short: data in the code
            continue
        raw = m[2].split()
        size = sum(len(h) // 2 for h in raw)
        operands = m[4].split("@")[0].split(";")[0].strip()
        address = int(m[1], 16)
        insns[address] = Insn(address, size, m[3], operands, base_mnemonic(m[3]))
    return insns


def _reg(name: str) -> str:
    name = name.strip().lower()
    return ALIASES.get(name, name)


def register_count(operands: str) -> int:
    """Words moved by an LDM/STM/PUSH/POP register list ({r4-r7, lr}: 5; {d8-d9}: 4)."""
    m = re.search(r"\{([^}]*)\}", operands)
    if not m:
        return 1
    words = 0
    for item in (p.strip() for p in m[1].split(",") if p.strip()):
        scale = 2 if item.startswith("d") else 1
        if "-" in item:
            lo, hi = (int(re.sub(r"\D", "", part)) for part in item.split("-"))
            words += scale * (hi - lo + 1)
        else:
            words += scale
    return words


def address_registers(operands: str) -> set[str]:
    m = re.search(r"\[([^\]]*)\]", operands)
    if not m:
        return set()
    return {_reg(p) for p in m[1].split(",") if re.fullmatch(r"\s*[a-z]+\d*\s*", p)
            and not p.strip().startswith("#")}


def destination(insn: Insn) -> str | None:
    """The register a data-processing instruction or single load writes, if any."""
    if insn.base in NO_DEST or insn.base in STORES or insn.base in MULTIPLE or \
            insn.base in DOUBLE or insn.base.startswith("v"):
        return None
    first = insn.operands.split(",")[0].strip()
    return _reg(first) if re.fullmatch(r"[a-z]+\d*", first) else None


def is_vector(insn: Insn) -> bool:
    """An MVE instruction (Q registers, or a Helium mnemonic)."""
    return insn.base.startswith("v") and ("q" in re.findall(r"\b([qsd])\d+", insn.operands)
                                          or insn.base.startswith(("vldrb", "vldrh", "vldrw",
                                                                   "vstrb", "vstrh", "vstrw",
                                                                   "vmladav", "vctp", "vpst")))


BRANCHES = ("b", "bl", "bx", "blx", "cbz", "cbnz", "tbb", "tbh", "bkpt", "svc")


def can_branch(insn: Insn) -> bool:
    """Whether the instruction can send execution elsewhere than the next one.
    The plugin sees a taken branch where the next block did not start right
    after the previous one; QEMU also splits blocks where it runs an
    instruction that crosses a page alone, so a "taken" count on any other
    instruction is that artefact and is ignored."""
    if insn.base in BRANCHES:
        return True
    if insn.base in MULTIPLE:
        return "pc" in re.findall(r"[a-z]+\d*", insn.operands.split("{")[-1])
    return destination(insn) == "pc" or insn.operands.split(",")[0].strip() == "pc"


def is_conditional(insn: Insn) -> bool:
    """A condition-suffixed instruction (``bne``, ``ldrne`` in an IT block) or CBZ/CBNZ."""
    stem = insn.mnemonic.lower().split(".")[0]
    return insn.base in ("cbz", "cbnz") or (
        stem != insn.base and stem.startswith(insn.base) and stem[len(insn.base):] in CONDITIONS)


def always_branches(insn: Insn) -> bool:
    """An unconditional branch or PC write: the core refills its pipeline even when
    the target is the next instruction, where the plugin sees no taken branch."""
    return can_branch(insn) and insn.base not in ("bkpt", "svc") and not is_conditional(insn)


@dataclass(frozen=True)
class Cost:
    """Cycles of one instruction: alone, and when it falls through from the one before."""

    alone: float
    after_prev: float


def instruction_cost(insn: Insn, prev: Insn | None, core: CoreTiming) -> Cost:
    b = insn.base
    if b in DOUBLE:
        base = float(core.double)
    elif b in MULTIPLE:
        base = 1 + core.multiple_per_register * register_count(insn.operands)
    elif is_vector(insn):
        base = float(core.vector)
    elif b in LOADS:
        base = float(core.load)
    elif b in STORES:
        register_offset = len(address_registers(insn.operands)) > 1
        base = float(core.store_register if register_offset else core.store)
    elif b in DIVIDES:
        base = float(core.divide)
    elif b in ("vdiv", "vsqrt"):
        base = float(core.fp_divide)
    else:
        base = 1.0
    after = base
    if prev is not None and prev.address + prev.size == insn.address:
        addr = address_registers(insn.operands)
        if prev.base in LOADS and not prev.base.startswith("v"):
            if b in LOADS and not is_vector(insn) and destination(prev) not in addr:
                after = float(core.load_pipelined)
            elif b in STORES and not is_vector(insn):
                after = float(min(base, core.store))
        elif (b in LOADS or b in STORES or b in DOUBLE) and destination(prev) in addr:
            after = base + core.address_stall
    return Cost(base, after)


def estimate_cycles(counts: Mapping[int, tuple[int, int]], insns: Mapping[int, Insn],
                    core: CoreTiming, flash_wait_states: int = 0) -> int:
    """Cycles of the executions in ``counts`` (address -> (executions, taken));
    wait states apply to taken branches and PC-relative (literal) loads."""
    by_end = {i.address + i.size: i for i in insns.values()}

    def taken_of(insn: Insn, n: int, taken: int) -> int:
        if always_branches(insn):
            return n
        return taken if can_branch(insn) else 0

    total = 0.0
    for address, (n, taken) in counts.items():
        insn = insns.get(address)
        if insn is None:
            raise EffcError(f"the plugin counted address {address:#x}, which is not an "
                            "instruction of the firmware's code")
        taken = taken_of(insn, n, taken)
        prev = by_end.get(address)
        cost = instruction_cost(insn, prev, core)
        through = 0
        if prev is not None and prev.address in counts:
            pn, pt = counts[prev.address]
            through = min(n, max(pn - taken_of(prev, pn, pt), 0))
        total += cost.after_prev * through + cost.alone * (n - through)
        total += core.refill * taken
        if flash_wait_states:
            total += flash_wait_states * taken
            if insn.base in LOADS and "pc" in address_registers(insn.operands):
                total += flash_wait_states * n
    return round(total)


def cycles_by_segment(pcs: Mapping[int, Mapping[int, tuple[int, int]]],
                      insns: Mapping[int, Insn], core: CoreTiming,
                      flash_wait_states: int = 0) -> dict[int, int]:
    """Cycles of every segment of the plugin's per-address counts."""
    return {k: estimate_cycles(v, insns, core, flash_wait_states) for k, v in pcs.items()}


def core_timing(cpu: str) -> CoreTiming:
    if cpu not in CORES:
        raise EffcError(f"no cycle model for {cpu!r}: the model knows {', '.join(CORES)}")
    return CORES[cpu]


def functions(text: str) -> Iterable[tuple[str, int]]:
    """(name, address) of every function label in objdump output."""
    for m in re.finditer(r"^([0-9a-f]+) <([^>]+)>:$", text, re.M):
        yield m[2], int(m[1], 16)

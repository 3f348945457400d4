"""The Cortex-M cycle model (effc/toolchain/cycles.py, docs/cycle-model.md):
its parsing, and hand-counted micro-kernels run under QEMU whose estimate
must equal the count written next to each instruction."""

from __future__ import annotations

from pathlib import Path

import pytest

from effc.errors import EffcError
from effc.toolchain import cycles
from tests.conftest_c import require_tool

M4 = cycles.CORES["cortex-m4"]

# Each kernel: naked Thumb-2 code and its hand count on the Cortex-M4 model
# (TRM DDI 0439 table 3-1: P = 2 used for a pipeline refill, SDIV/UDIV 7).
LOOP = """
    push   {r4, r5, lr}        /* 1 + 3 */
    movs   r2, #0              /* 1 */
1:  ldr    r3, [r0], #4        /* 2: entered from MOVS or a branch */
    ldr    r4, [r0], #4        /* 1: pipelined after a load */
    smlad  r2, r3, r4, r2      /* 1 */
    subs   r1, r1, #1          /* 1 */
    bne    1b                  /* 1, + 2 when taken (9 of 10) */
    mov    r0, r2              /* 1 */
    pop    {r4, r5, pc}        /* 1 + 3, + 2 (taken: the return) */
"""
LOOP_CYCLES = 4 + 1 + 10 * (2 + 1 + 1 + 1 + 1) + 9 * 2 + 1 + 4 + 2

MIX = """
    push   {r4-r7, lr}         /* 1 + 5 */
    ldrd   r2, r3, [r0]        /* 3 */
    ldm    r0, {r4-r7}         /* 1 + 4 */
    add    r1, r0, #16         /* 1 */
    ldr    r2, [r1]            /* 2, + 1: r1 written just before (no forwarding) */
    movs   r3, #8              /* 1 */
    str    r2, [r0, r3]        /* 2 (register offset), + 1: r3 written just before */
    ldr    r4, [r0, #4]        /* 2: nothing pipelines after a store */
    str    r4, [r0, r3]        /* 1: a register-offset store pipelined after a load */
    ldr    r1, [r0, #12]       /* 2 */
    ldr    r2, [r1, #4]        /* 2: r1 is the load's destination, not pipelined */
    ldr    r5, [r0, #16]       /* 1: pipelined */
    str    r5, [r0, #20]       /* 1 */
    sdiv   r2, r6, r7          /* 7 */
    udiv   r3, r6, r7          /* 7 */
    mul    r2, r2, r3          /* 1 */
    strd   r2, r3, [r0, #24]   /* 3 */
    bl     effc_cyc_leaf       /* 1 + 2 */
    pop    {r4-r7, pc}         /* 1 + 5, + 2 */
"""
LEAF = """
    bx     lr                  /* 1 + 2 */
"""
MIX_CYCLES = (6 + 3 + 5 + 1 + 3 + 1 + 3 + 2 + 1 + 2 + 2 + 1 + 1 + 7 + 7 + 1 + 3 + 3 + 8) + 3


def _model_c() -> str:
    def naked(name: str, body: str) -> str:
        lines = "".join(f'        "{line.split("/*")[0].rstrip()}\\n\\t"\n'
                        for line in body.strip("\n").splitlines())
        return (f"__attribute__((naked, noinline)) int {name}(int32_t *a __attribute__((unused)), "
                f"int32_t n __attribute__((unused)))\n"
                f"{{\n    __asm__ volatile(\n{lines}    );\n}}\n")

    return f"""#include <stdint.h>
#include "effc_model.h"
int effc_cyc_leaf(int32_t *a, int32_t n);
int effc_cyc_loop(int32_t *a, int32_t n);
int effc_cyc_mix(int32_t *a, int32_t n);
{naked("effc_cyc_leaf", LEAF)}
{naked("effc_cyc_loop", LOOP)}
{naked("effc_cyc_mix", MIX)}
static int32_t buf[32] __attribute__((aligned(8)));
int model_run(const int8_t *in, int8_t *out)
{{
    int32_t i;
    for (i = 0; i < 32; i++) buf[i] = i + 3;
    buf[3] = (int32_t)(intptr_t)&buf[8]; /* a pointer for the dependent load */
    out[0] = (int8_t)effc_cyc_loop(buf, 10);
    out[1] = (int8_t)effc_cyc_mix(buf, 0);
    (void)in;
    return 0;
}}
"""


def test_hand_counted_kernels(tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    from effc.engines.qemu import run_qemu
    from effc.toolchain.firmware import build_firmware

    model = tmp_path / "model"
    model.mkdir()
    (model / "model.c").write_text(_model_c())
    (model / "effc_model.h").write_text(
        "#define EFFC_MODEL_INPUT_SIZE 4\n#define EFFC_MODEL_OUTPUT_SIZE 4\n")
    fw = build_firmware(model, "mps2-an386", tmp_path / "fw", runtime=False)
    run = run_qemu(fw.elf, "mps2-an386", bytes(4), 4, pcs=True)
    insns = cycles.disassemble(fw.elf)
    text = cycles.objdump_text(fw.elf)
    starts = sorted(a for _, a in cycles.functions(text))
    spans = {name: (a, starts[starts.index(a) + 1]) for name, a in cycles.functions(text)
             if name.startswith("effc_cyc_")}

    def cycles_of(name: str) -> int:
        lo, hi = spans[name]
        counts = {a: c for a, c in run.pc_counts[0].items() if lo <= a < hi}
        assert counts, f"{name} did not run"
        return cycles.estimate_cycles(counts, insns, M4)

    assert cycles_of("effc_cyc_loop") == LOOP_CYCLES
    assert cycles_of("effc_cyc_mix") + cycles_of("effc_cyc_leaf") == MIX_CYCLES
    # flash wait states: 1 more per taken branch and literal load
    lo, hi = spans["effc_cyc_loop"]
    counts = {a: c for a, c in run.pc_counts[0].items() if lo <= a < hi}
    assert cycles.estimate_cycles(counts, insns, M4, flash_wait_states=1) == LOOP_CYCLES + 10


M55 = cycles.CORES["cortex-m55"]

# A Helium (MVE) loop on the Cortex-M55 model: every MVE instruction 2 cycles
# (dual-beat), LE 1 with no refill (the loop cache), the scalar rest as the M4.
MVE_LOOP = """
    push   {r4, lr}            /* 1 + 2 */
    movs   r2, #0              /* 1 */
    dls    lr, r1              /* 1 */
1:  vldrb.u8 q0, [r0], #16     /* 2: vector */
    vldrb.u8 q1, [r0], #16     /* 2: vector, never pipelined like LDR */
    vmladava.s8 r2, q0, q1     /* 2: vector */
    vaddva.s8 r2, q0           /* 2: vector */
    le     lr, 1b              /* 1, taken 3 of 4 times: no refill */
    vctp.8 r1                  /* 2: vector */
    vpst                       /* 2: vector */
    vldrbt.u8 q0, [r0]         /* 2: vector */
    mov    r0, r2              /* 1 */
    pop    {r4, pc}            /* 1 + 2, + 2 (taken: the return) */
"""
MVE_LOOP_CYCLES = 3 + 1 + 1 + 4 * (2 + 2 + 2 + 2 + 1) + 2 + 2 + 2 + 1 + 3 + 2


def test_hand_counted_helium_kernel(tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    from effc.engines.qemu import run_qemu
    from effc.toolchain.firmware import build_firmware

    lines = "".join(f'        "{line.split("/*")[0].rstrip()}\\n\\t"\n'
                    for line in MVE_LOOP.strip("\n").splitlines())
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.c").write_text(f"""#include <stdint.h>
#include "effc_model.h"
int effc_cyc_mve(int8_t *a, int32_t n);
__attribute__((naked, noinline)) int effc_cyc_mve(int8_t *a __attribute__((unused)),
                                                  int32_t n __attribute__((unused)))
{{
    __asm__ volatile(
{lines}    );
}}
static int8_t buf[160] __attribute__((aligned(16)));
int model_run(const int8_t *in, int8_t *out)
{{
    int32_t i;
    for (i = 0; i < 160; i++) buf[i] = (int8_t)(i - 80);
    out[0] = (int8_t)effc_cyc_mve(buf, 4);
    (void)in;
    return 0;
}}
""")
    (model / "effc_model.h").write_text(
        "#define EFFC_MODEL_INPUT_SIZE 4\n#define EFFC_MODEL_OUTPUT_SIZE 4\n")
    fw = build_firmware(model, "mps3-an547", tmp_path / "fw", runtime=False)
    run = run_qemu(fw.elf, "mps3-an547", bytes(4), 4, pcs=True)
    insns = cycles.disassemble(fw.elf, M55)
    text = cycles.objdump_text(fw.elf, M55)
    assert "vmlava.s8" in text  # decoded as MVE, not as coprocessor instructions
    starts = sorted(a for _, a in cycles.functions(text))
    lo = dict(cycles.functions(text))["effc_cyc_mve"]
    hi = starts[starts.index(lo) + 1]
    counts = {a: c for a, c in run.pc_counts[0].items() if lo <= a < hi}
    assert cycles.estimate_cycles(counts, insns, M55) == MVE_LOOP_CYCLES


def test_mnemonics_and_register_lists() -> None:
    assert cycles.base_mnemonic("ldr.w") == "ldr"
    assert cycles.base_mnemonic("bne.n") == "b"
    assert cycles.base_mnemonic("bls.n") == "b"
    assert cycles.base_mnemonic("bl") == "bl"
    assert cycles.base_mnemonic("movlt") == "mov"
    assert cycles.base_mnemonic("ldrbeq") == "ldrb"
    assert cycles.base_mnemonic("smlad") == "smlad"
    assert cycles.register_count("{r4, r5, r6, r7, r8, r9, sl, fp, lr}") == 9
    assert cycles.register_count("r12!, {r4-r7}") == 4
    assert cycles.register_count("{d8-d9}") == 4
    assert cycles.address_registers("r2, [r0, r3, lsl #2]") == {"r0", "r3"}
    assert cycles.address_registers("r2, [sl, #4]!") == {"r10"}


def test_disassembly_lines() -> None:
    text = """
00000040 <f>:
      40:	b084      	sub	sp, #16
      42:	f647 0330 	movw	r3, #30768	@ 0x7830
      46:	e9cd 3000 	strd	r3, r0, [sp]
      4a:	00020026 	.word	0x00020026
"""
    insns = cycles.parse_disassembly(text)
    assert sorted(insns) == [0x40, 0x42, 0x46]
    assert insns[0x42].size == 4 and insns[0x42].operands == "r3, #30768"
    assert insns[0x46].base == "strd"


def test_unknown_core_and_address() -> None:
    with pytest.raises(EffcError, match="no cycle model"):
        cycles.core_timing("cortex-m0")
    with pytest.raises(EffcError, match="not an instruction"):
        cycles.estimate_cycles({0x1234: (1, 0)}, {}, M4)


def test_block_splits_are_not_taken_branches() -> None:
    """QEMU ends a block before an instruction crossing a page: the plugin then
    reports a "taken" branch on an instruction that cannot branch; it is ignored."""
    insns = cycles.parse_disassembly("""
    2ffa:	fb2a 6609 	smlad	r6, sl, r9, r6
    2ffe:	f85c 3b04 	ldr.w	r3, [ip], #4
    3002:	f85c 4b04 	ldr.w	r4, [ip], #4
    3006:	d1f8      	bne.n	2ffa <f>
""")
    counts = {0x2ffa: (10, 10), 0x2ffe: (10, 0), 0x3002: (10, 0), 0x3006: (10, 9)}
    assert cycles.estimate_cycles(counts, insns, M4) == 10 * (1 + 2 + 1 + 1) + 9 * 2


def test_unconditional_pc_writes_to_the_next_instruction_are_taken() -> None:
    """An LDR into PC (or a B) whose target is the next instruction refills the
    pipeline; the plugin reports no taken branch there, the model counts one. A
    conditional branch (BNE, or LDRNE PC in an IT block) is taken as observed."""
    insns = cycles.parse_disassembly("""
    1000:	f8dd f004 	ldr.w	pc, [sp, #4]
    1004:	bf18      	it	ne
    1006:	f8dd f008 	ldrne.w	pc, [sp, #8]
    100a:	d1f9      	bne.n	1000 <f>
    100c:	e7ff      	b.n	100e <f+0xe>
    100e:	4770      	bx	lr
""")
    assert [cycles.always_branches(insns[a]) for a in sorted(insns)] == \
        [True, False, False, False, True, True]
    counts = {0x1000: (10, 0), 0x1004: (10, 0), 0x1006: (10, 0), 0x100a: (10, 9),
              0x100c: (1, 0), 0x100e: (1, 1)}
    # ldr pc 2 + 2 (refill; the IT after it entered by a "branch": not pipelined),
    # it 1, ldrne 2, bne 1 + 2 when taken, b 1 + 2, bx 1 + 2
    expected = 10 * (2 + 2) + 10 + 10 * 2 + 10 + 9 * 2 + 3 + 3
    assert cycles.estimate_cycles(counts, insns, M4) == expected

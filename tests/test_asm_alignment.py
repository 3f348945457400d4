"""Every assembly function that computes an address with ADR is 4-byte aligned.

Thumb's ADR adds its offset to the instruction's address rounded down to 4,
and the assembler resolves that offset inside the function, taking the
function's start as 4-byte aligned. At -Os GCC aligns functions to 2 bytes:
where the linker then puts one at 2 mod 4, every computed entry lands 2 bytes
off (a hard fault, or wrong code), and whether it does depends on what else is
linked. So the rule is checked on the source, where it cannot pass by luck.
"""

from __future__ import annotations

import re
from pathlib import Path

RUNTIME_C = Path(__file__).resolve().parents[1] / "effc" / "runtime_c"
_DEFINE = re.compile(r"^#define\s+(\w+).*$", re.M)  # on logical lines
_NAKED = re.compile(r"__attribute__\(\(([^)]*naked[^)]*(?:\([^)]*\))?[^)]*)\)\)\s*void\s*"
                    r"(\w+)\s*\([^{]*\{(.*?)\n\}", re.S)
_ADR = re.compile(r'"adr(?:\w{2})?(?:\.w)?\s')


def _adr_macros(text: str) -> set[str]:
    """The macros whose expansion has an ADR (directly or through another macro)."""
    text = text.replace("\\\n", " ")  # continuation lines joined
    bodies = {m.group(1): m.group(0) for m in _DEFINE.finditer(text)}
    found = {name for name, body in bodies.items() if _ADR.search(body)}
    grew = True
    while grew:
        grew = False
        for name, body in bodies.items():
            if name not in found and any(re.search(rf"\b{m}\b", body) for m in found):
                found.add(name)
                grew = True
    return found


def adr_functions(text: str) -> dict[str, bool]:
    """Each naked function that uses ADR, and whether it is declared aligned(4)."""
    macros = _adr_macros(text)
    out = {}
    for m in _NAKED.finditer(text):
        attrs, name, body = m.groups()
        if _ADR.search(body) or any(re.search(rf"\b{x}\b", body) for x in macros):
            out[name] = "aligned(4)" in attrs
    return out


def test_functions_with_adr_are_4_byte_aligned() -> None:
    seen = {}
    for path in sorted(RUNTIME_C.glob("*.c")):
        seen.update({f"{path.name}:{k}": v for k, v in adr_functions(path.read_text()).items()})
    assert any(k.endswith(":effc_mm_2x4_wide") for k in seen), seen  # the rule sees them
    assert any(k.endswith(":effc_dw_walk_s1") for k in seen), seen
    unaligned = sorted(k for k, ok in seen.items() if not ok)
    assert not unaligned, f"ADR in functions not declared aligned(4): {unaligned}"


def test_the_rule_reads_macros_and_attributes() -> None:
    text = '''
#define INNER "adr.w  r1, 2f\\n\\t"
#define OUTER(X) \\
    INNER X
__attribute__((naked, noinline)) void bad(int *job)
{
    __asm__ volatile(OUTER(""));
}
__attribute__((naked, noinline, aligned(4))) void good(int *job)
{
    __asm__ volatile("adrne.w r7, 24f\\n\\t");
}
__attribute__((naked, noinline)) void plain(int *job)
{
    __asm__ volatile("ldr r0, [r0]\\n\\t");
}
'''
    assert adr_functions(text) == {"bad": False, "good": True}

"""Guard bytes around the writable regions of the kernel-case driver.

Each output, scratch and extra buffer of a case (tests/conftest_c.py) sits in
RAM between GUARD_BYTES of GUARD_FILL on each side; the driver arms them before
the call, counts the changed bytes after it (and poisons them for ASan in the
sanitized build), and the result readers turn the counts into a failure naming
the case, the region and the side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.conftest_c import Case

GUARD_BYTES = 16  # guard bytes on each side of every output, scratch and buffer
GUARD_FILL = 0xA5

GUARD_C = """
/* Guard bytes: each writable region sits between two EFFC_GUARD-byte runs of
   EFFC_GUARD_FILL; a run that changes during the call is a write out of bounds.
   Under ASan the runs are also poisoned, so reads of them are reported too. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define EFFC_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define EFFC_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define EFFC_POISON(p, n) ((void)(p), (void)(n))
#define EFFC_UNPOISON(p, n) ((void)(p), (void)(n))
#endif
static uint16_t effc_guard_hits[EFFC_GUARD_REGIONS];
static unsigned char effc_test_arena[EFFC_ARENA + 2 * EFFC_GUARD] EFFC_GUARDED;

static void effc_guard_arm(unsigned char *p, size_t n)
{
    int i;
    for (i = 0; i < EFFC_GUARD; i++) {
        p[i - EFFC_GUARD] = EFFC_GUARD_FILL;
        p[n + (size_t)i] = EFFC_GUARD_FILL;
    }
    EFFC_POISON(p - EFFC_GUARD, EFFC_GUARD);
    EFFC_POISON(p + n, EFFC_GUARD);
}

/* Changed guard bytes: before the region in the low byte, after it in the high. */
static uint16_t effc_guard_check(unsigned char *p, size_t n)
{
    unsigned before = 0, after = 0;
    int i;
    EFFC_UNPOISON(p - EFFC_GUARD, EFFC_GUARD);
    EFFC_UNPOISON(p + n, EFFC_GUARD);
    for (i = 0; i < EFFC_GUARD; i++) {
        before += p[i - EFFC_GUARD] != EFFC_GUARD_FILL;
        after += p[n + (size_t)i] != EFFC_GUARD_FILL;
    }
    return (uint16_t)(before | after << 8);
}

/* Records a case's scratch size and arms the guards around its scratch, the
   last ``need`` bytes of the arena. */
static void effc_guard_scratch(size_t *used_scratch, size_t need)
{
    *used_scratch = need;
    if (need <= EFFC_ARENA) {
        effc_guard_arm(effc_test_arena + EFFC_GUARD + EFFC_ARENA - need, need);
    }
}
"""



def guard_regions(cases: list[Case]) -> int:
    """Guarded regions per case: the output, the scratch, then the ``buffers``."""
    return 2 + max((len(c.buffers) for c in cases), default=0)


def guarded(ctype: str, sym: str, nbytes: int) -> tuple[str, str]:
    """A static buffer of ``nbytes`` between two GUARD_BYTES guards (RAM, not flash):
    its definition and a ``ctype *`` expression for its first element."""
    return (f"static unsigned char {sym}[{nbytes} + 2 * EFFC_GUARD] EFFC_GUARDED;\n",
            f"(({ctype} *)({sym} + EFFC_GUARD))")


def guard_damage(case: Case, hits: list[int]) -> list[str]:
    """The guarded regions of ``case`` whose guard bytes changed, and on which side."""
    names = ["output", "scratch", *case.buffers]
    return [f"{case.name}: {names[r]} {side} ({n} of {GUARD_BYTES} guard bytes changed)"
            for r, h in enumerate(hits[:len(names)])
            for side, n in (("before", h & 0xFF), ("after", h >> 8)) if n]


def guard_report(damage: list[str], where: str) -> None:
    """Fail naming every case that wrote into guard bytes, the region and the side."""
    assert not damage, f"out-of-bounds writes on {where}:\n" + "\n".join(damage)


def guard_words(cases: list[Case]) -> int:
    """uint16 guard words per case in a result blob, rounded up to 4 bytes."""
    return (guard_regions(cases) + 1) // 2 * 2

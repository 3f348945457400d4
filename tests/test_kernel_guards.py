"""The kernel-case driver's guard bytes (tests/kernel_guards.py) see writes past
every guarded region: calls that write one element out of bounds on purpose
must fail, naming the case, the region and the side; in-bounds calls pass."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest_c import Case, run_host, run_host_sanitized

X = np.arange(8, dtype=np.int8)


def _case(name: str, write: str, buffers: bool = False) -> Case:
    """Copies x into the 8-byte output after ``write`` (a C expression)."""
    return Case(name, "guard", {"x": X}, [], f"({write}, effc_copy(y, @x, 8))", (8,),
                scratch="16", buffers={"extra": ((4,), np.int16)} if buffers else {})


IN_BOUNDS = _case("in_bounds", "(y[0] = y[7] = 1, ((char *)s.buf)[0] = ((char *)s.buf)[15] = 1,"
                  " @extra[0] = @extra[3] = 1)", buffers=True)
BROKEN = [  # (case, the report it must produce)
    (_case("out_after", "y[8] = 1"), "out_after: output after (1 of 16"),
    (_case("out_before", "y[-2] = y[-1] = 1"), "out_before: output before (2 of 16"),
    (_case("scratch_after", "((char *)s.buf)[16] = 1"), "scratch_after: scratch after (1 of"),
    (_case("scratch_before", "((char *)s.buf)[-1] = 1"), "scratch_before: scratch before (1"),
    (_case("buffer_after", "@extra[4] = -1", buffers=True),
     "buffer_after: extra after (2 of 16"),
]


def test_in_bounds_writes_pass() -> None:
    ((rc, used, y),) = run_host([IN_BOUNDS])
    assert (rc, used) == (0, 16)
    np.testing.assert_array_equal(y, X)


@pytest.mark.parametrize(("case", "report"), BROKEN, ids=[c.name for c, _ in BROKEN])
def test_out_of_bounds_write_fails_naming_case_and_side(case: Case, report: str) -> None:
    with pytest.raises(AssertionError, match="out-of-bounds writes on host") as err:
        run_host([IN_BOUNDS, case])
    assert report in str(err.value)
    assert "in_bounds" not in str(err.value)


def test_sanitized_build_reports_guard_writes() -> None:
    """Under ASan the guards are poisoned: a runtime function copying one byte too
    many stops the run at the write (stores the compiler proves inside the
    guarded array, like y[8] in the case itself, are left to the guard check)."""
    copy = Case("copy_past", "guard", {"x": np.arange(16, dtype=np.int8)}, [],
                "effc_copy(y, @x, 9)", (8,))
    with pytest.raises(AssertionError, match="use-after-poison"):
        run_host_sanitized([copy])
    with pytest.raises(AssertionError, match=r"on host \(sanitized\):\nout_after: output after"):
        run_host_sanitized([BROKEN[0][0]])

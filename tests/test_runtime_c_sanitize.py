"""All runtime_c kernel cases once more, under -fsanitize=address,undefined.

The driver's input arrays are globals with exact sizes; each output, scratch
and extra buffer sits between guard bytes (tests/conftest_c.py) that the driver
poisons for ASan, so reads or writes past any buffer are caught, and the guard
check names the case and side; UBSan catches signed overflow, bad shifts and
misaligned accesses.
"""

from __future__ import annotations

import numpy as np

from tests import test_runtime_c as t8
from tests import test_runtime_c_float as tf
from tests.conftest_c import run_host_sanitized


def test_all_kernel_cases_are_sanitizer_clean() -> None:
    cases = t8.CASES + tf.CASES
    results, log = run_host_sanitized(cases)
    assert "runtime error" not in log and "AddressSanitizer" not in log, log
    plain = t8.host_results() + tf.host_results()
    for case, (rc, used, y), (rc0, used0, y0) in zip(cases, results, plain, strict=True):
        assert rc == rc0 == 0, f"{case.name}: rc {rc}"
        assert used == used0
        np.testing.assert_array_equal(y.view(np.uint8), y0.view(np.uint8), err_msg=case.name)

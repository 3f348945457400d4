"""Run every backend test case once and tally the outcomes per op.

A case's outcome is ``pass``, ``wrong`` (ran, differs), ``error`` (crashed),
``refused`` (the one-line EffcError) or ``out of scope`` (a rule of
``scope.py`` or an op effc does not import, decided before it runs). Cases of
the node suite count for the op they test; the pytorch models count for every
op they hold.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from effc.ops import supported_onnx_ops
from tests.conformance.cases import Case, all_cases
from tests.conformance.runner import PASS, Outcome, run_case
from tests.conformance.scope import scope_reason

OUT_OF_SCOPE = "out of scope"
#: The pass rates docs/ops.md shows (effc.opsupport reads them; effc never imports tests).
RATES = Path(__file__).resolve().parents[2] / "docs" / "ops-conformance.json"


@dataclass
class OpTally:
    cases: int = 0
    passed: int = 0
    out_of_scope: int = 0
    other: list[str] = field(default_factory=list)  # keys of cases neither passed nor skipped

    @property
    def rate(self) -> str:
        """Passed of the cases in scope (every case in scope must pass)."""
        run = self.cases - self.out_of_scope
        return f"{self.passed}/{run}" if run else "-"


@functools.cache
def results() -> dict[str, tuple[Case, Outcome]]:
    """Every case's outcome, keyed by ``suite/name`` (computed once per session)."""
    supported = set(supported_onnx_ops())
    out: dict[str, tuple[Case, Outcome]] = {}
    for case in all_cases():
        reason = scope_reason(case, supported)
        outcome = Outcome(OUT_OF_SCOPE, reason) if reason else run_case(case)
        out[case.key] = (case, outcome)
    return out


def per_op() -> dict[str, OpTally]:
    """Outcomes tallied per ONNX op; a refused case counts as out of scope when its
    reason is listed (the test fails on every other refusal)."""
    from tests.conformance.scope import case_reason

    tallies: dict[str, OpTally] = defaultdict(OpTally)
    for key, (case, outcome) in results().items():
        for op in case.ops:
            tally = tallies[op]
            tally.cases += 1
            if outcome.status == PASS:
                tally.passed += 1
            elif outcome.status == OUT_OF_SCOPE or case_reason(case):
                tally.out_of_scope += 1
            else:
                tally.other.append(key)
    return dict(sorted(tallies.items()))


def table(ops: list[str]) -> str:
    """A plain-text table of the pass rate per op."""
    tallies = per_op()
    lines = [f"{'op':<26}{'cases':>7}{'passed':>8}{'out of scope':>14}"]
    for op in ops:
        t = tallies.get(op)
        if t is not None:
            lines.append(f"{op:<26}{t.cases:>7}{t.passed:>8}{t.out_of_scope:>14}")
    return "\n".join(lines)


def rates_json() -> str:
    """docs/ops-conformance.json: per ONNX op effc imports, its cases, passed and out of
    scope (the pytorch models count for every op they hold)."""
    supported = set(supported_onnx_ops())
    rates = {op: {"cases": t.cases, "passed": t.passed, "out_of_scope": t.out_of_scope}
             for op, t in per_op().items() if op in supported}
    rows = [f" {json.dumps(op)}: {json.dumps(tally)}" for op, tally in sorted(rates.items())]
    return "{\n" + ",\n".join(rows) + "\n}\n"


if __name__ == "__main__":
    RATES.write_text(rates_json())
    print(f"wrote {RATES}")

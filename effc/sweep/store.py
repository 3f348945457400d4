"""SWEEPDIR/results.jsonl: one line per finished point, appended as points finish.

Each line is a whole JSON record written in one call and flushed to disk, so an
interrupted sweep leaves every finished point behind; a line cut short by a kill is
dropped when the file is opened again. The last record of a key wins.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from effc.errors import EffcError
from effc.outdir import os_problem

RESULTS = "results.jsonl"


class ResultStore:
    def __init__(self, folder: Path) -> None:
        self.path = folder / RESULTS
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._repair()
        except OSError as exc:
            raise EffcError(f"cannot write the sweep folder '{folder}' ({os_problem(exc)}); "
                            "choose a writable -o SWEEPDIR") from None

    def _repair(self) -> None:
        """Cut a last line left half-written by a kill (no newline at its end)."""
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.path.open("r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)

    def load(self) -> dict[str, dict[str, Any]]:
        """key -> its last record."""
        records: dict[str, dict[str, Any]] = {}
        if not self.path.is_file():
            return records
        for line in self.path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("key"), str):
                records[record["key"]] = record
        return records

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True) + "\n"
        with self.path.open("a") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

"""The docs that claim to be current are: the op support table (docs/ops.md) is the
generator's output, the board list names every packaged board, and getting-started runs
as written."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from effc.boards import list_boards
from effc.ops import onnx_importer
from effc.opsupport import read_rates, render
from tests.conftest import EXAMPLES, ROOT

DOCS = ROOT / "docs"


def test_ops_table_is_generated_from_the_code() -> None:
    doc = DOCS / "ops.md"
    assert doc.read_text() == render(read_rates(doc)), (
        "docs/ops.md is stale: run python -m effc.opsupport --write docs/ops.md")


def test_ops_table_agrees_with_the_c_target() -> None:
    """Every C kernel shows in the table; the ops without one show a dash."""
    from effc.codegen import targets

    c = targets()["c"]
    rows = {line.split(" | ")[0][2:]: line.split(" | ") for line in
            (DOCS / "ops.md").read_text().splitlines() if line.startswith("| ")
            and not line.startswith(("| ONNX op", "|---"))}
    assert rows["Conv"][4:6] == ["yes", "yes"]
    assert rows["LogSoftmax"][4] == "—" and not c.accepts("LogSoftmax", False)
    for op, row in rows.items():
        importer = onnx_importer(op)
        if importer is not None and importer.op_type == op and c.accepts(op, False):
            assert row[4] == "yes", op


def test_board_list_names_every_board() -> None:
    text = (DOCS / "boards.md").read_text()
    for board in list_boards():
        assert f"| {board.name} " in text, board.name


def test_runtime_readme_names_every_runtime_file() -> None:
    """effc/runtime_c/README.md's file table names every .c and .h of the runtime."""
    runtime = ROOT / "effc" / "runtime_c"
    readme = (runtime / "README.md").read_text()
    missing = sorted(f.name for f in runtime.iterdir()
                     if f.suffix in (".c", ".h") and f"`{f.name}`" not in readme)
    assert not missing, f"add these to effc/runtime_c/README.md's file table: {missing}"


@pytest.mark.qemu
def test_getting_started_runs_as_written(tmp_path: Path) -> None:
    text = (DOCS / "getting-started.md").read_text()
    commands = [line for block in re.findall(r"```sh\n(.*?)```", text, re.S)
                for line in block.splitlines() if line.strip()]
    assert len(commands) == 6 and all(c.startswith("effc ") for c in commands)
    shutil.copytree(EXAMPLES / "digits", tmp_path / "examples" / "digits")
    outputs = []
    for command in commands:
        r = subprocess.run([sys.executable, "-m", "effc.cli", *shlex.split(command)[1:]],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"{command}: {r.stderr}"
        outputs.append(r.stdout)
    assert "top-1 agreement" in outputs[2]
    assert "instructions per inference" in outputs[4]
    assert "flash (dry run): " in outputs[5] and "nothing written" in outputs[5]
    assert (tmp_path / "digits-l4" / "report.html").is_file()
    assert (tmp_path / "digits-l4" / "export" / "cmake" / "toolchain-nucleo-l4r5zi.cmake"
            ).is_file()

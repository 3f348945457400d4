"""The README's Python example runs as written (from a copy of examples/)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from tests.conftest import EXAMPLES, ROOT


def test_readme_python_example_runs(tmp_path: Path, capsys) -> None:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "the README has one Python example"
    shutil.copytree(EXAMPLES / "digits", tmp_path / "examples" / "digits")
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        exec(compile(blocks[0], "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    printed = capsys.readouterr().out.split()
    assert printed[0] == "452864" and float(printed[1]) >= 0.9

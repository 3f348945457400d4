"""docs/python-api.md's example runs as written; effc.compile refuses unknown options."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

import effc
from effc.errors import EffcError
from tests.conftest import EXAMPLES, ROOT


def test_python_api_doc_example_runs(tmp_path: Path, capsys) -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "python-api.md").read_text(),
                        re.S)
    assert len(blocks) == 1
    shutil.copytree(EXAMPLES / "digits", tmp_path / "examples" / "digits")
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        exec(compile(blocks[0], "python-api.md", "exec"), {})
    finally:
        os.chdir(cwd)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("top-1 ") and float(lines[0].split()[1]) >= 0.9
    assert lines[1] == "# effc report: digits"
    assert lines[2].startswith("firmware.bin -> nucleo-l4r5zi at 0x08000000,")
    arena = effc.CompiledModel.open(tmp_path / "digits-l4").manifest["memory"]["arena_bytes"]
    assert lines[3] == f"{arena} arena bytes"
    assert (tmp_path / "digits-l4" / "export" / "cmake" / "digits.h").is_file()
    assert "int digits_init(digits_ctx *ctx" in (tmp_path / "digits-l4" / "c" /
                                                 "digits.h").read_text()


def test_compile_refuses_an_unknown_option(tmp_path: Path) -> None:
    with pytest.raises(EffcError, match=r"effc\.compile\(\) has no option 'boards'; the "
                                        r"options are"):
        effc.compile(EXAMPLES / "digits" / "digits_cnn.onnx", tmp_path / "o", boards="x")

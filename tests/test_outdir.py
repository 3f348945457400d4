"""OUTDIR is effc's alone, movable, and the same bytes every time.

Each case was first reproduced against the old compiler: ``-o ""`` and ``-o .``
compiled into the cwd over ``./model.onnx``, a non-empty folder's files were
overwritten and its stray ``c/*.c`` linked into the firmware, symlinks inside
OUTDIR were followed, and manifest paths were relative to the compile's cwd.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from effc.compiler import CompiledModel
from effc.outdir import MARKER
from tests.conftest import EXAMPLES
from tests.test_cli_errors import assert_one_line_error, effc

DIGITS = EXAMPLES / "digits" / "digits_cnn.onnx"
DATA = EXAMPLES / "digits" / "digits_data.npz"


@pytest.fixture
def model(tmp_path: Path) -> Path:
    shutil.copyfile(DIGITS, tmp_path / "model.onnx")
    return tmp_path / "model.onnx"


def compile_ok(model: Path, out: str, *extra: str, cwd: Path | None = None) -> None:
    result = effc("compile", str(model), "-o", out, *extra, cwd=cwd or model.parent)
    assert result.returncode == 0, result.stderr


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_empty_output_path_is_refused(model: Path) -> None:
    before = tree(model.parent)
    assert_one_line_error(effc("compile", str(model), "-o", "", cwd=model.parent), "empty")
    assert tree(model.parent) == before


@pytest.mark.parametrize("out", [".", "./", "..", "sub/.."])
def test_current_folder_is_refused(model: Path, out: str) -> None:
    (model.parent / "sub").mkdir()
    before = tree(model.parent)
    assert_one_line_error(effc("compile", "model.onnx", "-o", out, "--force",
                               cwd=model.parent), "current folder")
    assert tree(model.parent) == before


def test_folder_holding_the_model_is_refused(model: Path, tmp_path: Path) -> None:
    before = model.read_bytes()
    assert_one_line_error(effc("compile", str(model), "-o", str(tmp_path), "--force"),
                          "holds the input")
    assert model.read_bytes() == before


def test_non_empty_foreign_folder_is_refused_then_forced(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "c").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "report.md").write_text("my own report")
    (out / "c" / "stray.c").write_text("this is not C and must not be linked\n")
    assert_one_line_error(effc("compile", str(model), "-o", str(out)), "--force")
    assert (out / "report.md").read_text() == "my own report"
    compile_ok(model, str(out), "--board", "--force")
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "c" / "stray.c").is_file()  # kept, and not part of the firmware
    assert "stray" not in (out / "firmware" / "build.log").read_text()


def test_recompiling_removes_stale_outputs(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    compile_ok(model, str(out), "--board")
    assert (out / "c").is_dir()
    compile_ok(model, str(out))  # no --force needed: the folder is effc's own
    assert not (out / "c").exists() and not (out / "firmware").exists()
    assert "c" not in json.loads((out / "effc.json").read_text())
    listed = json.loads((out / MARKER).read_text())["files"]
    assert sorted(tree(out)) == sorted([*listed, MARKER])


def test_user_file_in_effc_folder_is_kept(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    compile_ok(model, str(out))
    (out / "mine.txt").write_text("mine")
    assert_one_line_error(effc("compile", str(model), "-o", str(out)), "did not write")
    compile_ok(model, str(out), "--force")
    assert (out / "mine.txt").read_text() == "mine"


def test_symlinks_inside_outdir_are_never_followed(model: Path, tmp_path: Path) -> None:
    out, victim, elsewhere = tmp_path / "out", tmp_path / "victim.txt", tmp_path / "elsewhere"
    compile_ok(model, str(out))
    victim.write_text("precious")
    elsewhere.mkdir()
    (out / "report.md").unlink()
    (out / "report.md").symlink_to(victim)
    (out / "c").symlink_to(elsewhere, target_is_directory=True)
    assert_one_line_error(effc("compile", str(model), "-o", str(out), "--board"),
                          "did not write")
    compile_ok(model, str(out), "--board", "--force")
    assert victim.read_text() == "precious" and not any(elsewhere.iterdir())
    assert not (out / "report.md").is_symlink() and not (out / "c").is_symlink()


def test_output_under_a_file_or_unwritable(model: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    assert_one_line_error(effc("compile", str(model), "-o", str(tmp_path / "afile" / "out")),
                          "cannot be created")
    assert_one_line_error(effc("compile", str(model), "-o", "/proc/effc-out/x"),
                          "cannot be created")


def test_manifest_paths_are_relative(model: Path, tmp_path: Path) -> None:
    compile_ok(model, "out", "--board", cwd=tmp_path)
    manifest = json.loads((tmp_path / "out" / "effc.json").read_text())
    assert manifest["c"]["folder"] == "c"
    assert manifest["firmware"]["elf"] == "firmware/firmware.elf"
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".map", ".log", ".md", ".ld"):
            assert str(tmp_path) not in path.read_text(errors="replace"), path


@pytest.mark.qemu
def test_moved_renamed_zipped_outdir_runs_from_anywhere(model: Path, tmp_path: Path) -> None:
    compile_ok(model, "out", "--board", "--calib", f"{DATA}:x_train", cwd=tmp_path)
    x = np.load(DATA)["x_test"][:3]
    np.save(tmp_path / "x.npy", x)
    expected = CompiledModel.open(tmp_path / "out").run("reference", x).outputs
    archive = shutil.make_archive(str(tmp_path / "bundle"), "zip", tmp_path / "out")
    shutil.rmtree(tmp_path / "out")
    shutil.unpack_archive(archive, tmp_path / "far" / "renamed")
    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    for engine in ("host", "qemu"):
        result = effc("run", "../far/renamed", "--engine", engine, "--input", "../x.npy",
                      "--output", f"y_{engine}.npy", cwd=cwd)
        assert result.returncode == 0, result.stderr
        np.testing.assert_array_equal(np.load(cwd / f"y_{engine}.npy"), expected)
    result = effc("run", str(tmp_path / "far" / "renamed"), "--engine", "qemu", "--profile",
                  "--input", str(tmp_path / "x.npy"), "--output", "y.npy", cwd=cwd)
    assert result.returncode == 0, result.stderr


def test_two_compiles_give_identical_trees(model: Path, tmp_path: Path) -> None:
    compile_ok(model, str(tmp_path / "a"), "--board", "--calib", f"{DATA}:x_train")
    compile_ok(model, str(tmp_path / "deeper" / "b"), "--board", "--calib", f"{DATA}:x_train",
               cwd=tmp_path)
    a, b = tree(tmp_path / "a"), tree(tmp_path / "deeper" / "b")
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []
    assert "firmware/firmware.map" in a and "firmware/firmware.elf" in a

"""The build cache is a private folder, keyed by everything that was built.

Reproduced first: with ``~/.cache`` unwritable the cache fell back to
``$TMPDIR/effc-cache-<uid>`` without any owner or mode check, so a planted
``effc-runtime-<hash>.so`` there was loaded by ``compile --board``.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from effc.toolchain.host import build_shared, cache_dir
from tests.test_cli_errors import DIGITS, assert_one_line_error

CALIB = DIGITS.parent / "digits_data.npz"
PLANT = "__attribute__((constructor)) static void p(void) { *(volatile int *)0 = 0; }\n"


def _env(tmp_path: Path) -> dict[str, str]:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    env = {k: v for k, v in os.environ.items() if k != "EFFC_CACHE"}
    return env | {"XDG_CACHE_HOME": str(blocker), "TMPDIR": str(tmp_path)}


def _compile(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "effc.cli", "compile", str(DIGITS), "-o",
                           str(tmp_path / "out"), "--board", "--calib", f"{CALIB}:x_train"],
                          capture_output=True, text=True,
                          env=env, timeout=300)


def _planted(tmp_path: Path, mode: int) -> Path:
    folder = tmp_path / f"effc-cache-{os.getuid()}"
    folder.mkdir()
    src = tmp_path / "plant.c"
    src.write_text(PLANT)
    subprocess.run(["gcc", "-shared", "-fPIC", str(src), "-o",
                    str(folder / "effc-runtime-0123456789abcdef.so")], check=True)
    folder.chmod(mode)
    return folder


def test_world_writable_fallback_cache_is_refused(tmp_path: Path) -> None:
    _planted(tmp_path, 0o777)
    assert_one_line_error(_compile(tmp_path, _env(tmp_path)), "build cache", "EFFC_CACHE")


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give the folder to another user")
def test_cache_of_another_user_is_refused(tmp_path: Path) -> None:
    folder = _planted(tmp_path, 0o700)
    os.chown(folder, 65534, 65534)
    assert_one_line_error(_compile(tmp_path, _env(tmp_path)), "build cache", "uid 65534")


def test_symlinked_cache_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.setenv("EFFC_CACHE", str(tmp_path / "link"))
    from effc.errors import EffcError

    with pytest.raises(EffcError, match="not a private folder"):
        cache_dir()


def test_fallback_cache_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("EFFC_CACHE", raising=False)
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    folder = cache_dir()
    assert folder == tmp_path / f"effc-cache-{os.getuid()}"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    folder.chmod(0o755)  # ours and only readable by others (an older effc): tightened
    assert stat.S_IMODE(cache_dir().stat().st_mode) == 0o700


def test_key_covers_headers_flags_and_full_digest(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EFFC_CACHE", str(tmp_path / "cache"))
    (tmp_path / "a.h").write_text("#define V 1\n")
    (tmp_path / "a.c").write_text('#include "a.h"\nint v(void) { return V; }\n')
    first = build_shared([tmp_path / "a.c"], ["-O1", f"-I{tmp_path}"], "t")
    assert len(first.stem.split("-")[-1]) == 64
    (tmp_path / "a.h").write_text("#define V 2\n")
    second = build_shared([tmp_path / "a.c"], ["-O1", f"-I{tmp_path}"], "t")
    third = build_shared([tmp_path / "a.c"], ["-O2", f"-I{tmp_path}"], "t")
    assert len({first, second, third}) == 3
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700

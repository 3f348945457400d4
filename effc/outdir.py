"""OUTDIR belongs to effc: checked before use, written without following symlinks.

``OutDir.prepare`` refuses an empty path, the current folder (or one above
it), a folder holding the input model, and a non-empty folder that effc did
not write (no marker file ``.effc-outdir``; ``--force`` reuses such a folder).
In a folder of effc's own the files its marker lists (the previous compile's
outputs) are removed first, so nothing stale survives.

Every file goes in through ``OutDir.write``: written to a
fresh temporary name (``O_EXCL | O_NOFOLLOW``) and renamed over its target,
so a symlink planted in OUTDIR is replaced, never followed. The marker lists
every file written, in sorted order (the tree stays byte-identical between
runs).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from effc.errors import EffcError

MARKER = ".effc-outdir"
_MARKER_HEADER = "effc output folder: effc may replace or remove the files listed here"


def os_problem(exc: OSError) -> str:
    """An OSError as a few words, without the Python type."""
    return exc.strerror or type(exc).__name__


def mkdirs(folder: Path, what: str) -> None:
    """``mkdir -p`` with a one-line error (a file in the way, no permission)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise EffcError(f"{what} '{folder}' cannot be created: a file of that name is in "
                        "the way; choose another path") from None
    except OSError as exc:
        raise EffcError(f"{what} '{folder}' cannot be created ({os_problem(exc)}); choose a "
                        "writable path") from None


def _listed(folder: Path) -> list[str]:
    marker = folder / MARKER
    if marker.is_symlink() or not marker.is_file():
        return []
    try:
        doc = json.loads(marker.read_text())
        files = doc["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [f for f in files if isinstance(f, str) and _is_inside(f)]


def _is_inside(rel: str) -> bool:
    p = Path(rel)
    return not p.is_absolute() and ".." not in p.parts and rel not in ("", ".")


class OutDir:
    """An output folder effc owns; ``write`` records what it adds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: set[str] = set(_listed(root))

    # ------------------------------------------------------------ opening

    @staticmethod
    def check_path(path: str | Path, inputs: tuple[Path, ...] = ()) -> Path:
        """Refuse an empty path, the current folder (or one above it), a folder
        holding one of ``inputs``, and a path whose name is taken by a file."""
        text = str(path)
        if not text.strip():
            raise EffcError("the output folder is an empty path (an unset variable?); give "
                            "-o OUTDIR")
        root = Path(text).absolute()
        resolved = root.resolve()
        cwd = Path.cwd().resolve()
        if cwd == resolved or cwd.is_relative_to(resolved):
            raise EffcError(f"-o '{text}' is the current folder or one above it; give a new "
                            "folder such as -o out")
        for item in inputs:
            if item.resolve().is_relative_to(resolved):
                raise EffcError(f"-o '{text}' holds the input '{item}'; give an output folder "
                                "that does not contain the model")
        if root.exists() and not root.is_dir():
            raise EffcError(f"output '{text}' exists and is not a folder; choose another -o")
        return root

    @classmethod
    def prepare(cls, path: str | Path, inputs: tuple[Path, ...] = (), force: bool = False
                ) -> OutDir:
        """Check ``path`` and make it ready for a new compile (see the module doc)."""
        root = cls.check_path(path, inputs)
        mkdirs(root, "output folder")
        out = cls(root)
        out._clear_previous(force)
        return out

    @classmethod
    def existing(cls, folder: Path) -> OutDir:
        """A compiled OUTDIR opened to add files (e.g. the profiling firmware)."""
        return cls(folder.absolute())

    def _clear_previous(self, force: bool) -> None:
        marked = (self.root / MARKER).is_file() and not (self.root / MARKER).is_symlink()
        entries = _entries(self.root)
        # effc never writes a symlink: every link is someone else's, listed or not.
        foreign = sorted(p.relative_to(self.root).as_posix() for p in entries
                         if p.is_symlink() or (p.name != MARKER and
                                               p.relative_to(self.root).as_posix()
                                               not in self.files))
        if foreign and not force:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            if marked:
                raise EffcError(f"output folder '{self.root}' holds files effc did not write "
                                f"({shown}); move them away or pass --force to keep them")
            raise EffcError(f"output folder '{self.root}' is not empty and was not written by "
                            f"effc ({shown}); choose a new folder or pass --force to reuse it")
        for p in entries:  # only the links themselves go, never what they point at
            if p.is_symlink():
                p.unlink()
        for rel in self.files:  # the previous compile's outputs: nothing stale survives
            target = self.root / rel
            if target.is_file() and not target.is_symlink():
                target.unlink()
        self.files = set()
        _remove_empty_dirs(self.root)
        self._write_marker()

    # ------------------------------------------------------------ writing

    def path(self, rel: str) -> Path:
        return self.root / rel

    def folder(self, rel: str) -> Path:
        """Create ``rel`` (and its parents) as real folders inside OUTDIR."""
        current = self.root
        for part in Path(rel).parts:
            current = current / part
            if current.is_symlink() or (current.exists() and not current.is_dir()):
                current.unlink()
            if not current.exists():
                try:
                    current.mkdir()
                except OSError as exc:
                    raise EffcError(f"cannot create '{current}' ({os_problem(exc)}); check "
                                    "the output folder") from None
        return current

    def write(self, rel: str, data: bytes | str) -> Path:
        """Write ``OUTDIR/rel`` (a new file renamed over the old one)."""
        if isinstance(data, str):
            data = data.encode()
        parent = self.folder(str(Path(rel).parent)) if Path(rel).parent != Path(".") \
            else self.root
        target = _replace_file(parent / Path(rel).name, data)
        self._record(rel)
        return target

    def _record(self, rel: str) -> None:
        if rel not in self.files:
            self.files.add(Path(rel).as_posix())
            self._write_marker()

    def _write_marker(self) -> None:
        text = json.dumps({"about": _MARKER_HEADER, "files": sorted(self.files)}, indent=1)
        _replace_file(self.root / MARKER, (text + "\n").encode())


def _replace_file(target: Path, data: bytes) -> Path:
    """Write a fresh file (O_EXCL | O_NOFOLLOW) and rename it over ``target``: a
    symlink at ``target`` is replaced, never followed."""
    tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise EffcError(f"cannot write '{target}' ({os_problem(exc)}); choose a writable "
                        "output folder") from None
    return target


def _entries(root: Path) -> list[Path]:
    """Every file and link under ``root`` (links are not followed)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        found += [here / d for d in dirnames if (here / d).is_symlink()]
        found += [here / f for f in filenames]
    return found


def _remove_empty_dirs(root: Path) -> None:
    for dirpath, _dirnames, _filenames in sorted(os.walk(root, followlinks=False),
                                                 key=lambda w: -len(w[0])):
        here = Path(dirpath)
        if here != root and not any(here.iterdir()):
            here.rmdir()


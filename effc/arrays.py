"""Reading users' .npy/.npz files: every failure is one line.

A .npy is memory-mapped first, so a header that claims more data than the file
holds is refused before anything is allocated; .npz members are read with the
same errors caught (a truncated archive, a huge claimed shape).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from effc.errors import EffcError

READ_ERRORS = (OSError, ValueError, EOFError, MemoryError, zipfile.BadZipFile)


def open_arrays(path: Path, what: str) -> np.ndarray | np.lib.npyio.NpzFile:
    """An .npy file's array, or an .npz file's archive (read members with ``member``)."""
    try:
        value = np.load(path, mmap_mode="r", allow_pickle=False)
        return value if isinstance(value, np.lib.npyio.NpzFile) else np.array(value)
    except READ_ERRORS:
        raise EffcError(f"{what} '{path}' is not a readable .npy/.npz file (corrupt, or its "
                        "header claims more data than it holds); save it with numpy.save") \
            from None


def member(archive: np.lib.npyio.NpzFile, key: str, what: str) -> np.ndarray:
    """One array of an .npz archive."""
    try:
        return np.asarray(archive[key])
    except READ_ERRORS:
        raise EffcError(f"array '{key}' of {what} is corrupt or truncated; save the file again "
                        "with numpy.savez") from None

"""The file side of checkpoints: checking a path before writing, and writing atomically.

:func:`write_atomically` writes an ``.npz`` archive into a temporary file beside
the target, flushes it to disk and renames it over the target, so that an
interrupted save leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from typing import Any

import numpy as np

__all__ = ["check_writable", "checked_path", "write_atomically"]


def checked_path(path: Any) -> str:
    """``path`` as a str, or ``TypeError`` naming it."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a str or os.PathLike, got {path!r}")
    return os.fspath(path)


def check_writable(path: str) -> None:
    """``path`` names a file that may be written: not a folder, in a folder that exists and may be written."""
    if os.path.isdir(path) or path.endswith((os.sep, "/")):
        raise IsADirectoryError(f"path: {path!r} is a folder; expected the path of a checkpoint file")
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise NotADirectoryError(f"path: cannot write {path!r}: {directory!r} is a file, not a folder")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"path: cannot write {path!r}: the folder {directory!r} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(f"path: cannot write {path!r}: no permission to create files in {directory!r}")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise PermissionError(f"path: cannot write {path!r}: the file is read-only")


def write_atomically(path: str, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` into a temporary file beside ``path``, flushed to disk, then renamed over ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX; not possible everywhere)
        folder = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

"""Run files: a trajectory saved with :func:`numpy.savez` (``run.npz``), read one step at a time.

A run file holds the arrays ``initial``, ``grads`` and ``params`` (see :func:`optim.identify`) and,
optionally, 0-d arrays with what the run used: ``algorithm`` (a string), ``lr``, ``beta1``, ``beta2``,
``eps``, ``weight_decay`` (numbers) and ``maximize`` (a bool). Anything else in the file is refused,
so that nothing is silently ignored. ``grads`` and ``params`` are not loaded: :class:`NpyMemberRows`
reads them from the archive one step at a time (compressed or not), so the memory used does not grow
with the number of steps. A member saved in Fortran order has no contiguous rows and is loaded whole.
"""

from __future__ import annotations

import dataclasses
import math
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from optim.identify.trajectory import ArrayRows, StepRows

__all__ = ["ARRAYS", "SETTINGS", "NpyMemberRows", "RunFile", "RunFileError", "load_run"]

ARRAYS = ("initial", "grads", "params")
SETTINGS = ("algorithm", "lr", "beta1", "beta2", "eps", "weight_decay", "maximize")


class RunFileError(ValueError):
    """A run file that cannot be used: not an archive, a missing, unknown, damaged or malformed array."""


@dataclasses.dataclass(frozen=True)
class RunFile:
    """A run file, checked: the initial parameter (loaded), the step arrays (read lazily), and the settings."""

    path: Path
    initial: np.ndarray
    grads: StepRows
    params: StepRows
    settings: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class _Header:
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    offset: int


class NpyMemberRows:
    """:class:`~optim.identify.trajectory.StepRows` over one ``.npy`` member of an archive, read row by row."""

    def __init__(self, path: Path, member: str, header: _Header) -> None:
        self.path, self.member, self.header = path, member, header
        self.shape = header.shape
        self.dtype = header.dtype.newbyteorder("=")

    def iter_rows(self) -> Iterator[np.ndarray]:
        row_bytes = math.prod(self.shape[1:]) * self.dtype.itemsize
        with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as stream:
            stream.read(self.header.offset)
            for step in range(self.shape[0]):
                data = stream.read(row_bytes)
                if len(data) != row_bytes:
                    raise RunFileError(f"{self.member[:-4]}: {self.path} ends after {step} of {self.shape[0]} steps")
                yield np.frombuffer(data, dtype=self.header.dtype).astype(self.dtype, copy=False)


def _read_header(archive: zipfile.ZipFile, member: str, name: str) -> _Header:
    """Shape, dtype and order of a member, and where its data start; checks that the data are all there."""
    with archive.open(member) as stream:
        try:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
        except ValueError as error:
            raise RunFileError(f"{name}: not a readable .npy array ({error})") from None
        offset = stream.tell()
    if dtype.hasobject:
        raise RunFileError(f"{name}: an array of Python objects (dtype {dtype}); save numbers")
    expected = offset + math.prod(shape) * dtype.itemsize
    actual = archive.getinfo(member).file_size
    if actual != expected:
        raise RunFileError(f"{name}: holds {actual - offset} bytes of data, but shape {shape} of {dtype} needs "
                           f"{expected - offset}; the file is damaged")
    return _Header(tuple(shape), dtype, fortran_order, offset)


def _setting(value: np.ndarray, name: str) -> Any:
    """A 0-d array's value: a string for ``algorithm``, a bool for ``maximize``, else a float."""
    if value.ndim != 0:
        raise RunFileError(f"{name}: expected a single value (a scalar or 0-d array), got an array of shape "
                           f"{value.shape}")
    kind = value.dtype.kind
    if name == "algorithm":
        if kind not in "US":
            raise RunFileError(f"algorithm: expected a string such as 'adam', got {value!r}")
        return str(value[()].decode() if kind == "S" else value[()])
    if name == "maximize":
        if kind != "b":
            raise RunFileError(f"maximize: expected True or False, got {value[()]!r}")
        return bool(value[()])
    if kind not in "fiu":
        raise RunFileError(f"{name}: expected a number, got {value[()]!r} (dtype {value.dtype})")
    return float(value[()])


def load_run(path: str | Path) -> RunFile:
    """Open and check a run file; ``initial`` and the settings are loaded, ``grads`` and ``params`` are not.

    Raises
    ------
    FileNotFoundError
        No such file.
    RunFileError
        Not an ``.npz`` archive; a missing or unknown array; an array of objects; a setting that is not a
        single value of the right kind; a member whose data do not fill its shape.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise RunFileError(f"{path}: not an .npz archive (save the run with numpy.savez)")
    with zipfile.ZipFile(path) as archive:
        members = {name[:-4]: name for name in archive.namelist() if name.endswith(".npy")}
        unknown = sorted(set(members) - set(ARRAYS) - set(SETTINGS))
        unknown += sorted(name for name in archive.namelist() if not name.endswith(".npy"))
        if unknown:
            raise RunFileError(f"{path}: unknown array(s) {unknown}; a run file holds {list(ARRAYS)} and optionally "
                               f"{list(SETTINGS)}")
        for name in ARRAYS:
            if name not in members:
                raise RunFileError(f"{name}: missing from {path}, which holds {sorted(members)}; a run file holds "
                                   f"{list(ARRAYS)}")
        headers = {name: _read_header(archive, members[name], name) for name in members}
    with np.load(path, allow_pickle=False) as archive:
        initial = archive["initial"]
        settings = {name: _setting(archive[name], name) for name in SETTINGS if name in members}
    rows = {}
    for name in ("grads", "params"):
        header = headers[name]
        if header.fortran_order and len(header.shape) > 1:
            with np.load(path, allow_pickle=False) as archive:
                rows[name] = ArrayRows(np.ascontiguousarray(archive[name]))
        else:
            rows[name] = NpyMemberRows(path, members[name], header)
    return RunFile(path, initial, rows["grads"], rows["params"], settings)

"""Checkpoints: a model and its optimizer in one file, without pickle.

A checkpoint is one ``.npz`` archive (:func:`numpy.savez`, uncompressed) whose
members are plain numeric arrays, read back with ``allow_pickle=False``:

``metadata``
    UTF-8 JSON as a ``uint8`` array: the format name and version, the library
    version, a table of every other array (key, dtype, shape), the model's
    parameter names (``null`` when saved without a model), the optimizer's
    class, settings, ``get_config()``, the JSON part of its ``state_dict()``
    (counters, parameter groups with their schedules serialised, which state
    entries exist), the optimizer's parameters that the model does not hold
    (position in the optimizer's parameter order, array key, dtype, shape), and
    the caller's ``extra``.
``checksum``
    The SHA-256 of the metadata and of every array (key, dtype, shape, bytes).
``a0``, ``a1``, ...
    The parameters, the values of the optimizer's parameters outside the model,
    and the optimizer's state arrays (moments, EMA averages, gradients
    accumulated so far), referred to from the metadata by key.

Format versions: 1 saved no values for the optimizer's parameters outside the
model; 2 (written now) saves them. Version 1 files still load; when the
optimizer holds parameters outside the model, those keep their current values
and a warning says so.

Guarantees:

* **Bitwise.** Loading restores every parameter and every piece of optimizer
  state exactly, so training resumed from a checkpoint follows the same
  trajectory, bit for bit, as a run that was never interrupted.
* **Nothing or everything.** The whole file is read and checked (format,
  version, checksum, array table, parameter names, shapes and dtypes, the
  optimizer's class, convention, options and parameter order, the shapes and
  dtypes of its parameters outside the model) before anything is written into
  the model or the optimizer. A truncated, corrupted or foreign
  file raises :class:`CheckpointError` and changes nothing.
* **No code runs.** Nothing is unpickled; schedules are rebuilt by name from
  :mod:`optim.schedules` only.
* **Atomic save.** The file is written to a temporary file in the same folder,
  flushed to disk, then renamed over ``path``: an interrupted save leaves the
  previous checkpoint intact. A ``path`` that is a folder, whose folder does not
  exist, or that may not be written is refused, naming ``path``, before
  anything is written.

A learning rate that is a plain callable (not an :mod:`optim.schedules`
object) cannot be saved; the loading optimizer keeps its own.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import numpy as np

import minigrad
from minigrad import backend
from minigrad.nn.module import Module
from optim.optimizer import Optimizer
from optim.saving import contents, files

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "CheckpointError", "load_checkpoint", "save_checkpoint"]

FORMAT_NAME = "minigrad-optim-checkpoint"
FORMAT_VERSION = 2
_ZIP_MAGIC = b"PK\x03\x04"


class CheckpointError(ValueError):
    """A file that is not a readable checkpoint, or does not fit the model or optimizer it is loaded into.

    Examples
    --------
    >>> import os, tempfile
    >>> import minigrad as mg
    >>> from optim import CheckpointError, load_checkpoint, save_checkpoint
    >>> path = os.path.join(tempfile.mkdtemp(), 'small.npz')
    >>> save_checkpoint(path, mg.nn.Linear(2, 2, rng=0))
    >>> try:
    ...     load_checkpoint(path, mg.nn.Linear(3, 2, rng=0))
    ... except CheckpointError:
    ...     print('the file does not fit this model; nothing was changed')
    the file does not fit this model; nothing was changed
    """


def save_checkpoint(path: str | os.PathLike, model: Module | None, optimizer: Optimizer | None = None,
                    extra: dict[str, Any] | None = None) -> None:
    """Write ``model`` (and ``optimizer``) to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (its folder must exist, and it must not be a folder);
        an existing file is replaced only once the new one is complete, and
        keeps its permissions (a new file gets ``0o644``).
    model : minigrad.nn.Module or None
        Its parameters are saved by dotted name. ``None`` (only with an
        optimizer) saves no model: every parameter of the optimizer is then
        saved as one outside the model.
    optimizer : optim.Optimizer, optional
        Its state (moments, step counts, iterations, schedules, EMA averages,
        pending accumulated gradients) and settings are saved, and the values of
        its parameters that ``model`` does not hold, by position in its
        parameter order.
    extra : dict, optional
        JSON-serialisable metadata of your own (epoch, data-loader position,
        best loss...), returned by :func:`load_checkpoint`.

    Raises
    ------
    IsADirectoryError, NotADirectoryError, FileNotFoundError, PermissionError
        When ``path`` is a folder, its folder is a file or does not exist, or it
        may not be written; nothing has been written then.

    Examples
    --------
    >>> import os, tempfile
    >>> import minigrad as mg
    >>> from optim import Adam, save_checkpoint
    >>> model = mg.nn.Linear(2, 2, rng=0)
    >>> path = os.path.join(tempfile.mkdtemp(), 'run.npz')
    >>> save_checkpoint(path, model, Adam(model.parameters()), extra={'epoch': 1})
    >>> os.path.exists(path)
    True
    """
    path = files.checked_path(path)
    _check_model_and_optimizer(model, optimizer)
    if extra is not None and not isinstance(extra, dict):
        raise TypeError(f"extra: expected a dict or None, got {type(extra).__name__}")
    files.check_writable(path)
    arrays: dict[str, np.ndarray] = {}
    table: list[dict[str, Any]] = []
    metadata = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "library_version": minigrad.__version__,
                "arrays": table, "model": None, "optimizer": None, "extra": contents.json_copy(extra or {}, "extra")}
    if model is not None:
        metadata["model"] = contents.encode_model(model, arrays, table)
    if optimizer is not None:
        try:
            config = optimizer.get_config()
        except TypeError:  # a plain-callable learning rate: not saved, the loading optimizer keeps its own
            config = None
        metadata["optimizer"] = {
            "class": type(optimizer).__name__,
            "config": contents.json_copy(config, "optimizer.get_config()"),
            "settings": contents.optimizer_settings(optimizer, model),
            "optimizer_only_parameters": contents.encode_optimizer_only(optimizer, model, arrays, table),
            "state_dict": contents.encode(optimizer.state_dict(), arrays, table, "optimizer.state_dict()"),
        }
    text = json.dumps(metadata, sort_keys=True).encode("utf-8")
    arrays["metadata"] = np.frombuffer(text, dtype=np.uint8)
    arrays["checksum"] = np.frombuffer(_checksum(text, arrays, metadata["arrays"]).encode("ascii"), dtype=np.uint8)
    files.write_atomically(path, arrays)


def load_checkpoint(path: str | os.PathLike, model: Module | None,
                    optimizer: Optimizer | None = None) -> dict[str, Any]:
    """Restore ``model`` (and ``optimizer``) from a :func:`save_checkpoint` file, all or nothing.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint.
    model : minigrad.nn.Module or None
        Must have the saved parameters: the same names, shapes and dtypes.
        ``None`` (only with an optimizer) for a file saved with ``model=None``.
    optimizer : optim.Optimizer, optional
        Must be of the saved class, built over the same parameters in the same
        order, with the same convention and options (clipping, EMA,
        accumulation, ...). Its parameters outside ``model`` get their saved
        values. Without it only the model is loaded.

    Returns
    -------
    dict
        The ``extra`` metadata given to :func:`save_checkpoint`.

    Raises
    ------
    CheckpointError
        When the file is not a checkpoint, is truncated or damaged, is of a
        newer format, or does not fit ``model`` or ``optimizer``. Nothing has
        been loaded then.

    Warns
    -----
    UserWarning
        When a format version 1 file, which holds no values for the optimizer's
        parameters outside the model, is loaded into an optimizer that has such
        parameters: they keep their current values.

    Examples
    --------
    >>> import os, tempfile
    >>> import minigrad as mg
    >>> from optim import load_checkpoint, save_checkpoint
    >>> path = os.path.join(tempfile.mkdtemp(), 'model.npz')
    >>> save_checkpoint(path, mg.nn.Linear(2, 2, rng=0), extra={'epoch': 3})
    >>> load_checkpoint(path, mg.nn.Linear(2, 2, rng=1))
    {'epoch': 3}
    """
    path = files.checked_path(path)
    _check_model_and_optimizer(model, optimizer)
    metadata, arrays = _read(path)
    try:
        model_state = contents.model_arrays(metadata, arrays, model)
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}; nothing was loaded") from None
    optimizer_only: list[tuple[Any, np.ndarray]] = []
    if optimizer is not None:
        saved = metadata["optimizer"]
        if saved is None:
            raise CheckpointError(f"{path}: the checkpoint holds no optimizer state; load it with optimizer=None")
        differences = contents.settings_differences(saved["settings"], contents.optimizer_settings(optimizer, model))
        if differences:
            raise CheckpointError(f"{path}: the optimizer differs from the saved one, so the run would not resume "
                                  f"as it was: {'; '.join(differences)}; nothing was loaded")
        try:
            optimizer_only = contents.optimizer_only_values(metadata, arrays, optimizer, model, path)
        except ValueError as error:
            raise CheckpointError(f"{path}: {error}; nothing was loaded") from None
        try:  # load_state_dict validates everything against the parameters before it changes anything
            optimizer.load_state_dict(contents.decode(saved["state_dict"], arrays))
        except (TypeError, ValueError, KeyError) as error:
            raise CheckpointError(f"{path}: the optimizer state does not fit this optimizer: {error}; "
                                  "nothing was loaded") from error
    if model is not None:
        model.load_state_dict(model_state)  # checked above, so it cannot fail half-way
    for param, array in optimizer_only:  # in place, so that the fused path's views stay views
        param.data[...] = backend.to_device(array, param.device)
    return metadata["extra"]


def _check_model_and_optimizer(model: Any, optimizer: Any) -> None:
    if model is None and optimizer is None:
        raise TypeError("model: expected a minigrad.nn.Module, got None (None is accepted only with an optimizer)")
    if model is not None and not isinstance(model, Module):
        raise TypeError(f"model: expected a minigrad.nn.Module, got {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected an optim.Optimizer or None, got {type(optimizer).__name__}")


def _checksum(text: bytes, arrays: dict[str, np.ndarray], table: list[dict[str, Any]]) -> str:
    """SHA-256 (hex) of the metadata text, then of each array in table order: key, dtype, shape, bytes."""
    digest = hashlib.sha256(text)
    for entry in table:
        array = arrays[entry["key"]]
        digest.update(f"\0{entry['key']}\0{array.dtype.str}\0{array.shape}\0".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


# ----------------------------------------------------------------- reading and checking
def _read(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The metadata and the arrays of the file at ``path``, or :class:`CheckpointError`."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"path: {path!r} is a folder, not a checkpoint file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"path: no checkpoint file at {path!r}")
    with open(path, "rb") as handle:
        if handle.read(4) != _ZIP_MAGIC:
            raise CheckpointError(f"{path}: not a checkpoint (not an .npz archive); nothing was loaded")
        handle.seek(0)
        try:
            return _parse(handle)
        except Exception as error:  # zipfile, zlib, numpy, json and _parse's checks each fail their own way
            raise CheckpointError(f"{path}: not a readable checkpoint, nothing was loaded ({error})") from error


def _parse(handle: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Every member of the archive, checked against the metadata's array table and the checksum."""
    with np.load(handle, allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    if not all(isinstance(value, np.ndarray) and value.dtype.kind in contents.NUMERIC_KINDS
               for value in members.values()):
        raise ValueError("a member is not a numeric .npy array")
    text = members.pop("metadata").tobytes()
    checksum = members.pop("checksum").tobytes().decode("ascii")
    metadata = json.loads(text.decode("utf-8"))
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise ValueError(f"its metadata does not name the format {FORMAT_NAME!r}")
    version = metadata["version"]
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ValueError(f"format version {version!r}; this library reads versions 1 to {FORMAT_VERSION}")
    table = metadata["arrays"]
    if sorted(entry["key"] for entry in table) != sorted(members):
        raise ValueError("the arrays in the file do not match its table of arrays")
    for entry in table:
        array = members[entry["key"]]
        if array.dtype.str != entry["dtype"] or list(array.shape) != entry["shape"]:
            raise ValueError(f"array {entry['key']!r} is {array.dtype.str} {array.shape}, its table says "
                             f"{entry['dtype']} {entry['shape']}")
    if _checksum(text, members, table) != checksum:
        raise ValueError("checksum mismatch, the file is damaged")
    contents.check_structure(metadata, members)
    return metadata, members

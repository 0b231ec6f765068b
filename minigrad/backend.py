"""Array backends: NumPy on the CPU, CuPy on NVIDIA GPUs.

Every difference between NumPy and CuPy that the library depends on lives in
this module. Everything else asks it for the array module of an array
(``xp = get_array_module(a)``) and then writes plain NumPy-style code.

CuPy is optional. It is imported once, guarded; when it is missing, or no GPU
is visible, :func:`cuda_available` is ``False`` and every request for a
``"cuda"`` device raises a clear error.
"""

from __future__ import annotations

import math
import types
from typing import Any

import numpy as np

try:  # CuPy is an optional extra (``pip install minigrad-optim[gpu]``).
    import cupy as _cupy
    import cupyx as _cupyx
except ImportError:  # pragma: no cover - depends on the machine
    _cupy = None
    _cupyx = None

__all__ = [
    "Device",
    "as_device",
    "cuda_available",
    "device_of",
    "erf",
    "get_array_module",
    "is_array",
    "python_scalar_dtype",
    "same_device",
    "scatter_add",
    "to_device",
    "to_numpy",
]

_DLPACK_CPU = 1
_DLPACK_CUDA = 2


def cuda_available() -> bool:
    """Return ``True`` when CuPy is installed and at least one GPU is visible.

    Examples
    --------
    >>> import minigrad as mg
    >>> isinstance(mg.cuda_available(), bool)
    True
    """
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # CUDA driver missing or broken: treat as no GPU
        return False


class Device:
    """Where an array lives: ``Device("cpu")``, ``Device("cuda")``, ``Device("cuda:1")``.

    A device compares equal to another device with the same type and index, and
    to its string spelling (``Device("cuda:0") == "cuda:0"``; ``"cuda"`` means
    index 0).

    Parameters
    ----------
    spec : str or Device
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.Device('cpu')
    Device('cpu')
    >>> mg.Device('cpu').xp.__name__
    'numpy'
    """

    __slots__ = ("index", "type")

    def __init__(self, spec: str | Device = "cpu") -> None:
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda:0', got {spec!r}")
        kind, colon, number = spec.strip().lower().partition(":")
        if kind == "cpu" and not colon:
            self.type, self.index = "cpu", None
        elif kind in ("cuda", "gpu") and (not colon or (number.isascii() and number.isdigit())):
            self.type, self.index = "cuda", int(number) if colon else 0
        else:
            raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {spec!r}")

    @property
    def xp(self) -> types.ModuleType:
        """The array module for this device (``numpy`` or ``cupy``)."""
        if self.type == "cpu":
            return np
        _require_cuda(self)
        return _cupy

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = Device(other)
            except ValueError:
                return False
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash(str(self))  # equal to the hash of the canonical spelling, "cpu" or "cuda:N"

    def __str__(self) -> str:
        return "cpu" if self.type == "cpu" else f"cuda:{self.index}"

    def __repr__(self) -> str:
        return f"Device('{self}')"


CPU = Device("cpu")


def _require_cuda(device: Device) -> None:
    if _cupy is None:
        raise RuntimeError(
            f"device {device}: CuPy is not installed; install the 'gpu' extra "
            "(pip install 'minigrad-optim[gpu]') on a machine with an NVIDIA GPU"
        )
    if not cuda_available():
        raise RuntimeError(f"device {device}: CuPy is installed but no GPU is visible")
    count = _cupy.cuda.runtime.getDeviceCount()
    if device.index >= count:
        raise RuntimeError(f"device {device}: only {count} GPU(s) visible")


def as_device(device: str | Device | None) -> Device:
    """Turn ``None``, a string or a :class:`Device` into a :class:`Device` (``None`` is the CPU)."""
    if device is None:
        return CPU
    return Device(device)


def is_array(obj: Any) -> bool:
    """Return ``True`` for a ``numpy.ndarray`` or a ``cupy.ndarray``."""
    if isinstance(obj, np.ndarray):
        return True
    return _cupy is not None and isinstance(obj, _cupy.ndarray)


def get_array_module(array: Any) -> types.ModuleType:
    """Return ``cupy`` for a CuPy array and ``numpy`` for anything else."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    return np


def device_of(array: Any) -> Device:
    """The :class:`Device` on which ``array`` lives."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return Device(f"cuda:{array.device.id}")
    return CPU


def python_scalar_dtype(dtype: Any, value: bool | int | float | complex) -> np.dtype:
    """The dtype of ``array op value`` for a Python number ``value``, by NumPy 2's rules (NEP 50).

    A Python number is "weak": it takes the array's dtype when that is of the
    same kind or a wider one (``float32_array * 2.0`` stays float32), and only
    a wider kind of number promotes (an integer array times 0.5 is float64).
    NumPy 1.26 decides by value for 0-d arrays, so the rule is spelt out here
    to give the same answer under both versions.
    """
    dtype = np.dtype(dtype)
    if isinstance(value, bool):  # a Python bool never promotes
        return dtype
    if isinstance(value, int):
        return dtype if dtype.kind in "iufc" else np.dtype(np.int64)
    if isinstance(value, float):
        return dtype if dtype.kind in "fc" else np.dtype(np.float64)
    if dtype.kind == "c":  # value is complex
        return dtype
    if dtype.kind == "f":
        return np.result_type(dtype, np.complex64)  # complex of the same precision
    return np.dtype(np.complex128)


def same_device(a: Any, b: Any) -> bool:
    """Whether two arrays live on one device (two NumPy arrays always do, checked without building Devices)."""
    if type(a) is np.ndarray and type(b) is np.ndarray:
        return True
    return device_of(a) == device_of(b)


def to_device(array: Any, device: str | Device) -> Any:
    """Return ``array`` on ``device``; the same object when it is already there."""
    device = as_device(device)
    if device_of(array) == device and is_array(array):
        return array
    if device.type == "cpu":
        return to_numpy(array)
    _require_cuda(device)
    with _cupy.cuda.Device(device.index):
        return _cupy.asarray(array)


def to_numpy(array: Any) -> np.ndarray:
    """Copy a CuPy array to the host; NumPy arrays and scalars go through ``np.asarray``."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy.asnumpy(array)
    return np.asarray(array)


def scatter_add(target: Any, index: Any, values: Any) -> None:
    """``target[index] += values`` where repeated indices add up (unbuffered, in place).

    NumPy spells it ``np.add.at``; CuPy spells it ``cupyx.scatter_add``.
    """
    if _cupy is not None and isinstance(target, _cupy.ndarray):
        _cupyx.scatter_add(target, index, values)
    else:
        np.add.at(target, index, values)


_MATH_ERF = np.frompyfunc(math.erf, 1, 1)


def erf(array: Any) -> Any:
    """The error function :math:`\\operatorname{erf}(x) = \\frac{2}{\\sqrt\\pi} \\int_0^x e^{-t^2} dt`, elementwise.

    NumPy has no ``erf``: on the CPU each element goes through Python's
    ``math.erf`` (the C library's, within about one unit in the last place of float64) and the result
    is cast back to the array's floating-point dtype (float64 for integers and bools, as NumPy's ufuncs
    promote them); CuPy spells it ``cupyx.scipy.special.erf``. Complex arrays are refused (``TypeError``).
    """
    if array.dtype.kind not in "biuf":
        raise TypeError(f"erf: expected real numbers, got dtype {array.dtype}")
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        import cupyx.scipy.special  # imported on first use: a GPU-only dependency

        return cupyx.scipy.special.erf(array)
    dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float64)
    return np.asarray(_MATH_ERF(array.astype(np.float64)), dtype=np.float64).astype(dtype, copy=False)


def from_dlpack(obj: Any) -> Any:
    """Import an array from any object with ``__dlpack__`` without copying it.

    CPU producers (NumPy, PyTorch CPU tensors) give a NumPy array; CUDA
    producers (CuPy, PyTorch CUDA tensors) give a CuPy array.
    """
    if not hasattr(obj, "__dlpack_device__"):
        raise TypeError(f"from_dlpack: {type(obj).__name__} does not implement __dlpack_device__")
    device_type, _ = obj.__dlpack_device__()
    if int(device_type) == _DLPACK_CPU:
        return np.from_dlpack(obj)
    if int(device_type) == _DLPACK_CUDA:
        if _cupy is None:
            raise RuntimeError("from_dlpack: the object lives on a GPU but CuPy is not installed")
        return _cupy.from_dlpack(obj)
    raise ValueError(f"from_dlpack: unsupported DLPack device type {device_type}")

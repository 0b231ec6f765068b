"""The recorded trajectory that :func:`optim.identify` reads: its checks, and its steps one at a time.

``initial`` is the parameter before the first step; ``grads[t]`` the gradient fed at step
:math:`t+1` and ``params[t]`` the parameter after it. ``grads`` and ``params`` are read one step at a
time (:meth:`StepRows.iter_rows`), so that a trajectory larger than memory (a memory-mapped array,
or an ``.npz`` file read by :mod:`optim.identify.npz`) is never loaded whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["DTYPES", "ArrayRows", "StepRows", "Trajectory", "check_trajectory"]

#: The dtypes a trajectory may have.
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@runtime_checkable
class StepRows(Protocol):
    """Something of shape ``(T, *initial.shape)`` that yields its ``T`` rows in order, each flattened."""

    shape: tuple[int, ...]
    dtype: np.dtype

    def iter_rows(self) -> Iterator[np.ndarray]:
        """Each row, flattened to one dimension, in order (a new iteration starts again at row 0)."""
        ...


class ArrayRows:
    """:class:`StepRows` over an array in memory or memory-mapped: ``array[t]``, flattened."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.shape = tuple(array.shape)
        self.dtype = array.dtype

    def iter_rows(self) -> Iterator[np.ndarray]:
        for row in self.array:
            yield np.ascontiguousarray(row).reshape(-1)


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """A checked trajectory: the flattened initial parameter, and the gradients and parameters by step."""

    initial: np.ndarray
    grads: StepRows
    params: StepRows
    shape: tuple[int, ...]

    @property
    def steps(self) -> int:
        return self.grads.shape[0]

    @property
    def size(self) -> int:
        return self.initial.size

    @property
    def dtype(self) -> np.dtype:
        return self.initial.dtype

    def iter_steps(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """``(t, grad, param)`` for t = 1, 2, ...: the gradient of step t and the parameter after it, flattened."""
        for t, (grad, param) in enumerate(zip(self.grads.iter_rows(), self.params.iter_rows()), start=1):
            yield t, grad, param


def _rows(value: Any, name: str) -> StepRows:
    if isinstance(value, StepRows) and not isinstance(value, np.ndarray):
        return value
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name}: expected an array, got {type(value).__name__} ({error})") from None
    return ArrayRows(array)


def _check_dtype(dtype: np.dtype, name: str, expected: np.dtype | None = None) -> None:
    if dtype not in DTYPES:
        raise TypeError(f"{name}: expected float32 or float64 numbers, got dtype {dtype}")
    if expected is not None and dtype != expected:
        raise TypeError(f"{name}: dtype {dtype} differs from initial's {expected}; record all three arrays in the "
                        "parameter's dtype")


def check_trajectory(initial: Any, grads: Any, params: Any) -> Trajectory:
    """Check the three arrays and return them as a :class:`Trajectory`; nothing is read beyond shapes and dtypes
    except ``initial``.

    Raises
    ------
    TypeError
        An argument that is not an array of float32 or float64 numbers, or arrays of different dtypes.
    ValueError
        Shapes that disagree, no steps, or a NaN or infinity in ``initial``.
    """
    try:
        initial = np.asarray(initial)
    except (TypeError, ValueError) as error:
        raise TypeError(f"initial: expected an array, got {type(initial).__name__} ({error})") from None
    _check_dtype(initial.dtype, "initial")
    grads, params = _rows(grads, "grads"), _rows(params, "params")
    _check_dtype(grads.dtype, "grads", initial.dtype)
    _check_dtype(params.dtype, "params", initial.dtype)
    shape = tuple(initial.shape)
    for name, rows in (("grads", grads), ("params", params)):
        if tuple(rows.shape[1:]) != shape or len(rows.shape) != len(shape) + 1:
            expected = "(" + ", ".join(["T", *map(str, shape)]) + ("," if not shape else "") + ")"
            raise ValueError(f"{name}: expected shape (T, *initial.shape) = {expected}, got {tuple(rows.shape)}")
    if grads.shape[0] == 0:
        raise ValueError("grads: no steps (shape (0, ...)); record at least one step")
    if params.shape[0] != grads.shape[0]:
        raise ValueError(f"params: {params.shape[0]} steps, but grads has {grads.shape[0]}; record the parameter "
                         "after every step")
    finite = np.isfinite(initial)
    if not finite.all():
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f"initial: {int((~finite).sum())} value(s) that are NaN or infinite, the first at index "
                         f"{first} ({initial[first]!r}); the parameter before the first step must be finite")
    return Trajectory(np.ascontiguousarray(initial).reshape(-1), grads, params, shape)

"""The base of the learning-rate schedules of :mod:`optim.schedules`, and the checks their arguments share."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from minigrad import backend
from optim.validation import plain_number

__all__ = ["LearningRateSchedule", "finite_number", "number_list"]


def number_list(sequence: Any, name: str) -> list[Any]:
    """A list of numbers given as a list, a tuple or a 1-d array (its items are checked by the caller)."""
    if backend.is_array(sequence) and sequence.ndim == 1:
        return list(sequence)
    if isinstance(sequence, str) or not isinstance(sequence, Sequence):
        raise TypeError(f"{name}: expected a list of numbers, got {sequence!r}")
    return list(sequence)


def finite_number(value: Any) -> float | None:
    """``value`` as a finite Python float, or None if it is not a finite real number."""
    number = plain_number(value)
    if number is None:
        return None
    try:
        number = float(number)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


class LearningRateSchedule:
    """Base class: ``schedule(step) -> float`` plus ``get_config()``.

    Examples
    --------
    >>> from optim.schedules import LearningRateSchedule
    >>> class Halving(LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 * 0.5 ** step
    ...     def get_config(self):
    ...         return {}
    >>> Halving()(2)
    0.025
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (JSON-serialisable)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

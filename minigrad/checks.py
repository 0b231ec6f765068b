"""Argument checks shared by the engine, so that every flag is refused the same way."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_axis", "check_flag"]


def check_flag(name: str, value: Any) -> bool:
    """``value`` as a Python bool, or a ``TypeError`` naming the argument ``name`` and the value.

    Only ``True`` and ``False`` (Python or NumPy bools) are flags; ``1``, ``"yes"`` or
    ``None`` are refused rather than read by their truth value.

    Parameters
    ----------
    name : str
        The argument's name, as the caller wrote it (e.g. ``"keepdims"``).
    value : object
        What the caller passed.

    Returns
    -------
    bool
        ``value`` converted to a Python bool.

    Raises
    ------
    TypeError
        When ``value`` is neither a Python bool nor a NumPy bool.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def check_axis(axis: Any, ndim: int, of: str = "a tensor") -> int:
    """``axis`` as an index in ``[0, ndim)``, or a ``ValueError`` naming the argument ``axis`` and the value.

    Parameters
    ----------
    axis : object
        What the caller passed: an integer in ``[-ndim, ndim)``, negative ones counting from the end.
    ndim : int
        The number of axes to choose from.
    of : str, default "a tensor"
        What has those axes, for the message (e.g. ``"the stacked result"``).

    Returns
    -------
    int
        The axis, counted from the start.

    Raises
    ------
    ValueError
        When ``axis`` is not an integer (bools are not) or is out of range; the same type as the reductions
        raise for a bad ``axis``.
    """
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"axis: expected an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis: {axis} is out of range for {of} with {ndim} dimension(s)")
    return int(axis) % ndim

"""Argument checks shared by the engine, so that every flag is refused the same way."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_flag"]


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

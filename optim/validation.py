"""Argument checks shared by the optimizers.

Every check raises before anything is changed, with a message that names the
argument and repeats the offending value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["check_betas", "check_bool", "check_choice", "check_lr", "check_nonnegative", "check_probability"]


def _is_real(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or _is_numpy_real(value)


def _is_numpy_real(value: Any) -> bool:
    import numpy as np

    return isinstance(value, (np.integer, np.floating))


def check_lr(lr: Any, name: str = "lr") -> float | Callable[[int], float]:
    """A learning rate: a finite number >= 0, or a callable schedule of the step."""
    if callable(lr):
        return lr
    if not _is_real(lr):
        raise TypeError(f"{name}: expected a number or a callable schedule, got {lr!r}")
    return check_nonnegative(lr, name)


def check_nonnegative(value: Any, name: str) -> float:
    """A finite number >= 0 (``eps``, ``weight_decay``...)."""
    if not _is_real(value):
        raise TypeError(f"{name}: expected a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a finite value >= 0, got {value!r}")
    return float(value)


def check_probability(value: Any, name: str) -> float:
    """A number in ``[0, 1)`` (a decay rate)."""
    if not _is_real(value):
        raise TypeError(f"{name}: expected a number in [0, 1), got {value!r}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name}: expected a value in [0, 1), got {value!r}")
    return float(value)


def check_betas(betas: Any, name: str = "betas") -> tuple[float, float]:
    """A pair :math:`(\\beta_1, \\beta_2)`, each in ``[0, 1)``."""
    if not isinstance(betas, Sequence) or isinstance(betas, str) or len(betas) != 2:
        raise TypeError(f"{name}: expected a pair (beta1, beta2), got {betas!r}")
    return check_probability(betas[0], f"{name}[0]"), check_probability(betas[1], f"{name}[1]")


def check_bool(value: Any, name: str) -> bool:
    """A ``bool`` (not merely something truthy)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return value


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """One of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}: unknown value {value!r}; expected one of {list(choices)}")
    return value

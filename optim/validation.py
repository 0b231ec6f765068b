"""Argument checks shared by the optimizers.

Every check raises before anything is changed, with a message that names the
argument and repeats the offending value.

Wherever a Python number is accepted, so are a NumPy integer or floating scalar
and a 0-d array of such a dtype; wherever a ``bool`` is accepted, so are
``numpy.bool_`` and a 0-d boolean array. They are converted to the Python type
(:func:`plain_number`, :func:`plain_bool`), so that configs stay
JSON-serialisable and the arithmetic is the same as with the Python value. An
array with one element but one or more dimensions (shape ``(1,)``) is not a
number: it is refused like any other array.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad import backend
from optim.conventions import POWER_DTYPE_CHOICES

__all__ = [
    "check_betas",
    "check_bool",
    "check_choice",
    "check_lr",
    "check_nonnegative",
    "check_positive",
    "check_probability",
    "check_scheduled_lr",
    "plain_bool",
    "plain_number",
]


def plain_number(value: Any) -> int | float | None:
    """``value`` as a Python ``int`` or ``float`` if it is a real number, else ``None``.

    Real numbers are Python ints and floats (not bools), NumPy integer and
    floating scalars, and 0-d NumPy or CuPy arrays of an integer or floating dtype.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if backend.is_array(value) and value.ndim == 0 and value.dtype.kind in "iuf":
        return value.item()
    return None


def plain_bool(value: Any) -> bool | None:
    """``value`` as a Python ``bool`` if it is one (``bool``, ``numpy.bool_``, a 0-d boolean array), else ``None``."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if backend.is_array(value) and value.ndim == 0 and value.dtype.kind == "b":
        return bool(value.item())
    return None


def _shown(value: Any) -> str:
    """``repr(value)``, and for an array with dimensions a word on why it is not a number."""
    if backend.is_array(value) and value.ndim > 0:
        return f"{value!r} (an array of shape {value.shape}; only a 0-d array counts as a number)"
    return repr(value)


def check_lr(lr: Any, name: str = "lr") -> float | Callable[[int], float]:
    """A learning rate: a finite number >= 0, or a callable schedule of the step."""
    if callable(lr):
        return lr
    if plain_number(lr) is None:
        raise TypeError(f"{name}: expected a number or a callable schedule, got {_shown(lr)}")
    return check_nonnegative(lr, name)


def check_scheduled_lr(value: Any, name: str) -> float:
    """What a learning-rate schedule returned (``name`` says which schedule and step): a finite number >= 0."""
    if plain_number(value) is None:
        raise TypeError(f"{name}: the schedule returned {_shown(value)}; expected a number")
    return check_nonnegative(value, name)


def check_nonnegative(value: Any, name: str) -> float:
    """A finite number >= 0 (``eps``, ``weight_decay``...), returned as a Python ``float``."""
    number = plain_number(value)
    if number is None:
        raise TypeError(f"{name}: expected a number, got {_shown(value)}")
    try:
        number = float(number)
    except OverflowError:  # an int beyond the float range: not finite as a float
        number = math.inf
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name}: expected a finite value >= 0, got {value!r}")
    return number


def check_positive(value: Any, name: str) -> float:
    """A finite number > 0 (a decay period, a factor), returned as a Python ``float``."""
    number = check_nonnegative(value, name)
    if number == 0:
        raise ValueError(f"{name}: expected a value > 0, got {value!r}")
    return number


def check_probability(value: Any, name: str) -> float:
    """A number in ``[0, 1)`` (a decay rate), returned as a Python ``float``."""
    number = plain_number(value)
    if number is None:
        raise TypeError(f"{name}: expected a number in [0, 1), got {_shown(value)}")
    if not 0.0 <= number < 1.0:
        raise ValueError(f"{name}: expected a value in [0, 1), got {value!r}")
    return float(number)


def check_betas(betas: Any, name: str = "betas") -> tuple[float, float]:
    """A pair :math:`(\\beta_1, \\beta_2)`, each in ``[0, 1)``: a sequence of two numbers or an array of shape (2,)."""
    if backend.is_array(betas) and betas.shape == (2,):
        betas = (betas[0], betas[1])  # a NumPy scalar or a 0-d CuPy array each, checked as a number below
    if not isinstance(betas, Sequence) or isinstance(betas, str) or len(betas) != 2:
        raise TypeError(f"{name}: expected a pair (beta1, beta2), got {betas!r}")
    return check_probability(betas[0], f"{name}[0]"), check_probability(betas[1], f"{name}[1]")


def check_bool(value: Any, name: str) -> bool:
    """A ``bool`` (or ``numpy.bool_``, or a 0-d boolean array; not merely something truthy)."""
    flag = plain_bool(value)
    if flag is None:
        raise TypeError(f"{name}: expected True or False, got {_shown(value)}")
    return flag


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """One of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}: unknown value {value!r}; expected one of {list(choices)}")
    return value


_PLAIN_NUMBERS = {int, float}


def checked_rule_scalars(step: Any, lr: Any, beta1: Any, beta2: Any, eps: Any, weight_decay: Any, power_dtype: Any,
                     arrays: tuple[tuple[str, Any], ...]) -> tuple[int, Any, Any, Any, Any, Any]:
    """What must hold before any array is touched, so that a bad call changes nothing; the scalars to compute with.

    :math:`t \\ge 1`; finite :math:`\\alpha, \\epsilon, \\lambda \\ge 0` and
    :math:`\\beta_1, \\beta_2 \\in [0, 1)`; every array of the parameter's shape and dtype.
    One chained comparison covers the usual case (Python numbers), which returns them as they are; the named
    checks run only when it fails, and return NumPy scalars and 0-d arrays as Python numbers, so that the
    arithmetic is the same as with the Python values.
    """
    try:
        valid = (type(step) is int and step >= 1 and 0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0
                 and 0.0 <= lr < math.inf and 0.0 <= eps < math.inf and 0.0 <= weight_decay < math.inf
                 and power_dtype in POWER_DTYPE_CHOICES
                 and {type(lr), type(beta1), type(beta2), type(eps), type(weight_decay)} <= _PLAIN_NUMBERS)
    except (TypeError, ValueError):  # not numbers: the named checks below say which
        valid = False
    if not valid:
        count = plain_number(step)
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"step: expected an integer >= 1 (t counts from 1), got {step!r}")
        step = count
        beta1 = check_probability(beta1, "beta1")
        beta2 = check_probability(beta2, "beta2")
        lr, eps, weight_decay = (check_nonnegative(value, name) for name, value in
                                 (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)))
        check_choice(power_dtype, "power_dtype", POWER_DTYPE_CHOICES)
    check_same_arrays(arrays)
    return step, lr, beta1, beta2, eps, weight_decay


def check_same_arrays(arrays: tuple[tuple[str, Any], ...]) -> None:
    """Every array of the first one's (the parameter's) shape and dtype."""
    param = arrays[0][1]
    for name, array in arrays:
        if getattr(array, "shape", None) != param.shape or getattr(array, "dtype", None) != param.dtype:
            raise ValueError(
                f"{name}: expected an array of the parameter's shape {param.shape} and dtype {param.dtype}, "
                f"got {getattr(array, 'shape', type(array).__name__)} {getattr(array, 'dtype', '')}"
            )


def check_sgd_momentum(momentum: float, dampening: float, nesterov: Any, form: str) -> None:
    """Refuse a momentum above 1 in the velocity form (as Keras), a dampening outside [0, 1] or outside the
    dampened form, and Nesterov without a momentum or with dampening (as PyTorch); ``momentum`` and
    ``dampening`` are already numbers >= 0."""
    if form == "velocity" and momentum > 1:
        raise ValueError(f"momentum: expected a value in [0, 1] in the velocity form (as Keras), got {momentum!r}")
    if dampening > 1:
        raise ValueError(f"dampening: expected a value in [0, 1] (the gradient's weight is 1 - dampening), "
                         f"got {dampening!r}")
    if dampening != 0 and form != "dampened":
        raise ValueError(f"dampening: the {form} form has no dampening, got {dampening!r}")
    if check_bool(nesterov, "nesterov") and (momentum <= 0 or dampening != 0):
        raise ValueError(f"nesterov: Nesterov momentum needs momentum > 0 and dampening 0, got momentum="
                         f"{momentum!r} and dampening={dampening!r}")

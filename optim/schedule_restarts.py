"""Keras's ``CosineDecayRestarts`` (re-exported by :mod:`optim.schedules`), in Keras's float32 arithmetic."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optim.schedule_base import LearningRateSchedule
from optim.validation import check_nonnegative, check_positive

__all__ = ["CosineDecayRestarts"]


class CosineDecayRestarts(LearningRateSchedule):
    r"""Cosine decay with warm restarts (SGDR, Loshchilov & Hutter, 2017), as Keras 3.15.1 computes it, in float32.

    The first period lasts :math:`s` (``first_decay_steps``) steps; each next one
    :math:`t_\text{mul}` times longer, starting from :math:`m_\text{mul}` times the
    previous peak. With :math:`c = k/s`, the number of completed periods is
    :math:`i = \lfloor c \rfloor` and the fraction of the current one
    :math:`c - i` when :math:`t_\text{mul} = 1`; otherwise
    :math:`i = \lfloor \log(1 - c(1 - t_\text{mul})) / \log t_\text{mul} \rfloor` (the floor of
    the logarithm, computed in float32 as Keras does, so that a step on a period's
    boundary falls where Keras puts it) and the fraction is
    :math:`(c - (1 - t_\text{mul}^i)/(1 - t_\text{mul})) / t_\text{mul}^i`. Then
    :math:`\eta_k = \eta_0\left((1 - a)\tfrac12 m_\text{mul}^i (1 + \cos(\pi\,\text{fraction})) + a\right)`.

    Every operation is Keras's, in its order, on float32 values (Keras converts
    the Python floats to its ``floatx``, float32, also for float64 variables), so
    the rate is a float32 number returned as a Python float. The logarithm,
    cosine and power are the correctly rounded float32 results; the backends'
    own float32 ``log`` and ``cos`` are not always (JAX's XLA kernels differ in
    the last bit for about 1 in 20 arguments), so a rate can differ from Keras's
    by a few units in the last place of float32 (by 1 in 10 million relative),
    and at a period's boundary, where the logarithm's floor decides, by the jump.

    Examples
    --------
    >>> from optim import schedules
    >>> restarts = schedules.CosineDecayRestarts(0.1, first_decay_steps=2, t_mul=2.0, m_mul=0.5)
    >>> [round(restarts(k), 6) for k in range(4)]   # periods of 2, then 4 steps; the second starts at 0.05
    [0.1, 0.05, 0.05, 0.042678]
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: float, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0) -> None:
        self.initial_learning_rate = check_nonnegative(initial_learning_rate, "initial_learning_rate")
        self.first_decay_steps = check_positive(first_decay_steps, "first_decay_steps")
        self.t_mul = check_positive(t_mul, "t_mul")
        self.m_mul = check_nonnegative(m_mul, "m_mul")
        self.alpha = check_nonnegative(alpha, "alpha")

    def __call__(self, step: int) -> float:
        f32 = np.float32
        t_mul, one = f32(self.t_mul), f32(1.0)
        completed_fraction = f32(step) / f32(self.first_decay_steps)
        if t_mul == one:
            i_restart = np.floor(completed_fraction)
            completed_fraction = completed_fraction - i_restart
        else:
            i_restart = np.floor(_log32(one - completed_fraction * (one - t_mul)) / _log32(t_mul))
            sum_r = (one - _power32(t_mul, i_restart)) / (one - t_mul)
            completed_fraction = (completed_fraction - sum_r) / _power32(t_mul, i_restart)
        m_fac = _power32(f32(self.m_mul), i_restart)
        cosine_decayed = f32(0.5) * m_fac * (one + _cos32(f32(math.pi) * completed_fraction))
        decayed = (one - f32(self.alpha)) * cosine_decayed + f32(self.alpha)
        return float(f32(self.initial_learning_rate) * decayed)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self.t_mul, "m_mul": self.m_mul, "alpha": self.alpha}


def _log32(x: np.float32) -> np.float32:
    """The natural logarithm of a float32, correctly rounded to float32 (NaN below 0, -inf at 0, as XLA's)."""
    value = float(x)
    if value < 0 or math.isnan(value):
        return np.float32(math.nan)
    return np.float32(-math.inf) if value == 0 else np.float32(math.log(value))


def _cos32(x: np.float32) -> np.float32:
    """The cosine of a float32, rounded to float32 from the double result."""
    value = float(x)
    return np.float32(math.cos(value)) if math.isfinite(value) else np.float32(math.nan)


def _power32(base: np.float32, exponent: np.float32) -> np.float32:
    """``base ** exponent`` for float32 operands, rounded to float32 from the double result (inf on overflow)."""
    try:
        return np.float32(float(base) ** float(exponent))
    except (OverflowError, ZeroDivisionError):  # beyond the float range, or 0 ** negative
        return np.float32(math.inf)

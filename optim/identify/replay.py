"""Replaying one candidate along a recorded trajectory, and the test of agreement.

A replay starts each step from the **recorded** parameter :math:`\\theta_{t-1}`, applies the
candidate's update rule (:mod:`optim.functional`, the code the optimizers run) with the recorded
gradient :math:`g_t`, and compares the result :math:`\\tilde\\theta_t` with the recorded
:math:`\\theta_t`. The moments (:math:`m, v, u, v^{\\max}`) are the replay's own, grown from the
recorded gradients. Starting each step from the data keeps rounding differences from adding up over
the steps, so the test can be as tight at step 10,000 as at step 1.

Agreement at a step means, at every coordinate,

.. math::

    |\\tilde\\theta_t - \\theta_t| \\le \\tau \\, \\max(|\\theta_{t-1}|, |\\theta_t|, \\alpha)

with :math:`\\tau = 16 \\cdot 2^{-23}` (16 units in the last place) for float32 and
:math:`\\tau = 10^{-12}` for float64; :math:`\\alpha` is the candidate's learning rate, the size of a
step, which bounds the rounding of the step itself when the parameter is near 0. Equal values (also
two infinities of one sign) and two NaNs agree. The frameworks compute the same formulas in other
orders; on the recorded framework runs of ``optim/reference`` their own convention stays below 2
units, and a 3,000-step PyTorch Adam run on gradients of every size below 8.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from optim import functional
from optim.identify.candidates import RuleSettings

__all__ = ["TOLERANCES", "Replay", "Tracker", "tolerance"]

#: :math:`\tau` by dtype (see the module docstring).
TOLERANCES = {np.dtype(np.float32): 16 * 2.0**-23, np.dtype(np.float64): 1e-12}


def tolerance(dtype: Any) -> float:
    """:math:`\\tau` for ``dtype`` data."""
    return TOLERANCES[np.dtype(dtype)]


@dataclasses.dataclass
class Tracker:
    """What a replay has seen: the steps compared, the largest differences, and where it parted.

    ``max_rel`` and ``max_ratio`` are relative to :math:`\\max(|\\theta_{t-1}|, |\\theta_t|, \\alpha)`, the
    second in units of the tolerance. ``parting_index`` is the coordinate (an index into the compared
    coordinates) where the difference was largest at the step where the replay parted.
    """

    steps: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    max_ratio: float = 0.0
    parted_at: int | None = None
    parting_abs: float = 0.0
    parting_ratio: float = 0.0
    parting_index: int = 0

    def record(self, step: int, difference: np.ndarray, relative: np.ndarray, tau: float) -> None:
        self.steps = step
        self.max_abs = max(self.max_abs, float(np.max(difference, initial=0.0)))
        largest = float(np.max(relative, initial=0.0))
        self.max_rel = max(self.max_rel, largest)
        self.max_ratio = max(self.max_ratio, largest / tau)

    def part(self, step: int, difference: np.ndarray, relative: np.ndarray, bad: np.ndarray, tau: float) -> None:
        """Note that the coordinates ``bad`` disagree at ``step``; the first such step is where the replay parted."""
        ranked = np.where(bad, np.nan_to_num(relative, nan=np.inf), -1.0)
        index = int(np.argmax(ranked))
        if self.parted_at is None:
            self.parted_at = step
            self.parting_index = index
            self.parting_abs = float(np.nan_to_num(difference[index], nan=np.inf))
            self.parting_ratio = float(ranked[index]) / tau
        self.record(step, np.nan_to_num(difference, nan=np.inf), np.fmax(ranked, relative), tau)


class Replay:
    """One candidate's update rule with its own moments, on ``size`` coordinates of ``dtype``."""

    def __init__(self, settings: RuleSettings, size: int, dtype: Any) -> None:
        dtype = np.dtype(dtype)
        self.settings = settings
        self.kwargs = settings.rule_kwargs()
        self.m = np.zeros(size, dtype)
        self.second = np.zeros(size, dtype)  # v (Adam) or u (AdaMax)
        self.v_max = np.zeros(size, dtype) if settings.amsgrad_mode is not None else None
        self.work = np.empty(size, dtype)
        self.tau = tolerance(dtype)
        self.lr = dtype.type(settings.lr)
        self.tiny = np.finfo(dtype).tiny
        self.tracker = Tracker()

    def advance(self, step: int, before: np.ndarray, grad: np.ndarray, recorded: np.ndarray) -> bool:
        """Apply step ``step`` from the recorded ``before`` and compare with ``recorded``; whether they agree."""
        np.copyto(self.work, before)
        with np.errstate(all="ignore"):  # the rule's 0/0 and overflow give the NaN and inf the frameworks give
            if self.settings.rule == "adamax":
                functional.adamax_update(self.work, grad, self.m, self.second, step=step, **self.kwargs)
            else:
                functional.adam_update(self.work, grad, self.m, self.second, self.v_max, step=step, **self.kwargs)
            return self._compare(step, before, recorded)

    def _compare(self, step: int, before: np.ndarray, recorded: np.ndarray) -> bool:
        difference = np.abs(self.work - recorded)
        scale = np.maximum(np.abs(before), np.abs(recorded))
        np.maximum(scale, self.lr, out=scale)
        np.maximum(scale, self.tiny, out=scale)
        relative = difference / scale
        within = relative <= self.tau
        if within.all():
            self.tracker.record(step, difference, relative, self.tau)
            return True
        excused = (self.work == recorded) | (np.isnan(self.work) & np.isnan(recorded))
        bad = ~within & ~excused
        difference[excused] = 0
        relative[excused] = 0
        if not bad.any():
            self.tracker.record(step, difference, relative, self.tau)
            return True
        self.tracker.part(step, difference, relative, bad, self.tau)
        return False

"""Learning-rate schedules with Keras's names and semantics.

A schedule is a callable of the step :math:`k`, the number of updates already
applied (0 at the first update, as Keras and Optax count), returning the
learning rate for the next update. Each has ``get_config()`` and can be rebuilt
with :func:`deserialize`, so optimizer configs stay JSON-serialisable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from optim.schedule_base import LearningRateSchedule, finite_number, number_list
from optim.schedule_restarts import CosineDecayRestarts
from optim.validation import check_bool, check_nonnegative, check_positive

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]


class _StepDecay(LearningRateSchedule):
    """Shared by the two decays that depend on :math:`k/s` (floored when ``staircase``)."""

    def __init__(
        self, initial_learning_rate: float, decay_steps: float, decay_rate: float, staircase: bool = False
    ) -> None:
        self.initial_learning_rate = check_nonnegative(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = check_positive(decay_steps, "decay_steps")
        self.decay_rate = check_nonnegative(decay_rate, "decay_rate")
        self.staircase = check_bool(staircase, "staircase")

    def progress(self, step: int) -> float:
        """:math:`k / s`, or :math:`\\lfloor k/s \\rfloor` with ``staircase`` (kept if it overflows to inf)."""
        p = step / self.decay_steps
        return math.floor(p) if self.staircase and math.isfinite(p) else p

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase}


class ExponentialDecay(_StepDecay):
    """:math:`\\eta_k = \\eta_0\\, r^{k / s}` (with :math:`\\lfloor k/s \\rfloor` when ``staircase``).

    Examples
    --------
    >>> from optim.schedules import ExponentialDecay
    >>> schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    >>> schedule(9), schedule(10)
    (0.1, 0.05)
    """

    def __call__(self, step: int) -> float:
        try:
            factor = self.decay_rate ** self.progress(step)
        except OverflowError:  # r^(k/s) beyond the float range: an infinite rate, which the optimizer refuses
            factor = math.inf
        return self.initial_learning_rate * factor


class InverseTimeDecay(_StepDecay):
    """:math:`\\eta_k = \\eta_0 / (1 + r\\, k / s)` (with :math:`\\lfloor k/s \\rfloor` when ``staircase``).

    ``InverseTimeDecay(lr, decay_steps=1, decay_rate=d)`` is tf.keras's legacy
    ``decay=d`` keyword: :math:`\\eta / (1 + d\\,k)`.

    Examples
    --------
    >>> from optim.schedules import InverseTimeDecay
    >>> InverseTimeDecay(0.1, decay_steps=1, decay_rate=1.0)(3)
    0.025
    """

    def __call__(self, step: int) -> float:
        return self.initial_learning_rate / (1 + self.decay_rate * self.progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` for :math:`k \\le b_0`, ``values[i]`` for :math:`b_{i-1} < k \\le b_i`, ``values[-1]`` after.

    Examples
    --------
    >>> from optim.schedules import PiecewiseConstantDecay
    >>> schedule = PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001])
    >>> schedule(10), schedule(11), schedule(25)
    (0.1, 0.01, 0.001)
    """

    def __init__(self, boundaries: Sequence[float], values: Sequence[float]) -> None:
        boundaries, values = number_list(boundaries, "boundaries"), number_list(values, "values")
        plain = [finite_number(b) for b in boundaries]
        if any(b is None for b in plain):
            raise ValueError(f"boundaries: expected finite numbers, got {list(boundaries)!r}")
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                f"values: expected len(boundaries) + 1 = {len(boundaries) + 1} values, got {len(values)}"
            )
        if any(b1 >= b2 for b1, b2 in zip(plain[:-1], plain[1:])):
            raise ValueError(f"boundaries: expected strictly increasing values, got {list(boundaries)!r}")
        self.boundaries = [float(b) for b in plain]
        self.values = [check_nonnegative(v, f"values[{index}]") for index, v in enumerate(values)]

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": list(self.boundaries), "values": list(self.values)}


class PolynomialDecay(LearningRateSchedule):
    """:math:`\\eta_k = (\\eta_0 - \\eta_\\text{end})(1 - \\min(k, s)/s)^{p} + \\eta_\\text{end}`.

    With ``cycle``, :math:`s` is instead multiplied by :math:`\\lceil k/s \\rceil`
    (at least 1), restarting the decay.

    Examples
    --------
    >>> from optim.schedules import PolynomialDecay
    >>> schedule = PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)
    >>> schedule(5), schedule(20)
    (0.05, 0.0)
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False) -> None:
        self.initial_learning_rate = check_nonnegative(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = check_positive(decay_steps, "decay_steps")
        self.end_learning_rate = check_nonnegative(end_learning_rate, "end_learning_rate")
        self.power = check_nonnegative(power, "power")
        self.cycle = check_bool(cycle, "cycle")

    def __call__(self, step: int) -> float:
        decay_steps = self.decay_steps
        if self.cycle:
            cycles = step / decay_steps
            decay_steps *= max(math.ceil(cycles), 1) if math.isfinite(cycles) else cycles
        else:
            step = min(step, decay_steps)
        fraction = 1 - step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * fraction**self.power + self.end_learning_rate

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle}


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter, 2017), with an optional linear warmup.

    Without warmup, for :math:`k' = \\min(k, s)`:
    :math:`\\eta_k = \\eta_0 \\left((1-a)\\tfrac12\\left(1 + \\cos(\\pi k'/s)\\right) + a\\right)`.
    With ``warmup_target`` :math:`\\eta_w` and ``warmup_steps`` :math:`w`: the rate
    rises linearly, :math:`\\eta_0 + (\\eta_w - \\eta_0) k / w` for :math:`k < w`,
    then decays from :math:`\\eta_w` over :math:`k - w` as above.

    Examples
    --------
    >>> from optim.schedules import CosineDecay
    >>> schedule = CosineDecay(0.1, decay_steps=100)
    >>> schedule(0), schedule(50), schedule(100)
    (0.1, 0.05, 0.0)
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, alpha: float = 0.0,
                 warmup_target: float | None = None, warmup_steps: float = 0) -> None:
        self.initial_learning_rate = check_nonnegative(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = check_positive(decay_steps, "decay_steps")
        self.alpha = check_nonnegative(alpha, "alpha")
        self.warmup_target = None if warmup_target is None else check_nonnegative(warmup_target, "warmup_target")
        self.warmup_steps = check_nonnegative(warmup_steps, "warmup_steps")

    def _decay(self, step: float, start: float) -> float:
        cosine = 0.5 * (1 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int) -> float:
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            rise = self.warmup_target - self.initial_learning_rate
            return self.initial_learning_rate + rise * step / self.warmup_steps
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


_SCHEDULES = {cls.__name__: cls for cls in (
    CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay)}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}``, the form :func:`deserialize` reads.

    Examples
    --------
    >>> from optim.schedules import ExponentialDecay, serialize
    >>> config = serialize(ExponentialDecay(0.1, 10, 0.5))
    >>> config['class_name'], sorted(config['config'])
    ('ExponentialDecay', ['decay_rate', 'decay_steps', 'initial_learning_rate', 'staircase'])
    """
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    """Rebuild a schedule from :func:`serialize`'s output.

    Examples
    --------
    >>> from optim.schedules import ExponentialDecay, deserialize, serialize
    >>> schedule = deserialize(serialize(ExponentialDecay(0.1, 10, 0.5)))
    >>> type(schedule).__name__, schedule(10)
    ('ExponentialDecay', 0.05)
    """
    if not isinstance(config, dict) or set(config) != {"class_name", "config"}:
        raise ValueError(f"config: expected {{'class_name': ..., 'config': ...}}, got {config!r}")
    name = config["class_name"]
    if name not in _SCHEDULES:
        raise ValueError(f"config['class_name']: unknown schedule {name!r}; expected one of {sorted(_SCHEDULES)}")
    return _SCHEDULES[name](**config["config"])

r"""Learning-rate schedulers over an optimizer, as ``torch.optim.lr_scheduler`` (PyTorch 2.13.0) has them.

A scheduler rewrites the ``"lr"`` of each of the optimizer's groups at every
:meth:`~optim.lr_scheduler_base.LRScheduler.step`, which is called once per
epoch (or per batch), after ``optimizer.step()``:

>>> import numpy as np
>>> import minigrad as mg
>>> from optim import Adam
>>> from optim.lr_scheduler import StepLR
>>> x = mg.tensor(np.zeros(2), requires_grad=True)
>>> opt = Adam([x], lr=0.1, convention="pytorch")
>>> scheduler = StepLR(opt, step_size=2, gamma=0.5)
>>> rates = []
>>> for epoch in range(5):
...     x.grad = mg.tensor(np.ones(2))
...     opt.step()
...     scheduler.step()
...     rates.append(scheduler.get_last_lr()[0])
>>> rates
[0.1, 0.05, 0.05, 0.025, 0.025]

Each scheduler computes its rates with PyTorch's own formulas in the same
order: the *chainable* form, which multiplies the group's current rate (so
that schedulers can be combined and a rate changed by hand carries on), and
the closed form of ``step(epoch)``. The two differ in the last bits; for
:class:`CosineAnnealingLR` they differ more, since its recursion is only an
approximation of the closed form. A scheduler is the PyTorch way of changing
the rate; the Keras way is a schedule passed as ``lr`` (:mod:`optim.schedules`),
and a group cannot have both. ``pattern_lrs`` rates are not touched.
:class:`~optim.one_cycle_lr.OneCycleLR` lives in its own module and is exported here.
"""

from __future__ import annotations

import math
from typing import Any

from optim.lr_scheduler_base import LRScheduler, check_count
from optim.one_cycle_lr import OneCycleLR
from optim.optimizer import Optimizer
from optim.validation import check_nonnegative, plain_number

__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LinearLR", "OneCycleLR", "StepLR"]


def _factor_in(value: Any, name: str, low: float, high: float, low_open: bool) -> float:
    """A number in ``(low, high]`` (``low_open``) or ``[low, high]``, as a Python ``float``."""
    number = plain_number(value)
    if number is None:
        raise TypeError(f"{name}: expected a number, got {value!r}")
    inside = (low < number if low_open else low <= number) and number <= high
    if not inside:
        interval = f"({low}, {high}]" if low_open else f"[{low}, {high}]"
        raise ValueError(f"{name}: expected a value in {interval}, got {value!r}")
    return float(number)


class StepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every ``step_size`` epochs: :math:`\eta_e = \eta_0\gamma^{\lfloor e/s \rfloor}`.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose groups' ``"lr"`` the scheduler sets.
    step_size : int
        :math:`s \ge 1`, the period of the decay.
    gamma : float, default 0.1
        :math:`\gamma \ge 0`, the factor.
    last_epoch : int, default -1
        See :class:`~optim.lr_scheduler_base.LRScheduler`.

    Examples
    --------
    >>> import numpy as np, minigrad as mg, optim
    >>> w = mg.tensor(np.zeros(2), requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1)
    >>> scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> rates = []
    >>> for _ in range(4):
    ...     w.grad = mg.tensor(np.ones(2))
    ...     opt.step()
    ...     scheduler.step()
    ...     rates.append(round(scheduler.get_last_lr()[0], 6))
    >>> rates
    [0.1, 0.05, 0.05, 0.025]
    """

    hyperparameters = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        checked = self.check_arguments(step_size=step_size, gamma=gamma)
        self.step_size, self.gamma = checked["step_size"], checked["gamma"]
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def check_arguments(step_size: Any, gamma: Any) -> dict[str, Any]:
        """The arguments, checked: ``step_size`` an integer >= 1, ``gamma`` a finite number >= 0."""
        return {"step_size": check_count(step_size, "step_size", 1), "gamma": check_nonnegative(gamma, "gamma")}

    def _chainable_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every epoch: :math:`\eta_e = \eta_0\,\gamma^{e}`.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose groups' ``"lr"`` the scheduler sets.
    gamma : float
        :math:`\gamma \ge 0`, the factor.
    last_epoch : int, default -1
        See :class:`~optim.lr_scheduler_base.LRScheduler`.

    Examples
    --------
    >>> import numpy as np, minigrad as mg, optim
    >>> w = mg.tensor(np.zeros(2), requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1)
    >>> scheduler = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    >>> rates = []
    >>> for _ in range(3):
    ...     w.grad = mg.tensor(np.ones(2))
    ...     opt.step()
    ...     scheduler.step()
    ...     rates.append(round(scheduler.get_last_lr()[0], 6))
    >>> rates
    [0.09, 0.081, 0.0729]
    """

    hyperparameters = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = self.check_arguments(gamma=gamma)["gamma"]
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def check_arguments(gamma: Any) -> dict[str, Any]:
        """The argument, checked: ``gamma`` a finite number >= 0."""
        return {"gamma": check_nonnegative(gamma, "gamma")}

    def _chainable_lr(self) -> list[float]:
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial rate to ``eta_min`` over ``T_max`` epochs (SGDR without restarts).

    The closed form (Loshchilov & Hutter, 2017) is
    :math:`\eta_e = \eta_\min + \tfrac12(\eta_0 - \eta_\min)(1 + \cos(\pi e / T_\max))`;
    ``step()`` computes PyTorch's recursion instead,
    :math:`\eta_e = \eta_\min + (\eta_{e-1} - \eta_\min)\,\frac{1 + \cos(\pi e/T_\max)}{1 + \cos(\pi (e-1)/T_\max)}`,
    with PyTorch's special case where the denominator vanishes (:math:`e - 1 - T_\max` a multiple of
    :math:`2T_\max`): :math:`\eta_e = \eta_{e-1} + (\eta_0 - \eta_\min)(1 - \cos(\pi/T_\max))/2`. After
    ``T_max`` epochs the rate rises again (a cosine, not a restart).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose groups' ``"lr"`` the scheduler sets.
    T_max : int
        :math:`T_\max \ge 1`, the number of epochs of the descent.
    eta_min : float, default 0.0
        :math:`\eta_\min \ge 0`, the lowest rate.
    last_epoch : int, default -1
        See :class:`~optim.lr_scheduler_base.LRScheduler`.

    Examples
    --------
    >>> import numpy as np, minigrad as mg, optim
    >>> w = mg.tensor(np.zeros(2), requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1)
    >>> scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    >>> rates = []
    >>> for _ in range(4):
    ...     w.grad = mg.tensor(np.ones(2))
    ...     opt.step()
    ...     scheduler.step()
    ...     rates.append(round(scheduler.get_last_lr()[0], 6))
    >>> rates
    [0.085355, 0.05, 0.014645, 0.0]
    """

    hyperparameters = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803 (PyTorch's name)
                 last_epoch: int = -1) -> None:
        checked = self.check_arguments(T_max=T_max, eta_min=eta_min)
        self.T_max, self.eta_min = checked["T_max"], checked["eta_min"]
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def check_arguments(T_max: Any, eta_min: Any) -> dict[str, Any]:  # noqa: N803 (PyTorch's name)
        """The arguments, checked: ``T_max`` an integer >= 1, ``eta_min`` a finite number >= 0."""
        return {"T_max": check_count(T_max, "T_max", 1), "eta_min": check_nonnegative(eta_min, "eta_min")}

    def _chainable_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and self.last_epoch > 0:
            return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos((self.last_epoch) * math.pi / self.T_max))
                    / 2 for base_lr in self.base_lrs]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * self.last_epoch / self.T_max))
                / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
                * (group["lr"] - self.eta_min) + self.eta_min for group in groups]

    def _closed_form_lr(self) -> list[float]:
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    r"""Scale the rate by a factor that moves linearly from ``start_factor`` to ``end_factor`` in ``total_iters``.

    Closed form: :math:`\eta_e = \eta_0\,(f_s + (f_e - f_s)\min(e, n)/n)`; ``step()`` computes PyTorch's
    recursion, :math:`\eta_0 f_s` at epoch 0 and then
    :math:`\eta_e = \eta_{e-1}\,(1 + (f_e - f_s) / (n f_s + (e - 1)(f_e - f_s)))` up to :math:`e = n`.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose groups' ``"lr"`` the scheduler sets.
    start_factor : float, default 1/3
        :math:`f_s \in (0, 1]`.
    end_factor : float, default 1.0
        :math:`f_e \in [0, 1]`.
    total_iters : int, default 5
        :math:`n \ge 1`, the epochs over which the factor changes.
    last_epoch : int, default -1
        See :class:`~optim.lr_scheduler_base.LRScheduler`.

    Examples
    --------
    >>> import numpy as np, minigrad as mg, optim
    >>> w = mg.tensor(np.zeros(2), requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1)
    >>> scheduler = optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> rates = []
    >>> for _ in range(3):
    ...     w.grad = mg.tensor(np.ones(2))
    ...     opt.step()
    ...     scheduler.step()
    ...     rates.append(round(scheduler.get_last_lr()[0], 6))
    >>> rates
    [0.075, 0.1, 0.1]
    """

    hyperparameters = ("start_factor", "end_factor", "total_iters")

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        checked = self.check_arguments(start_factor=start_factor, end_factor=end_factor, total_iters=total_iters)
        self.start_factor, self.end_factor = checked["start_factor"], checked["end_factor"]
        self.total_iters = checked["total_iters"]
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def check_arguments(start_factor: Any, end_factor: Any, total_iters: Any) -> dict[str, Any]:
        """The arguments, checked: ``start_factor`` in (0, 1], ``end_factor`` in [0, 1], ``total_iters`` >= 1."""
        return {"start_factor": _factor_in(start_factor, "start_factor", 0.0, 1.0, low_open=True),
                "end_factor": _factor_in(end_factor, "end_factor", 0.0, 1.0, low_open=False),
                "total_iters": check_count(total_iters, "total_iters", 1)}

    def _chainable_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return [group["lr"] for group in groups]
        change = self.end_factor - self.start_factor
        rates = [group["lr"] * (1.0 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change))
                 for group in groups]
        # The factors lie in [0, 1], so a negative rate is rounding: torch's ratio can end at -2e-17 with
        # end_factor=0. The library gives 0.0, which its optimizers accept, rather than a rate that ascends.
        return [rate if rate >= 0 else 0.0 for rate in rates]

    def _closed_form_lr(self) -> list[float]:
        change = self.end_factor - self.start_factor
        return [base_lr * (self.start_factor + change * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base_lr in self.base_lrs]

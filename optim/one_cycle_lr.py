r"""OneCycleLR: the 1cycle policy (Smith & Topin, 2017), as ``torch.optim.lr_scheduler.OneCycleLR`` (2.13.0).

The rate rises from ``max_lr / div_factor`` to ``max_lr`` over the first
``pct_start`` of ``total_steps`` and falls to ``initial_lr / final_div_factor``
over the rest (with ``three_phase``: back down to the initial rate over as many
steps again, then to the minimum). Each phase anneals from its start value to
its end value over its steps, by a cosine,
:math:`\text{end} + (\text{start} - \text{end})/2\,(1 + \cos(\pi p))`, or
linearly, :math:`(\text{end} - \text{start})\,p + \text{start}`, with
:math:`p` the fraction of the phase done. With ``cycle_momentum`` the momentum
moves the other way, between ``max_momentum`` and ``base_momentum``: for
Adam, AMSGrad and Adamax it is :math:`\beta_1`, the first entry of the group's
``"betas"``; for an optimizer with a ``"momentum"`` hyperparameter, that one.

The constructor writes ``initial_lr``, ``max_lr``, ``min_lr`` (and
``max_momentum``, ``base_momentum``) into every group, as PyTorch does; the
optimizer's state dict keeps them, so that a resumed run
(``last_epoch >= 0``) finds them. Not chainable: the rate comes from those
bounds alone.
"""

from __future__ import annotations

import math
from typing import Any

from optim.lr_scheduler_base import LRScheduler, check_count, check_group_lrs, group_values
from optim.optimizer import Optimizer
from optim.validation import (
    check_bool,
    check_choice,
    check_nonnegative,
    check_positive,
    check_probability,
    plain_number,
)

__all__ = ["OneCycleLR"]

ANNEAL_STRATEGIES = ("cos", "linear")
PHASE_KEYS = ("end_step", "start_lr", "end_lr", "start_momentum", "end_momentum")
BOUNDS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")


def _annealing_cos(start: float, end: float, pct: float) -> float:
    """Cosine anneal from ``start`` to ``end`` as ``pct`` goes from 0 to 1 (PyTorch's arithmetic)."""
    cos_out = math.cos(math.pi * pct) + 1
    return end + (start - end) / 2.0 * cos_out


def _annealing_linear(start: float, end: float, pct: float) -> float:
    """Linear anneal from ``start`` to ``end`` as ``pct`` goes from 0 to 1."""
    return (end - start) * pct + start


def schedule_phases(total_steps: int, pct_start: float, three_phase: bool) -> list[dict[str, Any]]:
    """PyTorch's ``_schedule_phases``: where each phase ends, and which group bounds it goes between."""
    first = {"end_step": float(pct_start * total_steps) - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
             "start_momentum": "max_momentum", "end_momentum": "base_momentum"}
    if three_phase:
        return [first,
                {"end_step": float(2 * pct_start * total_steps) - 2, "start_lr": "max_lr", "end_lr": "initial_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": total_steps - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"}]
    return [first, {"end_step": total_steps - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                    "start_momentum": "base_momentum", "end_momentum": "max_momentum"}]


class OneCycleLR(LRScheduler):
    """The 1cycle learning-rate policy (see the module docstring for the formulas).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose groups' ``"lr"`` (and :math:`\\beta_1` or ``"momentum"``) the scheduler sets.
    max_lr : float or list of float
        The peak rate, one for all groups or one per group.
    total_steps : int, optional
        The number of steps of the cycle; else ``epochs * steps_per_epoch``.
    epochs, steps_per_epoch : int, optional
        Used when ``total_steps`` is not given (both then needed).
    pct_start : float, default 0.3
        The fraction of the cycle spent raising the rate, in [0, 1].
    anneal_strategy : {"cos", "linear"}, default "cos"
    cycle_momentum : bool, default True
        Move the momentum inversely to the rate; needs ``"betas"`` or ``"momentum"`` in the optimizer's defaults.
    base_momentum, max_momentum : float or list of float, default 0.85 and 0.95
        The momentum at the peak rate and at the start; in [0, 1) for :math:`\\beta_1`.
    div_factor : float, default 25.0
        ``initial_lr = max_lr / div_factor``, > 0.
    final_div_factor : float, default 1e4
        ``min_lr = initial_lr / final_div_factor``, > 0.
    three_phase : bool, default False
        Use the paper's three phases instead of fastai's two.
    last_epoch : int, default -1
        The number of batches already taken when resuming.

    Raises
    ------
    ValueError
        At ``step()`` past ``total_steps`` (checked before anything changes), and for a phase
        of zero length that a step reaches (PyTorch divides by zero there).

    Examples
    --------
    >>> import numpy as np, minigrad as mg, optim
    >>> w = mg.tensor(np.zeros(2), requires_grad=True)
    >>> opt = optim.Adam([w], lr=0.1)
    >>> scheduler = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=5)
    >>> rates = []
    >>> for _ in range(4):
    ...     w.grad = mg.tensor(np.ones(2))
    ...     opt.step()
    ...     scheduler.step()
    ...     rates.append(round(scheduler.get_last_lr()[0], 6))
    >>> rates
    [0.950485, 0.611262, 0.188258, 4e-06]
    """

    hyperparameters = ("total_steps", "_schedule_phases", "_anneal_func_type", "cycle_momentum", "use_beta1")
    optional_hyperparameters = ("use_beta1",)  # PyTorch sets it only with cycle_momentum

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85, max_momentum: float | list[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        check_group_lrs(optimizer)
        last_epoch = check_count(last_epoch, "last_epoch", -1)
        if total_steps is not None:
            total_steps = check_count(total_steps, "total_steps", 1)
        elif epochs is not None and steps_per_epoch is not None:
            total_steps = check_count(epochs, "epochs", 1) * check_count(steps_per_epoch, "steps_per_epoch", 1)
        else:
            raise ValueError(f"total_steps: got None; give total_steps, or epochs and steps_per_epoch "
                             f"(got epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r})")
        number = plain_number(pct_start)
        if number is None or not 0 <= number <= 1:
            raise (TypeError if number is None else ValueError)(
                f"pct_start: expected a number in [0, 1], got {pct_start!r}")
        three_phase = check_bool(three_phase, "three_phase")
        phases = schedule_phases(total_steps, float(number), three_phase)
        anneal_strategy = check_choice(anneal_strategy, "anneal_strategy", ANNEAL_STRATEGIES)
        cycle_momentum = check_bool(cycle_momentum, "cycle_momentum")
        div_factor = check_positive(div_factor, "div_factor")
        final_div_factor = check_positive(final_div_factor, "final_div_factor")
        max_lrs = [check_nonnegative(v, f"max_lr[{i}]" if isinstance(max_lr, (list, tuple)) else "max_lr")
                   for i, v in enumerate(group_values(max_lr, "max_lr", optimizer))]
        use_beta1 = ("betas" in optimizer.defaults) if cycle_momentum else None
        momenta: list[tuple[float, float]] = []
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and not use_beta1:
                raise ValueError(f"cycle_momentum: {type(optimizer).__name__} has neither 'momentum' nor 'betas' "
                                 "to cycle; pass cycle_momentum=False")
            check = check_probability if use_beta1 else check_nonnegative
            pairs = zip(group_values(max_momentum, "max_momentum", optimizer),
                        group_values(base_momentum, "base_momentum", optimizer))
            listed = isinstance(max_momentum, (list, tuple)), isinstance(base_momentum, (list, tuple))
            momenta = [(check(high, f"max_momentum[{i}]" if listed[0] else "max_momentum"),
                        check(low, f"base_momentum[{i}]" if listed[1] else "base_momentum"))
                       for i, (high, low) in enumerate(pairs)]
            for group, (high, low) in zip(optimizer.param_groups, momenta):
                _check_cycled_momentum(optimizer, group, high, low, use_beta1)
        needed = BOUNDS if cycle_momentum else BOUNDS[:3]
        if last_epoch >= 0:
            for index, group in enumerate(optimizer.param_groups):
                absent = [key for key in needed if key not in group]
                if absent:
                    raise KeyError(f"param_groups[{index}]: no {absent}, which resuming with last_epoch={last_epoch} "
                                   "needs; load the optimizer's state dict saved with the scheduler first")
        self.total_steps, self._schedule_phases = total_steps, phases
        self._anneal_func_type, self.cycle_momentum, self.use_beta1 = anneal_strategy, cycle_momentum, use_beta1
        try:  # a phase of zero length at the first step, refused before any group changes
            self._phase_at(last_epoch + 1)
        except ValueError as error:
            raise ValueError(f"pct_start: {pct_start!r} with total_steps={total_steps}: {error}") from None
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
            for group, (high, low) in zip(optimizer.param_groups, momenta):
                if use_beta1:
                    group["betas"] = (high, *group["betas"][1:])
                else:
                    group["momentum"] = high
                group["max_momentum"] = high
                group["base_momentum"] = low
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def check_arguments(total_steps: Any, _schedule_phases: Any, _anneal_func_type: Any, cycle_momentum: Any,
                        use_beta1: Any = None) -> dict[str, Any]:
        """The saved hyperparameters (PyTorch's names), checked; ``use_beta1`` is there with ``cycle_momentum``."""
        cycle_momentum = check_bool(cycle_momentum, "cycle_momentum")
        if cycle_momentum != (use_beta1 is not None):
            raise ValueError(f"use_beta1: expected a value exactly when cycle_momentum is True, got {use_beta1!r} "
                             f"with cycle_momentum={cycle_momentum}")
        phases = _schedule_phases
        if not isinstance(phases, list) or len(phases) not in (2, 3) or not all(
                isinstance(p, dict) and set(p) == set(PHASE_KEYS) for p in phases):
            raise ValueError(
                f"_schedule_phases: expected 2 or 3 dicts with the keys {list(PHASE_KEYS)}, got {phases!r}")
        for index, phase in enumerate(phases):
            if plain_number(phase["end_step"]) is None:
                raise TypeError(f"_schedule_phases[{index}]['end_step']: expected a number, got {phase['end_step']!r}")
            for key in PHASE_KEYS[1:]:
                check_choice(phase[key], f"_schedule_phases[{index}][{key!r}]", BOUNDS)
        return {"total_steps": check_count(total_steps, "total_steps", 1),
                "_schedule_phases": [dict(p) for p in phases],
                "_anneal_func_type": check_choice(_anneal_func_type, "_anneal_func_type", ANNEAL_STRATEGIES),
                "cycle_momentum": cycle_momentum,
                "use_beta1": None if use_beta1 is None else check_bool(use_beta1, "use_beta1")}

    def _phase_at(self, step_num: int) -> tuple[dict[str, Any], float]:
        """The phase of step ``step_num`` and the fraction of it done; refuses a step past the cycle."""
        if step_num > self.total_steps:
            raise ValueError(f"step: tried to step {step_num} times; the cycle has total_steps={self.total_steps}")
        start_step = 0.0
        for index, phase in enumerate(self._schedule_phases):
            end_step = phase["end_step"]
            if step_num <= end_step or index == len(self._schedule_phases) - 1:
                if end_step == start_step:
                    raise ValueError(
                        f"step {step_num} falls in phase {index} of the cycle, which has no length (it starts and "
                        f"ends at step {end_step}); change pct_start or total_steps")
                return phase, (step_num - start_step) / (end_step - start_step)
            start_step = phase["end_step"]
        raise AssertionError("unreachable: the last phase takes every step")

    def _check_step(self, epoch: int | None) -> None:
        super()._check_step(epoch)
        self._phase_at(self.last_epoch + 1 if epoch is None else epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return _annealing_cos(start, end, pct)
        return _annealing_linear(start, end, pct)

    def _chainable_lr(self) -> list[float]:
        phase, pct = self._phase_at(self.last_epoch)
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        return lrs


def _check_cycled_momentum(optimizer: Any, group: dict[str, Any], high: float, low: float, use_beta1: bool) -> None:
    """Refuse, before any group changes, momenta the optimizer itself would refuse at its next step (SGD under a
    convention without momentum, say), with the optimizer's own message."""
    for value in (high, low):
        trial = dict(group)
        if use_beta1:
            trial["betas"] = (value, *group["betas"][1:])
        else:
            trial["momentum"] = value
        try:
            optimizer.validate_group(trial)
        except ValueError as error:
            raise ValueError(f"cycle_momentum: {type(optimizer).__name__} refuses the cycled momentum {value!r}: "
                             f"{error}; pass cycle_momentum=False") from None

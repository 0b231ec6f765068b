"""Helpers for the exercises that write one optimizer step (notebooks 05, 06 and 07).

A step function has the form ``step(theta, g, *state, t, *hyperparameters) -> (theta, *state)``: it
takes the parameter, the gradient, the state arrays (``m, v`` for Adam, ``m, u`` for AdaMax,
``m, v, v_max`` for AMSGrad), the step ``t`` (from 1) and the hyperparameters, and returns new arrays.
:func:`trajectory` runs one from zero state over a list of gradients; :func:`library_step` wraps the
library's reference functions (:mod:`optim.functional`, which update in place) in the same form, so that
a check can run both and compare them with :func:`first_difference`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from checks import compare
from optim import functional

__all__ = ["first_difference", "library_step", "random_problem", "trajectory"]

State = tuple[np.ndarray, ...]


def random_problem(seed: int, steps: int = 5, shape: tuple[int, ...] = (3, 4)) -> tuple[np.ndarray, list[np.ndarray]]:
    """A starting parameter and ``steps`` gradients, each step's at a random scale from ``1e-9`` to ``10``."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=shape)
    grads = [rng.normal(scale=10.0 ** rng.integers(-9, 2), size=shape) for _ in range(steps)]
    return theta, grads


def trajectory(step: Callable[..., Any], theta: np.ndarray, grads: Sequence[np.ndarray], names: Sequence[str],
               hyperparameters: Sequence[float]) -> list[State] | str:
    """``(theta, *state)`` after each step of ``step`` from zero state, or a sentence saying why there is none.

    ``names`` are the names of what ``step`` returns, ``("theta", "m", "v")`` for Adam; every input is
    passed as a copy, so that a step that changes its arguments in place changes nothing here.
    """
    state = tuple(np.zeros_like(theta) for _ in names[1:])
    states = []
    for t, grad in enumerate(grads, start=1):
        result = step(theta.copy(), grad.copy(), *(array.copy() for array in state), t, *hyperparameters)
        if not isinstance(result, (tuple, list)) or len(result) != len(names):
            return f"return the {len(names)} new arrays ({', '.join(names)}); got {type(result).__name__}."
        theta, *rest = (np.asarray(value, dtype=np.float64) for value in result)
        state = tuple(rest)
        states.append((theta, *state))
    return states


def first_difference(got: Sequence[State], expected: Sequence[State], names: Sequence[str]) -> str:
    """The first mismatch (relative ``1e-10``) between two trajectories, as a sentence; ``""`` when they agree.

    At each step the state arrays are compared before the parameter, so that a mismatch reported in
    ``theta`` means that the state of that step was right.
    """
    order = [*range(1, len(names)), 0]
    for t, (got_state, expected_state) in enumerate(zip(got, expected), start=1):
        for index in order:
            name, got_value, expected_value = names[index], got_state[index], expected_state[index]
            difference = compare(got_value, expected_value, rtol=1e-10, atol=1e-300)
            if difference:
                return f"at step t={t}, {name}: {difference}."
    return ""


def library_step(update: Callable[..., None], **choices: Any) -> Callable[..., State]:
    """``update`` (``optim.functional.adam_update`` or ``adamax_update``) as a step function.

    ``choices`` are passed on (``epsilon_mode=...``, ``amsgrad_mode=...``, ``adamax_epsilon=...``).
    With an ``amsgrad_mode`` the step takes and returns ``m, v, v_max``; otherwise two state arrays.
    """

    def step(theta: np.ndarray, grad: np.ndarray, *state_and_numbers: Any) -> State:
        state_count = 3 if choices.get("amsgrad_mode") else 2
        state = state_and_numbers[:state_count]
        t, lr, beta1, beta2, eps = state_and_numbers[state_count:]
        if update is functional.adam_update:
            m, v, *v_max = state
            update(theta, grad, m, v, v_max[0] if v_max else None, step=t, lr=lr, beta1=beta1, beta2=beta2,
                   eps=eps, **choices)
        else:
            update(theta, grad, *state, step=t, lr=lr, beta1=beta1, beta2=beta2, eps=eps, **choices)
        return (theta, *state)

    return step

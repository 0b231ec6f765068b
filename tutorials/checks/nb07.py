"""Checks for ``07-amsgrad-and-non-convergence.ipynb``: the average regret, one AMSGrad step.

The step is compared with :func:`optim.functional.adam_update` in AMSGrad's mode of
Reddi et al.'s Algorithm 2 (``amsgrad_mode="no_bias_correction"``); the regret with
what :func:`optim.experiments.online.run_online_problem` records for the online problem.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from checks import compare, report
from checks.steps import first_difference, library_step, random_problem, trajectory
from optim import functional
from optim.experiments.online import gradient_at, make_online_optimizers, run_online_problem

__all__ = ["check_amsgrad_step", "check_average_regrets"]

NAMES = ("theta", "m", "v", "v_max")
HYPERPARAMETERS = (0.01, 0.9, 0.999, 1e-8)  # lr, beta1, beta2, eps
REDDI_ALGORITHM_2 = library_step(functional.adam_update, amsgrad_mode="no_bias_correction")
BIAS_CORRECTED = library_step(functional.adam_update, amsgrad_mode="max_raw_v")


def _adam_without_max(theta: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, v_max: np.ndarray,
                      t: int, lr: float, beta1: float, beta2: float, eps: float) -> tuple[np.ndarray, ...]:
    """Algorithm 2 with ``v`` in place of ``v_max``: the mistake of forgetting the maximum."""
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    return theta - lr * m / (np.sqrt(v) + eps), m, v, v


def _difference(step: Callable[..., Any], reference: Callable[..., Any], seed: int) -> str:
    """The first difference between ``step`` and ``reference`` on the seeded problem; ``""`` when they agree."""
    theta, grads = random_problem(seed, steps=8)
    got = trajectory(step, theta, grads, NAMES, HYPERPARAMETERS)
    if isinstance(got, str):
        return got
    return first_difference(got, trajectory(reference, theta, grads, NAMES, HYPERPARAMETERS), NAMES)


def check_amsgrad_step(amsgrad_step: Callable[..., Any]) -> bool:
    """Exercise 2: ``amsgrad_step(theta, g, m, v, v_max, t, lr, beta1, beta2, eps) -> (theta, m, v, v_max)``."""
    name = "Exercise 2 (one AMSGrad step)"
    difference = _difference(amsgrad_step, REDDI_ALGORITHM_2, seed=7)
    if not difference or difference.startswith("return"):
        return report(name, not difference, difference)
    if not _difference(amsgrad_step, BIAS_CORRECTED, seed=7):
        hint = ("You bias-corrected m and v (PyTorch's AMSGrad); Algorithm 2 of Reddi et al. has no bias "
                "correction: theta - lr * m / (sqrt(v_max) + eps).")
    elif ", v_max:" in difference and not _difference(amsgrad_step, _adam_without_max, seed=7):
        hint = "v_max must be the running maximum: v_max_t = max(v_max_{t-1}, v_t) (np.maximum)."
    elif ", theta:" in difference:
        hint = "m, v and v_max are right; the step divides m by sqrt(v_max) + eps."
    else:
        hint = "m and v are Adam's moments; v_max_t = max(v_max_{t-1}, v_t)."
    return report(name, False, f"{difference} {hint}")


def check_average_regrets(average_regrets: Callable[[np.ndarray], Any]) -> bool:
    """Exercise 1: ``average_regrets(iterates)``, ``R_t / t`` for ``t = 1..T`` from ``x_1..x_{T+1}``."""
    name = "Exercise 1 (the average regret)"
    for optimizer_name, factory in make_online_optimizers(alpha=0.5).items():
        result = run_online_problem(factory, steps=3 * 101 + 17, x0=0.3)
        expected = np.cumsum(result.regrets) / np.arange(1, result.steps + 1)
        got = average_regrets(result.iterates.copy())
        if got is None:
            return report(name, False, "return the array of R_t / t for t = 1 .. T.")
        difference = compare(got, expected, rtol=1e-9, atol=1e-12)
        if not difference:
            continue
        if np.shape(got) == (result.steps + 1,):
            hint = "The last iterate x_{T+1} has no round of its own: use x_1 .. x_T."
        elif np.shape(got) == expected.shape and np.allclose(got, np.cumsum(result.regrets)):
            hint = "That is R_t; divide by t."
        else:
            hint = (f"round t's regret is f_t(x_t) - f_t(-1) = g_t * (x_t + 1), with g_t = gradient_at(t) "
                    f"(gradient_at(1) = {gradient_at(1)}); average the cumulative sum.")
        return report(name, False, f"on {optimizer_name}'s iterates: {difference}. {hint}")
    return report(name, True)

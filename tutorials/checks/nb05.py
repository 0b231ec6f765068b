"""Checks for ``05-adam-from-the-paper.ipynb``: one Adam step, the exact step bound, the efficient form.

Each check runs the student's function on seeded random inputs, runs
:func:`optim.functional.adam_update` (the library's reference path) on the same
inputs, and reports ``pass`` or a hint that names the likely mistake.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from checks import compare, report
from checks.steps import first_difference, library_step, random_problem, trajectory
from optim import functional

__all__ = ["check_adam_step", "check_adam_step_efficient", "check_step_bound"]

NAMES = ("theta", "m", "v")
HYPERPARAMETERS = (0.01, 0.9, 0.999, 1e-8)  # lr, beta1, beta2, eps
ALGORITHM_1 = library_step(functional.adam_update, epsilon_mode="algorithm1")
EFFICIENT_FORM = library_step(functional.adam_update, epsilon_mode="epsilon_hat")


def _difference(step: Callable[..., Any], reference: Callable[..., Any], seed: int) -> str:
    """The first difference between ``step`` and ``reference`` on the seeded problem; ``""`` when they agree."""
    theta, grads = random_problem(seed)
    got = trajectory(step, theta, grads, NAMES, HYPERPARAMETERS)
    if isinstance(got, str):
        return got
    return first_difference(got, trajectory(reference, theta, grads, NAMES, HYPERPARAMETERS), NAMES)


def check_adam_step(adam_step: Callable[..., Any]) -> bool:
    """Exercise 1: ``adam_step(theta, g, m, v, t, lr, beta1, beta2, eps) -> (theta, m, v)``, Algorithm 1."""
    name = "Exercise 1 (one Adam step)"
    difference = _difference(adam_step, ALGORITHM_1, seed=5)
    if not difference or difference.startswith("return"):
        return report(name, not difference, difference)
    if not _difference(adam_step, EFFICIENT_FORM, seed=5):
        return report(name, False, "Your step is the efficient form with a constant epsilon: Algorithm 1 adds "
                      "epsilon to sqrt(v_hat), after the bias correction.")
    if ", theta:" in difference:
        hint = ("m and v are right; look at the update of theta: m_hat = m / (1 - beta1**t), "
                "v_hat = v / (1 - beta2**t), then theta - lr * m_hat / (sqrt(v_hat) + eps).")
    else:
        hint = "m_t = beta1 m + (1 - beta1) g and v_t = beta2 v + (1 - beta2) g**2 (elementwise)."
    return report(name, False, f"{difference} {hint}")


def library_step_on_worst_sequence(beta1: float, beta2: float, t: int) -> float:
    """The size of the library's step ``t`` (lr 1, eps 0) after the gradients ``g_i = (beta1/beta2)**(t-i)``."""
    theta, m, v = np.zeros(1), np.zeros(1), np.zeros(1)
    for i in range(1, t + 1):
        before = theta.copy()
        grad = np.array([(beta1 / beta2) ** (t - i)])
        functional.adam_update(theta, grad, m, v, None, step=i, lr=1.0, beta1=beta1, beta2=beta2, eps=0.0)
    return float(before[0] - theta[0])


def check_step_bound(step_bound: Callable[[float, float, int], Any]) -> bool:
    """Exercise 2: ``step_bound(beta1, beta2, t)``, the largest ``|m_hat_t| / sqrt(v_hat_t)`` over all gradients."""
    name = "Exercise 2 (the exact step bound)"
    rng = np.random.default_rng(52)
    cases = [(0.9, 0.999, 300), (0.9, 0.99, 200)]
    cases += [(float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.9, 0.9999)), int(rng.integers(2, 300)))
              for _ in range(5)]
    cases.append((0.9, 0.999, 1))
    for beta1, beta2, t in cases:
        got = step_bound(beta1, beta2, t)
        expected = library_step_on_worst_sequence(beta1, beta2, t)
        difference = compare(got, expected, rtol=1e-9)
        if not difference:
            continue
        where = f"beta1={beta1:.4g}, beta2={beta2:.6g}, t={t}: {difference}."
        if got is not None and math.isclose(float(got), (1 - beta1) / math.sqrt(1 - beta2), rel_tol=1e-9):
            hint = "That is the paper's value for a single nonzero gradient, not the maximum over all sequences."
        elif got is not None and math.isclose(float(got) * math.sqrt(1 - beta2**t) / (1 - beta1**t), expected,
                                              rel_tol=1e-9):
            hint = ("You bounded |m_t| / sqrt(v_t); multiply by the bias corrections "
                    "sqrt(1 - beta2**t) / (1 - beta1**t).")
        else:
            hint = "Sum a_i**2 / b_i over i = 1..t (k = t - i from 0 to t - 1) and take the square root."
        return report(name, False, f"{where} {hint}")
    return report(name, True)


def check_adam_step_efficient(adam_step_efficient: Callable[..., Any]) -> bool:
    """Exercise 3: ``adam_step_efficient(theta, g, m, v, t, lr, beta1, beta2, eps_hat)``, Section 2's form."""
    name = "Exercise 3 (the efficient form)"
    difference = _difference(adam_step_efficient, EFFICIENT_FORM, seed=53)
    if not difference or difference.startswith("return"):
        return report(name, not difference, difference)
    if not _difference(adam_step_efficient, ALGORITHM_1, seed=53):
        hint = ("That is Algorithm 1. Here eps_hat is added to sqrt(v_t), the raw v, and the bias corrections "
                "go into alpha_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t).")
    else:
        hint = "alpha_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t); theta - alpha_t * m / (sqrt(v) + eps_hat)."
    return report(name, False, f"{difference} {hint}")

"""Checks for ``06-adamax-and-the-infinity-norm.ipynb``: one AdaMax step, its exact step bound, epsilon inside the max.

Each check runs the student's function on seeded random inputs, runs
:func:`optim.functional.adamax_update` (the library's reference path) on the same
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

__all__ = ["check_adamax_bound", "check_adamax_step", "check_adamax_step_inside_max", "library_adamax_worst_step"]

NAMES = ("theta", "m", "u")
HYPERPARAMETERS = (0.02, 0.9, 0.999, 1e-8)  # lr, beta1, beta2, eps
DENOMINATOR = library_step(functional.adamax_update, adamax_epsilon="denominator")
INSIDE_MAX = library_step(functional.adamax_update, adamax_epsilon="inside_max")


def _difference(step: Callable[..., Any], reference: Callable[..., Any], seed: int) -> str:
    """The first difference between ``step`` and ``reference`` on the seeded problem; ``""`` when they agree."""
    theta, grads = random_problem(seed)
    got = trajectory(step, theta, grads, NAMES, HYPERPARAMETERS)
    if isinstance(got, str):
        return got
    return first_difference(got, trajectory(reference, theta, grads, NAMES, HYPERPARAMETERS), NAMES)


def _hint(difference: str, other_form: str) -> str:
    if ", theta:" in difference:
        return ("m and u are right; the step is lr / (1 - beta1**t) * m / (u + eps): only m is bias-corrected."
                if other_form == "denominator" else
                "m and u are right; the step is lr / (1 - beta1**t) * m / u: only m is bias-corrected.")
    if ", u:" in difference:
        return ("u_t = max(beta2 * u, |g|) elementwise (np.maximum, np.abs)." if other_form == "denominator" else
                "u_t = max(beta2 * u, |g| + eps) elementwise (np.maximum, np.abs).")
    return "m_t = beta1 m + (1 - beta1) g, as in Adam."


def check_adamax_step(adamax_step: Callable[..., Any]) -> bool:
    """Exercise 1: ``adamax_step(theta, g, m, u, t, lr, beta1, beta2, eps) -> (theta, m, u)``, eps added to u."""
    name = "Exercise 1 (one AdaMax step)"
    difference = _difference(adamax_step, DENOMINATOR, seed=6)
    if not difference or difference.startswith("return"):
        return report(name, not difference, difference)
    if not _difference(adamax_step, INSIDE_MAX, seed=6):
        return report(name, False, "That is PyTorch's form (eps inside the max, exercise 3); here u_t = "
                      "max(beta2 u, |g|) and the step divides by u_t + eps.")
    return report(name, False, f"{difference} {_hint(difference, 'denominator')}")


def library_adamax_worst_step(beta1: float, beta2: float, t: int) -> float:
    """The size of the library's AdaMax step ``t`` (lr 1, eps 0) after the gradients ``g_i = beta2**(i - t)``."""
    theta, m, u = np.zeros(1), np.zeros(1), np.zeros(1)
    for i in range(1, t + 1):
        before = theta.copy()
        grad = np.array([beta2 ** (i - t)])
        functional.adamax_update(theta, grad, m, u, step=i, lr=1.0, beta1=beta1, beta2=beta2, eps=0.0)
    return float(before[0] - theta[0])


def check_adamax_bound(adamax_bound: Callable[[float, float, int], Any]) -> bool:
    """Exercise 2: ``adamax_bound(beta1, beta2, t)``, the largest ``|m_t| / ((1 - beta1**t) u_t)``, over all g."""
    name = "Exercise 2 (AdaMax's exact step bound)"
    rng = np.random.default_rng(62)
    cases = [(0.9, 0.999, 1000), (0.9, 0.99, 300)]
    cases += [(float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.9, 0.9999)), int(rng.integers(2, 300)))
              for _ in range(5)]
    cases.append((0.9, 0.999, 1))
    for beta1, beta2, t in cases:
        got = adamax_bound(beta1, beta2, t)
        expected = library_adamax_worst_step(beta1, beta2, t)
        difference = compare(got, expected, rtol=1e-9)
        if not difference:
            continue
        where = f"beta1={beta1:.4g}, beta2={beta2:.6g}, t={t}: {difference}."
        if got is not None and math.isclose(float(got), 1.0):
            hint = "That is the paper's bound alpha; the maximum over all sequences is a little larger."
        else:
            hint = ("|g_i| <= u_t / beta2**(t - i), so |m_t| <= (1 - beta1) u_t sum_k (beta1 / beta2)**k, "
                    "k from 0 to t - 1; divide by 1 - beta1**t.")
        return report(name, False, f"{where} {hint}")
    return report(name, True)


def check_adamax_step_inside_max(adamax_step_inside_max: Callable[..., Any]) -> bool:
    """Exercise 3: ``adamax_step_inside_max(theta, g, m, u, t, lr, beta1, beta2, eps)``, PyTorch's placement."""
    name = "Exercise 3 (epsilon inside the max)"
    difference = _difference(adamax_step_inside_max, INSIDE_MAX, seed=63)
    if not difference or difference.startswith("return"):
        return report(name, not difference, difference)
    if not _difference(adamax_step_inside_max, DENOMINATOR, seed=63):
        return report(name, False, "That is exercise 1's form; here eps goes inside the max, "
                      "u_t = max(beta2 u, |g| + eps), and the step divides by u_t alone.")
    return report(name, False, f"{difference} {_hint(difference, 'inside_max')}")

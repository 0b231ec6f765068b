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
from optim import functional

__all__ = ["check_adam_step", "check_adam_step_efficient", "check_step_bound"]

SHAPE = (3, 4)
STEPS = 5
HYPERPARAMETERS = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


def _library_steps(grads: list[np.ndarray], theta: np.ndarray, epsilon_mode: str, **hyper: float) -> list[tuple]:
    """``(theta, m, v)`` after each step of the library's Adam, from ``theta`` and zero moments."""
    theta, m, v = theta.copy(), np.zeros_like(theta), np.zeros_like(theta)
    states = []
    for t, grad in enumerate(grads, start=1):
        functional.adam_update(theta, grad, m, v, None, step=t, epsilon_mode=epsilon_mode, **hyper)
        states.append((theta.copy(), m.copy(), v.copy()))
    return states


def _student_steps(step: Callable[..., Any], grads: list[np.ndarray], theta: np.ndarray,
                   **hyper: float) -> list[tuple] | str:
    """``(theta, m, v)`` after each of the student's steps, or a sentence saying why there is none."""
    lr, beta1, beta2, eps = hyper["lr"], hyper["beta1"], hyper["beta2"], hyper["eps"]
    theta, m, v = theta.copy(), np.zeros_like(theta), np.zeros_like(theta)
    states = []
    for t, grad in enumerate(grads, start=1):
        result = step(theta.copy(), grad.copy(), m.copy(), v.copy(), t, lr, beta1, beta2, eps)
        if result is None or len(result) != 3:
            return "return the three new arrays (theta, m, v)."
        theta, m, v = (np.asarray(value, dtype=np.float64) for value in result)
        states.append((theta, m, v))
    return states


def _first_difference(got: list[tuple], expected: list[tuple]) -> str:
    """The first mismatch between two lists of ``(theta, m, v)``, as a sentence; ``""`` when they agree."""
    for t, (got_state, expected_state) in enumerate(zip(got, expected), start=1):
        for name, got_value, expected_value in zip(("theta", "m", "v"), got_state, expected_state):
            difference = compare(got_value, expected_value, rtol=1e-10, atol=1e-300)
            if difference:
                return f"at step t={t}, {name}: {difference}."
    return ""


def _inputs(seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=SHAPE)
    grads = [rng.normal(scale=10.0 ** rng.integers(-9, 2), size=SHAPE) for _ in range(STEPS)]
    return grads, theta


def check_adam_step(adam_step: Callable[..., Any]) -> bool:
    """Exercise 1: ``adam_step(theta, g, m, v, t, lr, beta1, beta2, eps) -> (theta, m, v)``, Algorithm 1."""
    name = "Exercise 1 (one Adam step)"
    grads, theta = _inputs(seed=5)
    got = _student_steps(adam_step, grads, theta, **HYPERPARAMETERS)
    if isinstance(got, str):
        return report(name, False, got)
    difference = _first_difference(got, _library_steps(grads, theta, "algorithm1", **HYPERPARAMETERS))
    if not difference:
        return report(name, True)
    if not _first_difference(got, _library_steps(grads, theta, "epsilon_hat", **HYPERPARAMETERS)):
        return report(name, False, "Your step is the efficient form with a constant epsilon: Algorithm 1 adds "
                      "epsilon to sqrt(v_hat), after the bias correction.")
    moments_right = all(not compare(g[1], e[1], rtol=1e-10) and not compare(g[2], e[2], rtol=1e-10)
                        for g, e in zip(got, _library_steps(grads, theta, "algorithm1", **HYPERPARAMETERS)))
    if moments_right:
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
    grads, theta = _inputs(seed=53)
    got = _student_steps(adam_step_efficient, grads, theta, **HYPERPARAMETERS)
    if isinstance(got, str):
        return report(name, False, got)
    difference = _first_difference(got, _library_steps(grads, theta, "epsilon_hat", **HYPERPARAMETERS))
    if not difference:
        return report(name, True)
    if not _first_difference(got, _library_steps(grads, theta, "algorithm1", **HYPERPARAMETERS)):
        hint = ("That is Algorithm 1. Here eps_hat is added to sqrt(v_t), the raw v, and the bias corrections "
                "go into alpha_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t).")
    else:
        hint = "alpha_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t); theta - alpha_t * m / (sqrt(v) + eps_hat)."
    return report(name, False, f"{difference} {hint}")

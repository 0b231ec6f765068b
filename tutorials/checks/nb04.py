"""Checks for the exercises of ``04-from-sgd-to-adam.ipynb``.

The heavy-ball step is compared with the second-order recurrence it implies on a
quadratic; RMSProp with :func:`optim.functional.adam_update` at ``beta1 = 0`` in the
``"epsilon_hat"`` form (which is RMSProp once the learning rate absorbs the bias
correction); the Adam step with :func:`optim.functional.adam_update` itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from checks import compare, report
from optim.functional import adam_update

__all__ = ["check_adam_step", "check_momentum_step", "check_rmsprop_step"]


def _sentence(text: str) -> str:
    """``text`` ending with one full stop (or its own question mark)."""
    return text if text.endswith((".", "?")) else text + "."


def _as_pair(result: Any, names: str) -> tuple[Any, ...] | None:
    """The student's result as a tuple of arrays, or ``None`` when it is not a tuple of the right length."""
    count = len(names.split(", "))
    if isinstance(result, tuple) and len(result) == count:
        return result
    return None


def check_momentum_step(momentum_step: Callable[..., Any]) -> None:
    """Run ``momentum_step`` on a diagonal quadratic; compare with ``x_t = (1 + b - a h) x_(t-1) - b x_(t-2)``."""
    exercise = "Exercise 1 (heavy-ball momentum)"
    rng = np.random.default_rng(401)
    curvatures = rng.uniform(0.5, 10.0, size=3)
    lr, beta = 0.05, 0.8
    x_start = rng.standard_normal(3)
    expected = [x_start, x_start - lr * curvatures * x_start]  # v_1 = g_1
    for _ in range(24):
        expected.append((1 + beta - lr * curvatures) * expected[-1] - beta * expected[-2])
    x, velocity = x_start.copy(), np.zeros(3)
    for t in range(1, 26):
        result = _as_pair(momentum_step(x, velocity, curvatures * x, lr, beta), "x, velocity")
        if result is None:
            report(exercise, False, "return the pair (x, velocity) of new arrays.")
            return
        x, velocity = result
        problem = compare(x, expected[t], rtol=1e-9, atol=1e-12)
        if problem:
            hint = _sentence(f"x after step {t}: {problem}")
            if t == 1:
                hint += (" The first step is x - lr * grad (the velocity starts at 0 and is a plain sum, "
                         "not an average with weight 1 - beta).")
            hint += " Heavy ball: velocity = beta * velocity + grad, then x = x - lr * velocity."
            report(exercise, False, hint)
            return
    report(exercise, True)


def check_rmsprop_step(rmsprop_step: Callable[..., Any]) -> None:
    """Compare ``rmsprop_step`` with ``adam_update(beta1=0, epsilon_mode="epsilon_hat")``, lr rescaled."""
    exercise = "Exercise 2 (RMSProp)"
    rng = np.random.default_rng(402)
    lr, rho, eps = 0.01, 0.9, 1e-8
    x = rng.standard_normal(5)
    s = np.zeros(5)
    reference_x, reference_m, reference_s = x.copy(), np.zeros(5), np.zeros(5)
    for t in range(1, 9):
        grad = rng.standard_normal(5) * np.array([1e-3, 1e-1, 1.0, 10.0, 1e3])
        # With beta1 = 0, m_t = g_t; epsilon_hat's alpha_t = lr' sqrt(1 - rho^t), so lr' = lr / sqrt(1 - rho^t).
        adam_update(reference_x, grad, reference_m, reference_s, None, step=t, lr=lr / math.sqrt(1 - rho**t),
                    beta1=0.0, beta2=rho, eps=eps, epsilon_mode="epsilon_hat")
        result = _as_pair(rmsprop_step(x.copy(), s.copy(), grad.copy(), lr, rho, eps), "x, s")
        if result is None:
            report(exercise, False, "return the pair (x, s) of new arrays.")
            return
        x, s = result
        for name, got, expected in (("s", s, reference_s), ("x", x, reference_x)):
            problem = compare(got, expected, rtol=1e-12, atol=1e-15)
            if problem:
                hint = _sentence(f"{name} after step {t}: {problem}")
                hint += (" Expected s = rho * s + (1 - rho) * grad**2 and x = x - lr * grad / (sqrt(s) + eps), "
                         "with eps outside the square root.")
                report(exercise, False, hint)
                return
    report(exercise, True)


def check_adam_step(adam_step: Callable[..., Any]) -> None:
    """Compare ``adam_step(x, m, v, grad, t, lr, beta1, beta2, eps)`` with :func:`optim.functional.adam_update`."""
    exercise = "Exercise 3 (Adam)"
    rng = np.random.default_rng(403)
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    x, m, v = rng.standard_normal(6), np.zeros(6), np.zeros(6)
    reference = [x.copy(), m.copy(), v.copy()]
    for t in range(1, 11):
        grad = rng.standard_normal(6) * np.array([1e-6, 1e-3, 1.0, 1.0, 1e2, 1e4])
        adam_update(reference[0], grad, reference[1], reference[2], None, step=t, lr=lr, beta1=beta1, beta2=beta2,
                    eps=eps)
        result = _as_pair(adam_step(x.copy(), m.copy(), v.copy(), grad.copy(), t, lr, beta1, beta2, eps), "x, m, v")
        if result is None:
            report(exercise, False, "return the triple (x, m, v) of new arrays.")
            return
        x, m, v = result
        for name, got, expected in zip(("m", "v", "x"), (m, v, x), (reference[1], reference[2], reference[0])):
            problem = compare(got, expected, rtol=1e-12, atol=1e-300)
            if problem:
                hint = _sentence(f"{name} after step {t}: {problem}")
                if name == "x" and t == 1:
                    hint += " The first step moves each coordinate by about lr: is the bias correction there?"
                hint += (" Expected m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t), "
                         "x = x - lr * m_hat / (sqrt(v_hat) + eps), with t counting from 1.")
                report(exercise, False, hint)
                return
    report(exercise, True)

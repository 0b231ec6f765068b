"""Checks for the exercises of ``01-tensors-and-autograd.ipynb``.

Each check runs the student's function on seeded random inputs, compares it with
minigrad (``backward`` or :func:`minigrad.sum_to`) and reports ``pass`` or a hint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
from checks import compare, report

__all__ = ["check_central_difference", "check_logistic_gradient", "check_sum_to"]


def _sentence(text: str) -> str:
    """``text`` ending with one full stop (or its own question mark)."""
    return text if text.endswith((".", "?")) else text + "."


def _logistic_loss_gradient(features: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The gradient of the mean logistic loss, computed by minigrad's backward."""
    w = mg.tensor(weights, requires_grad=True)
    margins = mg.tensor(labels) * (mg.tensor(features) @ w)
    loss = mg.mean(mg.log(1.0 + mg.exp(-margins)))
    loss.backward()
    return w.grad.numpy()


def check_logistic_gradient(logistic_gradient: Callable[..., Any]) -> None:
    """Compare ``logistic_gradient(X, y, w)`` with minigrad's gradient of ``mean(log(1 + exp(-y * (X @ w))))``."""
    exercise = "Exercise 1 (logistic gradient)"
    rng = np.random.default_rng(101)
    for n, d in ((5, 3), (40, 7), (1, 4)):
        features = rng.standard_normal((n, d))
        labels = rng.choice([-1.0, 1.0], size=n)
        weights = rng.standard_normal(d)
        expected = _logistic_loss_gradient(features, labels, weights)
        got = logistic_gradient(features.copy(), labels.copy(), weights.copy())
        problem = compare(got, expected, rtol=1e-9, atol=1e-12)
        if problem:
            hint = _sentence(f"with n={n}, d={d}: {problem}")
            if got is not None and np.shape(got) == expected.shape:
                if np.allclose(got, -expected):
                    hint += " The sign is flipped: the loss falls as the margin y x.w grows."
                elif np.allclose(got, n * expected):
                    hint += " Off by a factor n: the loss is a mean, so divide by n."
            hint += " Expected -(1/n) X^T (y * sigmoid(-y * X w))."
            report(exercise, False, hint)
            return
    report(exercise, True)


def check_sum_to(sum_to: Callable[[np.ndarray, tuple[int, ...]], Any]) -> None:
    """Compare ``sum_to(array, shape)`` with :func:`minigrad.sum_to` on broadcast pairs of shapes."""
    exercise = "Exercise 2 (sum_to)"
    rng = np.random.default_rng(102)
    cases = [((3, 4), (4,)), ((3, 4), (3, 1)), ((2, 3, 4), (3, 1)), ((2, 3, 4), (1, 1, 4)), ((5,), ()),
             ((2, 1, 4), (2, 1, 4)), ((6, 2, 5), (2, 1))]
    for big, small in cases:
        gradient = rng.standard_normal(big)
        expected = mg.sum_to(mg.tensor(gradient), small).numpy()
        got = sum_to(gradient.copy(), small)
        problem = compare(got, expected, rtol=1e-12, atol=1e-12)
        if problem:
            hint = _sentence(f"from shape {big} to {small}: {problem}") + (
                " Sum over the leading axes that broadcasting added, then, keeping the axis, over each axis "
                "where the target has 1 and the gradient does not."
            )
            report(exercise, False, hint)
            return
    report(exercise, True)


def _exp_times_x(x: np.ndarray) -> float:
    return float(np.sum(np.exp(x) * x))


def check_central_difference(central_difference: Callable[..., Any]) -> None:
    """Compare ``central_difference(f, x, eps)`` with minigrad's exact gradient of ``sum(exp(x) * x)``."""
    exercise = "Exercise 3 (central differences)"
    rng = np.random.default_rng(103)
    for shape in ((4,), (2, 3)):
        x = rng.standard_normal(shape)
        before = x.copy()
        point = mg.tensor(x, requires_grad=True)
        (mg.exp(point) * point).sum().backward()
        expected = point.grad.numpy()
        got = central_difference(_exp_times_x, x, 1e-5)
        if not np.array_equal(x, before):
            report(exercise, False, "x was changed: put every perturbed element back to its value.")
            return
        problem = compare(got, expected, rtol=1e-7, atol=1e-9)
        if problem:
            hint = _sentence(f"for x of shape {shape}: {problem}")
            if got is not None and np.shape(got) == expected.shape and np.allclose(got, expected, rtol=1e-3):
                hint += " Close but not within 1e-7: a one-sided difference has error O(eps); use both sides."
            hint += " Use (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for each element i."
            report(exercise, False, hint)
            return
    report(exercise, True)

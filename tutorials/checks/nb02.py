"""Checks for the exercises of ``02-inside-the-engine.ipynb``.

The scalar engine's ``tanh`` is compared with :func:`minigrad.tanh`; the student's
``Softplus`` Function with ``log(1 + exp(x))`` built from minigrad operations, with
:func:`minigrad.gradcheck`, and differentiated twice; Newton's method with the
iterates that closed-form derivatives give.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
from checks import compare, report

__all__ = ["check_newton_minimize", "check_softplus", "check_value_tanh"]


def _sentence(text: str) -> str:
    """``text`` ending with one full stop (or its own question mark)."""
    return text if text.endswith((".", "?")) else text + "."


def check_value_tanh(tanh: Callable[[Any], Any], value_class: type) -> None:
    """Run ``tanh`` on ``value_class`` scalars (alone and inside ``tanh(x * x)``); compare with minigrad."""
    exercise = "Exercise 1 (tanh for Value)"
    rng = np.random.default_rng(201)
    for point in rng.uniform(-2.0, 2.0, size=4):
        for label, build in (("tanh(x)", lambda v: tanh(v)), ("tanh(x * x)", lambda v: tanh(v * v))):
            x = value_class(point)
            out = build(x)
            if not isinstance(out, value_class):
                report(exercise, False, f"{label} returned {out!r}: return a Value.")
                return
            out.backward()
            reference = mg.tensor(point, requires_grad=True)
            expected = mg.tanh(reference) if label == "tanh(x)" else mg.tanh(reference * reference)
            expected.backward()
            problem = compare(out.data, expected.item(), rtol=1e-12)
            if problem:
                report(exercise, False, _sentence(f"the value of {label} at x = {point:.3f}: {problem}"))
                return
            problem = compare(x.grad, reference.grad.item(), rtol=1e-12, atol=1e-15)
            if problem:
                hint = _sentence(f"the gradient of {label} at x = {point:.3f}: {problem}")
                if x.grad == 0.0:
                    hint += " Nothing reached x: give the result the parent x with its local derivative."
                elif label == "tanh(x)" and math.isclose(x.grad, 1.0 - point**2, rel_tol=1e-12):
                    hint += " The local derivative is 1 - tanh(x)^2, not 1 - x^2."
                report(exercise, False, hint)
                return
    report(exercise, True)


def _softplus_reference(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Softplus and its first two derivatives, sigma(x) and sigma(x) (1 - sigma(x)), in float64."""
    with np.errstate(over="ignore"):  # exp(800) is inf, and 1 / inf = 0 is the right sigma(-800)
        sigma = 1.0 / (1.0 + np.exp(-x))
    return np.logaddexp(0.0, x), sigma, sigma * (1.0 - sigma)


def check_softplus(softplus_class: type) -> None:
    """Check ``softplus_class()(x)``: values (also for large x), gradcheck, and the second derivative."""
    exercise = "Exercise 2 (Softplus Function)"
    if not (isinstance(softplus_class, type) and issubclass(softplus_class, mg.Function)):
        report(exercise, False, f"expected a subclass of mg.Function, got {softplus_class!r}.")
        return
    rng = np.random.default_rng(202)
    x = np.concatenate([rng.uniform(-4.0, 4.0, size=5), [-800.0, 800.0]])
    expected_value, expected_first, expected_second = _softplus_reference(x)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        value = softplus_class()(mg.tensor(x)).numpy()
    problem = compare(value, expected_value, rtol=1e-12, atol=1e-300)
    if problem:
        hint = _sentence(f"forward: {problem}")
        if not np.isfinite(value[-1]):
            hint += " log(1 + exp(800)) overflows: np.logaddexp(0, x) computes it stably."
        report(exercise, False, hint)
        return
    if not mg.gradcheck(lambda t: softplus_class()(t), mg.tensor(x[:5], requires_grad=True), raise_exception=False):
        report(exercise, False, "gradcheck fails: the derivative of log(1 + e^x) is sigmoid(x); multiply by gy.")
        return
    point = mg.tensor(x, requires_grad=True)
    softplus_class()(point).sum().backward(create_graph=True)
    first = point.grad
    problem = compare(first.numpy(), expected_first, rtol=1e-12, atol=1e-300)
    if problem:
        report(exercise, False, _sentence(f"first derivative: {problem}"))
        return
    if not first.requires_grad:
        report(exercise, False, "the gradient cannot be differentiated again: build backward from Tensor "
                                "operations (mg.sigmoid, *), not from the arrays in .data.")
        return
    point.grad = None
    first.sum().backward()
    problem = compare(point.grad.numpy(), expected_second, rtol=1e-9, atol=1e-300)
    if problem:
        report(exercise, False, _sentence(f"second derivative (through create_graph): {problem}"))
        return
    report(exercise, True)


_PROBLEMS = (
    ("exp(x) - 2x from x0 = 1", lambda x: mg.exp(x) - 2.0 * x, lambda x: math.exp(x) - 2.0, math.exp, 1.0),
    ("x^4/4 + x^2/2 - x from x0 = -2", lambda x: x**4 / 4.0 + x**2 / 2.0 - x,
     lambda x: x**3 + x - 1.0, lambda x: 3.0 * x**2 + 1.0, -2.0),
)


def check_newton_minimize(newton_minimize: Callable[..., Any]) -> None:
    """Compare ``newton_minimize(f, x0, steps)`` with Newton's iterates from closed-form f' and f''."""
    exercise = "Exercise 3 (Newton's method)"
    steps = 6
    for label, function, first, second, start in _PROBLEMS:
        expected = [start]
        for _ in range(steps):
            expected.append(expected[-1] - first(expected[-1]) / second(expected[-1]))
        try:
            got = newton_minimize(function, start, steps)
        except ZeroDivisionError:  # f' and f'' added into one x.grad: each step x - 1, until a gradient of 0
            report(exercise, False, f"{label}: a division by zero. x.grad accumulates, so set x.grad = None "
                                    "between the two backward calls.")
            return
        if got is None:
            report(exercise, False, "got None: does your function return the list of iterates?")
            return
        got = [float(value) for value in got]
        problem = compare(got, expected, rtol=1e-10, atol=1e-12)
        if problem:
            hint = _sentence(f"{label}: iterates {problem}")
            hint += (" Expected [x0, x1, ..., x6] with x_(k+1) = x_k - f'(x_k) / f''(x_k); x.grad accumulates, "
                     "so set x.grad = None between the two backward calls.")
            report(exercise, False, hint)
            return
    report(exercise, True)

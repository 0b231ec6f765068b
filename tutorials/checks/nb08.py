"""Checks for ``08-comparing-optimizers.ipynb``: Beale's function in minigrad, an optimizer's trajectory.

The function is compared, value and gradient, with a reference written with minigrad's
operations; the trajectory with the same loop run on the library's optimizers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
from checks import compare, report
from optim import SGD, Adam, Adamax

__all__ = ["beale_reference", "check_beale", "check_trajectory", "reference_trajectory", "rosenbrock_reference"]


def beale_reference(point: mg.Tensor) -> mg.Tensor:
    """Beale's function of a 2-element tensor, with minimum 0 at ``(3, 0.5)``."""
    x, y = point[0], point[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def rosenbrock_reference(point: mg.Tensor) -> mg.Tensor:
    """Rosenbrock's function ``(1 - x)^2 + 100 (y - x^2)^2``, with minimum 0 at ``(1, 1)``."""
    x, y = point[0], point[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _value_and_gradient(function: Callable[[mg.Tensor], Any], at: np.ndarray) -> tuple[Any, Any]:
    point = mg.tensor(at.copy(), requires_grad=True)
    value = function(point)
    if not isinstance(value, mg.Tensor):
        return value, None
    if not value.requires_grad:  # built from point.data: backward cannot reach the point
        return value.item(), None
    value.backward()
    return value.item(), None if point.grad is None else np.array(point.grad)


def check_beale(beale: Callable[[mg.Tensor], Any]) -> bool:
    """Exercise 1: ``beale(point)``: Beale's function of a 2-element minigrad tensor, differentiable by backward."""
    name = "Exercise 1 (Beale's function)"
    rng = np.random.default_rng(81)
    for at in [np.array([3.0, 0.5]), *rng.uniform(-2.0, 2.0, size=(5, 2))]:
        value, gradient = _value_and_gradient(beale, at)
        expected_value, expected_gradient = _value_and_gradient(beale_reference, at)
        where = f"at (x, y) = ({at[0]:.3f}, {at[1]:.3f})"
        if value is None:
            return report(name, False, "return the loss, a minigrad Tensor.")
        if not isinstance(value, (float, int)):
            return report(name, False, f"{where}: got a {type(value).__name__}; build the loss from minigrad "
                          "operations on the tensor (point[0], point[1], +, -, *, **) so that it is a Tensor.")
        difference = compare(value, expected_value, rtol=1e-12)
        if difference:
            return report(name, False, f"{where}: {difference}. The three terms are (1.5 - x + x y)^2, "
                          "(2.25 - x + x y^2)^2 and (2.625 - x + x y^3)^2.")
        if gradient is None:
            return report(name, False, "The value is right but backward does not reach the point: use minigrad "
                          "operations on the tensor, not NumPy on point.data.")
        difference = compare(gradient, expected_gradient, rtol=1e-10, atol=1e-12)
        if difference:
            return report(name, False, f"{where}, gradient: {difference}.")
    return report(name, True)


def reference_trajectory(make_optimizer: Callable[[list[mg.Tensor]], Any], loss_fn: Callable[[mg.Tensor], Any],
                         start: Any, steps: int) -> np.ndarray:
    """The points ``(steps + 1, 2)`` that ``make_optimizer``'s optimizer visits on ``loss_fn`` from ``start``."""
    point = mg.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    optimizer = make_optimizer([point])
    path = [point.data.copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(point).backward()
        optimizer.step()
        path.append(point.data.copy())
    return np.array(path)


def _accumulating_trajectory(make_optimizer: Callable[[list[mg.Tensor]], Any], loss_fn: Callable[[mg.Tensor], Any],
                             start: Any, steps: int) -> np.ndarray:
    """:func:`reference_trajectory` without ``zero_grad``: the gradients add up from step to step."""
    point = mg.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    optimizer = make_optimizer([point])
    path = [point.data.copy()]
    for _ in range(steps):
        loss_fn(point).backward()
        optimizer.step()
        path.append(point.data.copy())
    return np.array(path)


def check_trajectory(trajectory: Callable[..., Any]) -> bool:
    """Exercise 2: ``trajectory(make_optimizer, loss_fn, start, steps)``, the ``(steps + 1, 2)`` points visited."""
    name = "Exercise 2 (an optimizer's trajectory)"
    rng = np.random.default_rng(82)
    makers = {
        "Adam(lr=0.05)": lambda params: Adam(params, lr=0.05),
        "Adamax(lr=0.05)": lambda params: Adamax(params, lr=0.05),
        "SGD(lr=1e-3)": lambda params: SGD(params, lr=1e-3),
    }
    for label, make_optimizer in makers.items():
        start = rng.uniform(-1.5, 1.5, size=2)
        steps = int(rng.integers(20, 40))
        got = trajectory(make_optimizer, rosenbrock_reference, start.copy(), steps)
        if got is None:
            return report(name, False, "return the array of points, one row per point.")
        expected = reference_trajectory(make_optimizer, rosenbrock_reference, start, steps)
        difference = compare(got, expected, rtol=1e-12, atol=1e-15)
        if not difference:
            continue
        where = f"{label} on Rosenbrock from ({start[0]:.3f}, {start[1]:.3f}), {steps} steps"
        if np.shape(got) == (steps, 2):
            hint = "Include the starting point: steps + 1 rows."
        elif not compare(got, _accumulating_trajectory(make_optimizer, rosenbrock_reference, start, steps),
                         rtol=1e-12, atol=1e-15):
            hint = "Gradients add up in .grad: call optimizer.zero_grad() before each backward()."
        else:
            hint = ("Each step: zero_grad(), loss_fn(point).backward(), step(), then record a copy of "
                    "point.data (the optimizer changes the array in place).")
        return report(name, False, f"{where}: {difference}. {hint}")
    return report(name, True)

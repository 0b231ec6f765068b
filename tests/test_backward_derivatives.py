"""The backward pass, derivative values: second and higher derivatives through ``create_graph=True``,
Newton's method, and a composed first derivative.

Reverse mode accumulates, for every leaf :math:`x`,
:math:`\\bar x \\mathrel{+}= \\sum_{c \\in \\text{consumers}(x)} \\bar c\\, \\partial c / \\partial x`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from backward_helpers import leaf

import minigrad as mg


# ----------------------------------------------------------------- higher order
def _second_derivative(fn, values, device):
    x = leaf(values, device)
    fn(x).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    x.grad = None
    first.sum().backward()
    return first, x.grad


def test_second_derivative_of_cube(device):
    """:math:`\\frac{d}{dx} x^3 = 3x^2`, :math:`\\frac{d^2}{dx^2} x^3 = 6x`, and a third pass gives 6."""
    values = np.array([-1.5, 0.5, 2.0])
    x = leaf(values, device)
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    np.testing.assert_allclose(first.numpy(), 3 * values**2)
    x.grad = None
    first.sum().backward(create_graph=True)
    second = x.grad
    np.testing.assert_allclose(second.numpy(), 6 * values)
    x.grad = None
    second.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0, 6.0])


def test_second_derivative_of_tanh(device):
    """:math:`\\tanh'' x = -2 \\tanh x\\, (1 - \\tanh^2 x)`."""
    values = np.array([-1.2, 0.3, 2.0])
    first, second = _second_derivative(mg.tanh, values, device)
    t = np.tanh(values)
    np.testing.assert_allclose(first.numpy(), 1 - t**2)
    np.testing.assert_allclose(second.numpy(), -2 * t * (1 - t**2))


def test_second_derivative_of_exp(device):
    """:math:`\\exp'' x = \\exp x`."""
    values = np.array([-1.0, 0.0, 1.5])
    first, second = _second_derivative(mg.exp, values, device)
    np.testing.assert_allclose(first.numpy(), np.exp(values))
    np.testing.assert_allclose(second.numpy(), np.exp(values))


def test_newtons_method_with_second_derivatives(device):
    """Newton's step :math:`x \\leftarrow x - f'(x)/f''(x)` on :math:`f(x) = x^4 - 2x^2` from :math:`x_0 = 2`
    converges to the minimum :math:`x^* = 1`, where :math:`f' = 4x^3 - 4x = 0` and :math:`f'' = 12x^2 - 4 = 8`.
    """
    x = leaf(2.0, device)
    for _ in range(20):
        (x**4 - 2 * x**2).backward(create_graph=True)
        first = x.grad
        x.grad = None
        first.backward()
        second = x.grad
        x = leaf(x.item() - first.item() / second.item(), device)
        if abs(first.item()) < 1e-13:
            break
    assert x.item() == pytest.approx(1.0, abs=1e-12)
    assert second.item() == pytest.approx(8.0, rel=1e-9)


def test_log_sigmoid_derivative(device):
    """:math:`\\frac{d}{dx} \\ln \\sigma(x) = 1 - \\sigma(x)` at :math:`x = 0.7`, against ``math``."""
    x = leaf(0.7, device)
    mg.log(mg.sigmoid(x)).backward()
    assert x.grad.item() == pytest.approx(1 - 1 / (1 + math.exp(-0.7)), rel=1e-12)

"""Elementwise operations against float64 central differences (``mg.gradcheck``): binary ops under every
broadcast pairing, Python-number operands on either side, and unary functions.

For each op :math:`f` the check forms :math:`s = \\langle R, f(x) \\rangle` with a
fixed random :math:`R` and asserts, element by element,

.. math::

    \\frac{\\partial s}{\\partial x_i} \\approx
    \\frac{s(x + \\varepsilon e_i) - s(x - \\varepsilon e_i)}{2\\varepsilon}.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ops_gradcheck_helpers import SHAPES, away_from_zero, binary_values, leaf

import minigrad as mg


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


SHAPE_PAIRS = [(a, b) for a, b in itertools.product(SHAPES, SHAPES) if _broadcastable(a, b)]
PAIR_IDS = [f"{a}-{b}" for a, b in SHAPE_PAIRS]


# ----------------------------------------------------------------- binary ops, every broadcast pairing
BINARY = {
    "add": (lambda a, b: a + b, "standard"),
    "sub": (lambda a, b: a - b, "standard"),
    "mul": (lambda a, b: a * b, "standard"),
    "div": (lambda a, b: a / b, "nonzero_b"),
    "pow": (lambda a, b: a**b, "positive_a"),
    "maximum": (mg.maximum, "untied"),
    "minimum": (mg.minimum, "untied"),
}


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize(("sa", "sb"), SHAPE_PAIRS, ids=PAIR_IDS)
def test_binary_op_broadcasting(device, rng, name, sa, sb):
    """Broadcast binary ops:
    :math:`\\bar a = \\operatorname{sum\\_to}(\\bar y\\, \\partial y/\\partial a, \\operatorname{shape}(a))`.

    With :math:`\\partial(a+b) = (1, 1)`, :math:`\\partial(a-b) = (1, -1)`, :math:`\\partial(ab) = (b, a)`,
    :math:`\\partial(a/b) = (1/b, -a/b^2)`, :math:`\\partial(a^b) = (b a^{b-1}, a^b \\ln a)`,
    :math:`\\partial \\max(a, b) = ([a > b], [b > a])`, :math:`\\partial \\min(a, b) = ([a < b], [b < a])`.
    """
    fn, kind = BINARY[name]
    a, b = binary_values(kind, rng, sa, sb)
    assert mg.gradcheck(fn, leaf(a, device), leaf(b, device))


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("which", [0, 1])
def test_binary_op_one_constant_operand(device, rng, name, which):
    """Only one operand requires a gradient: :math:`\\bar a` is still right and the constant gets none."""
    fn, kind = BINARY[name]
    a, b = binary_values(kind, rng, (3, 1), (2, 3, 4))
    ta, tb = leaf(a, device, which == 0), leaf(b, device, which == 1)
    assert mg.gradcheck(fn, ta, tb)
    fn(ta, tb).sum().backward()
    assert (ta.grad is None) == (which == 1) and (tb.grad is None) == (which == 0)


SCALAR_FORMS = {
    "x + 2": (lambda x: x + 2.0, "any"),
    "2 + x": (lambda x: 2.0 + x, "any"),
    "x - 2": (lambda x: x - 2.0, "any"),
    "2 - x": (lambda x: 2.0 - x, "any"),
    "x * 2": (lambda x: x * 2.0, "any"),
    "2 * x": (lambda x: 2.0 * x, "any"),
    "x / 2": (lambda x: x / 2.0, "any"),
    "2 / x": (lambda x: 2.0 / x, "nonzero"),
    "x ** 2": (lambda x: x**2, "any"),
    "x ** 3.0": (lambda x: x**3.0, "any"),
    "x ** -1": (lambda x: x**-1, "nonzero"),
    "x ** 0.5": (lambda x: x**0.5, "positive"),
    "x ** -1.5": (lambda x: x**-1.5, "positive"),
    "2 ** x": (lambda x: 2.0**x, "any"),
    "0.5 ** x": (lambda x: 0.5**x, "any"),
    "-x": (lambda x: -x, "any"),
    "+x": (lambda x: +x * 1.0, "any"),
}


@pytest.mark.parametrize("form", list(SCALAR_FORMS))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_scalar_and_reflected_forms(device, rng, form, shape):
    """Python-number operands on either side: :math:`\\partial(c - x) = -1`, :math:`\\partial(c/x) = -c/x^2`,
    :math:`\\partial(x^c) = c x^{c-1}`, :math:`\\partial(c^x) = c^x \\ln c`, :math:`\\partial(-x) = -1`.
    """
    fn, domain = SCALAR_FORMS[form]
    values = {"any": rng.standard_normal(shape), "nonzero": away_from_zero(rng, shape, 0.5, 2.0),
              "positive": rng.uniform(0.5, 2.0, size=shape)}[domain]
    assert mg.gradcheck(fn, leaf(values, device))


# ----------------------------------------------------------------- unary elementwise
UNARY = {
    "exp": (mg.exp, "any"),
    "log": (mg.log, "positive"),
    "sqrt": (mg.sqrt, "positive"),
    "abs": (mg.abs, "nonzero"),
    "tanh": (mg.tanh, "any"),
    "sigmoid": (mg.sigmoid, "wide"),
    "relu": (mg.relu, "nonzero"),
    "neg": (mg.neg, "any"),
    "gelu": (mg.gelu, "wide"),
    "gelu_tanh": (lambda x: mg.gelu(x, approximate="tanh"), "wide"),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_unary_elementwise(device, rng, name, shape):
    """:math:`(e^x)' = e^x`, :math:`(\\ln x)' = 1/x`, :math:`(\\sqrt x)' = 1/(2\\sqrt x)`,
    :math:`|x|' = \\operatorname{sign} x`,
    :math:`\\tanh' = 1 - \\tanh^2`, :math:`\\sigma' = \\sigma(1-\\sigma)`, :math:`\\operatorname{relu}'(x) = [x > 0]`,
    :math:`\\operatorname{gelu}' = \\Phi + x \\varphi` (and its tanh form).
    """
    fn, domain = UNARY[name]
    values = {"any": rng.standard_normal(shape), "positive": rng.uniform(0.2, 3.0, size=shape),
              "nonzero": away_from_zero(rng, shape), "wide": rng.uniform(-8.0, 8.0, size=shape)}[domain]
    assert mg.gradcheck(fn, leaf(values, device))

"""Reductions (sum, mean, max), matmul and linear against float64 central differences (``mg.gradcheck``).

For each op :math:`f` the check forms :math:`s = \\langle R, f(x) \\rangle` with a
fixed random :math:`R` and asserts, element by element,

.. math::

    \\frac{\\partial s}{\\partial x_i} \\approx
    \\frac{s(x + \\varepsilon e_i) - s(x - \\varepsilon e_i)}{2\\varepsilon}.
"""

from __future__ import annotations

import numpy as np
import pytest
from ops_gradcheck_helpers import SHAPES, distinct, leaf

import minigrad as mg


# ----------------------------------------------------------------- reductions
def _axis_cases(shape: tuple[int, ...]) -> list:
    if not shape:
        return [None]
    cases = [None, 0, -1]
    if len(shape) >= 2:
        cases.append((0, len(shape) - 1))
    return cases


REDUCTION_CASES = [
    (shape, axis, keepdims)
    for shape in SHAPES
    for axis in _axis_cases(shape)
    for keepdims in (False, True)
]


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize(("shape", "axis", "keepdims"), REDUCTION_CASES, ids=str)
def test_reductions(device, rng, name, shape, axis, keepdims):
    """:math:`\\partial \\sum_i x_i / \\partial x_j = 1`, :math:`\\partial \\bar{x} / \\partial x_j = 1/n`,
    :math:`\\partial \\max_i x_i / \\partial x_j = [x_j = \\max]`, the same for min (values are distinct: no ties).
    """
    fn = {"sum": mg.sum, "mean": mg.mean, "max": mg.max, "min": mg.min}[name]
    x = leaf(distinct(rng, shape), device)
    assert mg.gradcheck(lambda t: fn(t, axis=axis, keepdims=keepdims), x)
    method = getattr(x, name)(axis=axis, keepdims=keepdims)
    numpy_name = {"max": "amax", "min": "amin"}.get(name, name)
    assert method.shape == getattr(np, numpy_name)(x.numpy(), axis=axis, keepdims=keepdims).shape


# ----------------------------------------------------------------- matmul and linear
MATMUL_SHAPES = [
    ((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)), ((3, 4), (4, 5)), ((1, 4), (4, 1)),
    ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((4,), (2, 4, 5)), ((2, 3, 4), (4,)),
    ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((1, 3, 4), (2, 4, 2)),
]


@pytest.mark.parametrize(("sa", "sb"), MATMUL_SHAPES, ids=str)
def test_matmul(device, rng, sa, sb):
    """:math:`Y = AB`: :math:`\\bar A = \\bar Y B^\\top`, :math:`\\bar B = A^\\top \\bar Y` (1-D operands as
    vectors, batch dims summed)."""
    a, b = leaf(rng.standard_normal(sa), device), leaf(rng.standard_normal(sb), device)
    assert mg.gradcheck(lambda p, q: p @ q, a, b)
    assert mg.gradcheck(mg.matmul, a, b)


@pytest.mark.parametrize("x_shape", [(3,), (5, 3), (2, 4, 3)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear(device, rng, x_shape, bias):
    """:math:`Y = XW^\\top + b`: :math:`\\bar X = \\bar Y W`, :math:`\\bar W = \\bar Y^\\top X`,
    :math:`\\bar b = \\sum_{rows} \\bar Y`."""
    x, w = leaf(rng.standard_normal(x_shape), device), leaf(rng.standard_normal((2, 3)), device)
    if bias:
        assert mg.gradcheck(mg.linear, x, w, leaf(rng.standard_normal(2), device))
    else:
        assert mg.gradcheck(mg.linear, x, w)

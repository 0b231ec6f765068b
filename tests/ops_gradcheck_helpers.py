"""Shared by the tests/test_ops_gradcheck_*.py files: float64 leaves and values away from kinks and domain edges.

For each op :math:`f` the check forms :math:`s = \\langle R, f(x) \\rangle` with a
fixed random :math:`R` and asserts, element by element,

.. math::

    \\frac{\\partial s}{\\partial x_i} \\approx
    \\frac{s(x + \\varepsilon e_i) - s(x - \\varepsilon e_i)}{2\\varepsilon}.

Values are drawn away from kinks (``abs``/``relu`` at 0, ties of ``max`` and
``maximum``) and from the edges of domains (``log``, ``sqrt``, division, a
tensor exponent), where central differences are not the derivative.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg

SHAPES = [(), (4,), (3, 4), (1, 4), (3, 1), (2, 3, 4)]


def leaf(array: np.ndarray, device: str, requires_grad: bool = True) -> mg.Tensor:
    """A float64 leaf on ``device``."""
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad, device=device)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], low: float = 0.3, high: float = 2.0) -> np.ndarray:
    """Values with :math:`|v| \\in [low, high]` and a random sign."""
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A random permutation of well separated values (no ties, gaps of 0.1 >> eps)."""
    n = int(np.prod(shape, dtype=int))
    return (rng.permutation(n) * 0.1 - 0.05 * n).reshape(shape)


def untied_pair(rng: np.random.Generator, sa: tuple[int, ...], sb: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` whose broadcast elements differ by at least 0.05 everywhere."""
    a = rng.standard_normal(sa)
    b = rng.standard_normal(sb)
    while np.min(np.abs(np.subtract(a, b))) < 0.05:
        b = rng.standard_normal(sb)
    return a, b


def binary_values(kind: str, rng: np.random.Generator, sa: tuple, sb: tuple) -> tuple[np.ndarray, np.ndarray]:
    if kind == "nonzero_b":
        return rng.standard_normal(sa), away_from_zero(rng, sb, 0.5, 2.0)
    if kind == "positive_a":
        return rng.uniform(0.5, 2.0, size=sa), rng.uniform(-1.5, 1.5, size=sb)
    if kind == "untied":
        return untied_pair(rng, sa, sb)
    return rng.standard_normal(sa), rng.standard_normal(sb)

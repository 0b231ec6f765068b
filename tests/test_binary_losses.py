"""``binary_cross_entropy`` and ``binary_cross_entropy_with_logits``: values and gradients (of the predictions and
the targets) against PyTorch for every reduction, weight and shape, central differences, and the edges
(:math:`p \\in \\{0, 1\\}`, huge logits).

.. math::

    \\ell = -w \\left(t \\log p + (1 - t) \\log(1 - p)\\right), \\qquad
    \\bar x = \\bar\\ell\\, w \\left((1 + (r - 1) t)\\, \\sigma(x) - r t\\right) \\text{ for } p = \\sigma(x).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from ops_gradcheck_helpers import SHAPES, leaf
from torch_helpers import compare

import minigrad as mg

REDUCTIONS = ["mean", "sum", "none"]


def _weight_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts to ``shape`` without being it: the last axis only."""
    return shape[-1:]


@pytest.mark.torch
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize(("reduction", "weighted"), list(itertools.product(REDUCTIONS, [False, True])), ids=str)
def test_binary_cross_entropy_against_torch(device, rng, shape, reduction, weighted):
    """Values and the gradients of :math:`p` and :math:`t` equal ``torch.nn.functional.binary_cross_entropy``'s."""
    torch = pytest.importorskip("torch")
    weight = rng.uniform(0.5, 2.0, size=_weight_shape(shape)) if weighted else None
    t_weight = torch.tensor(weight) if weighted else None
    compare(device, lambda p, t: mg.binary_cross_entropy(p, t, weight=weight, reduction=reduction),
            lambda p, t: torch.nn.functional.binary_cross_entropy(p, t, weight=t_weight, reduction=reduction),
            rng.uniform(0.05, 0.95, size=shape), rng.random(shape), rng=rng)


@pytest.mark.torch
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize(("reduction", "weighted", "positive"),
                         list(itertools.product(REDUCTIONS, [False, True], [False, True])), ids=str)
def test_binary_cross_entropy_with_logits_against_torch(device, rng, shape, reduction, weighted, positive):
    """Values and the gradients of :math:`x` and :math:`t` equal
    ``torch.nn.functional.binary_cross_entropy_with_logits``'s, with ``weight`` and ``pos_weight``."""
    torch = pytest.importorskip("torch")
    weight = rng.uniform(0.5, 2.0, size=_weight_shape(shape)) if weighted else None
    pos_weight = rng.uniform(0.5, 3.0, size=_weight_shape(shape)) if positive else None

    def ours(x, t):
        return mg.binary_cross_entropy_with_logits(x, t, weight=weight, reduction=reduction, pos_weight=pos_weight)

    def theirs(x, t):
        return torch.nn.functional.binary_cross_entropy_with_logits(
            x, t, weight=None if weight is None else torch.tensor(weight), reduction=reduction,
            pos_weight=None if pos_weight is None else torch.tensor(pos_weight))

    compare(device, ours, theirs, rng.standard_normal(shape) * 4, rng.random(shape), rng=rng)


@pytest.mark.torch
def test_certain_probabilities_follow_torch(device):
    """:math:`p = 0` or 1: each logarithm floored at :math:`-100` and :math:`p(1-p)` at :math:`10^{-12}` in the
    gradient, as PyTorch, without a warning (the target gradient there is infinite in both)."""
    torch = pytest.importorskip("torch")
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare(device, mg.binary_cross_entropy, torch.nn.functional.binary_cross_entropy, p, t, grads_for=[0])
        compare(device, lambda q, s: mg.binary_cross_entropy(q, s, reduction="sum"),
                lambda q, s: torch.nn.functional.binary_cross_entropy(q, s, reduction="sum"), p[[4]], t[[4]])


@pytest.mark.torch
def test_huge_logits_follow_torch_without_warnings(device):
    """:math:`|x| = 800` or the float64 maximum: finite, exact losses and gradients, no overflow warning."""
    torch = pytest.importorskip("torch")
    x = np.array([800.0, -800.0, 1e308, -1e308, 0.0])
    t = np.array([1.0, 1.0, 0.0, 0.5, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare(device, lambda a, b: mg.binary_cross_entropy_with_logits(a, b, reduction="none"),
                lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(a, b, reduction="none"), x, t)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_binary_losses_gradcheck(device, rng, shape):
    """Central differences for the predictions and the targets, with a weight and ``pos_weight``."""
    p, x = leaf(rng.uniform(0.1, 0.9, size=shape), device), leaf(rng.standard_normal(shape) * 2, device)
    t = leaf(rng.random(shape), device)
    weight = rng.uniform(0.5, 2.0, size=_weight_shape(shape))
    assert mg.gradcheck(lambda a, b: mg.binary_cross_entropy(a, b, weight=weight), p, t)
    assert mg.gradcheck(lambda a, b: mg.binary_cross_entropy_with_logits(
        a, b, weight=weight, pos_weight=2 * weight, reduction="none"), x, t)


def test_integer_targets_and_float32_predictions(device):
    """0/1 integer or boolean targets are read as numbers; float32 predictions keep float32 throughout."""
    x = mg.tensor(np.array([0.5, -1.0], dtype=np.float32), requires_grad=True, device=device)
    for targets in ([1, 0], np.array([True, False])):
        x.grad = None
        loss = mg.binary_cross_entropy_with_logits(x, targets) + mg.binary_cross_entropy(mg.sigmoid(x), targets)
        loss.backward()
        assert loss.dtype == np.float32 and x.grad.dtype == np.float32

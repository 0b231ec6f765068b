"""The softmax family and the losses (cross entropy, mean squared error) against float64 central
differences (``mg.gradcheck``).

For each op :math:`f` the check forms :math:`s = \\langle R, f(x) \\rangle` with a
fixed random :math:`R` and asserts, element by element,

.. math::

    \\frac{\\partial s}{\\partial x_i} \\approx
    \\frac{s(x + \\varepsilon e_i) - s(x - \\varepsilon e_i)}{2\\varepsilon}.
"""

from __future__ import annotations

import numpy as np
import pytest
from ops_gradcheck_helpers import leaf

import minigrad as mg


# ----------------------------------------------------------------- softmax family and losses
@pytest.mark.parametrize(("shape", "axis"), [((4,), -1), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((1, 4), -1)],
                         ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family(device, rng, shape, axis, name):
    """:math:`\\bar x = y \\odot (\\bar y - \\langle \\bar y, y \\rangle)` for softmax and
    :math:`\\bar x = \\bar y - e^{y} \\sum_j \\bar y_j` for log-softmax, along ``axis``.
    """
    fn = getattr(mg, name)
    assert mg.gradcheck(lambda t: fn(t, axis=axis), leaf(rng.standard_normal(shape) * 3, device))


@pytest.mark.parametrize("n", [1, 5])
def test_cross_entropy(device, rng, n):
    """:math:`L = -\\frac1N \\sum_n \\log\\operatorname{softmax}(X_n)_{t_n}`:
    :math:`\\bar X = (\\operatorname{softmax}(X) - \\operatorname{onehot}(t))/N`."""
    logits = leaf(rng.standard_normal((n, 4)) * 2, device)
    targets = np.array([0, 3, 3, 1, 0][:n])
    assert mg.gradcheck(lambda t: mg.cross_entropy(t, targets), logits)


def test_mse_loss(device, rng):
    """:math:`L = \\frac1n \\sum_i (p_i - t_i)^2`: :math:`\\bar p = 2(p - t)/n = -\\bar t`."""
    p, t = leaf(rng.standard_normal((3, 4)), device), leaf(rng.standard_normal((3, 4)), device)
    assert mg.gradcheck(mg.mse_loss, p, t)
    assert mg.gradcheck(lambda q: mg.mse_loss(q, t.numpy()), p)

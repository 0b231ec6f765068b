"""Shape operations against float64 central differences (``mg.gradcheck``): reshape, transpose, indexing,
concatenate, stack, broadcast_to, sum_to and astype.

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

# ----------------------------------------------------------------- shape operations
RESHAPES = [((3, 4), (4, 3)), ((3, 4), (2, 6)), ((3, 4), (-1,)), ((2, 3, 4), (6, 4)), ((), (1, 1)), ((4,), (2, 1, 2))]


@pytest.mark.parametrize(("shape", "new"), RESHAPES, ids=str)
def test_reshape(device, rng, shape, new):
    """Reshape moves values only: :math:`\\bar x = \\operatorname{reshape}(\\bar y, \\operatorname{shape}(x))`."""
    x = leaf(rng.standard_normal(shape), device)
    assert mg.gradcheck(lambda t: t.reshape(new), x)
    assert mg.gradcheck(lambda t: mg.reshape(t, new) * 2.0, x)


@pytest.mark.parametrize(("shape", "axes"), [((3, 4), None), ((2, 3, 4), None), ((2, 3, 4), (1, 2, 0)),
                                             ((2, 3, 4), (2, 0, 1)), ((2, 3, 4), (0, 2, 1)), ((4,), None)], ids=str)
def test_transpose(device, rng, shape, axes):
    """Transpose by permutation :math:`p`: :math:`\\bar x = \\operatorname{transpose}(\\bar y, p^{-1})`."""
    x = leaf(rng.standard_normal(shape), device)
    assert mg.gradcheck(lambda t: mg.transpose(t, axes), x)
    if axes is None:
        assert mg.gradcheck(lambda t: t.T, x)
    else:
        assert mg.gradcheck(lambda t: t.transpose(*axes), x)


GETITEM_CASES = {
    "int": (lambda t: t[1], (3, 4)),
    "slice": (lambda t: t[1:, ::2], (3, 4)),
    "negative step": (lambda t: t[::-1], (3, 4)),
    "ellipsis": (lambda t: t[..., 1], (2, 3, 4)),
    "new axis": (lambda t: t[None, :, 2], (3, 4)),
    "repeated ints": (lambda t: t[[0, 2, 0, 0]], (3, 4)),
    "repeated 2-D ints": (lambda t: t[np.array([[0, 1], [1, 1]])], (3, 4)),
    "repeated pairs": (lambda t: t[[0, 0, 2], [1, 1, 3]], (3, 4)),
    "int then repeated": (lambda t: t[:, [3, 3, 0]], (3, 4)),
    "bool mask": (lambda t: t[t.numpy() > 0], (3, 4)),
    "bool rows": (lambda t: t[np.array([True, False, True])], (3, 4)),
    "bool list": (lambda t: t[[False, True, True, False]], (4,)),
    "int tensor": (lambda t: t[mg.tensor(np.array([1, 1, 0]), device=t.device)], (2, 3, 4)),
}


@pytest.mark.parametrize("case", list(GETITEM_CASES))
def test_getitem(device, rng, case):
    """Indexing scatters back: :math:`\\bar x = 0;\\ \\bar x[\\text{index}] \\mathrel{+}= \\bar y`, repeated indices
    add up."""
    fn, shape = GETITEM_CASES[case]
    x = leaf(rng.standard_normal(shape), device)
    assert mg.gradcheck(fn, x)


def test_getitem_repeated_index_sums(device):
    """:math:`y = x[[0, 0, 0, 2]]` gives :math:`\\bar x_0 = 3`, :math:`\\bar x_2 = 1`, others 0 (summed scatter)."""
    x = leaf(np.arange(4.0), device)
    x[[0, 0, 0, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(device, rng, axis):
    """Concatenation splits the gradient: :math:`\\bar x_k = \\bar y[\\ldots, \\text{slice}_k]`."""
    base = [2, 3, 4]
    shapes = []
    for size in (1, 2, 3):
        shape = list(base)
        shape[axis] = size
        shapes.append(tuple(shape))
    xs = [leaf(rng.standard_normal(s), device) for s in shapes]
    assert mg.gradcheck(lambda *ts: mg.concatenate(ts, axis=axis), *xs)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(device, rng, axis):
    """Stacking along a new axis: :math:`\\bar x_k = \\bar y[\\ldots, k]` on that axis."""
    xs = [leaf(rng.standard_normal((3, 4)), device) for _ in range(3)]
    assert mg.gradcheck(lambda *ts: mg.stack(ts, axis=axis), *xs)


@pytest.mark.parametrize(("shape", "target"), [((4,), (3, 4)), ((3, 1), (2, 3, 4)), ((), (2, 3)), ((1, 4), (3, 4))],
                         ids=str)
def test_broadcast_to(device, rng, shape, target):
    """:math:`y = \\operatorname{broadcast\\_to}(x, s)`:
    :math:`\\bar x = \\operatorname{sum\\_to}(\\bar y, \\operatorname{shape}(x))`."""
    assert mg.gradcheck(lambda t: mg.broadcast_to(t, target), leaf(rng.standard_normal(shape), device))


@pytest.mark.parametrize("target", [(3, 4), (3, 1), (1, 4), (4,), (), (2, 1, 4), (2, 3, 4)], ids=str)
def test_sum_to(device, rng, target):
    """:math:`y = \\operatorname{sum\\_to}(x, s)`:
    :math:`\\bar x = \\operatorname{broadcast\\_to}(\\bar y, \\operatorname{shape}(x))`."""
    x = leaf(rng.standard_normal((2, 3, 4)), device)
    assert mg.gradcheck(lambda t: mg.sum_to(t, target), x)
    assert mg.sum_to(x, target).shape == target


def test_astype(device, rng):
    """A cast is the identity on values up to rounding:
    :math:`\\bar x = \\operatorname{cast}(\\bar y, \\operatorname{dtype}(x))`.

    Through float32 the function is rounded to about 6e-8, so the step and the tolerance are wider.
    """
    x = leaf(rng.standard_normal((3, 4)), device)
    assert mg.gradcheck(lambda t: (t.astype(np.float32) * 3.0).astype(np.float64), x, eps=1e-3, atol=1e-4, rtol=1e-3)
    assert mg.gradcheck(lambda t: mg.astype(t, np.float64) * t, x)

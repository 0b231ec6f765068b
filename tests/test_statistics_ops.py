"""``logsumexp``, ``var``, ``std`` and ``argmax``: gradients against central differences over every shape, axis
and ``keepdims``, values and gradients against PyTorch, and the edges (infinities, no spread, ties, NaN).

.. math::

    \\partial_{x_i} \\ln \\textstyle\\sum_j e^{x_j} = e^{x_i - y}, \\qquad
    \\partial_{x_i} \\operatorname{var} = \\frac{2 (x_i - \\mu)}{N - c}, \\qquad
    \\partial_{x_i} \\operatorname{std} = \\frac{x_i - \\mu}{(N - c)\\, y}.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from ops_gradcheck_helpers import SHAPES, distinct, leaf
from torch_helpers import compare

import minigrad as mg


def _axis_cases(shape: tuple[int, ...]) -> list:
    cases = [None]
    if shape:
        cases += [0, -1]
    if len(shape) >= 2:
        cases.append((0, len(shape) - 1))
    return cases


CASES = [(shape, axis, keepdims) for shape in SHAPES for axis in _axis_cases(shape) for keepdims in (False, True)]


def _count(shape: tuple[int, ...], axis) -> int:
    axes = range(len(shape)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    return math.prod(shape[a] for a in axes)


def _torch_dims(ndim: int, axis):
    if axis is None:
        return tuple(range(ndim)) if ndim else 0
    return axis


@pytest.mark.parametrize(("shape", "axis", "keepdims"), CASES, ids=str)
def test_logsumexp_var_std_gradcheck(device, rng, shape, axis, keepdims):
    """:math:`\\bar x = \\bar y e^{x - y}`, :math:`\\bar y\\, 2(x - \\mu)/(N - c)` and its square-root form, for
    every axis choice; var and std with both corrections where :math:`N - c > 0`."""
    x = leaf(distinct(rng, shape) * 3, device)
    assert mg.gradcheck(lambda t: mg.logsumexp(t, axis=axis, keepdims=keepdims), x)
    assert mg.gradcheck(lambda t: t.logsumexp(axis=axis, keepdims=keepdims), x)
    for correction in (0, 1):
        if _count(shape, axis) - correction <= 0:
            continue
        assert mg.gradcheck(lambda t, c=correction: mg.var(t, axis=axis, correction=c, keepdims=keepdims), x)
        assert mg.gradcheck(lambda t, c=correction: t.std(axis=axis, correction=c, keepdims=keepdims), x)


@pytest.mark.torch
@pytest.mark.parametrize(("shape", "axis", "keepdims"), CASES, ids=str)
def test_logsumexp_var_std_against_torch(device, rng, shape, axis, keepdims):
    """Values and gradients equal ``torch.logsumexp``, ``torch.var`` and ``torch.std`` (``correction`` 0 and 1)."""
    torch = pytest.importorskip("torch")
    values = rng.standard_normal(shape) * 4
    dims = _torch_dims(len(shape), axis)
    compare(device, lambda t: mg.logsumexp(t, axis=axis, keepdims=keepdims),
            lambda t: torch.logsumexp(t, dim=dims, keepdim=keepdims), values, rng=rng)
    for correction in (0, 1):
        if _count(shape, axis) - correction <= 0:
            continue
        compare(device, lambda t, c=correction: mg.var(t, axis=axis, correction=c, keepdims=keepdims),
                lambda t, c=correction: torch.var(t, dim=dims, correction=c, keepdim=keepdims), values, rng=rng)
        compare(device, lambda t, c=correction: mg.std(t, axis=axis, correction=c, keepdims=keepdims),
                lambda t, c=correction: torch.std(t, dim=dims, correction=c, keepdim=keepdims), values, rng=rng)


@pytest.mark.torch
def test_logsumexp_extremes_follow_torch_without_warnings(device):
    """Huge logits do not overflow; an infinite maximum is the result (:math:`+\\infty`, :math:`-\\infty` for a row
    of :math:`-\\infty`), NaN propagates, and the gradients (NaN where :math:`x = y = \\pm\\infty`) are torch's;
    no floating-point warning."""
    torch = pytest.importorskip("torch")
    rows = np.array([[1000.0, 1000.0, -1000.0], [-np.inf, -np.inf, -np.inf], [np.inf, 1.0, 2000.0],
                     [np.nan, 1.0, 2.0], [-1e308, 0.0, 1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare(device, lambda t: mg.logsumexp(t, axis=1), lambda t: torch.logsumexp(t, dim=1), rows)


def test_logsumexp_of_nothing_is_minus_infinity(device):
    """Over an empty axis the sum of exponentials is 0: :math:`\\ln 0 = -\\infty`, as ``torch.logsumexp``."""
    assert mg.logsumexp(mg.tensor(np.ones((2, 0)), device=device), axis=1).tolist() == [-np.inf, -np.inf]


@pytest.mark.torch
def test_std_without_spread_has_a_zero_gradient_as_torch(device):
    """Where every value of a slice is equal, :math:`y = 0` and the gradient is 0 (not :math:`0/0`)."""
    torch = pytest.importorskip("torch")
    x = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    compare(device, lambda t: mg.std(t, axis=1), lambda t: torch.std(t, dim=1), x)
    compare(device, lambda t: mg.std(t, axis=1, correction=0), lambda t: torch.std(t, dim=1, correction=0), x)


def test_float32_keeps_its_dtype(device):
    """float32 in, float32 out, gradients included."""
    x = mg.tensor(np.array([[0.5, 1.0], [2.0, 4.0]], dtype=np.float32), requires_grad=True, device=device)
    for result in (mg.logsumexp(x, axis=1), mg.var(x, axis=0), mg.std(x)):
        assert result.dtype == np.float32
        x.grad = None
        result.sum().backward()
        assert x.grad.dtype == np.float32


# ----------------------------------------------------------------- argmax
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)], ids=str)
def test_argmax_matches_numpy_with_ties_and_keeps_no_gradient(device, rng, shape):
    """The first index of the maximum, along an axis or flattened, with ``keepdims``; int64, no gradient."""
    values = rng.integers(0, 3, size=shape).astype(np.float64)  # many ties
    x = leaf(values, device)
    for axis in (None, 0, -1):
        for keepdims in (False, True):
            result = mg.argmax(x, axis=axis, keepdims=keepdims)
            assert result.dtype == np.int64 and not result.requires_grad
            np.testing.assert_array_equal(result.numpy(), np.argmax(values, axis=axis, keepdims=keepdims))
    assert x.argmax(axis=0).tolist() == np.argmax(values, axis=0).tolist()


@pytest.mark.torch
def test_argmax_against_torch_with_nan_and_ties(device):
    """A NaN counts as the largest (its first index); ties give the first index; ``keepdims`` as ``keepdim``."""
    torch = pytest.importorskip("torch")
    values = np.array([[1.0, 3.0, 3.0], [np.nan, 5.0, np.nan], [2.0, 2.0, 2.0]])
    x = mg.tensor(values, device=device)
    t = torch.tensor(values)
    for axis in (0, 1):
        for keepdims in (False, True):
            expected = torch.argmax(t, dim=axis, keepdim=keepdims).numpy()
            np.testing.assert_array_equal(mg.argmax(x, axis=axis, keepdims=keepdims).numpy(), expected)
    assert mg.argmax(x).item() == torch.argmax(t).item()
    assert mg.argmax(x, keepdims=True).shape == tuple(torch.argmax(t, keepdim=True).shape)


# ----------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(values=arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 5)),
                     elements=st.floats(-1e300, 1e300, allow_nan=False)),
       correction=st.sampled_from([0, 1]))
def test_reductions_agree_with_numpy_for_any_finite_values(values, correction):
    """For any finite values, however large: ``logsumexp`` is NumPy's ``logaddexp.reduce`` (no overflow),
    ``var`` and ``std`` are ``np.var``/``np.std`` with ``ddof = correction``, ``argmax`` is ``np.argmax``."""
    x = mg.tensor(values)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lse = mg.logsumexp(x, axis=1).numpy()
    # log(sum(exp(x - max))) + max, as torch computes it, rounds log(1 + tiny) to an absolute few ulps where NumPy's
    # logaddexp uses log1p: a result near 0 is exact to 1e-15 absolutely, not relatively.
    np.testing.assert_allclose(lse, np.logaddexp.reduce(values, axis=1), rtol=1e-12, atol=1e-15)
    scaled = values / 1e150  # keep the squares finite
    np.testing.assert_allclose(mg.var(mg.tensor(scaled), axis=1, correction=correction).numpy(),
                               np.var(scaled, axis=1, ddof=correction), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(mg.std(mg.tensor(scaled), axis=1, correction=correction).numpy(),
                               np.std(scaled, axis=1, ddof=correction), rtol=1e-9, atol=1e-300)
    np.testing.assert_array_equal(mg.argmax(x, axis=1).numpy(), np.argmax(values, axis=1))

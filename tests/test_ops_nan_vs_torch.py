"""Gradients at NaN (and at ties and infinities) of the selecting operations, against PyTorch 2.13.0.

``max`` and ``min`` send :math:`\\bar y` to the elements that give the result, shared equally; a slice holding a
NaN has a NaN result, given by its NaN elements. That is ``torch.max(x)`` / ``torch.min(x)`` for a full
reduction, and the same rule slice by slice along an axis. ``maximum``, ``relu`` and ``abs`` follow torch's
elementwise rules at NaN. Values and gradients must be equal, NaN for NaN, to the last bit or within 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

NAN, INF = np.nan, np.inf


def gradients(device, mg_fn, torch_fn, *arrays, seed=0):
    """Values and input gradients of ``mg_fn`` and ``torch_fn`` on ``arrays`` (float64), for the same upstream
    gradient; asserts that the values agree and returns ``(minigrad grads, torch grads)``."""
    mg_in = [mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True, device=device) for a in arrays]
    t_in = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out, t_out = mg_fn(*mg_in), torch_fn(*t_in)
    np.testing.assert_array_equal(out.numpy(), t_out.detach().numpy())
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(mg.tensor(upstream, device=device))
    t_out.backward(torch.tensor(upstream))
    return [x.grad.numpy() for x in mg_in], [t.grad.numpy() for t in t_in]


def assert_same_gradients(device, mg_fn, torch_fn, *arrays):
    ours, theirs = gradients(device, mg_fn, torch_fn, *arrays)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=f"gradient of input {i}")


def torch_slice_by_slice(name, axis, keepdims):
    """torch's full reduction ``t.max()`` (or ``min``) applied to each slice along ``axis``: the reference rule."""

    def reduce(t):
        axes = tuple(range(t.ndim)) if axis is None else tuple(a % t.ndim for a in np.atleast_1d(axis))
        kept = [a for a in range(t.ndim) if a not in axes]
        slices = t.permute(*kept, *axes).reshape(-1, int(np.prod([t.shape[a] for a in axes])))
        out = torch.stack([getattr(row, name)() for row in slices]).reshape([t.shape[a] for a in kept])
        return out.reshape([1 if a in axes else t.shape[a] for a in range(t.ndim)]) if keepdims else out

    return reduce


# ----------------------------------------------------------------- full reductions: torch.max(x) itself
FULL = [
    [1.0, NAN, 3.0, 0.5],  # one NaN: all of the gradient to it
    [1.0, NAN, 3.0, NAN],  # two NaNs: half each
    [NAN, NAN, NAN],
    [3.0, 1.0, 3.0, 3.0],  # a three-way tie: a third each
    [-INF, 2.0, INF, INF],
    [[NAN, 1.0], [2.0, NAN]],
]


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("values", FULL, ids=str)
def test_full_reduction_matches_torch(device, name, values):
    """``x.max()`` / ``x.min()``: :math:`\\bar x` equals ``torch.max(x)`` / ``torch.min(x)``'s, a one-hot at a
    single NaN, shared equally among several NaNs or tied elements (not NaN everywhere)."""
    assert_same_gradients(device, lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), values)


def test_the_nan_gets_the_gradient_not_the_others(device):
    """The issue's case in numbers: :math:`\\max(1, \\mathrm{NaN}, 3)` sends :math:`\\bar y = 1` to the NaN."""
    x = mg.tensor([1.0, NAN, 3.0], requires_grad=True, device=device)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])


# ----------------------------------------------------------------- along an axis
@pytest.mark.parametrize("name", ["max", "min"])
def test_one_nan_per_slice_matches_torch_max_along_dim(device, name):
    """Along ``axis``, a slice with one NaN sends its gradient to the NaN, as ``torch.max(x, dim)`` does; the
    other slices are untouched by it."""
    x = np.array([[1.0, NAN, 3.0, 0.0], [1.0, 2.0, 5.0, 0.0], [NAN, -1.0, INF, 4.0]])
    assert_same_gradients(device, lambda t: getattr(t, name)(axis=1),
                          lambda t: getattr(torch, name)(t, dim=1).values, x)


@pytest.mark.parametrize("name", ["max", "min"])
def test_ties_along_an_axis_match_torch_amax(device, name):
    """Ties along ``axis`` (no NaN) share the gradient equally, as ``torch.amax`` / ``torch.amin``."""
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [-1.0, -1.0, 0.0]])
    torch_fn = {"max": torch.amax, "min": torch.amin}[name]
    assert_same_gradients(device, lambda t: getattr(t, name)(axis=1), lambda t: torch_fn(t, dim=1), x)


SPECIAL = st.sampled_from([NAN, INF, -INF, 0.0, 1.0, 1.0, -2.0, 3.5])


@settings(max_examples=60, deadline=None)
@given(x=hnp.arrays(np.float64, (2, 3, 4), elements=SPECIAL), name=st.sampled_from(["max", "min"]),
       axis=st.sampled_from([None, 0, 1, -1, (0, 2), (1, 2)]), keepdims=st.booleans())
def test_any_slice_follows_torch_full_reduction_rule(x, name, axis, keepdims):
    """For any mix of NaNs, infinities and ties, ``x.max(axis)`` / ``x.min(axis)`` give each slice the gradient
    that ``torch.max`` / ``torch.min`` of that slice alone gives it."""
    assert_same_gradients("cpu", lambda t: getattr(t, name)(axis=axis, keepdims=keepdims),
                          torch_slice_by_slice(name, axis, keepdims), x)


# ----------------------------------------------------------------- elementwise: maximum, relu, abs
def test_maximum_at_nan_matches_torch(device):
    """``maximum(a, b)`` with a NaN on either side gives both sides the whole :math:`\\bar y` (torch's rule);
    numbers keep :math:`[a > b]`, ties :math:`\\tfrac12`."""
    a = np.array([NAN, 1.0, NAN, 2.0, 2.0, -INF, 0.0])
    b = np.array([1.0, NAN, NAN, 2.0, 1.0, -INF, 3.0])
    assert_same_gradients(device, mg.maximum, torch.maximum, a, b)


@pytest.mark.parametrize(("mg_fn", "torch_fn"), [(mg.relu, torch.relu), (mg.abs, torch.abs)], ids=["relu", "abs"])
def test_relu_and_abs_at_nan_match_torch(device, mg_fn, torch_fn):
    """At a NaN, ``relu`` passes :math:`\\bar y` through and ``abs`` gives 0 (torch's ``sgn(nan) = 0``);
    elsewhere, including 0 and the infinities, nothing changes."""
    x = np.array([[NAN, -1.0, 0.0, 2.0], [-0.0, INF, -INF, NAN]])
    assert_same_gradients(device, mg_fn, torch_fn, x)

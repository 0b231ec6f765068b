"""Comparisons, ``where``, ``clip`` and ``minimum``: values, gradients (central differences in every broadcast
pairing, and PyTorch), and the absence of a gradient for comparisons.

``where`` and ``clip`` route :math:`\\bar y` to the operand each value came from:
:math:`\\bar a = \\operatorname{sum\\_to}([c]\\, \\bar y)`,
:math:`\\bar b = \\operatorname{sum\\_to}([\\lnot c]\\, \\bar y)`;
:math:`\\bar x = [l \\le x \\le h]\\, \\bar y`, :math:`\\bar l = [x < l]\\, \\bar y`,
:math:`\\bar h = [x > h]\\, \\bar y`.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from ops_gradcheck_helpers import SHAPES, leaf, untied_pair
from torch_helpers import broadcast_pairs, compare

import minigrad as mg

SHAPE_PAIRS = broadcast_pairs(SHAPES)
PAIR_IDS = [f"{a}-{b}" for a, b in SHAPE_PAIRS]

COMPARISONS = {
    "==": (operator.eq, mg.equal, np.equal),
    "!=": (operator.ne, mg.not_equal, np.not_equal),
    "<": (operator.lt, mg.less, np.less),
    "<=": (operator.le, mg.less_equal, np.less_equal),
    ">": (operator.gt, mg.greater, np.greater),
    ">=": (operator.ge, mg.greater_equal, np.greater_equal),
}


# ----------------------------------------------------------------- comparisons
@pytest.mark.parametrize("name", list(COMPARISONS))
@pytest.mark.parametrize(("sa", "sb"), SHAPE_PAIRS, ids=PAIR_IDS)
def test_comparison_is_elementwise_boolean_and_records_nothing(device, rng, name, sa, sb):
    """``a op b`` equals NumPy's broadcast comparison (ties included), is boolean, and has no gradient even
    when both operands require one."""
    operator_fn, function, numpy_fn = COMPARISONS[name]
    a_np = rng.integers(0, 3, size=sa).astype(np.float64)  # small integers: many ties
    b_np = rng.integers(0, 3, size=sb).astype(np.float64)
    a, b = leaf(a_np, device), leaf(b_np, device)
    for result in (operator_fn(a, b), function(a, b)):
        assert result.dtype == np.bool_
        assert not result.requires_grad and result.creator is None
        np.testing.assert_array_equal(result.numpy(), numpy_fn(a_np, b_np))


@pytest.mark.parametrize("name", list(COMPARISONS))
def test_comparison_with_numbers_and_arrays_on_either_side(device, name):
    """A Python number, a NumPy scalar or an array on the left defers to the tensor: ``2 < x`` is ``x > 2``."""
    operator_fn, _, numpy_fn = COMPARISONS[name]
    values = np.array([1.0, 2.0, np.nan, 3.0])
    x = mg.tensor(values, device=device)
    for other in (2.0, 2, np.float64(2.0)):
        np.testing.assert_array_equal(operator_fn(x, other).numpy(), numpy_fn(values, other))
        np.testing.assert_array_equal(operator_fn(other, x).numpy(), numpy_fn(other, values))
    if device == "cpu":
        np.testing.assert_array_equal(operator_fn(values[::-1].copy(), x).numpy(), numpy_fn(values[::-1], values))


def test_float32_tensor_compared_with_a_python_float_uses_float32(device):
    """As for arithmetic, the Python number takes the tensor's dtype: ``x == 0.1`` is true for float32 0.1."""
    x = mg.tensor(np.array([0.1], dtype=np.float32), device=device)
    assert (x == 0.1).tolist() == [True]


# ----------------------------------------------------------------- where
@pytest.mark.parametrize(("sa", "sb"), SHAPE_PAIRS, ids=PAIR_IDS)
def test_where_gradcheck_in_every_broadcast_pairing(device, rng, sa, sb):
    """:math:`\\bar a = \\operatorname{sum\\_to}([c]\\bar y)`,
    :math:`\\bar b = \\operatorname{sum\\_to}([\\lnot c]\\bar y)` for a condition of the broadcast shape and for one
    that broadcasts itself."""
    a, b = leaf(rng.standard_normal(sa), device), leaf(rng.standard_normal(sb), device)
    full = np.broadcast_shapes(sa, sb)
    for condition in (rng.random(full) > 0.5, rng.random(full[-1:]) > 0.5):
        assert mg.gradcheck(lambda p, q, c=condition: mg.where(c, p, q), a, b)


@pytest.mark.torch
@pytest.mark.parametrize(("sa", "sb"), SHAPE_PAIRS, ids=PAIR_IDS)
def test_where_against_torch(device, rng, sa, sb):
    """Values and both gradients equal ``torch.where`` for every broadcast pairing."""
    torch = pytest.importorskip("torch")
    condition = rng.random(np.broadcast_shapes(sa, sb)) > 0.4
    compare(device, lambda p, q: mg.where(mg.tensor(condition, device=device), p, q),
            lambda p, q: torch.where(torch.tensor(condition), p, q),
            rng.standard_normal(sa), rng.standard_normal(sb), rng=rng)


def test_where_gives_zero_not_nan_for_an_infinite_gradient_on_the_side_not_taken(device):
    """:math:`\\bar y = \\infty` where :math:`b` was taken gives :math:`\\bar a = 0` there (a mask product would
    give :math:`0 \\cdot \\infty = ` NaN)."""
    a = leaf([1.0, 2.0], device)
    b = leaf([3.0, 4.0], device)
    mg.where(mg.tensor([True, False], device=device), a, b).backward(np.array([1.0, np.inf]))
    assert a.grad.tolist() == [1.0, 0.0]
    assert b.grad.tolist() == [0.0, np.inf]


def test_where_with_numbers_keeps_the_tensor_dtype(device):
    """``where(c, x, 0.0)`` of float32 ``x`` is float32; numbers on both sides take the condition's device."""
    x = mg.tensor(np.array([1.0, -1.0], dtype=np.float32), device=device)
    assert mg.where(x > 0, x, 0.0).dtype == np.float32
    both = mg.where(x > 0, 1.0, -1.0)
    assert both.tolist() == [1.0, -1.0] and both.device == x.device


# ----------------------------------------------------------------- clip
@pytest.mark.parametrize(("sa", "sb"), SHAPE_PAIRS, ids=PAIR_IDS)
def test_clip_gradcheck_with_tensor_bounds_in_every_broadcast_pairing(device, rng, sa, sb):
    """:math:`\\bar x = [l \\le x \\le h]\\bar y`, :math:`\\bar l = [x < l]\\bar y`, :math:`\\bar h = [x > h]\\bar y`,
    with the bounds broadcasting against :math:`x` (values kept 0.1 away from the bounds: no kinks)."""
    x_np = rng.choice([-1.0, 1.0], size=sa) * rng.uniform(0.2, 2.0, size=sa)
    low, high = leaf(np.full(sb, -0.5) + rng.uniform(-0.05, 0.05, size=sb), device), leaf(np.full(sb, 0.8), device)
    x = leaf(np.where(np.abs(x_np + 0.5) < 0.1, x_np + 0.3, x_np), device)
    assert mg.gradcheck(lambda t, lo, hi: mg.clip(t, lo, hi), x, low, high)
    assert mg.gradcheck(lambda t, lo: mg.clip(t, min=lo), x, low)
    assert mg.gradcheck(lambda t, hi: t.clip(max=hi), x, high)


@pytest.mark.torch
@pytest.mark.parametrize(("sa", "sb"), SHAPE_PAIRS, ids=PAIR_IDS)
def test_clip_against_torch(device, rng, sa, sb):
    """Values and gradients of :math:`x`, :math:`l`, :math:`h` equal ``torch.clamp``'s, bounds broadcasting."""
    torch = pytest.importorskip("torch")
    x, low, high = rng.standard_normal(sa), rng.standard_normal(sb) - 0.5, rng.standard_normal(sb) + 0.5
    compare(device, mg.clip, torch.clamp, x, low, high, rng=rng)


@pytest.mark.torch
def test_clip_edge_cases_follow_torch(device):
    """Ties at a bound (:math:`\\bar x` passes), :math:`l > h` (:math:`y = h`, only :math:`h` gets
    :math:`\\bar y`), a NaN :math:`x` (NaN value, 0 gradient), one bound only, scalar bounds."""
    torch = pytest.importorskip("torch")
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, np.nan])
    low = np.array([-1.0, 1.0, 0.0, 0.0, 3.0, 0.0])
    high = np.array([1.0, 0.5, 1.0, 1.0, 2.0, 1.0])
    compare(device, mg.clip, torch.clamp, x, low, high)
    compare(device, lambda t, lo: mg.clip(t, min=lo), lambda t, lo: torch.clamp(t, min=lo), x, low)
    compare(device, lambda t, hi: mg.clip(t, max=hi), lambda t, hi: torch.clamp(t, max=hi), x, high)
    compare(device, lambda t: mg.clip(t, -0.5, 1.0), lambda t: torch.clamp(t, -0.5, 1.0), x)
    compare(device, lambda t: mg.clip(t, 0.0), lambda t: torch.clamp(t, 0.0), x)


# ----------------------------------------------------------------- minimum
@pytest.mark.torch
@pytest.mark.parametrize(("sa", "sb"), SHAPE_PAIRS, ids=PAIR_IDS)
def test_minimum_against_torch(device, rng, sa, sb):
    """``minimum`` values and gradients equal ``torch.minimum``'s for every broadcast pairing."""
    torch = pytest.importorskip("torch")
    a, b = untied_pair(rng, sa, sb)
    compare(device, mg.minimum, torch.minimum, a, b, rng=rng)


@pytest.mark.torch
def test_minimum_ties_and_nans_follow_torch(device):
    """A tie gives each side :math:`\\bar y / 2`; a NaN on either side gives both the whole :math:`\\bar y`."""
    torch = pytest.importorskip("torch")
    a = np.array([1.0, 2.0, np.nan, 3.0, np.nan])
    b = np.array([1.0, 1.0, 0.0, np.nan, np.nan])
    compare(device, mg.minimum, torch.minimum, a, b)


# ----------------------------------------------------------------- properties
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=60, deadline=None)
@given(values=arrays(np.float64, st.integers(1, 6), elements=FLOATS), low=FLOATS, high=FLOATS)
def test_comparisons_and_clip_agree_with_numpy_on_any_values(values, low, high):
    """For any values (NaN and infinities included): the six comparisons are NumPy's, ``clip`` is
    :math:`\\min(\\max(x, l), h)` as ``np.minimum(np.maximum(x, l), h)``, and ``where(x > l, x, l)`` picks as
    ``np.where``; the selected gradient of ``where`` and ``clip`` is 0 or 1 per element."""
    x = mg.tensor(values, requires_grad=True)
    for name, (operator_fn, _, numpy_fn) in COMPARISONS.items():
        np.testing.assert_array_equal(operator_fn(x, low).numpy(), numpy_fn(values, low), err_msg=name)
    clipped = mg.clip(x, low, high)
    np.testing.assert_array_equal(clipped.numpy(), np.minimum(np.maximum(values, low), high))
    chosen = mg.where(x > low, x, low)
    np.testing.assert_array_equal(chosen.numpy(), np.where(values > low, values, low))
    clipped.backward(np.ones(values.shape))
    chosen.backward(np.ones(values.shape))
    assert set(np.unique(x.grad.numpy())) <= {0.0, 1.0, 2.0}

"""Gradient accumulation as PyTorch does it: the first gradient into a registered buffer, later ones in place.

:func:`minigrad.autograd.set_grad_buffer` registers the array that
``backward`` writes a leaf's first gradient into (an optimizer with flat
gradient buffers registers a view of its buffer); later gradients are added in
place into the array held, except with ``create_graph=True``, which keeps a
differentiable gradient Tensor added out of place. The values are those of
out-of-place accumulation, to the last bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_helpers import assert_same_bits as assert_bits

import minigrad as mg
from minigrad.autograd import set_grad_buffer
from minigrad.sparse import RowSparseGrad

torch = pytest.importorskip("torch")


def assert_same(pair):
    """The two arrays of ``pair`` hold the same bits."""
    assert_bits(np.asarray(pair[0]), np.asarray(pair[1]), "gradient")


def leaf(values, dtype=np.float32):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_first_gradient_is_written_into_the_registered_buffer():
    x = leaf([1.0, -2.0, 3.0])
    buffer = mg.Tensor(np.full(3, 7.0, np.float32))
    set_grad_buffer(x, buffer)
    (x * x).sum().backward()
    assert x.grad is buffer
    assert_same((buffer.data, np.array([2.0, -4.0, 6.0], np.float32)))


def test_the_buffer_can_be_a_view_of_a_flat_array():
    flat = np.zeros(10, np.float64)
    x, y = leaf([[1.0, 2.0], [3.0, 4.0]], np.float64), leaf([5.0, 6.0], np.float64)
    set_grad_buffer(x, mg.Tensor(flat[:4].reshape(2, 2)))
    set_grad_buffer(y, mg.Tensor(flat[4:6]))
    ((x * 3.0).sum() + (y * y).sum()).backward()
    assert_same((flat, np.array([3, 3, 3, 3, 10, 12, 0, 0, 0, 0], np.float64)))
    assert x.grad.data.base is flat and y.grad.data.base is flat


def test_later_gradients_are_added_in_place():
    x = leaf([1.0, 2.0])
    buffer = mg.Tensor(np.zeros(2, np.float32))
    set_grad_buffer(x, buffer)
    (x * x).sum().backward()
    held = x.grad.data
    (x * 3.0).sum().backward()
    assert x.grad is buffer and x.grad.data is held
    assert_same((held, np.array([5.0, 7.0], np.float32)))


def test_a_gradient_without_buffer_is_also_added_in_place_as_in_pytorch():
    """A reference to ``x.grad`` taken after the first backward sees the second gradient, in minigrad as in
    torch (first-order backward adds in place)."""
    ours, theirs = leaf([1.5, -0.5]), torch.tensor([1.5, -0.5], requires_grad=True)
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    ours_first, theirs_first = ours.grad, theirs.grad
    (ours * 2.0).sum().backward()
    (theirs * 2.0).sum().backward()
    assert ours.grad is ours_first and theirs.grad is theirs_first
    np.testing.assert_array_equal(ours_first.numpy(), theirs_first.numpy())


def test_a_retained_gradient_of_a_non_leaf_is_added_out_of_place_as_in_pytorch():
    ours, theirs = leaf([1.0, 2.0]), torch.tensor([1.0, 2.0], requires_grad=True)
    held = []
    for t in (ours, theirs):
        y = t * 2.0
        y.retain_grad()
        loss = (y * y).sum()
        loss.backward(retain_graph=True)
        held.append((y, y.grad, y.grad.numpy().copy()))
        loss.backward()
    for y, first, values in held:
        assert y.grad is not first
        np.testing.assert_array_equal(first.numpy(), values)
    np.testing.assert_array_equal(held[0][0].grad.numpy(), held[1][0].grad.numpy())


def test_create_graph_ignores_the_buffer_and_adds_out_of_place():
    x = leaf([1.0, 2.0], np.float64)
    buffer = mg.Tensor(np.zeros(2))
    set_grad_buffer(x, buffer)
    (x * x * x).sum().backward(create_graph=True)
    first = x.grad
    assert first is not buffer and first.requires_grad
    (x * x).sum().backward(create_graph=True)
    assert x.grad is not first
    assert_same((first.data, np.array([3.0, 12.0])))
    assert_same((x.grad.data, np.array([5.0, 16.0])))
    assert_same((buffer.data, np.zeros(2)))


def test_a_row_sparse_gradient_ignores_the_buffer():
    table = mg.tensor(np.ones((4, 2), np.float32), requires_grad=True)
    set_grad_buffer(table, mg.Tensor(np.zeros((4, 2), np.float32)))
    mg.embedding(table, np.array([1, 3]), sparse=True).sum().backward()
    assert isinstance(table.grad, RowSparseGrad)


def test_a_buffer_that_no_longer_fits_is_passed_over():
    """The leaf changed dtype since the buffer was registered: the gradient is a new array of the new dtype."""
    x = leaf([1.0, 2.0])
    buffer = mg.Tensor(np.zeros(2, np.float32))
    set_grad_buffer(x, buffer)
    x.data = x.data.astype(np.float64)
    (x * x).sum().backward()
    assert x.grad is not buffer and x.grad.dtype == np.float64
    assert_same((buffer.data, np.zeros(2, np.float32)))


def test_none_removes_the_registration():
    x = leaf([1.0])
    buffer = mg.Tensor(np.zeros(1, np.float32))
    set_grad_buffer(x, buffer)
    set_grad_buffer(x, None)
    (x * 2.0).sum().backward()
    assert x.grad is not buffer and x.grad_buffer is None


def test_in_place_accumulation_leaves_gradients_flowing_elsewhere_intact():
    """``a``'s first gradient is the same array that flows on to ``h``: adding ``a``'s second gradient in place
    would change ``b``'s gradient. Checked against torch, whatever order the graph is walked in."""
    values = {"a": np.array([0.3, -1.2]), "b": np.array([0.7, 0.1])}
    ours = {name: mg.tensor(v, requires_grad=True) for name, v in values.items()}
    theirs = {name: torch.tensor(v, requires_grad=True) for name, v in values.items()}
    for t, exp in ((ours, mg.exp), (theirs, torch.exp)):
        h = exp(t["b"])
        loss = ((t["a"] + h) * 3.0).sum() + (t["a"] * t["a"] * 2.0).sum() + (h * h).sum()
        loss.backward()
    for name in values:
        np.testing.assert_allclose(ours[name].grad.numpy(), theirs[name].grad.numpy(), rtol=1e-14, atol=0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-20, 20, width=32), min_size=1, max_size=6), st.integers(1, 4))
def test_accumulation_into_a_buffer_has_the_bits_of_out_of_place_sums(values, calls):
    """``calls`` backward calls into a registered buffer give, bit for bit, the sum of the separate gradients
    in call order (each call gives ``x`` one gradient, so the sum's order is the calls')."""
    x = leaf(values)
    set_grad_buffer(x, mg.Tensor(np.zeros(len(values), np.float32)))
    expected = None
    for k in range(calls):
        (mg.exp(x) * (k + 0.5)).sum().backward()
        single = leaf(values)
        (mg.exp(single) * (k + 0.5)).sum().backward()
        expected = single.grad.data if expected is None else expected + single.grad.data
    assert x.grad is x.grad_buffer
    assert_same((x.grad.data, expected))

"""The backward pass: accumulation, no_grad and the gradients' dtype.

Reverse mode accumulates, for every leaf :math:`x`,
:math:`\\bar x \\mathrel{+}= \\sum_{c \\in \\text{consumers}(x)} \\bar c\\, \\partial c / \\partial x`.

Deep graphs, errors and memory are in tests/test_backward_graphs.py; second and higher
derivatives in tests/test_backward_derivatives.py.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from backward_helpers import leaf

import minigrad as mg


# ----------------------------------------------------------------- accumulation
def test_backward_twice_through_retained_graph_accumulates(device):
    """:math:`s = \\sum x^2`: one pass gives :math:`\\bar x = 2x`, a second pass over the same graph :math:`4x`."""
    x = leaf([1.0, -2.0, 3.0], device)
    s = (x * x).sum()
    s.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0, 6.0])
    s.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, -8.0, 12.0])


def test_two_forward_backward_passes_accumulate(device):
    """Two fresh graphs of :math:`s = \\sum 3x` leave :math:`\\bar x = 3 + 3`."""
    x = leaf([1.0, 2.0], device)
    for _ in range(2):
        (3.0 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_scalar_leaf_accumulates(device):
    """0-d leaves accumulate too: :math:`\\frac{d}{dx}(x + x) = 2`, twice gives 4; :math:`\\frac{d}{dx} x^2 = 2x`."""
    x = leaf(1.5, device)
    (x + x).backward()
    (x + x).backward()
    assert x.grad.shape == () and x.grad.item() == 4.0
    x.grad = None
    (x * x).backward()
    assert x.grad.item() == 3.0


def test_setting_grad_to_none_resets(device):
    """After ``x.grad = None`` the next pass starts from 0: :math:`\\bar x = 2x` again, not :math:`4x`."""
    x = leaf([1.0, 2.0], device)
    (x * x).sum().backward()
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_shared_intermediate_gets_all_contributions(device):
    """A node with several consumers sums them: :math:`a = x + 1`, :math:`s = a \\cdot a \\cdot a` gives
    :math:`\\bar x = 3a^2`."""
    x = leaf([0.5, -2.0], device)
    a = x + 1.0
    (a * a * a).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * (x.numpy() + 1) ** 2)


def test_retain_grad_keeps_intermediate_gradient(device):
    """``retain_grad`` on :math:`a = 2x` in :math:`s = \\sum a^2` stores :math:`\\bar a = 2a` and still
    :math:`\\bar x = 4a`."""
    x = leaf([1.0, 3.0], device)
    a = (2.0 * x).retain_grad()
    (a * a).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [4.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 24.0])


def test_leaf_backward_copies_the_given_gradient(device):
    """``x.backward(g)`` on a leaf sets :math:`\\bar x = g` as a copy: later writes to ``g`` do not reach ``x.grad``."""
    x = leaf([1.0, 2.0], device)
    g = mg.tensor(np.array([5.0, 7.0]), device=device)
    x.backward(g)
    g.data[0] = -1.0
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 7.0])


class SplitHalves(mg.Function):
    """Two outputs :math:`(x_{:k}, x_{k:})`; :math:`\\bar x = \\operatorname{concat}(\\bar y_1, \\bar y_2)`."""

    def forward(self, x):
        k = x.shape[0] // 2
        return x[:k].copy(), x[k:].copy()

    def backward(self, g1, g2):
        return mg.concatenate([g1, g2])


@pytest.mark.parametrize("keep_second", [True, False])
def test_unused_output_of_a_multi_output_function_gets_zero_gradient(device, keep_second):
    """Only :math:`y_1` of :math:`(y_1, y_2) = \\operatorname{split}(x)` is used: :math:`\\bar x = (2y_1, 0)`,
    whether :math:`y_2` is still referenced or was dropped at once.
    """
    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    outputs = SplitHalves()(x)
    first = outputs[0]
    if not keep_second:
        del outputs
    (first * first).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 0.0, 0.0])


# ----------------------------------------------------------------- no_grad
def test_no_grad_builds_no_graph(device):
    """Under ``no_grad``, :math:`y = 2x` has ``requires_grad`` False and no creator; recording resumes afterwards."""
    x = leaf([1.0, 2.0], device)
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2
        with mg.enable_grad():
            z = x * 2
    assert mg.is_grad_enabled()
    assert y.requires_grad is False and y.creator is None and y.is_leaf
    assert z.requires_grad and z.creator is not None
    assert (x * 2).creator is not None
    with pytest.raises(RuntimeError, match="does not require gradients"):
        y.sum().backward()


def test_no_grad_restores_state_after_an_exception(device):
    """The previous mode comes back even when the block raises."""
    x = leaf([1.0], device)
    with pytest.raises(ZeroDivisionError), mg.no_grad():
        raise ZeroDivisionError("inside the block")
    assert mg.is_grad_enabled() and (x * 1.0).requires_grad
    with mg.set_grad_enabled(False):
        assert not (x * 1.0).requires_grad


def test_no_grad_is_thread_local(device):
    """A ``no_grad`` block open in one thread does not stop another thread from recording."""
    x = leaf([1.0, 2.0], device)
    entered, checked = threading.Event(), threading.Event()
    results = {}

    def inside_no_grad():
        with mg.no_grad():
            entered.set()
            checked.wait(10)
            results["worker"] = (x * 2).requires_grad

    def other_thread():
        results["other"] = (x * 2).requires_grad

    worker = threading.Thread(target=inside_no_grad)
    worker.start()
    assert entered.wait(10)
    results["main"] = (x * 2).requires_grad  # the main thread, while the worker is inside no_grad
    helper = threading.Thread(target=other_thread)
    helper.start()
    helper.join(10)
    checked.set()
    worker.join(10)
    assert results == {"main": True, "other": True, "worker": False}

    with mg.no_grad():  # and the other way round: a new thread starts with recording on
        helper = threading.Thread(target=other_thread)
        helper.start()
        helper.join(10)
    assert results["other"] is True


# ----------------------------------------------------------------- dtypes
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_dtype_matches_the_leaf(device, dtype):
    """:math:`\\bar x` has ``x.dtype``, also when float64 constants promote the forward pass."""
    x = leaf([0.5, 1.5, -2.0], device, dtype=dtype)
    xp = mg.Device(device).xp
    promoted = x * xp.asarray(np.array([1.0, 2.0, 3.0]))  # a float64 array: float32 * float64 -> float64
    y = (mg.tanh(x) * 2.0 + x**2 / 3.0).sum() + promoted.sum()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == dtype
    expected = 2 * (1 - np.tanh(x.numpy().astype(np.float64)) ** 2) + 2 * x.numpy() / 3 + [1.0, 2.0, 3.0]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6 if dtype == np.float32 else 1e-12)

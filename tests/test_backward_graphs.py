"""The backward pass and the graph: deep graphs without recursion, errors, and when intermediates are freed.

Reverse mode accumulates, for every leaf :math:`x`,
:math:`\\bar x \\mathrel{+}= \\sum_{c \\in \\text{consumers}(x)} \\bar c\\, \\partial c / \\partial x`.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from backward_helpers import leaf

import minigrad as mg


# ----------------------------------------------------------------- deep graphs
def test_chain_of_100000_operations(device):
    """:math:`y = x \\cdot c^{n}` built by :math:`n = 100{,}000` multiplications: :math:`\\bar x = c^{n}`, no
    RecursionError."""
    n, c = 100_000, 1.00001
    x = leaf([1.0, 2.0], device)
    y = x
    for _ in range(n):
        y = y * c
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [c**n, c**n], rtol=1e-9)


def test_deep_retained_graph_is_freed_without_recursion(device):
    """Dropping a retained 100,000-node chain frees it (no recursion in deallocation); :math:`\\bar x = 1`."""
    x = leaf([1.0], device)
    y = x
    for _ in range(100_000):
        y = y + 0.0
    y.sum().backward(retain_graph=True)
    probe = weakref.ref(y.creator.inputs[0])
    del y
    gc.collect()
    assert probe() is None
    assert x.grad.item() == 1.0


# ----------------------------------------------------------------- errors
def test_backward_twice_without_retain_graph_raises(device):
    """The graph is freed by the first pass; the second raises and says how to keep it."""
    x = leaf([1.0, 2.0], device)
    s = (x * x).sum()
    s.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        s.backward()


def test_backward_of_non_scalar_needs_grad(device):
    """``grad`` may be omitted only for a one-element result."""
    x = leaf([[1.0, 2.0]], device)
    with pytest.raises(RuntimeError, match=r"one-element.*\(1, 2\)"):
        (x * 2).backward()
    (x * 2).backward(mg.tensor(np.array([[1.0, 1.0]]), device=device))
    np.testing.assert_allclose(x.grad.numpy(), [[2.0, 2.0]])


def test_backward_checks_the_shape_of_grad(device):
    """A ``grad`` whose shape is not the result's is refused, naming both shapes."""
    x = leaf([1.0, 2.0, 3.0], device)
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        (x * 2).backward(mg.tensor(np.ones(2), device=device))
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(mg.tensor(np.ones((3, 1)), device=device))
    assert x.grad is None


def test_backward_without_requires_grad_raises(device):
    """No input requires a gradient, so there is nothing to differentiate."""
    x = mg.tensor(np.array([1.0]), device=device)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        (x * 2).sum().backward()


# ----------------------------------------------------------------- memory
def test_intermediates_are_freed_after_backward(device):
    """Once backward has passed, nothing keeps an intermediate alive: with the garbage collector off,
    the weak references to the tensor :math:`h = 2x` and to its array die (no reference cycle).
    """
    x = leaf(np.ones(1000), device)
    gc.disable()
    try:
        h = x * 2.0
        tensor_ref, array_ref = weakref.ref(h), weakref.ref(h.data)
        s = (mg.tanh(h) * h).sum()
        del h
        assert tensor_ref() is not None  # the graph holds it until backward has used it
        s.backward()
        assert tensor_ref() is None and array_ref() is None
    finally:
        gc.enable()


def test_dropped_graph_is_freed_by_reference_counting(device):
    """A graph the user drops without calling backward is freed at once (garbage collector off: no cycles)."""
    x = leaf(np.ones(10), device)
    gc.disable()
    try:
        h = mg.exp(x)
        tensor_ref = weakref.ref(h)
        s = (h * h).sum()
        del h, s
        assert tensor_ref() is None
    finally:
        gc.enable()


def test_retained_graph_keeps_intermediates(device):
    """``retain_graph=True`` keeps :math:`h` (so a second pass works) until the result is dropped."""
    x = leaf(np.ones(3), device)
    h = x * 2.0
    tensor_ref = weakref.ref(h)
    s = (h * h).sum()
    del h
    s.backward(retain_graph=True)
    assert tensor_ref() is not None
    s.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 8.0 * np.ones(3))
    del s
    assert tensor_ref() is None

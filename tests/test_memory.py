"""Memory: the graph is freed after backward, training creates no reference cycles, and
1,000 training steps do not grow the memory in use.

The graph holds its intermediate tensors through ``Function.inputs`` only; outputs are
weak references, so there is no cycle, and backward (without ``retain_graph``) drops
``inputs`` as it goes. Intermediates are therefore freed by reference counting alone, at
the moment backward has passed them, without waiting for the garbage collector.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import minigrad as mg
import optim
from minigrad import nn

GROWTH_BOUND = 64 * 1024  # bytes, between step 100 and step 1000


def _training_step(model, opt, x, y):
    opt.zero_grad()
    loss = mg.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def _problem(device, rng):
    model = nn.MLP([8, 16, 4], rng=0, device=device)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = mg.tensor(rng.standard_normal((32, 8)).astype(np.float32), device=device)
    y = mg.backend.to_device(rng.integers(0, 4, 32), x.device)
    return model, opt, x, y


def test_a_thousand_training_steps_do_not_grow_memory(device, rng):
    """tracemalloc (which sees NumPy's array buffers) after step 100 and after step 1000: the
    memory in use grows by less than 64 KiB. gc.collect() runs before each reading so that the
    interpreter's bounded free lists, which gc empties, do not count; cycles are tested below."""
    model, opt, x, y = _problem(device, rng)
    tracemalloc.start()
    try:
        for step in range(1, 1001):
            _training_step(model, opt, x, y)
            if step == 100:
                gc.collect()
                early = tracemalloc.get_traced_memory()[0]
        gc.collect()
        late = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert late - early < GROWTH_BOUND, f"memory grew by {late - early} bytes from step 100 to step 1000"


def test_training_steps_create_no_reference_cycles(device, rng):
    """With the garbage collector off, 50 training steps leave nothing for it to collect: every
    tensor, function and array was already freed by reference counting."""
    model, opt, x, y = _problem(device, rng)
    _training_step(model, opt, x, y)  # first step: optimizer state is created
    gc.collect()
    gc.disable()
    try:
        for _ in range(50):
            _training_step(model, opt, x, y)
        assert gc.collect() == 0
    finally:
        gc.enable()


def _graph(device):
    """A loss and weak references to its intermediate tensors (no strong reference survives here)."""
    w = mg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True, device=device)
    x = mg.tensor(np.ones((4, 3)), device=device)
    hidden = mg.tanh(mg.linear(x, w))
    squared = hidden * hidden
    loss = squared.mean()
    refs = [weakref.ref(t) for t in (hidden, squared)]
    return w, loss, refs


@pytest.mark.parametrize("retain_graph", [False, True])
def test_backward_frees_the_graph_unless_retained(device, retain_graph):
    """Before backward the graph keeps the intermediates alive; backward without retain_graph
    frees them at once (no gc needed), with retain_graph it keeps them for a second pass."""
    w, loss, refs = _graph(device)
    assert all(ref() is not None for ref in refs)
    gc.disable()
    try:
        loss.backward(retain_graph=retain_graph)
        alive = [ref() is not None for ref in refs]
    finally:
        gc.enable()
    assert alive == [retain_graph] * len(refs)
    assert w.grad is not None
    assert (loss.creator.inputs is None) == (not retain_graph)


def test_dropping_the_loss_without_backward_frees_everything(device):
    """A graph that is never backpropagated is freed as soon as the loss goes (no cycle)."""
    gc.disable()
    try:
        _, loss, refs = _graph(device)
        del loss
        assert all(ref() is None for ref in refs)
    finally:
        gc.enable()

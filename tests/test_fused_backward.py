"""``fused=True`` in the loops people write: ``backward`` puts the gradients into the flat buffer.

Binding registers each parameter's slot of the flat gradient buffer with
:func:`minigrad.autograd.set_grad_buffer`, so that after ``zero_grad()`` the
next ``backward`` writes there and later ones add there in place. The plain
loop, gradient accumulation over several ``backward`` calls, and the Keras-style
``minimize`` and ``apply_gradients`` then take the direct step; a parameter the
loss leaves out keeps ``grad is None`` and is not updated. Every run is
compared, bit for bit, with the reference path (``fused=False``).
"""

from __future__ import annotations

import numpy as np
import pytest
from fused_helpers import CLASSES, assert_identical, make_params, snapshot

import minigrad as mg

SHAPES = [(3, 4), (4,), (4, 2), (2,)]


def loss_of(params, x, use_last=True):
    """A small two-layer network's loss; ``use_last=False`` leaves the last parameter out."""
    w1, b1, w2, b2 = params
    hidden = mg.relu(x @ w1 + b1)
    out = hidden @ w2
    if use_last:
        out = out + b2
    return (out * out).mean()


def spy(monkeypatch, optimizer):
    """The results of the engine's ``direct_step`` calls, in order (the method still runs)."""
    engine, taken = optimizer._fused_engine, []
    original = engine.direct_step

    def direct_step(*pairs):
        taken.append(original(*pairs))
        return taken[-1]

    monkeypatch.setattr(engine, "direct_step", direct_step)
    return taken


def run(cls, *, fused, loop, monkeypatch=None, steps=4, dtype=np.float32, **kwargs):
    """``steps`` calls of ``loop(optimizer, params, x_call)``; returns the snapshot and the direct-step results."""
    params = make_params(SHAPES, dtype, "cpu", seed=3)
    optimizer = cls(params, lr=0.01, fused=fused, **kwargs)
    taken = spy(monkeypatch, optimizer) if fused and monkeypatch is not None else None
    rng = np.random.default_rng(4)
    for call in range(steps):
        x = mg.tensor(rng.standard_normal((5, 3)).astype(dtype))
        loop(optimizer, params, x, call)
    return snapshot(params, optimizer), taken, params, optimizer


def compare(monkeypatch, cls, loop, **kwargs):
    expected = run(cls, fused=False, loop=loop, **kwargs)[0]
    actual, taken, params, optimizer = run(cls, fused=True, loop=loop, monkeypatch=monkeypatch, **kwargs)
    assert_identical(actual, expected)
    return taken, params, optimizer


def plain(optimizer, params, x, call):
    optimizer.zero_grad()
    loss_of(params, x).backward()
    optimizer.step()


def plain_keeping_zeros(optimizer, params, x, call):
    optimizer.zero_grad(set_to_none=False)
    loss_of(params, x).backward()
    optimizer.step()


def accumulating(optimizer, params, x, call):
    optimizer.zero_grad()
    loss_of(params, x[:2]).backward()
    loss_of(params, x[2:]).backward()
    optimizer.step()


def keras_minimize(optimizer, params, x, call):
    optimizer.minimize(lambda: loss_of(params, x))


def keras_apply_gradients(optimizer, params, x, call):
    optimizer.zero_grad()
    loss_of(params, x).backward()
    optimizer.apply_gradients([(p.grad, p) for p in params])


def keras_apply_gradient_arrays(optimizer, params, x, call):
    optimizer.zero_grad()
    loss_of(params, x).backward()
    optimizer.apply_gradients([(p.grad.data, p) for p in reversed(params)])


LOOPS = [plain, plain_keeping_zeros, accumulating, keras_minimize, keras_apply_gradients, keras_apply_gradient_arrays]
DIRECT_AFTER_THE_FIRST = [False, True, True, True]  # the first call binds the buffers on the general path


@pytest.mark.parametrize("loop", LOOPS, ids=lambda loop: loop.__name__)
@pytest.mark.parametrize("cls", CLASSES)
def test_the_loops_people_write_take_the_direct_step(monkeypatch, cls, loop):
    taken, _, _ = compare(monkeypatch, cls, loop, convention="pytorch", weight_decay=0.01)
    assert taken == DIRECT_AFTER_THE_FIRST


@pytest.mark.parametrize("convention", ["paper", "keras", "optax", "mindspore", "tensorflow"])
@pytest.mark.parametrize("cls", CLASSES)
def test_the_plain_loop_is_identical_under_every_convention(monkeypatch, cls, convention):
    taken, _, _ = compare(monkeypatch, cls, plain, convention=convention, dtype=np.float64)
    assert taken == DIRECT_AFTER_THE_FIRST


def test_backward_writes_into_the_registered_view_of_the_flat_buffer(monkeypatch):
    _, params, optimizer = compare(monkeypatch, CLASSES[0], plain)
    optimizer.zero_grad()
    assert all(p.grad is None for p in params)
    loss_of(params, mg.tensor(np.ones((5, 3), np.float32))).backward()
    (store,) = optimizer._fused_engine.stores
    for param in params:
        assert param.grad is param.grad_buffer
        assert np.shares_memory(param.grad.data, store.grad)


def test_accumulation_adds_in_place_into_the_buffer(monkeypatch):
    _, params, optimizer = compare(monkeypatch, CLASSES[0], plain)
    optimizer.zero_grad()
    x = mg.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
    loss_of(params, x).backward()
    first = [p.grad for p in params]
    once = [p.grad.data.copy() for p in params]
    loss_of(params, x).backward()
    for param, tensor, value in zip(params, first, once):
        assert param.grad is tensor
        np.testing.assert_array_equal(param.grad.data, value + value)


def test_a_parameter_the_loss_leaves_out_has_no_gradient_and_is_not_updated(monkeypatch):
    def leaving_out(optimizer, params, x, call):
        optimizer.zero_grad()
        loss_of(params, x, use_last=call < 2).backward()
        assert (params[3].grad is None) == (call >= 2)
        optimizer.step()

    taken, params, optimizer = compare(monkeypatch, CLASSES[0], leaving_out)
    assert optimizer.state[params[3]]["step"] == 2
    assert taken == [False, True, False, False]  # a parameter without gradient: the general path skips it


def test_a_gradient_tensor_whose_array_was_replaced_is_renewed_by_zero_grad(monkeypatch):
    """``p.grad.data`` replaced after a backward: that step is general, and zero_grad() registers a new view."""
    def replacing(optimizer, params, x, call):
        optimizer.zero_grad()
        loss_of(params, x).backward()
        if call == 1:
            params[0].grad.data = params[0].grad.data * 1.0
        optimizer.step()

    taken, _, _ = compare(monkeypatch, CLASSES[0], replacing, steps=5)
    assert taken == [False, False, True, True, True]


def test_create_graph_gradients_take_the_general_path(monkeypatch):
    def with_graph(optimizer, params, x, call):
        optimizer.zero_grad()
        loss_of(params, x).backward(create_graph=True)
        optimizer.step()

    taken, params, _ = compare(monkeypatch, CLASSES[0], with_graph)
    assert taken == [False] * 4 and all(p.grad is not p.grad_buffer for p in params)


def test_a_parameter_removed_from_the_optimizer_loses_its_registration():
    params = make_params(SHAPES, np.float32, "cpu")
    optimizer = CLASSES[0](params, lr=0.01, fused=True)
    plain(optimizer, params, mg.tensor(np.ones((5, 3), np.float32)), 0)
    assert params[1].grad_buffer is not None
    optimizer.param_groups[0]["params"].pop(1)
    plain(optimizer, params, mg.tensor(np.ones((5, 3), np.float32)), 1)
    assert params[1].grad_buffer is None and params[0].grad_buffer is not None

"""The optim API contract, stepping: state layout, zero_grad, iterations, apply_gradients, minimize, groups, lr."""

from __future__ import annotations

import numpy as np
import pytest
from optim_api_helpers import CLASSES, feed, grads_for, param

import minigrad as mg
import optim
from minigrad.sparse import RowSparseGrad


# --------------------------------------------------------------------------- state, zero_grad, iterations
@pytest.mark.parametrize("name", list(CLASSES))
def test_state_layout_device_and_dtype(device, name):
    """opt.state[p]: "step" (int) and "m", "v" (+ "v_max" with amsgrad) for Adam, "m", "u" for Adamax;
    the arrays have the parameter's shape and dtype and live on its device."""
    p = param(np.ones((2, 3), dtype=np.float32), device, dtype=np.float32)
    opt = CLASSES[name]([p], lr=0.1)
    p.grad = mg.tensor(np.full((2, 3), 0.5, dtype=np.float32), device=device)
    assert opt.step() is None
    state = opt.state[p]
    keys = {"Adam": {"m", "v"}, "AMSGrad": {"m", "v", "v_max"}, "Adamax": {"m", "u"}}[name]
    assert keys <= set(state)
    assert isinstance(state["step"], int) and state["step"] == 1
    for key in keys:
        array = state[key]
        assert array.shape == (2, 3) and array.dtype == np.float32, key
        assert mg.backend.device_of(array) == p.device, key


@pytest.mark.parametrize("name", list(CLASSES))
def test_params_may_be_any_iterable(device, name):
    """Contract: params is an iterable of Tensors (a generator works like a list, consumed once)."""
    a = [param([1.0], device), param([2.0], device)]
    b = [param([1.0], device), param([2.0], device)]
    opt_a = CLASSES[name](p for p in a)
    opt_b = CLASSES[name](list(b))
    assert len(opt_a.param_groups[0]["params"]) == 2
    for g in ([0.5, -0.5], [1.0, 2.0]):
        feed(opt_a, a, [np.array([x]) for x in g], device)
        feed(opt_b, b, [np.array([x]) for x in g], device)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.numpy(), y.numpy())


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("name", list(CLASSES))
def test_zero_grad_sets_grads_to_none(device, name, fused):
    """Contract: opt.zero_grad() sets p.grad = None for every parameter of every group, on both paths (after a
    step too, when the fused path has bound its buffers)."""
    a, b, c = param([1.0], device), param([2.0], device), param([3.0], device)
    opt = CLASSES[name]([{"params": [a, b]}, {"params": [c], "lr": 0.5}], fused=fused)
    for _ in range(2):
        for p in (a, b, c):
            p.grad = mg.tensor(np.array([1.0]), device=device)
        opt.step()
        opt.zero_grad()
        assert a.grad is None and b.grad is None and c.grad is None


def test_zero_grad_keeping_gradients_zeroes_them_as_torch_does(device):
    """opt.zero_grad(set_to_none=False) on the reference path (PyTorch's rule): a gradient Tensor, or array, that
    may be written is zeroed in place and stays the same object; None stays None; a row-sparse gradient keeps no
    rows; a gradient Tensor that requires grad (create_graph=True) is replaced by zeros, never written."""
    a, b, c, d, e = (param(np.full((2, 2), 1.0 + i), device) for i in range(5))
    opt = optim.Adam([a, b, c, d, e])
    xp = a.xp
    a.grad, c.grad = mg.tensor(np.full((2, 2), 3.0), device=device), xp.full((2, 2), 4.0)
    d.grad = RowSparseGrad(xp.asarray([1]), xp.ones((1, 2)), (2, 2))
    e.grad = graph_grad = mg.tensor(np.full((2, 2), 5.0), requires_grad=True, device=device)
    kept_a, kept_c = a.grad, c.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is kept_a and c.grad is kept_c and b.grad is None
    assert not mg.backend.to_numpy(a.grad.data).any() and not mg.backend.to_numpy(c.grad).any()
    assert isinstance(d.grad, RowSparseGrad) and d.grad.indices.shape == (0,) and d.grad.dense_shape == (2, 2)
    assert e.grad is not graph_grad and not mg.backend.to_numpy(e.grad.data).any()
    assert mg.backend.to_numpy(graph_grad.data).tolist() == [[5.0, 5.0], [5.0, 5.0]]
    opt.step()  # b has no gradient: it is not updated; the others take a step with a zero gradient
    assert b not in opt.state and all(opt.state[p]["step"] == 1 for p in (a, c, d, e))


def test_zero_grad_keeping_gradients_replaces_a_read_only_array():
    """A gradient whose array may not be written (a broadcast view) is replaced by zeros, and left as it was."""
    p = param(np.ones(3), "cpu")
    opt = optim.Adamax([p])
    shared = np.broadcast_to(np.float64(2.0), (3,))
    p.grad = mg.Tensor(shared)
    opt.zero_grad(set_to_none=False)
    assert p.grad.data is not shared and p.grad.data.tolist() == [0.0, 0.0, 0.0] and shared.tolist() == [2.0] * 3


@pytest.mark.parametrize("name", list(CLASSES))
def test_iterations_count_updates(device, name):
    """opt.iterations counts step() and apply_gradients() calls (0 before the first)."""
    p = param([1.0, 2.0], device)
    opt = CLASSES[name]([p], lr=0.1)
    assert opt.iterations == 0
    for k in range(3):
        p.grad = mg.tensor(np.array([0.1, -0.2]), device=device)
        opt.step()
        assert opt.iterations == k + 1
    xp = mg.backend.as_device(device).xp
    opt.apply_gradients([(xp.asarray([0.3, 0.3]), p)])
    opt.apply_gradients([(mg.tensor(np.array([0.3, 0.3]), device=device), p)])
    assert opt.iterations == 5


def test_step_skips_parameters_without_gradient(device):
    """A parameter whose grad is None is left exactly as it is (value and state)."""
    a, b = param([1.0, 2.0], device), param([3.0], device)
    opt = optim.Adam([a, b], lr=0.1, convention="pytorch")
    a.grad = mg.tensor(np.array([0.5, 0.5]), device=device)
    b.grad = None
    opt.step()
    np.testing.assert_array_equal(b.numpy(), [3.0])
    assert b not in opt.state or opt.state[b].get("step", 0) == 0


# --------------------------------------------------------------------------- apply_gradients / minimize
@pytest.mark.parametrize("name", list(CLASSES))
def test_apply_gradients_with_arrays_and_tensors_equals_step(device, name):
    """apply_gradients([(grad, param)]) accepts backend arrays and Tensors, binds parameters lazily when
    the optimizer was built with params=None (Keras style), and updates exactly like step()."""
    xp = mg.backend.as_device(device).xp
    steps = grads_for(3, [(3,), (2, 2)], 12)
    ref_params = [param(np.ones(3), device), param(np.ones((2, 2)), device)]
    arr_params = [param(np.ones(3), device), param(np.ones((2, 2)), device)]
    ten_params = [param(np.ones(3), device), param(np.ones((2, 2)), device)]
    cls = CLASSES[name]
    opt_ref = cls(ref_params, lr=0.05)
    opt_arr = cls(None, lr=0.05)
    opt_ten = cls(ten_params, lr=0.05)
    for g in steps:
        feed(opt_ref, ref_params, g, device)
        opt_arr.apply_gradients([(xp.asarray(gi), p) for gi, p in zip(g, arr_params, strict=True)])
        opt_ten.apply_gradients(zip([mg.tensor(gi, device=device) for gi in g], ten_params, strict=True))
        for x, y, z in zip(ref_params, arr_params, ten_params, strict=True):
            assert np.array_equal(x.numpy(), y.numpy())
            assert np.array_equal(x.numpy(), z.numpy())
    assert opt_arr.iterations == opt_ten.iterations == len(steps)


@pytest.mark.parametrize("bind", ["constructor", "lazy"])
def test_minimize_returns_the_loss_and_steps(device, bind):
    """minimize(loss_fn, var_list): zeroes the grads of var_list (a stale gradient is discarded),
    evaluates loss_fn, back-propagates and applies; returns the loss Tensor (value before the step)."""
    a = param([1.0, -2.0], device)
    target = mg.tensor(np.array([0.5, 0.5]), device=device)
    opt = optim.Adam([a] if bind == "constructor" else None, lr=0.1)
    a.grad = mg.tensor(np.array([100.0, 100.0]), device=device)  # stale, must not be used
    loss = opt.minimize(lambda: ((a - target) * (a - target)).sum(), [a])
    assert isinstance(loss, mg.Tensor)
    assert float(loss.item()) == pytest.approx(0.25 + 6.25)
    g = 2 * (np.array([1.0, -2.0]) - 0.5)
    np.testing.assert_allclose(a.numpy(), np.array([1.0, -2.0]) - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-15)
    assert opt.iterations == 1


def test_minimize_updates_only_var_list(device):
    """minimize(loss_fn, var_list) applies the gradients of var_list only (Keras semantics), even if
    other parameters of the optimizer take part in the loss."""
    a, b = param([1.0], device), param([2.0], device)
    opt = optim.Adam([a, b], lr=0.1)
    opt.minimize(lambda: (a * b).sum(), [a])
    assert float(a.item()) == pytest.approx(0.9, rel=1e-7)
    assert float(b.item()) == 2.0


# --------------------------------------------------------------------------- param groups and schedules
@pytest.mark.parametrize("name", list(CLASSES))
def test_param_groups_with_different_lr(device, name):
    """Each group uses its own hyperparameters (missing ones come from the constructor): the grouped
    optimizer equals one optimizer per group, bitwise."""
    cls = CLASSES[name]
    steps = grads_for(4, [(3,), (2,), (2, 2)], 15)
    grouped = [param(np.zeros(3), device), param(np.zeros(2), device), param(np.zeros((2, 2)), device)]
    single = [param(np.zeros(3), device), param(np.zeros(2), device), param(np.zeros((2, 2)), device)]
    opt = cls([{"params": grouped[:2], "lr": 0.1}, {"params": grouped[2:], "betas": (0.5, 0.6)}],
              lr=0.01, eps=1e-4)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.01
    assert opt.param_groups[1]["eps"] == 1e-4
    opt_a = cls(single[:2], lr=0.1, eps=1e-4)
    opt_b = cls(single[2:], lr=0.01, betas=(0.5, 0.6), eps=1e-4)
    for g in steps:
        feed(opt, grouped, g, device)
        feed(opt_a, single[:2], g[:2], device)
        feed(opt_b, single[2:], g[2:], device)
    for x, y in zip(grouped, single, strict=True):
        assert np.array_equal(x.numpy(), y.numpy())
    assert not np.array_equal(grouped[0].numpy(), param(np.zeros(3), device).numpy())


@pytest.mark.parametrize("name", list(CLASSES))
def test_lr_callable_gets_the_number_of_updates_already_applied(device, name):
    """lr(k) is called with k = opt.iterations: 0 at the first update, 1 at the second, ...; the value
    returned is the one used (lr(1) = 0 leaves the parameter where it is)."""
    calls = []

    def schedule(k):
        calls.append(k)
        return [0.1, 0.0, 0.1][k]

    p = param([1.0], device)
    opt = CLASSES[name]([p], lr=schedule)
    xs = []
    for k in range(3):
        p.grad = mg.tensor(np.array([1.0]), device=device)
        before = len(calls)
        opt.step()
        assert calls[before:] and set(calls[before:]) == {k}
        xs.append(float(p.item()))
    assert xs[0] < 1.0
    assert xs[1] == xs[0]
    assert xs[2] < xs[1]


@pytest.mark.parametrize("fused", [False, True])
def test_step_with_a_closure_records_gradients_and_returns_its_loss(fused):
    """PyTorch's ``step(closure)``: the closure runs with recording on, even under ``no_grad``; ``step`` returns
    its value, and the update is the one of the gradients it computed."""
    x = mg.tensor(np.array([3.0, -2.0]), requires_grad=True)
    y = mg.tensor(np.array([3.0, -2.0]), requires_grad=True)
    with_closure, plain = optim.Adam([x], lr=0.1, fused=fused), optim.Adam([y], lr=0.1, fused=fused)

    def closure():
        with_closure.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    for _ in range(3):
        expected_loss = float((x.data * x.data).sum())  # the loss at the parameters before the step
        with mg.no_grad():
            loss = with_closure.step(closure)
        assert isinstance(loss, mg.Tensor) and float(loss.item()) == expected_loss
        plain.zero_grad()
        (y * y).sum().backward()
        assert plain.step() is None
        np.testing.assert_array_equal(x.data, y.data)


def test_step_refuses_a_closure_that_is_not_callable():
    x = mg.tensor(np.array([1.0]), requires_grad=True)
    opt = optim.Adam([x], lr=0.1)
    x.grad = mg.tensor(np.array([1.0]))
    with pytest.raises(TypeError, match="closure: expected a callable"):
        opt.step(5)
    np.testing.assert_array_equal(x.data, [1.0])

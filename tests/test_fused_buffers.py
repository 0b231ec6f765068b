"""The fused path's flat buffers: the views ``zero_grad(set_to_none=False)`` hands out, gradients from backward,
resuming from a state dict, rebinding after new data or groups, Keras-style calls and densified sparse gradients."""

from __future__ import annotations

import numpy as np
import pytest
from fused_helpers import CLASSES, SHAPES, assert_same_run, host, make_params, run

import minigrad as mg
import optim
from minigrad import backend
from minigrad.sparse import RowSparseGrad


# --------------------------------------------------------------------------- views, binding, resume
def test_zero_grad_keeping_gradients_hands_out_views_of_the_flat_buffers(device):
    """zero_grad(set_to_none=False): each parameter that has a gradient gets a zero gradient viewing its slot of the
    flat gradient buffer, and param.data and the state arrays are views too (the Tensors stay the same); a
    parameter without a gradient keeps None and is not updated."""
    params = make_params(SHAPES, np.float32, device)
    before = [host(p.data) for p in params]
    optimizer = optim.Adam(params, lr=0.01, fused=True)
    with_grad, without = params[:-1], params[-1]
    for param in with_grad:
        param.grad = mg.Tensor(backend.to_device(np.full(param.shape, 3.0, np.float32), device))
    optimizer.zero_grad(set_to_none=False)
    store = optimizer._fused_engine.stores[0]
    assert without.grad is None
    for param, values in zip(params, before):
        assert np.array_equal(host(param.data), values)
        assert param.data.base is not None
    for param in with_grad:
        assert param.grad.data.base is not None
        assert not host(param.grad.data).any()
        param.grad.data[...] = 1.0
    assert host(store.grad).sum() == sum(p.size for p in with_grad)
    optimizer.step()
    for param in with_grad:
        assert optimizer.state[param]["m"].base is not None
        assert optimizer._fused_engine.slots[id(param)].grad_view is param.grad.data  # read in place, no copy
    assert without not in optimizer.state and np.array_equal(host(without.data), before[-1])
    assert host(store.param)[: params[0].size].tolist() == host(params[0].data).ravel().tolist()


@pytest.mark.parametrize("bound", [False, True])
def test_zero_grad_sets_every_gradient_to_none_by_default(device, bound):
    """zero_grad() (set_to_none=True, PyTorch's default) leaves p.grad None on the fused path too, whether or
    not the buffers are bound, and whether the gradient was a view of the buffer or a Tensor of its own."""
    params = make_params(SHAPES, np.float64, device)
    optimizer = optim.Adamax(params, lr=0.01, fused=True)
    for param in params:
        param.grad = mg.Tensor(backend.to_device(np.ones(param.shape), device))
    if bound:
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)
        params[0].grad = mg.Tensor(backend.to_device(np.ones(params[0].shape), device))
    optimizer.zero_grad()
    assert all(param.grad is None for param in params)


def test_gradients_from_backward_are_copied_in(device):
    """minigrad's backward replaces p.grad out of place; the step copies it into the buffer."""
    results = []
    for fused in (False, True):
        params = make_params([(4, 3), (3,)], np.float64, device, seed=5)
        optimizer = optim.Adam(params, lr=0.05, fused=fused)
        x = mg.tensor(np.random.default_rng(6).standard_normal((8, 4)), device=device)
        for _ in range(3):
            optimizer.zero_grad()
            loss = ((x @ params[0] + params[1]) ** 2).sum()
            loss.backward()
            optimizer.step()
        results.append((params, optimizer))
    assert_same_run(results[0], results[1], np.float64)


@pytest.mark.parametrize("source_fused", [False, True])
@pytest.mark.parametrize("cls", CLASSES)
def test_resume_from_a_state_dict(device, cls, source_fused):
    """Six steps straight equal three, state_dict, a new fused optimizer, load_state_dict, three more."""
    kwargs = {"lr": 0.01, "convention": "pytorch", "weight_decay": 0.01}
    straight = run(cls, kwargs, SHAPES, np.float64, device, fused=False, steps=6)
    params, first = run(cls, kwargs, SHAPES, np.float64, device, fused=source_fused, steps=3)
    saved = first.state_dict()
    second = cls(params, fused=True, **kwargs)
    second.load_state_dict(saved)
    rng = np.random.default_rng(1)
    for _ in range(3):  # the same draws as the first three calls, then the last three
        for p in params:
            rng.standard_normal(p.shape)
    for _ in range(3):
        for p in params:
            p.grad = mg.Tensor(backend.to_device(rng.standard_normal(p.shape), device))
        second.step()
    assert_same_run(straight, (params, second), np.float64)
    saved_again = second.state_dict()
    assert saved_again["state"][0]["m"].base is None  # a copy, not a view


def test_replaced_data_and_new_groups_are_bound_again(device):
    """A new param.data of the same kind is copied in; new parameters (add_param_group) rebuild the buffers."""
    results = []
    for fused in (False, True):
        params = make_params([(5,), (2, 3)], np.float64, device, seed=7)
        extra = make_params([(4,)], np.float64, device, seed=8)
        optimizer = optim.AMSGrad(params, lr=0.02, fused=fused)
        rng = np.random.default_rng(9)
        for call in range(6):
            if call == 2:
                params[0].data = backend.to_device(np.arange(5.0), device)
            if call == 3:
                optimizer.add_param_group({"params": extra, "lr": 0.1})
            for p in params + (extra if call >= 3 else []):
                p.grad = mg.Tensor(backend.to_device(rng.standard_normal(p.shape), device))
            optimizer.step()
        results.append((params + extra, optimizer))
    assert_same_run(results[0], results[1], np.float64)
    engine = results[1][1]._fused_engine
    assert all(p.data is engine.slots[id(p)].param_view for p in results[1][0])


def test_keras_style_apply_gradients_and_minimize(device):
    """params=None binds at the first apply_gradients; minimize works too."""
    results = []
    for fused in (False, True):
        params = make_params([(3,), (2, 2)], np.float64, device, seed=11)
        optimizer = optim.Adamax(None, convention="keras", fused=fused)
        rng = np.random.default_rng(12)
        for _ in range(3):
            grads = [backend.to_device(rng.standard_normal(p.shape), device) for p in params]
            optimizer.apply_gradients(zip(grads, params))
        first = params[0]
        optimizer.minimize(lambda first=first: (first * first).sum())
        results.append((params, optimizer))
    assert_same_run(results[0], results[1], np.float64)


def test_sparse_gradients_update_densely_when_not_lazy(device):
    """A row-sparse gradient with lazy=False is densified by the pipeline and fused like any other."""
    results = []
    for fused in (False, True):
        (table,) = make_params([(6, 3)], np.float64, device, seed=13)
        optimizer = optim.Adam([table], lr=0.05, lazy=False, fused=fused)
        for call in range(3):
            indices = backend.to_device(np.array([call, 4, call]), device)
            values = backend.to_device(np.full((3, 3), 0.5 + call), device)
            optimizer.apply_gradients([(RowSparseGrad(indices, values, (6, 3)), table)])
        results.append(([table], optimizer))
    assert_same_run(results[0], results[1], np.float64)


@pytest.mark.parametrize("convention", ["pytorch", "tensorflow"])
def test_zero_grad_keeping_a_row_sparse_gradient(device, convention):
    """zero_grad(set_to_none=False) leaves a row-sparse gradient with no rows on both paths, not a dense zero
    view. PyTorch's Adamax updates it densely: the same bits on both paths. tf.keras's Adamax updates it lazily,
    which the fused path refuses, as for any row-sparse gradient, instead of decaying the moments of every row
    as a dense zero gradient would."""
    results = []
    for fused in (False, True):
        (table,) = make_params([(6, 3)], np.float64, device, seed=13)
        optimizer = optim.Adamax([table], lr=0.05, convention=convention, fused=fused)
        table.grad = mg.Tensor(backend.to_device(np.full((6, 3), 0.5), device))
        optimizer.step()
        indices = backend.to_device(np.array([1, 4]), device)
        table.grad = RowSparseGrad(indices, backend.to_device(np.ones((2, 3)), device), (6, 3))
        optimizer.zero_grad(set_to_none=False)
        assert isinstance(table.grad, RowSparseGrad) and table.grad.indices.shape == (0,)
        if fused and convention == "tensorflow":
            before = host(table.data), host(optimizer.state[table]["m"]), host(optimizer.state[table]["u"])
            with pytest.raises(ValueError, match="row-sparse gradient, to be updated lazily"):
                optimizer.step()
            after = host(table.data), host(optimizer.state[table]["m"]), host(optimizer.state[table]["u"])
            assert all(np.array_equal(a, b) for a, b in zip(after, before))
            return
        optimizer.step()
        results.append(([table], optimizer))
    assert_same_run(results[0], results[1], np.float64)

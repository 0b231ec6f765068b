"""Shared by tests/test_fused*.py: run the same seeded gradient sequence on the reference and the fused path
and compare (float64 to a relative 1e-12, float32 to 2 units in the last place)."""

from __future__ import annotations

import numpy as np
from kernel_helpers import assert_same_bits

import minigrad as mg
import optim
from minigrad import backend

CLASSES = [optim.Adam, optim.AMSGrad, optim.Adamax]
DTYPES = [np.float32, np.float64]
SHAPES = [(3, 4), (257,), (1,), (5, 1, 3)]


def host(array):
    return backend.to_numpy(array).copy()


def make_params(shapes, dtype, device, seed=0):
    rng = np.random.default_rng(seed)
    return [mg.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True, device=device) for shape in shapes]


def assert_close(actual, expected, dtype):
    """float64: relative 1e-12; float32 (and float16): at most 2 ulps apart."""
    actual, expected = host(actual), host(expected)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    if np.dtype(dtype) == np.float64:
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=0)
    else:
        np.testing.assert_array_max_ulp(actual, expected, maxulp=2)


def run(cls, kwargs, shapes, dtype, device, *, fused, steps=4, seed=0, missing=(), views=False, names=None,
        configure=None):
    """``steps`` calls with seeded gradients; ``missing`` holds the (call, index) pairs without a gradient.

    ``views=True`` starts each call with ``zero_grad(set_to_none=False)`` and writes the gradients into the views
    it hands out to the parameters that had one (the fused path then reads them in place; the first call and a
    parameter without a gradient at the previous call get new Tensors); otherwise each call assigns new gradient
    Tensors, which the fused path copies.
    """
    params = make_params(shapes, dtype, device, seed)
    entries = params if names is None else list(zip(names, params))
    optimizer = cls(entries, fused=fused, **kwargs)
    if configure is not None:
        configure(optimizer, params)
    rng = np.random.default_rng(seed + 1)
    for call in range(steps):
        if views:
            optimizer.zero_grad(set_to_none=False)
        for index, param in enumerate(params):
            grad = backend.to_device(rng.standard_normal(param.shape).astype(dtype), device)
            if (call, index) in missing:
                param.grad = None
            elif views and fused and param.grad is not None:
                param.grad.data[...] = grad
            else:
                param.grad = mg.Tensor(grad)
        optimizer.step()
    return params, optimizer


def assert_same_run(reference, fused, dtype):
    """Same parameters, same state (step counts and arrays), same counters."""
    (ref_params, ref_opt), (fused_params, fused_opt) = reference, fused
    for ref, got in zip(ref_params, fused_params):
        assert_close(got.data, ref.data, dtype)
    for ref, got in zip(ref_params, fused_params):
        ref_state, got_state = ref_opt.state.get(ref), fused_opt.state.get(got)
        assert (ref_state is None) == (got_state is None)
        if ref_state is None:
            continue
        assert set(got_state) == set(ref_state)
        for key, value in ref_state.items():
            if key == "step":
                assert got_state[key] == value
            else:
                assert_close(got_state[key], value, dtype)
    assert (fused_opt.iterations, fused_opt.calls) == (ref_opt.iterations, ref_opt.calls)


def check(cls, kwargs, dtype, device, shapes=SHAPES, **options):
    reference = run(cls, kwargs, shapes, dtype, device, fused=False, **options)
    fused = run(cls, kwargs, shapes, dtype, device, fused=True, **options)
    assert_same_run(reference, fused, dtype)
    return fused


def snapshot(params, optimizer):
    """Copies of everything a step may change: parameters, gradients, state, averages, counters."""
    def copy(array):
        return None if array is None else np.array(array, copy=True)

    states = [optimizer.state.get(p) for p in params]
    return {"params": [copy(p.data) for p in params], "grads": [copy(getattr(p.grad, "data", None)) for p in params],
            "state": [None if s is None else {k: v if k == "step" else copy(v) for k, v in s.items()} for s in states],
            "averages": [copy(optimizer.averages.get(p)) for p in params],
            "counters": (optimizer.iterations, optimizer.calls, optimizer.skipped_steps)}


def assert_identical(a, b, where="snapshot"):
    """Bit-for-bit equality, recursively (same keys, same dtypes, same step counts and counters); arrays hold the
    same bits everywhere but where both have NaN (so -0.0 and 0.0 differ)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_identical(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for index, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}[{index}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert_same_bits(a, b, where)
    else:
        assert a == b, where

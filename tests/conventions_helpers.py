"""Shared by the tests/test_conventions_*.py files: tolerances, parameters and the trajectory driver."""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad import backend
from minigrad.sparse import RowSparseGrad

F32 = {"rtol": 2e-6, "atol": 1e-6}  # float32 against a framework's float32 output
F64_TABLE = {"rtol": 0.0, "atol": 2e-9}  # float64 against a float64 reference printed with 9 decimals (some truncated)


def dev(array, device):
    return backend.to_device(np.asarray(array), device)


def host(array):
    return backend.to_numpy(array).copy()


def param(values, device, dtype=np.float32):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=True, device=device)


def trajectory(make_opt, grads, device, x0, dtype=np.float32, sparse=False):
    """Apply ``grads`` (one row per call) to a parameter starting at ``x0``; the parameter after each call.

    With ``sparse`` each gradient is given as a :class:`RowSparseGrad` whose indices are its non-zero
    entries (an empty one for an all-zero row), as the recorded tf_keras legacy IndexedSlices run."""
    x = param(x0, device, dtype)
    opt = make_opt([x])
    rows = []
    for g in grads:
        g = np.asarray(g, dtype=dtype)
        if sparse:
            idx = np.flatnonzero(g).astype(np.int64)
            grad = RowSparseGrad(dev(idx, device), dev(g[idx], device), g.shape)
        else:
            grad = dev(g, device)
        opt.apply_gradients([(grad, x)])
        rows.append(host(x.data))
    return np.array(rows)


def random_grads(seed, steps, shape, scale=1.0):
    rng = np.random.default_rng(seed)
    grads = rng.standard_normal((steps, *shape)) * scale
    grads[3] *= 10.0  # a spike, so the AMSGrad maximum differs from v
    return grads

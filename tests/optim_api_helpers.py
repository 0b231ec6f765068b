"""Shared by the tests/test_optim_api_*.py files: parameters, seeded gradient steps and the classes under test."""

from __future__ import annotations

import numpy as np
import optim_reference as ref

import minigrad as mg
import optim


def param(values, device, dtype=np.float64):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=True, device=device)


def grads_for(seed, shapes, steps, none_at=None, nonzero_first=False):
    """Per-step lists of gradients (one per shape); none_at = {param index: set of steps without a gradient}."""
    rng = np.random.default_rng(seed)
    seqs = [ref.make_gradient_sequence(rng, steps, s, nonzero_first=nonzero_first) for s in shapes]
    for i, ks in (none_at or {}).items():
        for k in ks:
            seqs[i][k] = None
    return [[seq[k] for seq in seqs] for k in range(steps)]


def feed(opt, params, step_grads, device):
    for p, g in zip(params, step_grads, strict=True):
        p.grad = None if g is None else mg.tensor(np.asarray(g, dtype=p.dtype), device=device)
    return opt.step()


def values(params):
    return [p.numpy().copy() for p in params]


def to_numpy(array):
    return mg.backend.to_numpy(array)


CLASSES = {
    "Adam": optim.Adam,
    "Adamax": optim.Adamax,
    "AMSGrad": optim.AMSGrad,
}

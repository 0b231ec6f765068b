"""Shared by tests/test_numerics*.py: the algorithms and conventions, parameters and gradients of any dtype."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import optim

ALGORITHMS = {"adam": optim.Adam, "amsgrad": optim.AMSGrad, "adamax": optim.Adamax}
CONVENTIONS = sorted(optim.CONVENTIONS)


def make_params(device, dtype, values=((1.0, -0.5, 0.25), (0.5, 2.0))):
    return [mg.tensor(np.array(v), dtype=dtype, requires_grad=True, device=device) for v in values]


def set_grads(params, grads):
    for p, g in zip(params, grads):
        p.grad = None if g is None else mg.tensor(np.array(g), dtype=p.dtype, device=p.device)

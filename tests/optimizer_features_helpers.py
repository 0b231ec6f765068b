"""Shared by the tests/test_optimizer_features_*.py files: the classes under test, arrays and parameters."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import optim
from minigrad import backend

CLASSES = [optim.Adam, optim.AMSGrad, optim.Adamax]


def dev(array, device):
    return backend.to_device(np.asarray(array), device)


def host(array):
    return backend.to_numpy(array).copy()


def param(values, device, dtype=np.float64):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=True, device=device)


def grad_rows(seed, steps, shape):
    return np.random.default_rng(seed).standard_normal((steps, *shape))

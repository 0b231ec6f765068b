"""Shared by tests/test_backward*.py: a leaf tensor that requires gradients."""

from __future__ import annotations

import numpy as np

import minigrad as mg


def leaf(values, device, dtype=np.float64) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=True, device=device)

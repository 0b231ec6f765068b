"""Shared by the tests that compare operations with PyTorch (the pinned 2.13.0 CPU wheel) in float64.

:func:`compare` runs one function in both libraries on the same float64 inputs,
compares the outputs, back-propagates the same random upstream gradient
:math:`G` and compares every vector-Jacobian product
:math:`\\bar x = G^\\top \\partial y / \\partial x`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import minigrad as mg

RTOL, ATOL = 1e-10, 1e-12


def compare(device: str, mg_fn: Callable[..., mg.Tensor], torch_fn: Callable[..., Any], *arrays: Any,
            rng: np.random.Generator | None = None, grads_for: Sequence[int] | None = None,
            rtol: float = RTOL, atol: float = ATOL) -> None:
    """Assert that ``mg_fn`` and ``torch_fn`` give the same values and the same input gradients on ``arrays``."""
    import torch

    rng = rng or np.random.default_rng(0)
    grads_for = range(len(arrays)) if grads_for is None else grads_for
    mg_in = [mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=i in grads_for, device=device)
             for i, a in enumerate(arrays)]
    t_in = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=i in grads_for) for i, a in enumerate(arrays)]
    out, t_out = mg_fn(*mg_in), torch_fn(*t_in)
    assert out.shape == tuple(t_out.shape)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=rtol, atol=atol)
    upstream = rng.standard_normal(out.shape)
    out.backward(mg.tensor(upstream, device=device))
    t_out.backward(torch.tensor(upstream))
    for i in grads_for:
        assert mg_in[i].grad is not None, f"input {i} got no gradient"
        assert mg_in[i].grad.shape == mg_in[i].shape
        np.testing.assert_allclose(mg_in[i].grad.numpy(), t_in[i].grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")


def broadcast_pairs(shapes: Sequence[tuple[int, ...]]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Every ordered pair of ``shapes`` that broadcast together."""
    pairs = []
    for a in shapes:
        for b in shapes:
            try:
                np.broadcast_shapes(a, b)
            except ValueError:
                continue
            pairs.append((a, b))
    return pairs

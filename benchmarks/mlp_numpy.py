"""The training step of ``mlp_step.py`` written out by hand in NumPy: what is left without a framework.

No autograd, no Tensor, no optimizer object: the forward pass, the
cross-entropy, the backward pass written as the matrix products they are, the
gradients written into one flat buffer and the update done in place on flat
buffers with NumPy's ufuncs (SGD: :math:`\\theta \\leftarrow \\theta - \\alpha g`;
Adam: PyTorch's form, :math:`\\theta \\leftarrow \\theta - \\frac{\\alpha}{1-\\beta_1^t}
\\frac{m}{\\sqrt{v}/\\sqrt{1-\\beta_2^t} + \\epsilon}`). Any Python framework runs at
least these NumPy calls, so the time of this step is a floor for minigrad's.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8


class FlatParameters:
    """The parameters of an MLP, ``(weight, bias)`` per layer, as views of one flat buffer, with a flat gradient
    buffer and, for Adam, flat ``m`` and ``v``."""

    def __init__(self, arrays: list[np.ndarray]) -> None:
        sizes = [a.size for a in arrays]
        dtype = arrays[0].dtype
        self.flat = np.concatenate([a.reshape(-1) for a in arrays])
        self.grad = np.zeros_like(self.flat)
        self.m = np.zeros_like(self.flat)
        self.v = np.zeros_like(self.flat)
        self.scratch = np.zeros_like(self.flat)
        bounds = list(itertools.accumulate(sizes, initial=0))
        self.params = [self.flat[a:b].reshape(x.shape) for a, b, x in zip(bounds, bounds[1:], arrays)]
        self.grads = [self.grad[a:b].reshape(x.shape) for a, b, x in zip(bounds, bounds[1:], arrays)]
        self.dtype = dtype


def forward_backward(params: FlatParameters, x: np.ndarray, targets: np.ndarray) -> np.floating:
    """The loss of one batch; the gradients land in ``params.grads``."""
    layers = len(params.params) // 2
    activations = [x]
    h = x
    for i in range(layers):
        z = h @ params.params[2 * i].T
        z += params.params[2 * i + 1]
        h = np.maximum(z, 0) if i < layers - 1 else z
        activations.append(h)
    shifted = h - h.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(targets))
    loss = -log_p[rows, targets].mean()
    d = np.exp(log_p)
    d[rows, targets] -= 1
    d *= params.dtype.type(1 / len(targets))
    for i in reversed(range(layers)):
        np.matmul(d.T, activations[i], out=params.grads[2 * i])
        np.add.reduce(d, axis=0, out=params.grads[2 * i + 1])
        if i > 0:
            d = d @ params.params[2 * i]
            d *= ~(activations[i] <= 0)
    return loss


def sgd_update(params: FlatParameters, lr: float) -> None:
    """:math:`\\theta \\leftarrow \\theta - \\alpha g` on the flat buffers."""
    np.multiply(params.grad, params.dtype.type(lr), out=params.scratch)
    params.flat -= params.scratch


def adam_update(params: FlatParameters, lr: float, step: int) -> None:
    """One step of Adam (PyTorch's form) on the flat buffers, in place."""
    number = params.dtype.type
    g, m, v, scratch = params.grad, params.m, params.v, params.scratch
    m *= number(BETA1)
    np.multiply(g, number(1 - BETA1), out=scratch)
    m += scratch
    v *= number(BETA2)
    np.multiply(g, g, out=scratch)
    scratch *= number(1 - BETA2)
    v += scratch
    np.sqrt(v, out=scratch)
    scratch /= number(math.sqrt(1 - BETA2**step))
    scratch += number(EPS)
    np.divide(m, scratch, out=scratch)
    scratch *= number(lr / (1 - BETA1**step))
    params.flat -= scratch


def make_numpy(arrays: list[np.ndarray], data: list[tuple[np.ndarray, np.ndarray]], optimizer_name: str,
               lr: float) -> Callable[[int], Any]:
    """A function running training step ``i`` on batch ``i % len(data)`` from the weights ``arrays`` (copied)
    with ``optimizer_name`` ("sgd" or "adam"); it returns the loss."""
    params = FlatParameters([a.copy() for a in arrays])
    steps = itertools.count(1)

    def step(i: int) -> Any:
        x, targets = data[i % len(data)]
        loss = forward_backward(params, x, targets)
        if optimizer_name == "adam":
            adam_update(params, lr, next(steps))
        else:
            sgd_update(params, lr)
        return loss

    return step

"""Second order: the gradient computed with ``create_graph=True`` is itself gradchecked, which checks that
every ``backward`` is built from differentiable operations.

For each op :math:`f` the check forms :math:`s = \\langle R, f(x) \\rangle` with a
fixed random :math:`R` and asserts, element by element,

.. math::

    \\frac{\\partial s}{\\partial x_i} \\approx
    \\frac{s(x + \\varepsilon e_i) - s(x - \\varepsilon e_i)}{2\\varepsilon}.
"""

from __future__ import annotations

import numpy as np
import pytest
from ops_gradcheck_helpers import binary_values, distinct, leaf

import minigrad as mg


# ----------------------------------------------------------------- second order: gradcheck the gradient
def grad_of(fn):
    """The map :math:`x \\mapsto \\nabla_x \\sum_i f(x)_i w_i`, built with ``create_graph=True`` so it is
    differentiable."""

    def gradient(*xs: mg.Tensor) -> mg.Tensor:
        saved = [x.grad for x in xs]  # gradcheck's own gradients must survive this call
        for x in xs:
            x.grad = None
        with mg.enable_grad():
            out = fn(*xs)
            weights = np.linspace(-1.0, 1.5, out.size).reshape(out.shape)
            (out * mg.tensor(weights, device=out.device)).sum().backward(create_graph=True)
        grads = [x.grad for x in xs]
        for x, g in zip(xs, saved):
            x.grad = g
        total = grads[0]
        for g in grads[1:]:
            total = total + g.sum()
        return total

    return gradient


SECOND_ORDER = {
    "mul": (lambda a, b: a * b * a, "standard"),
    "div": (lambda a, b: a / b, "nonzero_b"),
    "pow": (lambda a, b: a**b, "positive_a"),
    "add/sub": (lambda a, b: (a - b) * (a + b), "standard"),
    "exp": (lambda a, b: mg.exp(a) * b, "standard"),
    "log": (lambda a, b: mg.log(a) * b, "positive_a"),
    "sqrt": (lambda a, b: mg.sqrt(a) * b, "positive_a"),
    "tanh": (lambda a, b: mg.tanh(a * b), "standard"),
    "sigmoid": (lambda a, b: mg.sigmoid(a * b), "standard"),
    "matmul": (lambda a, b: (a @ b.T) ** 2, "standard"),
    "linear": (lambda a, b: mg.linear(a, b) ** 2, "standard"),
    "softmax": (lambda a, b: mg.softmax(a * b, axis=-1), "standard"),
    "log_softmax": (lambda a, b: mg.log_softmax(a * b, axis=0), "standard"),
    "cross_entropy": (lambda a, b: mg.cross_entropy(a * b, np.array([0, 3, 3])), "standard"),
    "reductions": (lambda a, b: a.sum(axis=0, keepdims=True) * b.mean(axis=1, keepdims=True) * a, "standard"),
    "max": (lambda a, b: a.max(axis=1) * b.sum(), "untied"),
    "getitem": (lambda a, b: a[[0, 0, 2]] * b[[1, 1, 1]], "standard"),
    "shape ops": (lambda a, b: mg.concatenate([a.T, b.T], axis=1).reshape(-1) ** 2, "standard"),
    "stack": (lambda a, b: mg.stack([a, b]) ** 3, "standard"),
    "broadcast": (lambda a, b: mg.broadcast_to(a[0], (2, 3, 4)) * mg.sum_to(b * b, (1, 4)), "standard"),
    "astype": (lambda a, b: a.astype(np.float64) ** 2 * b, "standard"),
    "minimum": (lambda a, b: mg.minimum(a, b) * a, "untied"),
    "where": (lambda a, b: mg.where(a > b, a * b, b * b), "untied"),
    "clip": (lambda a, b: mg.clip(a * b, -0.5, b * b) * a, "untied"),
    "logsumexp": (lambda a, b: mg.logsumexp(a * b, axis=1), "standard"),
    "var": (lambda a, b: mg.var(a * b, axis=0) * a.sum(), "standard"),
    "std": (lambda a, b: mg.std(a * b, axis=1, correction=0), "standard"),
    "gelu": (lambda a, b: mg.gelu(a * b), "standard"),
    "gelu_tanh": (lambda a, b: mg.gelu(a * b, approximate="tanh"), "standard"),
    "cross_entropy options": (lambda a, b: mg.cross_entropy(a * b, np.array([0, -100, 3]), weight=np.arange(1.0, 5.0),
                                                            label_smoothing=0.2, reduction="none"), "standard"),
    "cross_entropy probabilities": (lambda a, b: mg.cross_entropy(a, mg.softmax(b, axis=1)), "standard"),
    "nll_loss": (lambda a, b: mg.nll_loss(mg.log_softmax(a * b, axis=1), np.array([1, 2, 0])), "standard"),
    "binary_cross_entropy": (lambda a, b: mg.binary_cross_entropy(mg.sigmoid(a), mg.sigmoid(b)), "standard"),
    "bce_with_logits": (lambda a, b: mg.binary_cross_entropy_with_logits(a * b, mg.sigmoid(b), pos_weight=2.0),
                        "standard"),
    "layer_norm": (lambda a, b: mg.nn.LayerNorm(4, eps=0.1, elementwise_affine=False, dtype=np.float64)(a * b),
                   "standard"),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_order(device, rng, name):
    """The gradient :math:`g(x) = \\nabla_x f` built by ``backward(create_graph=True)`` is itself
    checked against central differences, i.e. the Hessian-vector products :math:`\\nabla_x \\langle g(x), R \\rangle`.
    """
    fn, kind = SECOND_ORDER[name]
    a, b = binary_values(kind, rng, (3, 4), (3, 4))
    if kind == "untied":
        a = distinct(rng, (3, 4))
    assert mg.gradcheck(grad_of(fn), leaf(a, device), leaf(b, device))

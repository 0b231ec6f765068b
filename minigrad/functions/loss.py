"""Softmax, log-softmax and the two losses: cross-entropy (integer targets) and mean squared error.

Both softmax forms subtract the maximum before exponentiating, so no
exponential overflows:

.. math::

    \\operatorname{softmax}(x)_i = \\frac{e^{x_i - m}}{\\sum_j e^{x_j - m}}, \\qquad
    \\operatorname{log\\_softmax}(x)_i = x_i - m - \\ln \\sum_j e^{x_j - m}, \\qquad m = \\max_j x_j .
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import backend
from minigrad.checks import check_axis
from minigrad.config import is_grad_enabled
from minigrad.function import Function
from minigrad.functions.reduction import mean, sum
from minigrad.tensor import Tensor

__all__ = ["cross_entropy", "log_softmax", "mse_loss", "softmax"]


def _log_softmax_array(x: Any, axis: int) -> Any:
    xp = backend.get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    """:math:`y = \\operatorname{softmax}(x)` along ``axis``;
    :math:`\\bar x = y \\odot (\\bar y - \\sum_j \\bar y_j y_j)`.
    """

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        check_axis(self.axis, x.ndim)
        xp = backend.get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy: Tensor) -> Tensor:
        y = self.output()
        return y * (gy - sum(gy * y, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """:math:`y = \\operatorname{log\\_softmax}(x)` along ``axis``;
    :math:`\\bar x = \\bar y - e^{y} \\sum_j \\bar y_j`.
    """

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        check_axis(self.axis, x.ndim)
        return _log_softmax_array(x, self.axis)

    def backward(self, gy: Tensor) -> Tensor:
        return gy - exp(self.output()) * sum(gy, axis=self.axis, keepdims=True)


class CrossEntropy(Function):
    """Mean negative log-likelihood of integer class targets under a softmax.

    For logits :math:`X \\in \\mathbb{R}^{N \\times C}` and targets :math:`t \\in \\{0..C-1\\}^N`,

    .. math::

        L = -\\frac{1}{N} \\sum_{n} \\operatorname{log\\_softmax}(X_n)_{t_n}, \\qquad
        \\bar X = \\frac{\\bar L}{N} \\left(\\operatorname{softmax}(X) - \\operatorname{onehot}(t)\\right).
    """

    def __init__(self, targets: Any) -> None:
        self.targets = targets

    def forward(self, logits: Any) -> Any:
        xp = backend.get_array_module(logits)
        log_p = _log_softmax_array(logits, axis=1)
        rows = xp.arange(logits.shape[0])
        self.probabilities = xp.exp(log_p)
        return -log_p[rows, self.targets].mean()

    def backward(self, gl: Tensor) -> Tensor:
        logits = self.inputs[0]
        xp = logits.xp
        n = logits.shape[0]
        onehot = xp.zeros(logits.shape, dtype=logits.dtype)
        onehot[xp.arange(n), self.targets] = 1
        # Reuse the forward probabilities unless the backward pass is being recorded.
        p = softmax(logits, axis=1) if is_grad_enabled() else Tensor(self.probabilities)
        return (p - onehot) * (gl / n)

    def release(self) -> None:
        super().release()
        self.probabilities = None


def softmax(x: Any, axis: int = -1) -> Tensor:
    """Softmax along ``axis``: nonnegative values that sum to 1."""
    return Softmax(axis)(x)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """Logarithm of the softmax along ``axis``, computed stably."""
    return LogSoftmax(axis)(x)


def cross_entropy(logits: Tensor, targets: Any) -> Tensor:
    """Mean cross-entropy between ``logits`` of shape ``(N, C)`` and integer ``targets`` of shape ``(N,)``.

    Parameters
    ----------
    logits : Tensor
        Unnormalised class scores, one row per sample.
    targets : array_like of int
        The class of each row, in ``[0, C)``.

    Returns
    -------
    Tensor
        A scalar: :math:`-\\frac1N \\sum_n \\log \\operatorname{softmax}(\\text{logits}_n)_{t_n}`.
    """
    if not isinstance(logits, Tensor):
        raise TypeError(f"logits: expected a Tensor, got {type(logits).__name__}")
    if logits.ndim != 2:
        raise ValueError(f"logits: expected shape (N, C), got {logits.shape}")
    if isinstance(targets, Tensor):
        targets = targets.data
    targets = backend.to_device(np.asarray(targets) if not backend.is_array(targets) else targets, logits.device)
    if targets.dtype.kind not in "iu":
        raise TypeError(f"targets: expected integer class indices, got dtype {targets.dtype}")
    if targets.shape != logits.shape[:1]:
        raise ValueError(f"targets: expected shape {logits.shape[:1]}, got {targets.shape}")
    if targets.size and (int(targets.min()) < 0 or int(targets.max()) >= logits.shape[1]):
        raise ValueError(
            f"targets: class indices must lie in [0, {logits.shape[1]}), "
            f"got values from {int(targets.min())} to {int(targets.max())}"
        )
    return CrossEntropy(targets)(logits)


def mse_loss(prediction: Tensor, target: Any) -> Tensor:
    """Mean squared error :math:`\\frac1n \\sum_i (p_i - t_i)^2`; shapes must match."""
    if not isinstance(prediction, Tensor):
        raise TypeError(f"prediction: expected a Tensor, got {type(prediction).__name__}")
    if not isinstance(target, Tensor):
        values = np.asarray(backend.to_numpy(target), dtype=prediction.dtype)
        target = Tensor(backend.to_device(values, prediction.device))
    if target.shape != prediction.shape:
        raise ValueError(f"target: expected shape {prediction.shape}, got {target.shape}")
    diff = prediction - target
    return mean(diff * diff)


from minigrad.functions.elementwise import exp  # noqa: E402  (LogSoftmax.backward uses it)

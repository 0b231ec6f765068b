"""Softmax, log-softmax and two losses: cross-entropy (with PyTorch's options) and mean squared error.

The negative log-likelihood behind cross-entropy's options is in :mod:`minigrad.functions.nll`, the binary
losses in :mod:`minigrad.functions.binary_loss`.

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
from minigrad.function import Function
from minigrad.functions.loss_arguments import (
    check_ignore_index,
    check_label_smoothing,
    check_reduction,
    class_rows,
    class_targets,
    class_weights,
    scores_tensor,
)
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
    """Mean negative log-likelihood of integer class targets under a softmax, in one pass: the form
    :func:`cross_entropy` takes without weights, ignored targets or label smoothing, with the mean.

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
        return (softmax(logits, axis=1) - onehot) * (gl / n)

    def backward_arrays(self, gl: Any) -> Any:
        """:math:`\\bar L / N \\cdot (p - \\operatorname{onehot}(t))` from the forward probabilities
        :math:`p`: subtracting 1 at the targets is :math:`p - \\operatorname{onehot}(t)` to the bit."""
        p = self.probabilities
        n = p.shape[0]
        gx = p.copy()
        gx[backend.get_array_module(p).arange(n), self.targets] -= 1
        gx *= gl / n
        return gx

    def release(self) -> None:
        super().release()
        self.probabilities = None


def softmax(x: Any, axis: int = -1) -> Tensor:
    """Softmax along ``axis``: nonnegative values that sum to 1.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.softmax(mg.tensor([[0.0, 0.0]]), axis=1)
    tensor([[0.5, 0.5]], dtype=float64)
    """
    return Softmax(axis)(x)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """Logarithm of the softmax along ``axis``, computed stably.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.log_softmax(mg.tensor([[0.0, 0.0]]), axis=1)
    tensor([[-0.69314718, -0.69314718]], dtype=float64)
    """
    return LogSoftmax(axis)(x)


def cross_entropy(
    logits: Tensor, targets: Any, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between ``logits`` and class ``targets``, as ``torch.nn.functional.cross_entropy``.

    With :math:`p_n = \\operatorname{softmax}(\\text{logits}_n)` over the classes, the loss of sample :math:`n`
    and its gradient are

    .. math::

        \\ell_n = -w_{t_n} \\log p_{n, t_n}, \\qquad
        \\frac{\\partial \\ell_n}{\\partial \\text{logits}_n} = w_{t_n} (p_n - \\operatorname{onehot}(t_n)),

    and the mean is :math:`\\sum_n \\ell_n / \\sum_n w_{t_n}` over the samples not ignored (:math:`w = 1`
    without ``weight``). Label smoothing :math:`\\varepsilon` mixes in the loss of the uniform target:
    :math:`(1 - \\varepsilon) \\ell_n + \\frac{\\varepsilon}{C} \\sum_c -w_c \\log p_{n, c}`. Class-probability
    targets :math:`q` (the logits' shape, floating point) give
    :math:`\\ell_n = -\\sum_c w_c q_{n,c} \\log p_{n,c}`, with gradient :math:`p_n \\sum_c w_c q_{n,c} - w \\odot q_n`.

    Parameters
    ----------
    logits : Tensor
        Unnormalised class scores, shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)`` (classes on axis 1).
    targets : array_like or Tensor
        Integer classes in ``[0, C)`` (or ``ignore_index``), one per sample: shape ``()``, ``(N,)`` or
        ``(N, d1, ...)``; or class probabilities of the logits' shape (a Tensor of them may require gradients).
    weight : array_like, optional
        One weight per class, shape ``(C,)``; a constant.
    ignore_index : int, default -100
        Integer targets equal to it add nothing, to the loss or to the mean's denominator. Probability targets
        take no ``ignore_index``.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` gives one loss per sample (ignored ones 0).
    label_smoothing : float in [0, 1], default 0
        :math:`\\varepsilon`.

    Returns
    -------
    Tensor
        A scalar, or one loss per sample. With every target ignored the mean is NaN, as in PyTorch.

    >>> import minigrad as mg
    >>> logits = mg.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 2.0]], requires_grad=True)
    >>> round(mg.cross_entropy(logits, [0, 2]).item(), 6)
    0.239545
    >>> [round(v, 6) for v in mg.cross_entropy(logits, [0, -100], reduction="none").tolist()]
    [0.239545, 0.0]
    >>> round(mg.cross_entropy(logits, [0, 2], label_smoothing=0.1).item(), 6)
    0.372878
    """
    logits = scores_tensor("logits", logits)
    reduction = check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    label_smoothing = check_label_smoothing(label_smoothing)
    weights = class_weights(weight, logits)
    if _are_probabilities(targets, logits):
        if ignore_index != -100:
            raise ValueError(
                f"ignore_index: applies to class-index targets only, got {ignore_index} with class probabilities"
            )
        return cross_entropy_of_probabilities(logits, targets, weights, reduction, label_smoothing)
    flat_targets = class_targets(targets, logits, ignore_index)
    plain = weights is None and not label_smoothing and reduction == "mean"
    if plain and not bool((flat_targets == ignore_index).any()):
        return CrossEntropy(flat_targets)(class_rows(logits))  # the one-pass form, as before the options
    return cross_entropy_of_classes(logits, flat_targets, weights, ignore_index, reduction, label_smoothing)


def _are_probabilities(targets: Any, logits: Tensor) -> bool:
    """Whether ``targets`` are class probabilities: floating point, with the logits' shape."""
    if isinstance(targets, Tensor) or backend.is_array(targets):
        dtype, shape = targets.dtype, targets.shape
    else:
        try:
            values = np.asarray(targets)
        except (TypeError, ValueError):
            return False
        dtype, shape = values.dtype, values.shape
    return dtype.kind == "f" and tuple(shape) == logits.shape


def mse_loss(prediction: Tensor, target: Any) -> Tensor:
    """Mean squared error :math:`\\frac1n \\sum_i (p_i - t_i)^2`; shapes must match.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.mse_loss(mg.tensor([1.0, 2.0]), mg.tensor([0.0, 4.0]))
    tensor(2.5, dtype=float64)
    """
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
from minigrad.functions.nll import (  # noqa: E402  (cross_entropy uses them; nll uses log_softmax)
    cross_entropy_of_classes,
    cross_entropy_of_probabilities,
)

"""Binary cross-entropy, of probabilities and of logits, as PyTorch computes them.

For a probability :math:`p` (or a logit :math:`x`, :math:`p = \\sigma(x)`), a
target :math:`t \\in [0, 1]` and a weight :math:`w`,

.. math::

    \\ell = -w \\left(t \\log p + (1 - t) \\log (1 - p)\\right).

Of logits it is computed as :math:`(1 - t)\\, x - \\log \\sigma(x)` with
:math:`\\log \\sigma(x) = \\min(x, 0) - \\log(1 + e^{-|x|})`, which overflows
for no :math:`x`; of probabilities the logarithms are clamped at :math:`-100`
as in PyTorch, so :math:`p = 0` or 1 gives a finite loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import backend
from minigrad.function import DeviceMismatchError, Function
from minigrad.functions.elementwise import log, maximum, sigmoid
from minigrad.functions.loss_arguments import check_reduction, constant_like, reduce
from minigrad.tensor import Tensor

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits"]

#: PyTorch's floor under :math:`p (1 - p)` in the gradient of binary_cross_entropy: 1e-12 as a float32 constant
#: (9.99999996e-13), which PyTorch uses in every dtype.
_GRADIENT_FLOOR = float(np.float32(1e-12))
#: PyTorch's floor under the logarithms of binary_cross_entropy.
_LOG_FLOOR = -100.0


class LogSigmoid(Function):
    """:math:`y = \\log \\sigma(x) = \\min(x, 0) - \\log(1 + e^{-|x|})`; :math:`\\bar x = \\bar y\\, \\sigma(-x)`."""

    def forward(self, x: Any) -> Any:
        xp = backend.get_array_module(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy: Tensor) -> Tensor:
        return gy * sigmoid(-self.inputs[0])


class BinaryCrossEntropy(Function):
    """:math:`\\ell = -w (t \\max(\\log p, -100) + (1 - t) \\max(\\log(1 - p), -100))`, elementwise, with
    PyTorch's gradients :math:`\\bar p = \\bar\\ell\\, w (p - t) / \\max(p (1 - p), 10^{-12})` and
    :math:`\\bar t = \\bar\\ell\\, w \\log((1 - p) / p)`.
    """

    def __init__(self, weights: Any) -> None:
        self.weights = weights

    def forward(self, p: Any, t: Any) -> Any:
        xp = backend.get_array_module(p)
        with np.errstate(divide="ignore"):  # log 0 = -inf, floored at -100
            log_p = xp.maximum(xp.log(p), _LOG_FLOOR)
            log_q = xp.maximum(xp.log1p(-p), _LOG_FLOOR)
        losses = (t - 1) * log_q - t * log_p
        return losses if self.weights is None else losses * self.weights

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        p, t = self.inputs
        if self.weights is not None:
            gy = gy * self.weights
        gp = gy * (p - t) / maximum((1 - p) * p, _GRADIENT_FLOOR) if p.requires_grad else None
        gt = None
        if t.requires_grad:
            with np.errstate(divide="ignore"):  # p = 0 or 1: an infinite gradient, as PyTorch
                gt = -gy * log(p / (1 - p))
        return gp, gt


def _targets(targets: Any, like: Tensor) -> Tensor:
    """``targets`` as a Tensor of ``like``'s shape and dtype (differentiable when it is a Tensor)."""
    if isinstance(targets, Tensor):
        if targets.device != like.device:
            raise DeviceMismatchError(f"targets: on {targets.device}, the predictions on {like.device}")
        if targets.dtype.kind not in "biuf":
            raise TypeError(f"targets: expected real numbers, got dtype {targets.dtype}")
        targets = targets if targets.dtype == like.dtype else targets.astype(like.dtype)
    else:
        targets = Tensor(constant_like("targets", targets, like))
    if targets.shape != like.shape:
        raise ValueError(f"targets: expected the predictions' shape {like.shape}, got {targets.shape}")
    return targets


def _broadcast_weights(name: str, weight: Any, like: Tensor) -> Any:
    """``weight`` as a constant array that broadcasts to ``like``'s shape, or None."""
    if weight is None:
        return None
    weights = constant_like(name, weight, like)
    try:
        shape = np.broadcast_shapes(weights.shape, like.shape)
    except ValueError:
        shape = None
    if shape != like.shape:
        raise ValueError(f"{name}: shape {weights.shape} does not broadcast to the predictions' shape {like.shape}")
    return weights


def binary_cross_entropy(
    probabilities: Tensor, targets: Any, weight: Any = None, reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy of ``probabilities`` against ``targets``, as ``torch.nn.functional.binary_cross_entropy``.

    .. math::

        \\ell = -w \\left(t \\log p + (1 - t) \\log(1 - p)\\right), \\qquad
        \\bar p = \\bar\\ell\\, \\frac{w (p - t)}{p (1 - p)}, \\qquad \\bar t = \\bar\\ell\\, w \\log\\frac{1 - p}{p},

    with each logarithm clamped at :math:`-100` and :math:`p (1 - p)` at :math:`10^{-12}`, as PyTorch does.
    On logits, :func:`binary_cross_entropy_with_logits` is exact where this one clamps.

    Parameters
    ----------
    probabilities : Tensor
        :math:`p`, each in ``[0, 1]`` (e.g. the output of :func:`sigmoid`).
    targets : array_like or Tensor
        :math:`t`, the shape of ``probabilities``; a Tensor of them may require gradients.
    weight : array_like, optional
        :math:`w`, broadcasting to ``probabilities``; a constant.
    reduction : {"mean", "sum", "none"}, default "mean"

    Raises
    ------
    ValueError
        When a probability lies outside ``[0, 1]`` or is NaN, or a shape does not fit.

    >>> import minigrad as mg
    >>> p = mg.tensor([0.9, 0.2], requires_grad=True)
    >>> loss = mg.binary_cross_entropy(p, [1.0, 0.0])
    >>> round(loss.item(), 6)
    0.164252
    >>> loss.backward()
    >>> [round(g, 6) for g in p.grad.tolist()]
    [-0.555556, 0.625]
    """
    if not isinstance(probabilities, Tensor):
        raise TypeError(f"probabilities: expected a Tensor, got {type(probabilities).__name__}")
    reduction = check_reduction(reduction)
    targets = _targets(targets, probabilities)
    weights = _broadcast_weights("weight", weight, probabilities)
    values = probabilities.data
    outside = ~((values >= 0) & (values <= 1))
    if bool(outside.any()):
        raise ValueError(
            f"probabilities: expected values in [0, 1], got {values[outside].reshape(-1)[0].item()!r}; "
            "binary_cross_entropy_with_logits takes logits"
        )
    return reduce(BinaryCrossEntropy(weights)(probabilities, targets), reduction)


def binary_cross_entropy_with_logits(
    logits: Tensor, targets: Any, weight: Any = None, reduction: str = "mean", pos_weight: Any = None,
) -> Tensor:
    """Binary cross-entropy of :math:`\\sigma(\\text{logits})` against ``targets``, computed stably, as
    ``torch.nn.functional.binary_cross_entropy_with_logits``.

    With :math:`r` = ``pos_weight`` (1 by default), weighing the positive term,

    .. math::

        \\ell = w \\left((1 - t)\\, x - (1 + (r - 1)\\, t) \\log \\sigma(x)\\right), \\qquad
        \\bar x = \\bar\\ell\\, w \\left((1 + (r - 1)\\, t)\\, \\sigma(x) - r t\\right),

    and :math:`\\bar t = \\bar\\ell\\, w \\left(-x - (r - 1) \\log\\sigma(x)\\right)`. Without ``pos_weight``,
    :math:`\\bar x = \\bar\\ell\\, w (\\sigma(x) - t)`.

    Parameters
    ----------
    logits : Tensor
        :math:`x`, any real numbers.
    targets : array_like or Tensor
        :math:`t`, the shape of ``logits``; a Tensor of them may require gradients.
    weight : array_like, optional
        :math:`w`, broadcasting to ``logits``; a constant.
    reduction : {"mean", "sum", "none"}, default "mean"
    pos_weight : array_like, optional
        :math:`r`, broadcasting to ``logits`` (one per class along the last axis, typically); a constant.

    >>> import minigrad as mg
    >>> x = mg.tensor([800.0, -2.0], requires_grad=True)
    >>> loss = mg.binary_cross_entropy_with_logits(x, [1.0, 0.0])
    >>> round(loss.item(), 6)
    0.063464
    >>> loss.backward()
    >>> [round(g, 6) for g in x.grad.tolist()]
    [0.0, 0.059601]
    """
    if not isinstance(logits, Tensor):
        raise TypeError(f"logits: expected a Tensor, got {type(logits).__name__}")
    reduction = check_reduction(reduction)
    targets = _targets(targets, logits)
    weights = _broadcast_weights("weight", weight, logits)
    positive_weights = _broadcast_weights("pos_weight", pos_weight, logits)
    log_sigmoid = LogSigmoid()(logits)
    if positive_weights is not None:
        log_sigmoid = log_sigmoid * (targets * (positive_weights - 1) + 1)  # the Tensor first: CuPy arrays defer
    losses = (1 - targets) * logits - log_sigmoid
    if weights is not None:
        losses = losses * weights
    return reduce(losses, reduction)

"""The negative log-likelihood loss, and cross-entropy with PyTorch's options, built on it.

For log-probabilities :math:`X \\in \\mathbb{R}^{M \\times C}` (one row per
sample), class targets :math:`t`, class weights :math:`w` (all 1 by default)
and :math:`v_n = 0` where :math:`t_n` is the ignored index, else 1,

.. math::

    \\ell_n = -v_n\\, w_{t_n} X_{n, t_n}, \\qquad
    L_\\text{mean} = \\frac{\\sum_n \\ell_n}{\\sum_n v_n w_{t_n}}, \\quad L_\\text{sum} = \\sum_n \\ell_n,

and :math:`\\bar X_{n, c} = -\\bar\\ell_n\\, v_n w_{t_n} [c = t_n]`. Cross-entropy
is this loss of :math:`\\operatorname{log\\_softmax}` (PyTorch computes it the
same way), plus, with label smoothing :math:`\\varepsilon`, the smoothing term
(:func:`cross_entropy_of_classes`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.backend import get_array_module
from minigrad.function import Function
from minigrad.functions.loss import log_softmax
from minigrad.functions.loss_arguments import (
    check_ignore_index,
    check_reduction,
    class_rows,
    class_targets,
    class_weights,
    constant_like,
    sample_shape,
    scores_tensor,
)
from minigrad.functions.reduction import sum
from minigrad.functions.selection import where
from minigrad.functions.shape import reshape
from minigrad.tensor import Tensor

__all__ = ["cross_entropy_of_classes", "cross_entropy_of_probabilities", "nll_loss"]


def _row_weights(targets: Any, weights: Any, ignore_index: int, dtype: Any) -> tuple[Any, Any, Any]:
    """For flat class targets: which count, the targets with ignored ones replaced by class 0 (a valid index),
    and each row's weight :math:`v_n w_{t_n}`."""
    counted = targets != ignore_index
    safe = targets * counted  # ignored rows read class 0, then weigh 0
    weight = counted.astype(dtype) if weights is None else weights[safe] * counted
    return counted, safe, weight


class NLLLoss(Function):
    """:math:`\\ell_n = -v_n w_{t_n} X_{n,t_n}` over the rows of :math:`X`, reduced; the gradient puts
    :math:`-\\bar\\ell_n v_n w_{t_n}` at each row's target and 0 elsewhere (see the module).

    With every target ignored (or weighing 0) the mean is NaN (0/0), as in PyTorch, and the gradient is 0.
    """

    def __init__(self, targets: Any, weights: Any, ignore_index: int, reduction: str) -> None:
        self.targets = targets
        self.weights = weights
        self.ignore_index = ignore_index
        self.reduction = reduction

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        counted, self.safe, self.row_weight = _row_weights(self.targets, self.weights, self.ignore_index, x.dtype)
        picked = x[xp.arange(x.shape[0]), self.safe]
        losses = xp.where(counted, -(picked if self.weights is None else self.row_weight * picked), 0)
        if self.reduction == "none":
            return losses
        if self.reduction == "sum":
            return losses.sum()
        self.denominator = self.row_weight.sum()
        with np.errstate(invalid="ignore", divide="ignore"):  # nothing counted: 0 / 0 = NaN, as PyTorch
            return losses.sum() / self.denominator

    def backward(self, gy: Tensor) -> Tensor:
        x = self.inputs[0]
        xp = x.xp
        at_target = xp.zeros(x.shape, dtype=x.dtype)
        at_target[xp.arange(x.shape[0]), self.safe] = -self.row_weight
        if self.reduction == "none":
            return reshape(gy, (x.shape[0], 1)) * at_target
        if self.reduction == "mean":
            gy = gy / xp.where(self.denominator == 0, 1, self.denominator)
        return gy * at_target


def nll_loss(
    log_probabilities: Tensor, targets: Any, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class ``targets`` under ``log_probabilities``, as ``torch.nn.functional.nll_loss``.

    .. math::

        \\ell_n = -w_{t_n} X_{n, t_n}, \\qquad L = \\frac{\\sum_n \\ell_n}{\\sum_n w_{t_n}} \\ (\\text{mean}),
        \\qquad \\bar X_{n, c} = -\\bar\\ell_n\\, w_{t_n} [c = t_n],

    over the samples whose target is not ``ignore_index``.

    Parameters
    ----------
    log_probabilities : Tensor
        Shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``, e.g. the output of :func:`log_softmax` along axis 1.
    targets : array_like of int
        One class in ``[0, C)`` (or ``ignore_index``) per sample: shape ``()``, ``(N,)`` or ``(N, d1, ...)``.
    weight : array_like, optional
        One weight per class, shape ``(C,)``; a constant.
    ignore_index : int, default -100
        Samples with this target add nothing, to the loss or to the mean's denominator.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` gives one loss per sample, ignored ones 0.

    Returns
    -------
    Tensor
        A scalar, or one loss per sample.

    >>> import minigrad as mg
    >>> log_p = mg.log_softmax(mg.tensor([[2.0, 0.0], [0.0, 2.0]]), axis=1)
    >>> round(mg.nll_loss(log_p, [0, 1]).item(), 6)
    0.126928
    >>> round(mg.nll_loss(log_p, [0, -100], reduction="sum").item(), 6)
    0.126928
    """
    log_probabilities = scores_tensor("log_probabilities", log_probabilities)
    reduction = check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    weights = class_weights(weight, log_probabilities)
    flat_targets = class_targets(targets, log_probabilities, ignore_index)
    losses = NLLLoss(flat_targets, weights, ignore_index, reduction)(class_rows(log_probabilities))
    return reshape(losses, sample_shape(log_probabilities)) if reduction == "none" else losses


def cross_entropy_of_classes(
    logits: Tensor, flat_targets: Any, weights: Any, ignore_index: int, reduction: str, label_smoothing: float,
) -> Tensor:
    """Cross-entropy of class targets with every option, as PyTorch computes it (arguments already checked).

    With smoothing :math:`\\varepsilon` over :math:`C` classes the loss is
    :math:`(1 - \\varepsilon) L_\\text{nll} + \\frac{\\varepsilon}{C} S`, where
    :math:`S` reduces :math:`s_n = -v_n \\sum_c w_c \\log p_{n,c}` as the NLL term
    is reduced (the mean divides by the same :math:`\\sum_n v_n w_{t_n}`).
    """
    log_p = log_softmax(class_rows(logits), axis=1)
    loss = NLLLoss(flat_targets, weights, ignore_index, reduction)(log_p)
    if label_smoothing:
        counted, _, row_weight = _row_weights(flat_targets, weights, ignore_index, log_p.dtype)
        smoothing = -sum(log_p if weights is None else log_p * weights, axis=1)
        smoothing = where(counted, smoothing, 0.0)
        if reduction == "sum":
            smoothing = sum(smoothing)
        elif reduction == "mean":
            denominator = row_weight.sum()
            smoothing = sum(smoothing) / log_p.xp.where(denominator == 0, 1, denominator)
        classes = log_p.shape[1]
        loss = (1 - label_smoothing) * loss + smoothing * (label_smoothing / classes)
    return reshape(loss, sample_shape(logits)) if reduction == "none" else loss


def cross_entropy_of_probabilities(
    logits: Tensor, targets: Any, weights: Any, reduction: str, label_smoothing: float,
) -> Tensor:
    """Cross-entropy of class-probability targets (``targets`` has the logits' shape), as PyTorch computes it.

    .. math::

        \\ell_n = -\\sum_c w_c\\, q_{n,c} \\log p_{n,c}, \\qquad
        q = (1 - \\varepsilon)\\, \\text{targets} + \\varepsilon / C,

    the mean dividing by the number of samples. A target Tensor that requires gradients gets them.
    """
    if not isinstance(targets, Tensor):
        targets = Tensor(constant_like("targets", targets, logits))
    elif targets.dtype != logits.dtype:
        targets = targets.astype(logits.dtype)
    rows, target_rows = class_rows(logits), class_rows(targets)
    classes = rows.shape[1]
    if label_smoothing:
        target_rows = target_rows * (1 - label_smoothing) + label_smoothing / classes
    products = log_softmax(rows, axis=1) * target_rows
    if weights is not None:
        products = products * weights
    if reduction == "none":
        return reshape(-sum(products, axis=1), sample_shape(logits))
    total = -sum(products)
    samples = rows.shape[0]
    return total if reduction == "sum" else total / (samples if samples else np.nan)

"""Spread: variance and standard deviation over axes, with PyTorch's ``correction``.

Over the :math:`N` elements :math:`x_i` of each reduced slice, with mean :math:`\\mu`,

.. math::

    \\operatorname{var}(x) = \\frac{1}{N - c} \\sum_i (x_i - \\mu)^2, \\qquad
    \\frac{\\partial \\operatorname{var}}{\\partial x_i} = \\frac{2 (x_i - \\mu)}{N - c},

where the correction :math:`c` is 1 by default (the unbiased estimate, as
``torch.var``; NumPy's ``ddof``) and 0 for the biased one (``numpy.var``'s
default, and layer normalisation's).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.backend import get_array_module
from minigrad.checks import check_flag
from minigrad.function import Function
from minigrad.functions.reduction import Axis, _keepdims_shape, _normalize_axis, mean, sum
from minigrad.functions.selection import where
from minigrad.functions.shape import reshape
from minigrad.tensor import Tensor

__all__ = ["std", "var"]


def _degrees_of_freedom(x: Any, axis: Axis, correction: Any) -> tuple[tuple[int, ...], float]:
    """The reduced axes and :math:`N - c`, or an error naming ``x``, ``axis`` or ``correction``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"x: expected a Tensor, got {type(x).__name__}")
    if isinstance(correction, bool) or not isinstance(correction, (int, float, np.integer, np.floating)):
        raise TypeError(f"correction: expected a number, got {correction!r}")
    if not math.isfinite(correction) or correction < 0:
        raise ValueError(f"correction: expected a finite number >= 0, got {correction!r}")
    axes = _normalize_axis(axis, x.ndim)
    count = math.prod(x.shape[a] for a in axes)
    if count - correction <= 0:
        raise ValueError(
            f"correction: {correction!r} leaves no degrees of freedom for {count} value(s) per slice "
            f"(N - correction = {count - correction!r}); pass correction=0 for the biased estimate"
        )
    return axes, float(count - correction)


def var(x: Tensor, axis: Axis = None, correction: float = 1, keepdims: bool = False) -> Tensor:
    """Variance over ``axis`` (all elements by default), as ``torch.var``.

    .. math::

        y = \\frac{1}{N - c} \\sum_i (x_i - \\mu)^2, \\qquad \\bar x_i = \\bar y\\, \\frac{2 (x_i - \\mu)}{N - c}

    (the mean :math:`\\mu` is computed first, then the squared deviations, as NumPy does).

    Parameters
    ----------
    x : Tensor
    axis : int, tuple of int or None
    correction : float, default 1
        :math:`c`: 1 for the unbiased estimate (PyTorch's default), 0 for the biased one (NumPy's).
    keepdims : bool, default False

    Raises
    ------
    ValueError
        When :math:`N - c \\le 0` (PyTorch returns NaN or inf with a warning), or ``correction`` is negative.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    >>> y = mg.var(x)
    >>> round(y.item(), 6)
    1.666667
    >>> y.backward()
    >>> [round(g, 6) for g in x.grad.tolist()]
    [-1.0, -0.333333, 0.333333, 1.0]
    """
    keepdims = check_flag("keepdims", keepdims)
    axes, dof = _degrees_of_freedom(x, axis, correction)
    deviation = x - mean(x, axis=axes, keepdims=True)
    return sum(deviation * deviation, axis=axes, keepdims=keepdims) / dof


class Std(Function):
    """:math:`y = \\sqrt{\\operatorname{var}(x)}`;
    :math:`\\bar x_i = \\frac{\\bar y}{2y} \\cdot \\frac{2 (x_i - \\mu)}{N - c}`, and 0 where :math:`y = 0`
    (every value of the slice equal, where the square root has no derivative), as ``torch.std``.
    """

    def __init__(self, axes: tuple[int, ...], dof: float, keepdims: bool) -> None:
        self.axes = axes
        self.dof = dof
        self.keepdims = keepdims

    def forward(self, x: Any) -> Any:
        deviation = x - x.mean(axis=self.axes, keepdims=True)
        variance = (deviation * deviation).sum(axis=self.axes, keepdims=self.keepdims) / self.dof
        return get_array_module(x).sqrt(variance)

    def backward(self, gy: Tensor) -> Tensor:
        x = self.inputs[0]
        y = self.output()
        if not self.keepdims:
            shape = _keepdims_shape(x.shape, self.axes)
            gy, y = reshape(gy, shape), reshape(y, shape)
        zero = y.data == 0
        g_variance = where(zero, 0.0, gy / where(zero, 1.0, 2 * y))
        return g_variance * (2 * (x - mean(x, axis=self.axes, keepdims=True)) / self.dof)


def std(x: Tensor, axis: Axis = None, correction: float = 1, keepdims: bool = False) -> Tensor:
    """Standard deviation :math:`\\sqrt{\\operatorname{var}(x)}` over ``axis``, as ``torch.std``.

    .. math::

        y = \\sqrt{\\frac{1}{N - c} \\sum_i (x_i - \\mu)^2}, \\qquad
        \\bar x_i = \\bar y\\, \\frac{x_i - \\mu}{(N - c)\\, y} \\quad (0 \\text{ where } y = 0)

    Parameters and errors as :func:`var`.

    >>> import minigrad as mg
    >>> x = mg.tensor([[1.0, 3.0], [2.0, 2.0]], requires_grad=True)
    >>> y = mg.std(x, axis=1, correction=0)
    >>> y.tolist()
    [1.0, 0.0]
    >>> y.sum().backward()
    >>> x.grad.tolist()
    [[-0.5, 0.5], [0.0, 0.0]]
    """
    keepdims = check_flag("keepdims", keepdims)
    axes, dof = _degrees_of_freedom(x, axis, correction)
    return Std(axes, dof, keepdims)(x)

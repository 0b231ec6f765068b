"""Reductions (``sum``, ``mean``, ``max``, ``min``, ``logsumexp``, ``argmax``) and the broadcasting pair
``sum_to`` / ``broadcast_to``.

``sum_to`` and ``broadcast_to`` are each other's gradient, which makes every
broadcasting binary operation differentiable to any order:

.. math::

    y = \\operatorname{broadcast\\_to}(x, s) \\;\\Rightarrow\\;
    \\bar x = \\operatorname{sum\\_to}(\\bar y, \\operatorname{shape}(x)),
    \\qquad
    y = \\operatorname{sum\\_to}(x, s) \\;\\Rightarrow\\;
    \\bar x = \\operatorname{broadcast\\_to}(\\bar y, \\operatorname{shape}(x)).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.backend import get_array_module
from minigrad.checks import check_axis, check_flag
from minigrad.function import Function
from minigrad.tensor import Tensor

__all__ = ["argmax", "broadcast_to", "logsumexp", "max", "mean", "min", "sum", "sum_to"]

Axis = int | tuple[int, ...] | None


def _normalize_axis(axis: Axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    normalized = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise ValueError(f"axis: expected an integer, a tuple of integers or None, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"axis: {a} is out of range for a tensor with {ndim} dimension(s)")
        normalized.append(a % ndim)
    return tuple(sorted(normalized))


def _keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axes`` set to 1 (the result of ``keepdims=True``)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def sum_to_array(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum the array ``x`` over the axes that broadcasting ``shape`` to ``x.shape`` created."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape) if lead or y.shape != shape else y


class Sum(Function):
    """:math:`y = \\sum_{i \\in \\text{axis}} x_i`; :math:`\\bar x = \\bar y` broadcast back over the summed axes."""

    def __init__(self, axis: Axis, keepdims: bool) -> None:
        self.axis = axis
        self.keepdims = check_flag("keepdims", keepdims)

    def forward(self, x: Any) -> Any:
        self.axes = _normalize_axis(self.axis, x.ndim)
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy: Tensor) -> Tensor:
        x = self.inputs[0]
        if not self.keepdims:
            gy = reshape(gy, _keepdims_shape(x.shape, self.axes))
        return broadcast_to(gy, x.shape)


class Max(Function):
    """:math:`y = \\max_{i \\in \\text{axis}} x_i`.

    The gradient goes to the elements that give the result, shared equally
    among them when several do:
    :math:`\\bar x_i = \\bar y \\,[x_i = y] / \\#\\{j : x_j = y\\}`, over each
    reduced slice. A slice holding a NaN has the result NaN, which the NaN
    elements give: :math:`\\bar y` goes to them, shared equally (one NaN gets all
    of it), instead of making the whole slice's gradient NaN.

    This is PyTorch's rule for a full reduction, ``torch.max(x)`` (ties and
    NaNs shared equally), applied to every slice. Along an axis it agrees with
    ``torch.amax(x, dim)`` on ties, and with ``torch.max(x, dim)`` on a slice
    with one NaN; torch itself has no one rule there (``amax`` gives the whole
    slice NaN, ``max(x, dim)`` gives a tie or several NaNs' gradient to one
    element).
    """

    def __init__(self, axis: Axis, keepdims: bool) -> None:
        self.axis = axis
        self.keepdims = check_flag("keepdims", keepdims)

    def forward(self, x: Any) -> Any:
        self.axes = _normalize_axis(self.axis, x.ndim)
        return x.max(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy: Tensor) -> Tensor:
        x = self.inputs[0]
        y = self.output().data
        if not self.keepdims:
            shape = _keepdims_shape(x.shape, self.axes)
            gy, y = reshape(gy, shape), y.reshape(shape)
        xp = x.xp
        gives_result = (x.data == y) | (xp.isnan(x.data) & xp.isnan(y))
        share = gives_result / gives_result.sum(axis=self.axes, keepdims=True)
        return broadcast_to(gy, x.shape) * share.astype(x.dtype)


class Min(Max):
    """:math:`y = \\min_{i \\in \\text{axis}} x_i`, with the gradient rule of :class:`Max`
    (ties and NaNs share :math:`\\bar y` equally, as ``torch.min(x)``)."""

    def forward(self, x: Any) -> Any:
        self.axes = _normalize_axis(self.axis, x.ndim)
        return x.min(axis=self.axes, keepdims=self.keepdims)


class LogSumExp(Function):
    """:math:`y = \\ln \\sum_{i \\in \\text{axis}} e^{x_i}`; :math:`\\bar x = \\bar y\\, e^{x - y}`
    (the softmax of :math:`x` over the axes).

    Computed as :math:`m + \\ln \\sum_i e^{x_i - m}` with :math:`m = \\max_i x_i`, so no exponential
    overflows; an infinite :math:`m` is the result itself (:math:`-\\infty` when every element is, and
    over no element at all), as ``torch.logsumexp``.
    """

    def __init__(self, axis: Axis, keepdims: bool) -> None:
        self.axis = axis
        self.keepdims = check_flag("keepdims", keepdims)

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        self.axes = _normalize_axis(self.axis, x.ndim)
        kept_shape = _keepdims_shape(x.shape, self.axes)
        if any(x.shape[a] == 0 for a in self.axes):
            y = xp.full(kept_shape, -np.inf, dtype=xp.result_type(x.dtype, np.float16))
        else:
            m = x.max(axis=self.axes, keepdims=True)
            finite = xp.isfinite(m)
            shift = xp.where(finite, m, 0)
            with np.errstate(over="ignore", divide="ignore"):  # only in slices whose result is m or -inf
                y = xp.where(finite, xp.log(xp.exp(x - shift).sum(axis=self.axes, keepdims=True)) + shift, m)
        return y if self.keepdims else y.reshape(tuple(n for i, n in enumerate(kept_shape) if i not in self.axes))

    def backward(self, gy: Tensor) -> Tensor:
        x = self.inputs[0]
        y = self.output()
        if not self.keepdims:
            shape = _keepdims_shape(x.shape, self.axes)
            gy, y = reshape(gy, shape), reshape(y, shape)
        # x - y: NaN where both are one infinity, -inf where it overflows (its exponential is 0), as torch.
        with np.errstate(invalid="ignore", over="ignore"):
            return gy * exp(x - y)


class SumTo(Function):
    """Sum ``x`` down to ``shape`` (undo a broadcast); the gradient is ``broadcast_to``."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def forward(self, x: Any) -> Any:
        return sum_to_array(x, self.shape)

    def backward(self, gy: Tensor) -> Tensor:
        return broadcast_to(gy, self.inputs[0].shape)


class BroadcastTo(Function):
    """Broadcast ``x`` to ``shape`` (NumPy rules); the gradient is ``sum_to``."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def forward(self, x: Any) -> Any:
        return get_array_module(x).broadcast_to(x, self.shape)

    def backward(self, gy: Tensor) -> Tensor:
        return sum_to(gy, self.inputs[0].shape)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum of the elements over ``axis`` (all of them by default).

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.sum(mg.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    tensor([3., 7.], dtype=float64)
    """
    return Sum(axis, keepdims)(x)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis``: :math:`\\frac{1}{n}\\sum_i x_i`, with gradient :math:`\\bar y / n`.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.mean(mg.tensor([[1.0, 2.0], [3.0, 6.0]]), axis=0)
    tensor([2., 4.], dtype=float64)
    """
    total = sum(x, axis=axis, keepdims=keepdims)
    count = x.size // total.size if total.size else 0
    return total / count


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis`` (all elements by default); ties, and NaNs, share the gradient equally.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.max(mg.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1)
    tensor([5., 7.], dtype=float64)
    """
    return Max(axis, keepdims)(x)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis`` (all elements by default); ties, and NaNs, share the gradient equally.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.min(mg.tensor([[1.0, 5.0], [7.0, 2.0]]))
    tensor(1., dtype=float64)
    """
    return Min(axis, keepdims)(x)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """:math:`\\ln \\sum_i e^{x_i}` over ``axis`` (all elements by default), computed without overflow.

    .. math::

        y = m + \\ln \\sum_i e^{x_i - m}, \\quad m = \\max_i x_i, \\qquad
        \\bar x_i = \\bar y\\, e^{x_i - y} = \\bar y \\operatorname{softmax}(x)_i .

    Parameters
    ----------
    x : Tensor
    axis : int, tuple of int or None
        The axes to reduce (``torch.logsumexp``'s ``dim``); None reduces all.
    keepdims : bool, default False

    >>> import minigrad as mg
    >>> x = mg.tensor([1000.0, 1000.0], requires_grad=True)
    >>> y = mg.logsumexp(x)
    >>> round(y.item(), 6)
    1000.693147
    >>> y.backward()
    >>> [round(g, 6) for g in x.grad.tolist()]
    [0.5, 0.5]
    """
    return LogSumExp(axis, keepdims)(x)


def argmax(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The index of the largest value along ``axis``, or in the flattened tensor when ``axis`` is None.

    :math:`y = \\operatorname{arg\\,max}_i x_i`, the first such index on ties; a NaN counts as the largest
    value (its first index is the result), as in NumPy and PyTorch. An int64 tensor with no gradient
    (the index is piecewise constant).

    Parameters
    ----------
    x : Tensor
        At least one element along ``axis``.
    axis : int or None, default None
    keepdims : bool, default False
        Keep the reduced axis (all axes when ``axis`` is None) with length 1.

    Raises
    ------
    ValueError
        When ``axis`` is out of range or there is no element to choose from.

    >>> import minigrad as mg
    >>> logits = mg.tensor([[0.1, 2.0, 0.3], [5.0, 1.0, 5.0]])
    >>> mg.argmax(logits, axis=1).tolist()
    [1, 0]
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"x: expected a Tensor, got {type(x).__name__}")
    keepdims = check_flag("keepdims", keepdims)
    if axis is not None:
        axis = check_axis(axis, x.ndim)
    if x.size == 0:
        raise ValueError(f"x: argmax needs at least one value to choose from, got shape {x.shape}")
    return Tensor(x.xp.asarray(x.data.argmax(axis=axis, keepdims=keepdims), dtype=np.int64))


def sum_to(x: Any, shape: tuple[int, ...]) -> Tensor:
    """Sum ``x`` over broadcast axes so that the result has ``shape``.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.sum_to(mg.tensor([[1.0, 2.0], [3.0, 4.0]]), (1, 2))
    tensor([[4., 6.]], dtype=float64)
    """
    if isinstance(x, Tensor) and x.shape == tuple(shape):
        return x
    return SumTo(shape)(x)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Tensor:
    """Broadcast ``x`` to ``shape`` (a read-only view in the forward pass).

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.broadcast_to(mg.tensor([1.0, 2.0]), (2, 2))
    tensor([[1., 2.],
            [1., 2.]], dtype=float64)
    """
    if isinstance(x, Tensor) and x.shape == tuple(shape):
        return x
    return BroadcastTo(shape)(x)


from minigrad.functions.elementwise import exp  # noqa: E402  (LogSumExp.backward uses it)
from minigrad.functions.shape import reshape  # noqa: E402  (Sum.backward uses it)

"""Comparisons and selection: ``equal`` ... ``greater_equal`` (the operators ``==`` ... ``>=``), ``where`` and
``clip``.

A comparison gives a boolean tensor: it is piecewise constant, so it has no
gradient and records nothing. ``where`` and ``clip`` select values, and their
gradient goes back to the operand each value was taken from:

.. math::

    y = \\operatorname{where}(c, a, b) \\;\\Rightarrow\\;
    \\bar a = \\operatorname{sum\\_to}([c]\\, \\bar y), \\quad
    \\bar b = \\operatorname{sum\\_to}([\\lnot c]\\, \\bar y).

All broadcast their operands as NumPy does, and take Python numbers with the
dtype rules of the arithmetic operators.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import backend
from minigrad.function import DeviceMismatchError, Function, _as_tensors
from minigrad.functions.reduction import sum_to
from minigrad.tensor import Tensor

__all__ = ["clip", "equal", "greater", "greater_equal", "less", "less_equal", "not_equal", "where"]


def _compare(ufunc_name: str, a: Any, b: Any) -> Tensor:
    """``xp.<ufunc_name>(a, b)`` as a boolean tensor that records nothing."""
    a, b = _as_tensors((a, b))
    xp = a.xp
    return Tensor(xp.asarray(getattr(xp, ufunc_name)(a.data, b.data)))


def equal(a: Any, b: Any) -> Tensor:
    """Elementwise :math:`[a = b]` (``a == b``), broadcasting; a boolean tensor without gradient.

    NaN equals nothing, itself included.

    >>> import minigrad as mg
    >>> (mg.tensor([1.0, 2.0, 3.0]) == 2.0).tolist()
    [False, True, False]
    """
    return _compare("equal", a, b)


def not_equal(a: Any, b: Any) -> Tensor:
    """Elementwise :math:`[a \\ne b]` (``a != b``), broadcasting; a boolean tensor without gradient.

    >>> import minigrad as mg
    >>> (mg.tensor([1.0, 2.0]) != mg.tensor([1.0, 5.0])).tolist()
    [False, True]
    """
    return _compare("not_equal", a, b)


def less(a: Any, b: Any) -> Tensor:
    """Elementwise :math:`[a < b]` (``a < b``), broadcasting; a boolean tensor without gradient.

    >>> import minigrad as mg
    >>> (mg.tensor([1.0, 2.0, 3.0]) < 2.0).tolist()
    [True, False, False]
    """
    return _compare("less", a, b)


def less_equal(a: Any, b: Any) -> Tensor:
    """Elementwise :math:`[a \\le b]` (``a <= b``), broadcasting; a boolean tensor without gradient.

    >>> import minigrad as mg
    >>> (mg.tensor([1.0, 2.0, 3.0]) <= 2.0).tolist()
    [True, True, False]
    """
    return _compare("less_equal", a, b)


def greater(a: Any, b: Any) -> Tensor:
    """Elementwise :math:`[a > b]` (``a > b``), broadcasting; a boolean tensor without gradient.

    >>> import minigrad as mg
    >>> (mg.tensor([1.0, 2.0, 3.0]) > 2.0).tolist()
    [False, False, True]
    """
    return _compare("greater", a, b)


def greater_equal(a: Any, b: Any) -> Tensor:
    """Elementwise :math:`[a \\ge b]` (``a >= b``), broadcasting; a boolean tensor without gradient.

    >>> import minigrad as mg
    >>> (mg.tensor([1.0, 2.0, 3.0]) >= 2.0).tolist()
    [False, True, True]
    """
    return _compare("greater_equal", a, b)


class Where(Function):
    """:math:`y = a` where :math:`c`, else :math:`b` (broadcasting);
    :math:`\\bar a = \\operatorname{sum\\_to}(\\operatorname{where}(c, \\bar y, 0))`,
    :math:`\\bar b = \\operatorname{sum\\_to}(\\operatorname{where}(c, 0, \\bar y))`.

    The gradient is selected, not multiplied by a 0/1 mask, so an infinite
    :math:`\\bar y` on the side not taken gives 0, not NaN (as ``torch.where``).
    """

    def __init__(self, condition: Any) -> None:
        self.condition = condition

    def forward(self, a: Any, b: Any) -> Any:
        return backend.get_array_module(a).where(self.condition, a, b)

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        ga = sum_to(Where(self.condition)(gy, 0), a.shape) if a.requires_grad else None
        gb = sum_to(Where(self.condition)(0, gy), b.shape) if b.requires_grad else None
        return ga, gb


def _condition_array(condition: Any, device: backend.Device) -> Any:
    """``condition`` as a boolean array on ``device``, or an error naming ``condition``."""
    if isinstance(condition, Tensor):
        condition = condition.data
    if backend.is_array(condition):
        if backend.device_of(condition) != device:
            raise DeviceMismatchError(
                f"condition: on {backend.device_of(condition)}, the values on {device}; move it with .to(device)"
            )
    else:
        try:
            condition = np.asarray(condition)
        except (TypeError, ValueError):
            raise TypeError(f"condition: expected booleans, got {condition!r}") from None
        condition = backend.to_device(condition, device)
    if condition.dtype.kind != "b":
        raise TypeError(f"condition: expected booleans (e.g. x > 0), got dtype {condition.dtype}")
    return condition


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise :math:`y = a` where ``condition`` holds, else :math:`b`, broadcasting all three.

    .. math::

        y_i = \\begin{cases} a_i & c_i \\\\ b_i & \\lnot c_i \\end{cases}, \\qquad
        \\bar a_i = [c_i]\\, \\bar y_i, \\quad \\bar b_i = [\\lnot c_i]\\, \\bar y_i

    (summed over the broadcast axes of each operand). ``condition`` has no gradient.

    Parameters
    ----------
    condition : Tensor or array_like of bool
        Where to take ``a``; a comparison such as ``x > 0`` gives one.
    a, b : Tensor, array or number
        The values to choose from; at least one of ``a``, ``b``, ``condition`` is a Tensor.

    Returns
    -------
    Tensor
        The broadcast shape of the three; the dtype of ``a`` and ``b`` combined, as ``a + b``'s.

    Raises
    ------
    TypeError
        When ``condition`` is not boolean.

    >>> import minigrad as mg
    >>> x = mg.tensor([-1.0, 2.0], requires_grad=True)
    >>> y = mg.where(x > 0, x, 0.0)
    >>> y.tolist()
    [0.0, 2.0]
    >>> y.sum().backward()
    >>> x.grad.tolist()
    [0.0, 1.0]
    """
    operands = [value for value in (a, b, condition) if isinstance(value, Tensor)]
    if not operands:
        raise TypeError("where: expected at least one Tensor among condition, a and b")
    device = operands[0].device
    condition = _condition_array(condition, device)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(backend.to_device(np.asarray(a), device))
    return Where(condition)(a, b)


class Clip(Function):
    """:math:`y = \\min(\\max(x, l), h)` elementwise, broadcasting; either bound may be absent.

    As ``torch.clamp``: :math:`\\bar x = \\bar y\\, [l \\le x \\le h]` (the gradient passes at the bounds
    themselves, and is 0 at a NaN :math:`x`), :math:`\\bar l = \\bar y\\, [x < l]` and
    :math:`\\bar h = \\bar y\\, [x > h]` for tensor bounds. Where :math:`l > h`, :math:`y = h`
    and :math:`h` alone gets :math:`\\bar y`.
    """

    def __init__(self, has_low: bool, has_high: bool) -> None:
        self.has_low = has_low
        self.has_high = has_high

    def forward(self, x: Any, *bounds: Any) -> Any:
        xp = backend.get_array_module(x)
        y = xp.maximum(x, bounds[0]) if self.has_low else x
        return xp.minimum(y, bounds[-1]) if self.has_high else y

    def backward(self, gy: Tensor) -> tuple[Tensor | None, ...]:
        x, *bounds = self.inputs
        low = bounds[0] if self.has_low else None
        high = bounds[-1] if self.has_high else None
        inside = True
        if low is not None:
            inside = inside & (x.data >= low.data)
        if high is not None:
            inside = inside & (x.data <= high.data)
        grads = [sum_to(Where(inside)(gy, 0), x.shape) if x.requires_grad else None]
        if low is not None:
            below = x.data < low.data
            if high is not None:
                below = below & (low.data < high.data)
            grads.append(sum_to(Where(below)(gy, 0), low.shape) if low.requires_grad else None)
        if high is not None:
            above = x.data > high.data
            if low is not None:
                above = above | (high.data < low.data)
            grads.append(sum_to(Where(above)(gy, 0), high.shape) if high.requires_grad else None)
        return tuple(grads)


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - NumPy's and PyTorch's names
    """The values of ``x`` limited to ``[min, max]`` elementwise (``torch.clamp``, ``numpy.clip``).

    .. math::

        y = \\min(\\max(x, l), h), \\qquad \\bar x = \\bar y\\, [l \\le x \\le h],
        \\quad \\bar l = \\bar y\\, [x < l], \\quad \\bar h = \\bar y\\, [x > h]

    (see :class:`Clip` for ties and :math:`l > h`).

    Parameters
    ----------
    x : Tensor
    min, max : Tensor, array, number or None
        The bounds :math:`l` and :math:`h`, broadcasting with ``x``; at least one of them. Tensor bounds
        that require gradients get them.

    Raises
    ------
    ValueError
        When both bounds are None.

    >>> import minigrad as mg
    >>> x = mg.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    >>> y = mg.clip(x, -1.0, 1.0)
    >>> y.tolist()
    [-1.0, 0.5, 1.0]
    >>> y.sum().backward()
    >>> x.grad.tolist()
    [0.0, 1.0, 0.0]
    """
    if min is None and max is None:
        raise ValueError("min, max: expected at least one bound, got min=None and max=None")
    bounds = [bound for bound in (min, max) if bound is not None]
    return Clip(min is not None, max is not None)(x, *bounds)

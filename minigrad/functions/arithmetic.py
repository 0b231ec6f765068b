"""Arithmetic: ``+ - * / **`` and unary minus, with NumPy broadcasting.

Every binary operation broadcasts its operands as NumPy does. In backward, the
gradient of an operand that was broadcast is summed back to its shape with
:func:`~minigrad.functions.reduction.sum_to`:

.. math::

    \\bar x = \\operatorname{sum\\_to}\\!\\left(\\bar y \\, \\frac{\\partial y}{\\partial x},\\
    \\operatorname{shape}(x)\\right).
"""

from __future__ import annotations

from typing import Any

from minigrad.function import Function
from minigrad.functions.reduction import sum_to
from minigrad.tensor import Tensor

__all__ = ["add", "div", "mul", "neg", "pow", "sub"]


def _unbroadcast(g: Tensor, operand: Tensor) -> Tensor | None:
    """``g`` summed back to ``operand``'s shape, or ``None`` when no gradient is needed."""
    if not operand.requires_grad:
        return None
    return g if g.shape == operand.shape else sum_to(g, operand.shape)


class Add(Function):
    """:math:`y = a + b`; :math:`\\bar a = \\bar y`, :math:`\\bar b = \\bar y`."""

    def forward(self, a: Any, b: Any) -> Any:
        return a + b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        return _unbroadcast(gy, a), _unbroadcast(gy, b)


class Sub(Function):
    """:math:`y = a - b`; :math:`\\bar a = \\bar y`, :math:`\\bar b = -\\bar y`."""

    def forward(self, a: Any, b: Any) -> Any:
        return a - b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        return _unbroadcast(gy, a), _unbroadcast(-gy, b) if b.requires_grad else None


class Mul(Function):
    """:math:`y = a b`; :math:`\\bar a = \\bar y\\, b`, :math:`\\bar b = \\bar y\\, a`."""

    def forward(self, a: Any, b: Any) -> Any:
        return a * b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        ga = _unbroadcast(gy * b, a) if a.requires_grad else None
        gb = _unbroadcast(gy * a, b) if b.requires_grad else None
        return ga, gb


class Div(Function):
    """:math:`y = a / b`; :math:`\\bar a = \\bar y / b`, :math:`\\bar b = -\\bar y\\, a / b^2 = -\\bar y\\, y / b`."""

    def forward(self, a: Any, b: Any) -> Any:
        return a / b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        ga = _unbroadcast(gy / b, a) if a.requires_grad else None
        gb = _unbroadcast(-(gy * self.output()) / b, b) if b.requires_grad else None
        return ga, gb


class Neg(Function):
    """:math:`y = -x`; :math:`\\bar x = -\\bar y`."""

    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, gy: Tensor) -> Tensor:
        return -gy


class Pow(Function):
    """:math:`y = x^c`, with :math:`c` a constant or a tensor.

    .. math::

        \\bar x = \\bar y \\, c\\, x^{c - 1}, \\qquad
        \\bar c = \\bar y \\, x^c \\ln x .

    Where :math:`x = 0` and :math:`c \\ge 0` the gradient with respect to
    :math:`c` is taken as 0 (the limit of :math:`x^c \\ln x`), as PyTorch does;
    a negative base gives NaN, as :math:`\\ln x` does. Where :math:`c = 0`,
    :math:`x^0 = 1` is constant and :math:`\\bar x = 0`, also at :math:`x = 0`
    (where :math:`c\\, x^{c-1} = 0 \\cdot \\infty` would give NaN).
    """

    def forward(self, x: Any, c: Any) -> Any:
        return x**c

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, c = self.inputs
        gx = None
        if x.requires_grad:
            zero_exponent = c.data == 0
            # Replace the base by 1 where c = 0, so that 0 ** -1 = inf never meets the factor c = 0.
            base = x * ~zero_exponent + zero_exponent if zero_exponent.any() else x
            gx = _unbroadcast(gy * c * base ** (c - 1), x)
        gc = None
        if c.requires_grad:
            zero_base = (x.data == 0) & (c.data >= 0)
            if zero_base.any():
                # Replace the base by 1 where x = 0, so ln gives 0 instead of -inf.
                safe_x = x * ~zero_base + zero_base
                gc = _unbroadcast(gy * self.output() * log(safe_x), c)
            else:
                gc = _unbroadcast(gy * self.output() * log(x), c)
        return gx, gc


def add(a: Any, b: Any) -> Tensor:
    """Elementwise :math:`a + b` (broadcasting).

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.add(mg.tensor([1.0, 2.0]), 10.0)
    tensor([11., 12.], dtype=float64)
    """
    return Add()(a, b)


def sub(a: Any, b: Any) -> Tensor:
    """Elementwise :math:`a - b` (broadcasting).

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.sub(mg.tensor([5.0, 5.0]), mg.tensor([1.0, 2.0]))
    tensor([4., 3.], dtype=float64)
    """
    return Sub()(a, b)


def mul(a: Any, b: Any) -> Tensor:
    """Elementwise :math:`a \\cdot b` (broadcasting).

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.mul(mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0]))
    tensor([3., 8.], dtype=float64)
    """
    return Mul()(a, b)


def div(a: Any, b: Any) -> Tensor:
    """Elementwise :math:`a / b` (broadcasting).

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.div(mg.tensor([1.0, 3.0]), 2.0)
    tensor([0.5, 1.5], dtype=float64)
    """
    return Div()(a, b)


def neg(x: Any) -> Tensor:
    """Elementwise :math:`-x`.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.neg(mg.tensor([1.0, -2.0]))
    tensor([-1.,  2.], dtype=float64)
    """
    return Neg()(x)


def pow(x: Any, c: Any) -> Tensor:
    """Elementwise :math:`x^c`; ``c`` is a Python number, an array or a tensor (broadcasting).

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.pow(mg.tensor([2.0, 3.0]), 2)
    tensor([4., 9.], dtype=float64)
    """
    return Pow()(x, c)


from minigrad.functions.elementwise import log  # noqa: E402  (Pow.backward uses it)

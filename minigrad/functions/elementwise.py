"""Elementwise functions: exp, log, sqrt, abs, tanh, sigmoid, relu, maximum and minimum.

Each class docstring states the function and its derivative. Where a
derivative can be written with the output :math:`y` (``exp``, ``tanh``,
``sigmoid``, ``sqrt``), backward uses the output rather than recomputing it.
"""

from __future__ import annotations

from typing import Any

from minigrad.backend import get_array_module
from minigrad.function import Function
from minigrad.tensor import Tensor

__all__ = ["abs", "exp", "log", "maximum", "minimum", "relu", "sigmoid", "sqrt", "tanh"]


class Exp(Function):
    """:math:`y = e^x`; :math:`\\bar x = \\bar y\\, y`."""

    def forward(self, x: Any) -> Any:
        return get_array_module(x).exp(x)

    def backward(self, gy: Tensor) -> Tensor:
        return gy * self.output()


class Log(Function):
    """:math:`y = \\ln x`; :math:`\\bar x = \\bar y / x`."""

    def forward(self, x: Any) -> Any:
        return get_array_module(x).log(x)

    def backward(self, gy: Tensor) -> Tensor:
        return gy / self.inputs[0]


class Sqrt(Function):
    """:math:`y = \\sqrt{x}`; :math:`\\bar x = \\bar y / (2 y)`."""

    def forward(self, x: Any) -> Any:
        return get_array_module(x).sqrt(x)

    def backward(self, gy: Tensor) -> Tensor:
        return gy / (2 * self.output())


class Abs(Function):
    """:math:`y = |x|`; :math:`\\bar x = \\bar y \\operatorname{sign}(x)` (0 at :math:`x = 0`).

    At a real NaN the sign is taken as 0, so the gradient there is 0 (as ``torch.abs``, whose
    ``sgn(nan)`` is 0), not NaN.
    """

    def forward(self, x: Any) -> Any:
        return get_array_module(x).abs(x)

    def backward(self, gy: Tensor) -> Tensor:
        x = self.inputs[0]
        sign = x.xp.asarray(x.xp.sign(x.data))  # ``asarray``: a 0-d input gives a NumPy scalar, not an array
        if x.dtype.kind == "f":
            sign[x.xp.isnan(x.data)] = 0
        return gy * sign


class Tanh(Function):
    """:math:`y = \\tanh x`; :math:`\\bar x = \\bar y\\, (1 - y^2)`."""

    def forward(self, x: Any) -> Any:
        return get_array_module(x).tanh(x)

    def backward(self, gy: Tensor) -> Tensor:
        y = self.output()
        return gy * (1 - y * y)


class Sigmoid(Function):
    """:math:`y = \\sigma(x) = 1 / (1 + e^{-x})`; :math:`\\bar x = \\bar y\\, y (1 - y)`.

    Computed as :math:`1/(1+e^{-|x|})` or :math:`e^{-|x|}/(1+e^{-|x|})` by
    the sign of :math:`x`, so no exponential overflows.
    """

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        z = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)

    def backward(self, gy: Tensor) -> Tensor:
        y = self.output()
        return gy * y * (1 - y)


class ReLU(Function):
    """:math:`y = \\max(x, 0)`; :math:`\\bar x = \\bar y\\, [\\lnot(x \\le 0)]`.

    That is :math:`[x > 0]` for numbers (0 at :math:`x = 0`), and the whole :math:`\\bar y` at a NaN, whose
    NaN output came from it, as PyTorch.
    """

    def forward(self, x: Any) -> Any:
        return get_array_module(x).maximum(x, 0)

    def backward(self, gy: Tensor) -> Tensor:
        x = self.inputs[0]
        return gy * ~(x.data <= 0)

    def backward_arrays(self, gy: Any) -> Any:
        return gy * ~(self.inputs[0].data <= 0)


class Maximum(Function):
    """:math:`y = \\max(a, b)` elementwise, broadcasting.

    .. math::

        \\bar a = \\bar y \\left([\\lnot(a < b)] - \\tfrac12 [a = b]\\right), \\qquad
        \\bar b = \\bar y \\left([\\lnot(b < a)] - \\tfrac12 [a = b]\\right),

    so the larger side gets :math:`\\bar y` and a tie shares it equally, as ``torch.maximum``; where
    either side is NaN (no order), both get the whole :math:`\\bar y`, as ``torch.maximum`` too.
    """

    def forward(self, a: Any, b: Any) -> Any:
        return get_array_module(a).maximum(a, b)

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        dtype = gy.dtype
        tie = (a.data == b.data).astype(dtype) * 0.5
        ga = gy * ((~(a.data < b.data)).astype(dtype) - tie) if a.requires_grad else None
        gb = gy * ((~(b.data < a.data)).astype(dtype) - tie) if b.requires_grad else None
        return (
            None if ga is None else sum_to(ga, a.shape),
            None if gb is None else sum_to(gb, b.shape),
        )


class Minimum(Function):
    """:math:`y = \\min(a, b)` elementwise, broadcasting; the mirror of :class:`Maximum`.

    .. math::

        \\bar a = \\bar y \\left([\\lnot(a > b)] - \\tfrac12 [a = b]\\right), \\qquad
        \\bar b = \\bar y \\left([\\lnot(b > a)] - \\tfrac12 [a = b]\\right),

    so the smaller side gets :math:`\\bar y` and a tie shares it equally, as ``torch.minimum``; where
    either side is NaN, both get the whole :math:`\\bar y`, as ``torch.minimum`` too.
    """

    def forward(self, a: Any, b: Any) -> Any:
        return get_array_module(a).minimum(a, b)

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        dtype = gy.dtype
        tie = (a.data == b.data).astype(dtype) * 0.5
        ga = gy * ((~(a.data > b.data)).astype(dtype) - tie) if a.requires_grad else None
        gb = gy * ((~(b.data > a.data)).astype(dtype) - tie) if b.requires_grad else None
        return (
            None if ga is None else sum_to(ga, a.shape),
            None if gb is None else sum_to(gb, b.shape),
        )


def exp(x: Any) -> Tensor:
    """Elementwise :math:`e^x`.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.exp(mg.tensor([0.0, 1.0]))
    tensor([1.        , 2.71828183], dtype=float64)
    """
    return Exp()(x)


def log(x: Any) -> Tensor:
    """Elementwise natural logarithm :math:`\\ln x`.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.log(mg.tensor([1.0, 4.0]))
    tensor([0.        , 1.38629436], dtype=float64)
    """
    return Log()(x)


def sqrt(x: Any) -> Tensor:
    """Elementwise :math:`\\sqrt{x}`.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.sqrt(mg.tensor([4.0, 9.0]))
    tensor([2., 3.], dtype=float64)
    """
    return Sqrt()(x)


def abs(x: Any) -> Tensor:
    """Elementwise :math:`|x|`.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.abs(mg.tensor([-1.5, 0.0, 2.0]))
    tensor([1.5, 0. , 2. ], dtype=float64)
    """
    return Abs()(x)


def tanh(x: Any) -> Tensor:
    """Elementwise hyperbolic tangent.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.tanh(mg.tensor([0.0]))
    tensor([0.], dtype=float64)
    """
    return Tanh()(x)


def sigmoid(x: Any) -> Tensor:
    """Elementwise logistic function :math:`1 / (1 + e^{-x})`.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.sigmoid(mg.tensor([0.0]))
    tensor([0.5], dtype=float64)
    """
    return Sigmoid()(x)


def relu(x: Any) -> Tensor:
    """Elementwise rectifier :math:`\\max(x, 0)`.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.relu(mg.tensor([-1.0, 0.5]))
    tensor([0. , 0.5], dtype=float64)
    """
    return ReLU()(x)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum of ``a`` and ``b`` (broadcasting); ties share the gradient.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.maximum(mg.tensor([1.0, 5.0]), mg.tensor([3.0, 2.0]))
    tensor([3., 5.], dtype=float64)
    """
    return Maximum()(a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum of ``a`` and ``b`` (broadcasting); ties share the gradient.

    .. math::

        y = \\min(a, b), \\qquad \\bar a = \\bar y\\, [a < b], \\quad \\bar b = \\bar y\\, [b < a]

    with a tie giving each side :math:`\\bar y / 2` (see :class:`Minimum`).

    >>> import minigrad as mg
    >>> a = mg.tensor([1.0, 5.0, 2.0], requires_grad=True)
    >>> y = mg.minimum(a, 2.0)
    >>> y.tolist()
    [1.0, 2.0, 2.0]
    >>> y.sum().backward()
    >>> a.grad.tolist()
    [1.0, 0.0, 0.5]
    """
    return Minimum()(a, b)


from minigrad.functions.reduction import sum_to  # noqa: E402  (Maximum.backward and Minimum.backward use it)

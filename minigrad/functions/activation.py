"""The Gaussian error linear unit, GELU, in its exact form and in its tanh approximation.

With :math:`\\Phi` the standard normal distribution function and :math:`\\varphi` its density,

.. math::

    \\operatorname{gelu}(x) = x\\, \\Phi(x) = \\frac{x}{2} \\left(1 + \\operatorname{erf}\\frac{x}{\\sqrt 2}\\right),
    \\qquad \\operatorname{gelu}'(x) = \\Phi(x) + x\\, \\varphi(x), \\qquad
    \\varphi(x) = \\frac{e^{-x^2/2}}{\\sqrt{2\\pi}},

and the approximation of Hendrycks & Gimpel (2016), PyTorch's ``approximate="tanh"``,

.. math::

    \\operatorname{gelu}_{\\tanh}(x) = \\frac{x}{2} \\left(1 + \\tanh u\\right), \\quad
    u = \\sqrt{2/\\pi}\\, (x + 0.044715\\, x^3), \\qquad
    \\operatorname{gelu}_{\\tanh}'(x) = \\frac{1 + \\tanh u}{2} + \\frac{x}{2} (1 - \\tanh^2 u)\\,
    \\sqrt{2/\\pi}\\, (1 + 3 \\cdot 0.044715\\, x^2).
"""

from __future__ import annotations

import math
from typing import Any

from minigrad import backend
from minigrad.function import Function
from minigrad.functions.elementwise import exp, tanh
from minigrad.functions.selection import clip
from minigrad.tensor import Tensor

__all__ = ["gelu"]

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_SCALE = math.sqrt(2.0 / math.pi)
_CUBIC = 0.044715
#: Beyond this |x| the normal density is exactly 0 in float64 (e^-800), so clipping x there changes no value
#: and keeps x * x from overflowing.
_DENSITY_BOUND = 40.0
#: Beyond this |x| the tanh form's u exceeds 43 and tanh u is exactly +-1, so clipping x there changes no value
#: and keeps x ** 3 from overflowing.
_TANH_BOUND = 10.0


def _normal_density(x: Tensor) -> Tensor:
    """:math:`\\varphi(x) = e^{-x^2/2} / \\sqrt{2\\pi}`, differentiably."""
    bounded = clip(x, -_DENSITY_BOUND, _DENSITY_BOUND)
    return exp(-0.5 * bounded * bounded) * _INV_SQRT_2PI


class NormalCdf(Function):
    """:math:`y = \\Phi(x) = \\frac12 (1 + \\operatorname{erf}(x / \\sqrt 2))`;
    :math:`\\bar x = \\bar y\\, \\varphi(x)`.

    The derivative of :class:`Gelu`'s derivative goes through it, so that GELU is differentiable twice.
    """

    def forward(self, x: Any) -> Any:
        return 0.5 * (1 + backend.erf(x * _SQRT_HALF))

    def backward(self, gy: Tensor) -> Tensor:
        return gy * _normal_density(self.inputs[0])


class Gelu(Function):
    """:math:`y = x\\, \\Phi(x)`, :math:`\\bar x = \\bar y\\, (\\Phi(x) + x\\, \\varphi(x))`; or the tanh form (see the
    module), as ``torch.nn.functional.gelu``."""

    def __init__(self, approximate: str) -> None:
        self.approximate = approximate

    def forward(self, x: Any) -> Any:
        if self.approximate == "none":
            return x * 0.5 * (1 + backend.erf(x * _SQRT_HALF))
        xp = backend.get_array_module(x)
        bounded = xp.clip(x, -_TANH_BOUND, _TANH_BOUND)
        inner = _TANH_SCALE * (bounded + _CUBIC * (bounded * bounded * bounded))
        return 0.5 * x * (1 + xp.tanh(inner))

    def backward(self, gy: Tensor) -> Tensor:
        x = self.inputs[0]
        if self.approximate == "none":
            return gy * (NormalCdf()(x) + x * _normal_density(x))
        bounded = clip(x, -_TANH_BOUND, _TANH_BOUND)
        t = tanh(_TANH_SCALE * (bounded + _CUBIC * (bounded * bounded * bounded)))
        left = 0.5 * (1 + t)
        right = 0.5 * x * (1 - t * t) * (_TANH_SCALE * (1 + 3 * _CUBIC * (bounded * bounded)))
        return gy * (left + right)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """The Gaussian error linear unit :math:`x\\, \\Phi(x)`, elementwise, as ``torch.nn.functional.gelu``.

    .. math::

        y = \\frac{x}{2} \\left(1 + \\operatorname{erf}\\frac{x}{\\sqrt 2}\\right), \\qquad
        \\bar x = \\bar y \\left(\\Phi(x) + x\\, \\frac{e^{-x^2/2}}{\\sqrt{2\\pi}}\\right)

    (the tanh approximation and its derivative are in the module's docstring).

    Parameters
    ----------
    x : Tensor
        Real numbers.
    approximate : {"none", "tanh"}, default "none"
        ``"none"``: the exact form with :math:`\\operatorname{erf}`; ``"tanh"``: the tanh approximation.

    >>> import minigrad as mg
    >>> x = mg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> y = mg.gelu(x)
    >>> [round(v, 4) for v in y.tolist()]
    [-0.1587, 0.0, 1.9545]
    >>> y.sum().backward()
    >>> [round(g, 4) for g in x.grad.tolist()]
    [-0.0833, 0.5, 1.0852]
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")
    if isinstance(x, Tensor) and x.dtype.kind == "c":
        raise TypeError(f"x: expected real numbers, got dtype {x.dtype}")
    return Gelu(approximate)(x)

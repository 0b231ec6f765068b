"""Activation layers beyond ``ReLU`` and ``Tanh``: ``Sigmoid`` and ``GELU``."""

from __future__ import annotations

from minigrad import functions
from minigrad.nn.module import Module
from minigrad.tensor import Tensor

__all__ = ["GELU", "Sigmoid"]


class Sigmoid(Module):
    """Elementwise logistic function as a layer, as ``torch.nn.Sigmoid``.

    .. math::

        y = \\sigma(x) = \\frac{1}{1 + e^{-x}}, \\qquad \\bar x = \\bar y\\, y (1 - y),

    computed without overflow for any :math:`x` (see :func:`minigrad.sigmoid`).

    >>> import minigrad as mg
    >>> mg.nn.Sigmoid()(mg.tensor([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.5, 1.0]
    """

    def forward(self, x: Tensor) -> Tensor:
        return functions.sigmoid(x)


class GELU(Module):
    """The Gaussian error linear unit as a layer, as ``torch.nn.GELU``.

    .. math::

        y = x\\, \\Phi(x), \\qquad \\bar x = \\bar y \\left(\\Phi(x) + x\\, \\varphi(x)\\right),

    with :math:`\\Phi` and :math:`\\varphi` the standard normal distribution function and density; or
    its tanh approximation (see :func:`minigrad.gelu`).

    Parameters
    ----------
    approximate : {"none", "tanh"}, default "none"

    >>> import minigrad as mg
    >>> [round(v, 4) for v in mg.nn.GELU()(mg.tensor([-1.0, 0.0, 2.0])).tolist()]
    [-0.1587, 0.0, 1.9545]
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return functions.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"

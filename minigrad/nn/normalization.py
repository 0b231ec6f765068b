"""``LayerNorm``: normalise each sample over its last axes, as ``torch.nn.LayerNorm``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import functions
from minigrad.backend import Device
from minigrad.checks import check_flag
from minigrad.nn.layers import _check_float_dtype, _check_positive_int, _parameter
from minigrad.nn.module import Module
from minigrad.tensor import Tensor

__all__ = ["LayerNorm"]


def _normalized_shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise ValueError(f"normalized_shape: expected a positive integer or a sequence of them, got {value!r}")
    return tuple(_check_positive_int("normalized_shape", n) for n in value)


class LayerNorm(Module):
    """Layer normalisation over the last ``len(normalized_shape)`` axes, as ``torch.nn.LayerNorm``.

    Over the :math:`N` elements :math:`x_i` of each sample's normalised axes, with mean :math:`\\mu` and
    biased variance :math:`\\sigma^2 = \\frac1N \\sum_i (x_i - \\mu)^2`,

    .. math::

        \\hat x_i = \\frac{x_i - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}}, \\qquad y_i = \\gamma_i \\hat x_i + \\beta_i,
        \\qquad
        \\bar x_i = \\frac{1}{\\sqrt{\\sigma^2 + \\epsilon}} \\left(g_i - \\frac1N \\sum_j g_j
        - \\hat x_i \\frac1N \\sum_j g_j \\hat x_j\\right), \\quad g = \\bar y \\odot \\gamma,

    with :math:`\\bar\\gamma = \\sum \\bar y \\odot \\hat x` and :math:`\\bar\\beta = \\sum \\bar y` over the other
    axes. The gradient comes from the recorded operations (it is differentiable again).

    Parameters
    ----------
    normalized_shape : int or sequence of int
        The trailing shape to normalise over, e.g. the feature count.
    eps : float, default 1e-5
        :math:`\\epsilon`, added to the variance.
    elementwise_affine : bool, default True
        Learn :math:`\\gamma` (``weight``, initially 1) and :math:`\\beta` (``bias``, initially 0).
    bias : bool, default True
        Learn :math:`\\beta` (with ``elementwise_affine``).
    dtype : dtype, default float32
    device : str, default "cpu"

    >>> import minigrad as mg
    >>> layer = mg.nn.LayerNorm(2, eps=0.0)
    >>> layer(mg.tensor([[1.0, 3.0], [5.0, 4.0]])).tolist()
    [[-1.0, 1.0], [1.0, -1.0]]
    """

    def __init__(
        self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
        bias: bool = True, dtype: Any = np.float32, device: str | Device | None = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
            raise TypeError(f"eps: expected a number >= 0, got {eps!r}")
        if not (math.isfinite(eps) and eps >= 0):
            raise ValueError(f"eps: expected a finite number >= 0, got {eps!r}")
        self.eps = float(eps)
        self.elementwise_affine = check_flag("elementwise_affine", elementwise_affine)
        bias, dtype = check_flag("bias", bias), _check_float_dtype(dtype)
        affine = self.elementwise_affine
        self.weight = _parameter(np.ones(self.normalized_shape, dtype), device) if affine else None
        self.bias = _parameter(np.zeros(self.normalized_shape, dtype), device) if affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"x: expected a Tensor, got {type(x).__name__}")
        count = len(self.normalized_shape)
        if x.ndim < count or x.shape[x.ndim - count:] != self.normalized_shape:
            raise ValueError(f"x: expected a shape ending in {self.normalized_shape}, got {x.shape}")
        axes = tuple(range(x.ndim - count, x.ndim))
        centred = x - functions.mean(x, axis=axes, keepdims=True)
        variance = functions.mean(centred * centred, axis=axes, keepdims=True)
        y = centred / functions.sqrt(variance + self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

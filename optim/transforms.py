"""Gradient transforms applied before the update rule, and the moving average of the weights.

These are the Keras optimizer features, with Keras's formulas:

* ``clipvalue`` :math:`c`: :math:`g \\leftarrow \\min(\\max(g, -c), c)` elementwise;
* ``clipnorm`` :math:`c`, per tensor: :math:`g \\leftarrow g\\, c / \\max(\\lVert g\\rVert_2, c)`;
* ``global_clipnorm`` :math:`c`, over all tensors together:
  :math:`g_i \\leftarrow g_i\\, c \\min(1/N, 1/c)` with :math:`N = \\sqrt{\\sum_i \\lVert g_i\\rVert_2^2}`
  (NaN everywhere when :math:`N` is not finite, as Keras does);
* the exponential moving average of the weights,
  :math:`\\bar\\theta_t = \\mu \\bar\\theta_{t-1} + (1-\\mu)\\theta_t` with :math:`\\mu = 0` at the first update
  (so the average starts at the first updated weights).

Every function works on NumPy and CuPy arrays and returns new arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from minigrad.backend import get_array_module

__all__ = ["clip_by_global_norm", "clip_by_norm", "clip_by_value", "ema_update", "global_norm"]


def clip_by_value(grad: Any, clipvalue: float) -> Any:
    """Clip every element to :math:`[-c, c]`."""
    return get_array_module(grad).clip(grad, -clipvalue, clipvalue)


def clip_by_norm(grad: Any, clipnorm: float) -> Any:
    """Rescale ``grad`` so its L2 norm is at most :math:`c`: :math:`g\\, c / \\max(\\lVert g\\rVert_2, c)`."""
    xp = get_array_module(grad)
    norm = xp.sqrt((grad * grad).sum())
    return grad * clipnorm / xp.maximum(norm, clipnorm)


def global_norm(grads: Sequence[Any]) -> float:
    """:math:`\\sqrt{\\sum_i \\lVert g_i\\rVert_2^2}` over all the tensors, as a Python float."""
    return math.sqrt(sum(float((g.astype("float64") ** 2).sum()) for g in grads))


def clip_by_global_norm(grads: Sequence[Any], clipnorm: float) -> list[Any]:
    """Rescale all tensors by one factor so their global norm is at most :math:`c`."""
    norm = global_norm(grads)
    if not math.isfinite(norm):
        return [g * math.nan for g in grads]
    scale = clipnorm * min(1.0 / norm if norm > 0 else math.inf, 1.0 / clipnorm)
    return [g * scale for g in grads]


def ema_update(average: Any, value: Any, momentum: float, first: bool) -> None:
    """:math:`\\bar\\theta \\leftarrow \\mu\\bar\\theta + (1-\\mu)\\theta` in place.

    :math:`\\mu = 0` on the first update, so the average starts at the weights.
    """
    mu = 0.0 if first else momentum
    average *= mu
    average += (1 - mu) * value

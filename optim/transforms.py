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

Thresholds at the edges of the gradient's dtype never produce NaN from finite
gradients: where Keras's formula would divide 0 by 0 or overflow (a threshold
that rounds to 0 or to infinity in that dtype, or a product :math:`g\\,c` beyond
its largest value), the same clipping is computed in double precision instead.
Elsewhere the results are Keras's, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.backend import get_array_module

__all__ = ["clip_by_global_norm", "clip_by_norm", "clip_by_value", "ema_update", "global_norm"]


def clip_by_value(grad: Any, clipvalue: float) -> Any:
    """Clip every element to :math:`[-c, c]` (a :math:`c` beyond the dtype's range is infinite, as it rounds)."""
    bound = clipvalue if clipvalue <= float(np.finfo(grad.dtype).max) else math.inf
    return get_array_module(grad).clip(grad, -bound, bound)


def clip_by_norm(grad: Any, clipnorm: float) -> Any:
    """Rescale ``grad`` so its L2 norm is at most :math:`c`: :math:`g\\, c / \\max(\\lVert g\\rVert_2, c)`."""
    if not _norm_formula_holds(grad, clipnorm):
        return _clip_by_norm_in_double(grad, clipnorm)
    xp = get_array_module(grad)
    norm = xp.sqrt((grad * grad).sum())
    return grad * clipnorm / xp.maximum(norm, clipnorm)


def _norm_formula_holds(grad: Any, clipnorm: float) -> bool:
    """Whether :math:`g\\, c / \\max(\\lVert g\\rVert_2, c)` in the gradient's dtype neither divides 0 by 0 nor
    overflows: :math:`c` is finite and not 0 in that dtype, and no :math:`|g_i|\\,c` exceeds its largest value.

    For :math:`c \\le \\sqrt{\\text{max}}` the product cannot overflow while the norm is finite (then
    :math:`|g_i| \\le \\lVert g\\rVert_2 \\le \\sqrt{\\text{max}}`), so only a larger :math:`c` looks at the gradient.
    """
    info = np.finfo(grad.dtype)
    if grad.size == 0:
        return True
    if not float(info.smallest_subnormal) <= clipnorm <= float(info.max):
        return False
    if clipnorm <= math.sqrt(float(info.max)):
        return True
    largest = float(abs(grad).max())
    return not math.isfinite(largest) or largest * clipnorm <= float(info.max) / 2


def _clip_by_norm_in_double(grad: Any, clipnorm: float) -> Any:
    """:func:`clip_by_norm` in double precision, rounded to the gradient's dtype once, at the end.

    The factor :math:`\\min(1, c / \\lVert g\\rVert_2)` is at most 1, so nothing overflows; a gradient that
    already holds infinity or NaN goes through Keras's formula, which propagates it.
    """
    xp = get_array_module(grad)
    wide = grad.astype(np.float64)
    largest = float(abs(wide).max())
    if not math.isfinite(largest):
        return grad * clipnorm / xp.maximum(xp.sqrt((grad * grad).sum()), clipnorm)
    if largest == 0:
        return grad.copy()
    scaled = wide / largest  # the norm without overflowing: largest * ||g / largest||
    norm = largest * math.sqrt(float((scaled * scaled).sum()))
    if norm <= clipnorm:
        return grad.copy()
    return (wide * (clipnorm / norm)).astype(grad.dtype)


def global_norm(grads: Sequence[Any]) -> float:
    """:math:`\\sqrt{\\sum_i \\lVert g_i\\rVert_2^2}` over all the tensors, as a Python float."""
    return math.sqrt(sum(float((g.astype("float64") ** 2).sum()) for g in grads))


def clip_by_global_norm(grads: Sequence[Any], clipnorm: float) -> list[Any]:
    """Rescale all tensors by one factor so their global norm is at most :math:`c`."""
    norm = global_norm(grads)
    if not math.isfinite(norm):
        return [g * math.nan for g in grads]
    if clipnorm > 0 and math.isfinite(1.0 / clipnorm):
        scale = clipnorm * min(1.0 / norm if norm > 0 else math.inf, 1.0 / clipnorm)
    else:  # 1/c overflows (c = 0 or subnormal): Keras's formula could give c * inf; this is its limit
        scale = 1.0 if norm <= clipnorm else clipnorm / norm
    return [g * scale for g in grads]


def ema_update(average: Any, value: Any, momentum: float, first: bool) -> None:
    """:math:`\\bar\\theta \\leftarrow \\mu\\bar\\theta + (1-\\mu)\\theta` in place.

    :math:`\\mu = 0` on the first update, so the average starts at the weights.
    """
    mu = 0.0 if first else momentum
    average *= mu
    average += (1 - mu) * value

"""Matrix products: ``matmul`` (the ``@`` operator) and the affine map ``linear``.

For :math:`Y = A B` the gradients are

.. math::

    \\bar A = \\bar Y B^\\top, \\qquad \\bar B = A^\\top \\bar Y,

with batch dimensions broadcast as in :func:`numpy.matmul` and summed back,
and 1-D operands treated as a row (left) or column (right) vector.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.function import Function
from minigrad.functions.reduction import sum, sum_to
from minigrad.functions.shape import reshape, transpose
from minigrad.tensor import Tensor

__all__ = ["linear", "matmul"]


def _swap_last(x: Tensor) -> Tensor:
    """:math:`x^\\top` over the last two axes."""
    if x.ndim == 2:
        return transpose(x)
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return transpose(x, axes)


class MatMul(Function):
    """:math:`Y = A B` (:func:`numpy.matmul` semantics);
    :math:`\\bar A = \\bar Y B^\\top`, :math:`\\bar B = A^\\top \\bar Y`.
    """

    def forward(self, a: Any, b: Any) -> Any:
        return a @ b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
        b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
        gy2 = gy
        if a.ndim == 1:
            gy2 = reshape(gy2, gy2.shape[:-1] + (1,) + gy2.shape[-1:]) if b.ndim > 1 else reshape(gy2, (1,) + gy2.shape)
        if b.ndim == 1:
            gy2 = reshape(gy2, gy2.shape + (1,))
        ga = gb = None
        if a.requires_grad:
            ga = reshape(sum_to(gy2 @ _swap_last(b2), a2.shape), a.shape)
        if b.requires_grad:
            gb = reshape(sum_to(_swap_last(a2) @ gy2, b2.shape), b.shape)
        return ga, gb


class Linear(Function):
    """The affine map :math:`Y = X W^\\top + b` of a fully connected layer.

    ``W`` has shape ``(out_features, in_features)`` (PyTorch's layout), ``X``
    has shape ``(..., in_features)``, ``b`` shape ``(out_features,)``.

    .. math::

        \\bar X = \\bar Y W, \\qquad \\bar W = \\bar Y^\\top X, \\qquad
        \\bar b = \\textstyle\\sum_{\\text{rows}} \\bar Y,

    with the leading dimensions of :math:`X` flattened into rows. One
    function instead of three (``matmul``, ``transpose``, ``add``) keeps the
    graph of a layer small.
    """

    def forward(self, x: Any, w: Any, b: Any = None) -> Any:
        y = x @ w.T
        if b is not None:
            y += b
        return y

    def backward(self, gy: Tensor) -> tuple[Tensor | None, ...]:
        x, w = self.inputs[0], self.inputs[1]
        gx = gy @ w if x.requires_grad else None
        gw = gb = None
        if w.requires_grad:
            rows_x = reshape(x, (-1, x.shape[-1])) if x.ndim != 2 else x
            rows_gy = reshape(gy, (-1, gy.shape[-1])) if gy.ndim != 2 else gy
            gw = transpose(rows_gy) @ rows_x
        if len(self.inputs) == 3 and self.inputs[2].requires_grad:
            gb = sum(gy, axis=tuple(range(gy.ndim - 1))) if gy.ndim > 1 else gy
        return (gx, gw) if len(self.inputs) == 2 else (gx, gw, gb)

    def backward_arrays(self, gy: Any) -> tuple[Any, ...]:
        """The same three products on plain arrays: a layer's backward is the hot path of training."""
        x, w = self.inputs[0], self.inputs[1]
        rows_gy = gy.reshape(-1, gy.shape[-1])
        gx = gy @ w.data if x.requires_grad else None
        gw = rows_gy.T @ x.data.reshape(-1, x.shape[-1]) if w.requires_grad else None
        if len(self.inputs) == 2:
            return gx, gw
        gb = None
        if self.inputs[2].requires_grad:
            gb = rows_gy.sum(axis=0) if gy.ndim > 1 else gy
        return gx, gw, gb


def _shape(value: Any) -> tuple[int, ...]:
    return value.shape if isinstance(value, Tensor) else np.shape(value)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b`` with :func:`numpy.matmul`'s rules for 1-D and batched operands.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> a = mg.tensor(np.array([[1.0, 2.0]]))
    >>> b = mg.tensor(np.array([[3.0], [4.0]]))
    >>> mg.matmul(a, b)
    tensor([[11.]], dtype=float64)
    """
    a_shape, b_shape = _shape(a), _shape(b)
    if not a_shape or not b_shape:
        raise ValueError(f"matmul: both operands need at least one axis, got shapes {a_shape} and {b_shape}")
    inner = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if a_shape[-1] != inner:
        raise ValueError(
            f"matmul: the last axis of a (shape {a_shape}) has {a_shape[-1]} entries, "
            f"the contracted axis of b (shape {b_shape}) has {inner}"
        )
    return MatMul()(a, b)


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """:math:`x W^\\top + b`, the fully connected layer (``weight`` is ``(out, in)``).

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> x = mg.tensor(np.ones((1, 3)))
    >>> w = mg.tensor(np.arange(6.0).reshape(2, 3))
    >>> mg.linear(x, w, mg.tensor([0.5, -0.5]))
    tensor([[ 3.5, 11.5]], dtype=float64)
    """
    x_shape, w_shape = _shape(x), _shape(weight)
    if len(w_shape) != 2 or not x_shape or x_shape[-1] != w_shape[1]:
        raise ValueError(f"weight: expected shape (out_features, {x_shape[-1] if x_shape else '?'}) to match "
                         f"x of shape {x_shape}, got {w_shape}")
    if bias is not None and _shape(bias) != w_shape[:1]:
        raise ValueError(f"bias: expected shape {w_shape[:1]}, got {_shape(bias)}")
    if bias is None:
        return Linear()(x, weight)
    return Linear()(x, weight, bias)

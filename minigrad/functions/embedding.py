"""Embedding lookup: rows of a table, with a dense or a row-sparse gradient.

For a table :math:`W \\in \\mathbb{R}^{V \\times d}` and integer indices :math:`i`,

.. math::

    y = W[i], \\qquad \\bar W = 0 \\text{ with } \\bar W[i_k] \\mathrel{+}= \\bar y_k .

With ``sparse=True`` the gradient of :math:`W` is a
:class:`~minigrad.sparse.RowSparseGrad` holding only the rows :math:`i`
(when the backward pass itself is not recorded), so an optimizer can update
just those rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import backend
from minigrad.checks import check_flag
from minigrad.config import is_grad_enabled
from minigrad.function import Function
from minigrad.functions.shape import GetItemGrad, getitem
from minigrad.sparse import RowSparseGrad
from minigrad.tensor import Tensor

__all__ = ["embedding"]


class Embedding(Function):
    """``y = weight[indices]``; the gradient is scattered back, densely or as row-sparse."""

    def __init__(self, indices: Any, sparse: bool) -> None:
        self.indices = indices
        self.sparse = sparse

    def forward(self, weight: Any) -> Any:
        return weight[self.indices]

    def backward(self, gy: Tensor) -> Any:
        weight = self.inputs[0]
        if self.sparse and not is_grad_enabled():
            flat = self.indices.reshape(-1)
            values = gy.data.reshape((flat.shape[0], *weight.shape[1:]))
            return RowSparseGrad(flat, values, weight.shape)
        return GetItemGrad(self.indices, weight.shape)(gy)


def embedding(weight: Tensor, indices: Any, sparse: bool = False) -> Tensor:
    """Rows ``weight[indices]`` of a 2-D table; ``indices`` is an integer array of any shape.

    Parameters
    ----------
    weight : Tensor, shape (V, d)
    indices : array_like of int
        Values in ``[0, V)``.
    sparse : bool, default False
        Give ``weight`` a :class:`~minigrad.sparse.RowSparseGrad` instead of a dense gradient.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> table = mg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    >>> mg.embedding(table, np.array([2, 0]))
    tensor([[4., 5.],
            [0., 1.]], dtype=float64, requires_grad=True)
    """
    sparse = check_flag("sparse", sparse)
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        got = f"shape {weight.shape}" if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"weight: expected a 2-D Tensor (num_embeddings, embedding_dim), got {got}")
    if isinstance(indices, Tensor):
        indices = indices.data
    if not backend.is_array(indices):
        indices = np.asarray(indices)
    indices = backend.to_device(indices, weight.device)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"indices: expected integers, got dtype {indices.dtype}")
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= weight.shape[0]):
        raise ValueError(f"indices: expected values in [0, {weight.shape[0]}), got {indices.min()}..{indices.max()}")
    if not sparse:
        return getitem(weight, indices)
    return Embedding(indices, sparse)(weight)

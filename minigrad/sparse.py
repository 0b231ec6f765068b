"""Row-sparse gradients: the gradient of a lookup that touched only some rows.

An embedding lookup ``W[indices]`` reads a few rows of a large table; its
gradient is zero everywhere else. :class:`RowSparseGrad` stores only the rows
that were touched, as ``(indices, values, dense_shape)``, the same idea as
TensorFlow's ``IndexedSlices``. The dense gradient it stands for is

.. math::

    G = 0 \\in \\mathbb{R}^{\\text{dense\\_shape}}, \\qquad
    G[\\text{indices}_k] \\mathrel{+}= \\text{values}_k \\quad (k = 1..n),

so repeated indices add up. Optimizers either update as if given :math:`G`
(dense-equivalent) or touch only the rows in ``indices`` (lazy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import backend

__all__ = ["RowSparseGrad"]


class RowSparseGrad:
    """A gradient that is zero outside the rows ``indices``.

    Parameters
    ----------
    indices : array of int, shape (n,)
        Row numbers, possibly repeated, in ``[0, dense_shape[0])``.
    values : array
        The gradient of each listed row, of shape ``(n, *dense_shape[1:])``.
    dense_shape : tuple of int
        Shape of the full gradient (the parameter's shape).

    Examples
    --------
    >>> import numpy as np
    >>> grad = RowSparseGrad(np.array([2, 0, 2]), np.ones((3, 2)), (4, 2))
    >>> grad.to_dense()
    array([[1., 1.],
           [0., 0.],
           [2., 2.],
           [0., 0.]])
    """

    __slots__ = ("dense_shape", "indices", "values")

    def __init__(self, indices: Any, values: Any, dense_shape: tuple[int, ...]) -> None:
        dense_shape = tuple(int(n) for n in dense_shape)
        if not backend.is_array(indices) or indices.ndim != 1 or indices.dtype.kind not in "iu":
            raise ValueError(f"indices: expected a 1-D integer array, got {indices!r}")
        if not backend.is_array(values) or values.shape != (indices.shape[0], *dense_shape[1:]):
            shape = getattr(values, "shape", None)
            raise ValueError(f"values: expected shape {(indices.shape[0], *dense_shape[1:])}, got {shape}")
        if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= dense_shape[0]):
            raise ValueError(f"indices: rows must lie in [0, {dense_shape[0]}), got {indices!r}")
        if backend.device_of(indices) != backend.device_of(values):
            raise ValueError(
                f"indices: on {backend.device_of(indices)}, values on {backend.device_of(values)}; they must match"
            )
        self.indices = indices
        self.values = values
        self.dense_shape = dense_shape

    @property
    def shape(self) -> tuple[int, ...]:
        """The dense shape (so a sparse gradient can stand where a dense one is expected)."""
        return self.dense_shape

    @property
    def dtype(self) -> Any:
        """The dtype of :attr:`values`."""
        return self.values.dtype

    @property
    def device(self) -> backend.Device:
        """The device of :attr:`values`."""
        return backend.device_of(self.values)

    def coalesce(self) -> RowSparseGrad:
        """The same gradient with each row listed once (sorted), repeated rows summed."""
        xp = backend.get_array_module(self.values)
        rows, position = xp.unique(self.indices, return_inverse=True)
        summed = xp.zeros((rows.shape[0], *self.dense_shape[1:]), dtype=self.values.dtype)
        backend.scatter_add(summed, position.reshape(-1), self.values)
        return RowSparseGrad(rows, summed, self.dense_shape)

    def to_dense(self) -> Any:
        """The full gradient array, zeros outside the touched rows."""
        xp = backend.get_array_module(self.values)
        dense = xp.zeros(self.dense_shape, dtype=self.values.dtype)
        backend.scatter_add(dense, self.indices, self.values)
        return dense

    def numpy(self) -> np.ndarray:
        """The full gradient as a NumPy array (a new array, copied from a GPU), like :meth:`Tensor.numpy`."""
        return backend.to_numpy(self.to_dense())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The full gradient for ``np.asarray(grad)``: always a new array, so ``copy=False`` is refused."""
        if self.device.type != "cpu":
            raise TypeError(f"np.asarray: this gradient lives on {self.device}; call .numpy() first")
        if copy is False:
            raise ValueError(
                "np.asarray: a RowSparseGrad stores only its rows, so its dense array is always a new one; "
                "copy=False cannot be honoured"
            )
        dense = self.to_dense()
        return dense if dtype is None else dense.astype(dtype, copy=False)

    def __add__(self, other: RowSparseGrad) -> RowSparseGrad:
        """Concatenate the rows of two sparse gradients of one shape (sums stay implicit)."""
        if not isinstance(other, RowSparseGrad) or other.dense_shape != self.dense_shape:
            return NotImplemented
        xp = backend.get_array_module(self.values)
        return RowSparseGrad(
            xp.concatenate([self.indices, other.indices]),
            xp.concatenate([self.values, other.values]),
            self.dense_shape,
        )

    def __repr__(self) -> str:
        return f"RowSparseGrad(rows={self.indices.shape[0]}, dense_shape={self.dense_shape}, dtype={self.dtype})"

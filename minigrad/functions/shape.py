"""Shape operations: reshape, transpose, indexing, concatenate and stack.

None of these change values, only where they sit, so each gradient moves the
incoming gradient back to where the values came from. Indexing is the one
with a twist: an element read several times (``x[[0, 0]]``) receives the sum
of the gradients of all its copies,

.. math::

    y = x[\\text{index}] \\;\\Rightarrow\\; \\bar x = 0 \\text{ with } \\bar x[\\text{index}] \\mathrel{+}= \\bar y
    \\text{ (repeated indices add up)}.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import backend
from minigrad.checks import check_axis
from minigrad.function import Function
from minigrad.tensor import Tensor

__all__ = ["concatenate", "getitem", "reshape", "stack", "transpose"]


class Reshape(Function):
    """Same values in a new shape; the gradient is reshaped back."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        return x.reshape(self.shape)

    def backward(self, gy: Tensor) -> Tensor:
        return reshape(gy, self.inputs[0].shape)


class Transpose(Function):
    """Permute the axes; the gradient is permuted by the inverse permutation."""

    def __init__(self, axes: tuple[int, ...] | None) -> None:
        self.axes = axes

    def forward(self, x: Any) -> Any:
        return x.transpose(self.axes)

    def backward(self, gy: Tensor) -> Tensor:
        if self.axes is None:
            return transpose(gy)
        inverse = tuple(sorted(range(len(self.axes)), key=lambda i: self.axes[i] % len(self.axes)))
        return transpose(gy, inverse)


class GetItem(Function):
    """``y = x[index]`` for any NumPy basic or advanced index."""

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x: Any) -> Any:
        self.index = _index_for(self.index, x)
        return x[self.index]

    def backward(self, gy: Tensor) -> Tensor:
        x = self.inputs[0]
        return GetItemGrad(self.index, x.shape)(gy)


class GetItemGrad(Function):
    """Scatter ``gy`` into zeros of ``shape`` at ``index``, adding repeated indices (``x[index] += gy``)."""

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index = index
        self.shape = shape

    def forward(self, gy: Any) -> Any:
        gx = backend.get_array_module(gy).zeros(self.shape, dtype=gy.dtype)
        backend.scatter_add(gx, self.index, gy)
        return gx

    def backward(self, ggx: Tensor) -> Tensor:
        return GetItem(self.index)(ggx)


class Concatenate(Function):
    """Join tensors along an existing ``axis``; each gradient is the matching slice."""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: Any) -> Any:
        check_axis(self.axis, xs[0].ndim)
        return backend.get_array_module(xs[0]).concatenate(xs, axis=self.axis)

    def backward(self, gy: Tensor) -> tuple[Tensor | None, ...]:
        axis = self.axis % gy.ndim
        grads, start = [], 0
        for x in self.inputs:
            stop = start + x.shape[axis]
            index = (slice(None),) * axis + (slice(start, stop),)
            grads.append(gy[index] if x.requires_grad else None)
            start = stop
        return tuple(grads)


class Stack(Function):
    """Join tensors along a new ``axis``; each gradient is the matching slice."""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: Any) -> Any:
        check_axis(self.axis, xs[0].ndim + 1, of="the stacked result")
        return backend.get_array_module(xs[0]).stack(xs, axis=self.axis)

    def backward(self, gy: Tensor) -> tuple[Tensor | None, ...]:
        axis = self.axis % gy.ndim
        return tuple(
            gy[(slice(None),) * axis + (i,)] if x.requires_grad else None for i, x in enumerate(self.inputs)
        )


def _index_for(index: Any, array: Any) -> Any:
    """Turn Tensors and lists inside an index into arrays on ``array``'s device."""
    xp = backend.get_array_module(array)
    if isinstance(index, tuple):
        return tuple(_index_part(part, xp) for part in index)
    return _index_part(index, xp)


def _index_part(part: Any, xp: Any) -> Any:
    if isinstance(part, Tensor):
        part = part.data
    if isinstance(part, list):
        part = xp.asarray(part)
    if backend.is_array(part) and backend.get_array_module(part) is not xp:
        part = xp.asarray(backend.to_numpy(part))
    return part


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _checked_shape(shape: Any, size: int) -> tuple[int, ...]:
    """``shape`` as a tuple of integers (at most one ``-1``) that holds ``size`` elements."""
    shape = (shape,) if _is_int(shape) else shape
    valid = isinstance(shape, (tuple, list)) and all(_is_int(n) and n >= -1 for n in shape)
    if not valid or list(shape).count(-1) > 1:
        raise ValueError(f"shape: expected integers >= 0 with at most one -1, got {shape!r}")
    known = math.prod(n for n in shape if n != -1)
    fits = (known > 0 and size % known == 0) if -1 in shape else known == size
    if not fits:
        raise ValueError(f"shape: cannot reshape {size} element(s) into {tuple(shape)}")
    return tuple(int(n) for n in shape)


def reshape(x: Any, shape: tuple[int, ...]) -> Tensor:
    """The elements of ``x`` in a new ``shape`` (one entry may be ``-1``).

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.reshape(mg.tensor([1.0, 2.0, 3.0, 4.0]), (2, 2))
    tensor([[1., 2.],
            [3., 4.]], dtype=float64)
    """
    if isinstance(x, Tensor):
        shape = _checked_shape(shape, x.size)
        if x.shape == shape:
            return x
    return Reshape(tuple(shape))(x)


def transpose(x: Any, axes: tuple[int, ...] | None = None) -> Tensor:
    """Permute the axes of ``x`` (reverse them when ``axes`` is None).

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.transpose(mg.tensor([[1.0, 2.0, 3.0]])).shape
    (3, 1)
    """
    if axes is None:
        return Transpose(None)(x)
    axes = tuple(axes) if isinstance(axes, (tuple, list)) else (axes,)
    ndim = x.ndim if isinstance(x, Tensor) else np.ndim(x)
    if (len(axes) != ndim or not all(_is_int(a) and -ndim <= a < ndim for a in axes)
            or len({int(a) % ndim for a in axes}) != ndim):
        raise ValueError(f"axes: expected a permutation of the {ndim} axes, got {axes!r}")
    return Transpose(axes)(x)


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]``: slicing, integer and boolean arrays, as in NumPy.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.getitem(mg.tensor([[1.0, 2.0], [3.0, 4.0]]), (slice(None), 1))
    tensor([2., 4.], dtype=float64)
    """
    return GetItem(index)(x)


def concatenate(tensors: list[Any] | tuple[Any, ...], axis: int = 0) -> Tensor:
    """Join ``tensors`` along an existing ``axis``.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.concatenate([mg.tensor([1.0]), mg.tensor([2.0, 3.0])])
    tensor([1., 2., 3.], dtype=float64)
    """
    if not tensors:
        raise ValueError("tensors: expected at least one tensor, got an empty sequence")
    return Concatenate(axis)(*tensors)


def stack(tensors: list[Any] | tuple[Any, ...], axis: int = 0) -> Tensor:
    """Join ``tensors`` (all of one shape) along a new ``axis``.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.stack([mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0])])
    tensor([[1., 2.],
            [3., 4.]], dtype=float64)
    """
    if not tensors:
        raise ValueError("tensors: expected at least one tensor, got an empty sequence")
    shapes = [tuple(np.shape(t)) for t in tensors]
    if len(set(shapes)) > 1:
        raise ValueError(f"tensors: expected one shape for all of them, got shapes {shapes}")
    return Stack(axis)(*tensors)

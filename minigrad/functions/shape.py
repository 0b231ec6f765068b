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

from typing import Any

from minigrad import backend
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


def reshape(x: Any, shape: tuple[int, ...]) -> Tensor:
    """The elements of ``x`` in a new ``shape`` (one entry may be ``-1``)."""
    if isinstance(x, Tensor) and x.shape == tuple(shape):
        return x
    return Reshape(tuple(shape))(x)


def transpose(x: Any, axes: tuple[int, ...] | None = None) -> Tensor:
    """Permute the axes of ``x`` (reverse them when ``axes`` is None)."""
    return Transpose(None if axes is None else tuple(axes))(x)


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]``: slicing, integer and boolean arrays, as in NumPy."""
    return GetItem(index)(x)


def concatenate(tensors: list[Any] | tuple[Any, ...], axis: int = 0) -> Tensor:
    """Join ``tensors`` along an existing ``axis``."""
    if not tensors:
        raise ValueError("tensors: expected at least one tensor, got an empty sequence")
    return Concatenate(axis)(*tensors)


def stack(tensors: list[Any] | tuple[Any, ...], axis: int = 0) -> Tensor:
    """Join ``tensors`` (all of one shape) along a new ``axis``."""
    if not tensors:
        raise ValueError("tensors: expected at least one tensor, got an empty sequence")
    return Stack(axis)(*tensors)

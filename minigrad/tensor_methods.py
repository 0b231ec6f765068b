"""The methods of :class:`~minigrad.Tensor` beyond arithmetic: comparisons, Python numbers, the Python and array
protocols (``bool``, ``len``, iteration, ``np.asarray``, DLPack), item assignment, and the reductions and statistics
a PyTorch user calls as methods.

Comparisons (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``) are elementwise, as
in PyTorch and NumPy: they give a boolean tensor, which records no gradient.
Tensors still hash by identity (``hash(x) == object.__hash__(x)``), so they
remain usable as dictionary keys and set members, which compare by identity
first. A list lookup (``x in list_of_tensors``, ``list.index``,
``list.remove``) compares elementwise instead, as in PyTorch: look tensors up
by ``id`` or with ``is``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import backend
from minigrad.assignment import assign_items

if TYPE_CHECKING:
    from minigrad.tensor import Tensor

__all__ = ["TensorMethods"]

Axis = int | tuple[int, ...] | None


def _is_comparable(value: Any) -> bool:
    """Whether ``==`` can compare a tensor with ``value``: a Tensor, an array, or numbers."""
    from minigrad.tensor import Tensor

    if isinstance(value, (Tensor, bool, int, float, complex, np.generic)) or backend.is_array(value):
        return True
    if not isinstance(value, (list, tuple)):
        return False
    try:
        return np.asarray(value).dtype.kind in "biufc"
    except (TypeError, ValueError):
        return False


class TensorMethods:
    """Comparison operators, ``float``/``int``/``format``, ``bool``/``len``/iteration, ``np.asarray`` and DLPack,
    item assignment, and the reduction and shape methods of a Tensor."""

    __slots__ = ()

    # Tensors are dictionary keys in the graph and in optimizer state: hash by identity, as ``object`` does.
    __hash__ = object.__hash__

    # ----------------------------------------------------------------- comparisons
    def __eq__(self, other: Any) -> Any:
        """Elementwise ``self == other`` (see :func:`minigrad.equal`); ``NotImplemented`` for a non-number,
        so that ``x == None`` is ``False`` as in PyTorch."""
        from minigrad import functions as F

        return F.equal(self, other) if _is_comparable(other) else NotImplemented

    def __ne__(self, other: Any) -> Any:
        """Elementwise ``self != other`` (see :func:`minigrad.not_equal`); ``x != None`` is ``True``."""
        from minigrad import functions as F

        return F.not_equal(self, other) if _is_comparable(other) else NotImplemented

    def __lt__(self, other: Any) -> Tensor:
        from minigrad import functions as F

        return F.less(self, other)

    def __le__(self, other: Any) -> Tensor:
        from minigrad import functions as F

        return F.less_equal(self, other)

    def __gt__(self, other: Any) -> Tensor:
        from minigrad import functions as F

        return F.greater(self, other)

    def __ge__(self, other: Any) -> Tensor:
        from minigrad import functions as F

        return F.greater_equal(self, other)

    # ----------------------------------------------------------------- Python and array protocols
    def __bool__(self) -> bool:
        """The truth value of a one-element tensor's value, as in PyTorch; ambiguous for any other size."""
        if self.size != 1:
            count = "no values" if self.size == 0 else "more than one value"
            raise ValueError(
                f"bool(): the Boolean value of a tensor with {count} is ambiguous, got shape {self.shape}; "
                "test x.numpy().any() or x.numpy().all() instead"
            )
        return bool(self.data.item())

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if self.device.type != "cpu":
            raise TypeError(
                f"np.asarray: this tensor lives on {self.device}; call .to('cpu') or .numpy() first"
            )
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        if copy is False and array is not self.data:
            raise ValueError(f"np.asarray: converting dtype {self.dtype} to {dtype} needs a copy, but copy=False")
        return array.copy() if copy else array

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        return self.data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self.data.__dlpack_device__()

    # ----------------------------------------------------------------- Python numbers
    def _one_value(self, caller: str) -> Any:
        if self.size != 1:
            raise ValueError(f"{caller}: only one-element tensors convert to a Python number, got shape {self.shape}")
        return self.data.item()

    def __float__(self) -> float:
        """``float(x)`` for a one-element real tensor."""
        value = self._one_value("float()")
        if isinstance(value, complex):
            raise TypeError(f"float(): a complex tensor has no float value, got {value!r}")
        return float(value)

    def __int__(self) -> int:
        """``int(x)`` for a one-element real tensor; a float value is truncated toward 0, as ``int(2.7) == 2``."""
        value = self._one_value("int()")
        if isinstance(value, complex):
            raise TypeError(f"int(): a complex tensor has no integer value, got {value!r}")
        return int(value)

    def __format__(self, format_spec: str) -> str:
        """``format(x, ".3f")`` formats the value of a one-element tensor; ``f"{x}"`` of a 0-d tensor is its value
        and of any other tensor its ``str``, as in PyTorch."""
        if self.size == 1 and (format_spec or self.ndim == 0):
            return format(self.data.item(), format_spec)
        if not format_spec:
            return str(self)
        raise TypeError(
            f"format(): the format spec {format_spec!r} applies to one-element tensors, got shape {self.shape}"
        )

    # ----------------------------------------------------------------- item assignment
    def __setitem__(self, index: Any, value: Any) -> None:
        """``x[index] = value`` in place; under :class:`~minigrad.no_grad` for a tensor that requires gradients.

        See :func:`minigrad.assignment.assign_items` for the rules and the errors.
        """
        assign_items(self, index, value)

    # ----------------------------------------------------------------- reductions
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default); see :func:`minigrad.sum`."""
        from minigrad import functions as F

        return F.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default); see :func:`minigrad.mean`."""
        from minigrad import functions as F

        return F.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis`` (all axes by default); see :func:`minigrad.max`."""
        from minigrad import functions as F

        return F.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis`` (all axes by default); see :func:`minigrad.min`."""
        from minigrad import functions as F

        return F.min(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any) -> Tensor:
        """The same values in a new shape: ``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
        from minigrad import functions as F

        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return F.reshape(self, shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Permute the axes (reverse them when none are given)."""
        from minigrad import functions as F

        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return F.transpose(self, axes or None)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the maximum along ``axis`` (of the flattened tensor by default); see :func:`minigrad.argmax`."""
        from minigrad import functions as F

        return F.argmax(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """:math:`\\ln \\sum_i e^{x_i}` over ``axis``; see :func:`minigrad.logsumexp`."""
        from minigrad import functions as F

        return F.logsumexp(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Axis = None, correction: float = 1, keepdims: bool = False) -> Tensor:
        """Variance over ``axis`` (unbiased by default, as PyTorch); see :func:`minigrad.var`."""
        from minigrad import functions as F

        return F.var(self, axis=axis, correction=correction, keepdims=keepdims)

    def std(self, axis: Axis = None, correction: float = 1, keepdims: bool = False) -> Tensor:
        """Standard deviation over ``axis`` (unbiased by default, as PyTorch); see :func:`minigrad.std`."""
        from minigrad import functions as F

        return F.std(self, axis=axis, correction=correction, keepdims=keepdims)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - NumPy's and PyTorch's names
        """The values limited to ``[min, max]``; see :func:`minigrad.clip`."""
        from minigrad import functions as F

        return F.clip(self, min, max)

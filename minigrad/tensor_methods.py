"""The methods of :class:`~minigrad.Tensor` beyond arithmetic: the comparisons, and ``clip``.

Comparisons (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``) are elementwise, as
in PyTorch and NumPy: they give a boolean tensor, which records no gradient.
Tensors still hash by identity (``hash(x) == object.__hash__(x)``), so they
remain usable as dictionary keys and set members, which compare by identity
first. A list lookup (``x in list_of_tensors``, ``list.index``,
``list.remove``) compares elementwise instead, as in PyTorch: look tensors up
by ``id`` or with ``is``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import backend

if TYPE_CHECKING:
    from minigrad.tensor import Tensor

__all__ = ["TensorMethods"]


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
    """Comparison operators and ``clip`` of a Tensor."""

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

    # ----------------------------------------------------------------- selection
    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - NumPy's and PyTorch's names
        """The values limited to ``[min, max]``; see :func:`minigrad.clip`."""
        from minigrad import functions as F

        return F.clip(self, min, max)

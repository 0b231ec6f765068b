"""Exchange with other array libraries through DLPack, without copies."""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.tensor import Tensor

__all__ = ["from_dlpack"]


def from_dlpack(obj: Any, requires_grad: bool = False) -> Tensor:
    """A Tensor sharing memory with ``obj`` (a PyTorch tensor, a CuPy or NumPy array...).

    Parameters
    ----------
    obj : object
        Anything implementing ``__dlpack__`` and ``__dlpack_device__``. CPU
        producers give a NumPy-backed tensor, CUDA producers a CuPy-backed one.
    requires_grad : bool, default False
        Whether the new leaf requires gradients.

    Returns
    -------
    Tensor
        A leaf whose :attr:`~Tensor.data` views the producer's memory: writes
        through either side are seen by the other. The other direction is
        ``torch.from_dlpack(tensor)`` or ``cupy.from_dlpack(tensor)``.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> a = np.arange(3.0)
    >>> x = mg.from_dlpack(a)
    >>> x
    tensor([0., 1., 2.], dtype=float64)
    >>> np.shares_memory(x.data, a)
    True
    """
    return Tensor(backend.from_dlpack(obj), requires_grad=requires_grad)

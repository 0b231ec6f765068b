"""Building tensors from arrays, lists and scalars."""

from __future__ import annotations

import reprlib
from typing import Any

import numpy as np

from minigrad import backend
from minigrad.backend import Device
from minigrad.tensor import Tensor

__all__ = ["tensor"]


def tensor(
    data: Any, requires_grad: bool = False, dtype: Any = None, device: str | Device | None = None
) -> Tensor:
    """Build a leaf :class:`Tensor` from an array, a nested list or a scalar.

    Parameters
    ----------
    data : array_like
        A NumPy or CuPy array (its dtype is kept unless ``dtype`` is given),
        a Tensor (its data is copied), a nested list or a Python scalar
        (dtype as NumPy infers it: ``float64`` for floats, ``int64`` for ints).
    requires_grad : bool, default False
        Whether backward computes a gradient for the result.
    dtype : dtype, optional
        Cast to this dtype.
    device : str or Device, optional
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``. By default an array stays where
        it is and anything else goes to the CPU.

    Returns
    -------
    Tensor
        A new leaf. Arrays are copied, so later in-place changes to ``data``
        do not reach the tensor.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.tensor([[1, 2], [3, 4]], dtype='float32')
    tensor([[1., 2.],
            [3., 4.]], dtype=float32)
    >>> mg.tensor(2.0, requires_grad=True)
    tensor(2., dtype=float64, requires_grad=True)
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype: expected a NumPy dtype such as numpy.float32, got {dtype!r}") from None
    if not backend.is_array(data):
        try:
            values = np.asarray(data, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise ValueError(f"data: cannot make an array of {reprlib.repr(data)}: {error}") from None
        if values.dtype.kind not in "biufc":
            raise TypeError(f"data: expected numbers or (nested lists of) numbers, got {reprlib.repr(data)}")
        data = values
    target = backend.device_of(data) if device is None else backend.as_device(device)
    array = backend.to_device(data, target)
    if dtype is not None or array is data:
        array = array.astype(dtype if dtype is not None else array.dtype, copy=True)
    return Tensor(array, requires_grad=requires_grad)

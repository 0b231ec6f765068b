"""Moving a tensor between devices and casting its dtype, both differentiable.

The gradient of a copy is a copy back: :math:`\\bar x = \\operatorname{to}(\\bar y, \\operatorname{device}(x))`
for a device move and :math:`\\bar x = \\operatorname{cast}(\\bar y, \\operatorname{dtype}(x))` for a cast.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import backend
from minigrad.backend import Device
from minigrad.function import Function
from minigrad.tensor import Tensor

__all__ = ["astype", "to_device"]


class ToDevice(Function):
    """Copy to ``device``; the gradient is copied back to the input's device."""

    def __init__(self, device: Device) -> None:
        self.device = device

    def forward(self, x: Any) -> Any:
        return backend.to_device(x, self.device)

    def backward(self, gy: Tensor) -> Tensor:
        return to_device(gy, self.inputs[0].device)


class AsType(Function):
    """Cast to ``dtype``; the gradient is cast back to the input's dtype."""

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def forward(self, x: Any) -> Any:
        return x.astype(self.dtype)

    def backward(self, gy: Tensor) -> Tensor:
        return astype(gy, self.inputs[0].dtype)


def to_device(x: Tensor, device: str | Device) -> Tensor:
    """``x`` on ``device``: ``x`` itself when it is already there, else a differentiable copy.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.to_device(mg.tensor([1.0]), 'cpu').device
    Device('cpu')
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"x: expected a Tensor, got {type(x).__name__}")
    device = backend.as_device(device)
    if x.device == device:
        return x
    return ToDevice(device)(x)


def astype(x: Tensor, dtype: Any) -> Tensor:
    """``x`` cast to ``dtype``: ``x`` itself when it already has it, else a differentiable copy.

    A cast to an integer or boolean dtype is not differentiable: it gives a new
    leaf with ``requires_grad=False``.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> mg.astype(mg.tensor([1.5, 2.5]), np.float32)
    tensor([1.5, 2.5], dtype=float32)
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"x: expected a Tensor, got {type(x).__name__}")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: expected a NumPy dtype such as numpy.float32, got {dtype!r}") from None
    if x.dtype == dtype:
        return x
    if dtype.kind not in "fc":
        return Tensor(x.data.astype(dtype))
    return AsType(dtype)(x)

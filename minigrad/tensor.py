"""The Tensor: a backend array plus what autograd needs to know about it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import backend
from minigrad.backend import Device
from minigrad.checks import check_flag
from minigrad.tensor_methods import TensorMethods

if TYPE_CHECKING:
    from minigrad.function import Function

__all__ = ["Tensor"]


class Tensor(TensorMethods):
    """An n-dimensional array that can record how it was computed.

    The comparison operators and the other methods of :class:`~minigrad.tensor_methods.TensorMethods` come
    from that base class.

    Parameters
    ----------
    data : numpy.ndarray or cupy.ndarray
        The values. Stored as given, without a copy; use :func:`tensor` to
        build one from lists, scalars or arrays of either backend.
    requires_grad : bool, default False
        Whether backward should compute a gradient for this tensor. Only
        floating-point tensors can require gradients.

    Attributes
    ----------
    data : numpy.ndarray or cupy.ndarray
        The backend array.
    grad : Tensor or None
        The gradient :math:`\\partial L / \\partial x` accumulated by
        :meth:`backward`: same shape and dtype as ``data``. Gradients **add up**
        over backward calls until they are reset (``x.grad = None``, or
        ``Module.zero_grad()`` / ``Optimizer.zero_grad()``), which is what
        gradient accumulation over several mini-batches needs; as in PyTorch,
        a later gradient is added in place into the array held (out of place
        with ``create_graph=True``).
    creator : Function or None
        The operation that produced this tensor; ``None`` for a leaf.
    grad_buffer : Tensor or None
        Where :meth:`backward` writes this leaf's first gradient, as set by
        :func:`minigrad.autograd.set_grad_buffer` (an optimizer that keeps the
        gradients in flat buffers registers a view of its buffer here).

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> x = mg.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> x.shape, x.dtype, x.requires_grad
    ((2, 2), dtype('float64'), True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]], dtype=float64)
    """

    __slots__ = ("__weakref__", "creator", "data", "grad", "grad_buffer", "requires_grad", "retains_grad")

    # Make ``ndarray op Tensor`` defer to the Tensor's reflected operator.
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        if not backend.is_array(data):
            raise TypeError(
                f"data: expected a numpy or cupy ndarray, got {type(data).__name__}; "
                "use minigrad.tensor(...) to convert lists and scalars"
            )
        if data.dtype.kind not in "biufc":
            raise TypeError(f"data: expected numbers (bool, integer, float or complex), got dtype {data.dtype}")
        requires_grad = check_flag("requires_grad", requires_grad)
        if requires_grad and data.dtype.kind not in "fc":
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients, got dtype {data.dtype}"
            )
        self.data = data
        self.grad: Tensor | None = None
        self.requires_grad = requires_grad
        self.creator: Function | None = None
        self.retains_grad = False
        self.grad_buffer: Tensor | None = None

    @classmethod
    def of_result(cls, data: Any, requires_grad: bool) -> Tensor:
        """``Tensor(data, requires_grad)`` for the array an operation computed, without the checks that hold
        by construction (``data`` is an array, ``requires_grad`` a bool): one Tensor per operation is the
        hot path of every forward pass. The dtype is still checked.

        Examples
        --------
        >>> import numpy as np
        >>> import minigrad as mg
        >>> mg.Tensor.of_result(np.ones(2), requires_grad=False)
        tensor([1., 1.], dtype=float64)
        """
        if data.dtype.kind not in "fc":
            return cls(data, requires_grad)  # the checks, and their messages, of the constructor
        tensor = cls.__new__(cls)
        tensor.data = data
        tensor.grad = None
        tensor.requires_grad = requires_grad
        tensor.creator = None
        tensor.retains_grad = False
        tensor.grad_buffer = None
        return tensor

    # ----------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of :attr:`data`."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        """The dtype of :attr:`data`."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    @property
    def device(self) -> Device:
        """The :class:`~minigrad.backend.Device` holding :attr:`data`."""
        return backend.device_of(self.data)

    @property
    def xp(self) -> Any:
        """The array module of :attr:`data` (``numpy`` or ``cupy``)."""
        return backend.get_array_module(self.data)

    @property
    def is_leaf(self) -> bool:
        """``True`` when no recorded operation produced this tensor."""
        return self.creator is None

    @property
    def T(self) -> Tensor:  # noqa: N802 - the NumPy name
        """The tensor with its axes reversed (see :func:`minigrad.transpose`)."""
        return F.transpose(self)

    # ----------------------------------------------------------------- autograd
    def backward(
        self, grad: Any = None, retain_graph: bool | None = False, create_graph: bool = False
    ) -> None:
        """Accumulate :math:`\\partial\\,\\mathrm{self} / \\partial x` into ``x.grad`` for every leaf ``x``.

        Parameters
        ----------
        grad : Tensor or array, optional
            The gradient of some scalar with respect to ``self`` (the vector in
            the vector-Jacobian product). May be omitted only when ``self`` has
            a single element; it is then 1.
        retain_graph : bool or None, default False
            Keep the graph so that backward can run through it again. By
            default each operation drops its inputs once its gradients are
            computed, so intermediate arrays are freed. ``None`` (PyTorch's
            default) means the value of ``create_graph``.
        create_graph : bool, default False
            Record the backward pass itself, making the gradients
            differentiable (higher-order derivatives). Implies ``retain_graph``.

        Raises
        ------
        TypeError
            When ``retain_graph`` or ``create_graph`` is not a bool, or ``grad``
            is not made of numbers (or is complex for a real result).
        ValueError
            When ``grad`` has the wrong shape or device.
        RuntimeError
            When ``self`` does not require gradients, ``grad`` is omitted for
            a result with several elements, the graph was already freed, or
            a value in it was changed by item assignment since it was recorded
            (see :mod:`minigrad.assignment`); nothing is changed then.
        """
        from minigrad.autograd import run_backward

        run_backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    def retain_grad(self) -> Tensor:
        """Also store the gradient of this non-leaf tensor in :attr:`grad` during backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require gradients")
        self.retains_grad = True
        return self

    def detach(self) -> Tensor:
        """A new leaf sharing :attr:`data`, cut from the graph."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set :attr:`requires_grad` in place on a leaf and return ``self``."""
        if not self.is_leaf:
            raise RuntimeError("requires_grad_: only a leaf tensor can change requires_grad")
        requires_grad = check_flag("requires_grad", requires_grad)
        if requires_grad and self.dtype.kind not in "fc":
            raise TypeError(f"requires_grad: only floating-point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = requires_grad
        return self

    # ----------------------------------------------------------------- conversion
    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item: only one-element tensors convert to a Python number, got shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (shared for CPU tensors, copied from a GPU)."""
        return backend.to_numpy(self.data)

    def tolist(self) -> Any:
        """The values as nested Python lists."""
        return self.numpy().tolist()

    def to(self, device: str | Device) -> Tensor:
        """This tensor on ``device``: ``self`` when already there, else a differentiable copy."""
        return F.to_device(self, device)

    def astype(self, dtype: Any) -> Tensor:
        """A differentiable cast to ``dtype`` (the gradient is cast back)."""
        return F.astype(self, dtype)

    # ----------------------------------------------------------------- operators
    def __add__(self, other: Any) -> Tensor:
        return F.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return F.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return F.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return F.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return F.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return F.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return F.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return F.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return F.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return F.pow(other, self)

    def __neg__(self) -> Tensor:
        return F.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __matmul__(self, other: Any) -> Tensor:
        return F.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return F.matmul(other, self)

    def __getitem__(self, index: Any) -> Tensor:
        return F.getitem(self, index)

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extras = [f"dtype={self.dtype}"]
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}, {', '.join(extras)})"


from minigrad import functions as F  # noqa: E402  (the operators above call into it)

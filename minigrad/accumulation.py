"""Where a leaf's gradient lands: PyTorch's accumulation into ``x.grad``, registered buffers, zeroing.

:func:`accumulate` is what :func:`minigrad.autograd.run_backward` does with
each gradient that reaches a leaf (or a tensor that retains its gradient):
the first one is stored, or written into a buffer registered with
:func:`set_grad_buffer`; later ones are added in place, as PyTorch adds into
``p.grad``. :func:`zeroed_gradient` is ``zero_grad(set_to_none=False)``'s rule.
Both public functions are also reached as ``minigrad.autograd.set_grad_buffer``
and ``minigrad.autograd.zeroed_gradient``.
"""

from __future__ import annotations

import reprlib
from typing import Any

from minigrad import backend
from minigrad.sparse import RowSparseGrad
from minigrad.tensor import Tensor

__all__ = ["accumulate", "set_grad_buffer", "zeroed_gradient"]


def accumulate(target: Tensor, g: Any, create_graph: bool, shared: set[int]) -> None:
    """``target.grad += g`` as PyTorch accumulates into a leaf's gradient.

    ``g`` is an array (or a :class:`~minigrad.sparse.RowSparseGrad`) when the
    backward pass is not recorded, a differentiable Tensor with ``create_graph``,
    which is added out of place. An array is stored as follows. The first
    gradient is written into the leaf's
    :attr:`~minigrad.tensor.Tensor.grad_buffer` when one is registered
    (:func:`set_grad_buffer`) and still fits the leaf, which then becomes
    ``target.grad``; otherwise it is stored as a new Tensor, around a copy
    when the array may be handed out elsewhere. Later ones are added in place
    into a leaf's gradient that is a writeable array of the leaf's shape and
    dtype on the gradient's device that this backward does not hand out
    elsewhere, otherwise out of place (always for the retained gradient of a
    non-leaf, as PyTorch does). ``shared`` holds the ids of the arrays that
    this backward may still hand out elsewhere (the seed, and every gradient
    stored without a copy).

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> from minigrad.accumulation import accumulate
    >>> w = mg.tensor(np.zeros(2), requires_grad=True)
    >>> accumulate(w, np.array([1.0, 2.0]), create_graph=False, shared=set())
    >>> accumulate(w, np.array([1.0, 1.0]), create_graph=False, shared=set())
    >>> w.grad
    tensor([2., 3.], dtype=float64)
    """
    if isinstance(g, RowSparseGrad) or isinstance(target.grad, RowSparseGrad):
        target.grad = _add_sparse(target.grad, g)
        return
    if g.dtype != target.dtype:
        g = g.astype(target.dtype)
    if create_graph:
        target.grad = g if target.grad is None else target.grad + g
        return
    current = target.grad
    if current is None:
        buffer = target.grad_buffer
        if buffer is not None and _fits(buffer.data, g):
            buffer.data[...] = g
            target.grad = buffer
            return
        if id(g) in shared or not g.flags.owndata or not _writeable(g):
            g = g.copy()
        else:
            shared.add(id(g))
        target.grad = Tensor(g)
    elif target.creator is None and id(current.data) not in shared and _fits(current.data, g):
        current.data += g
    else:
        # ``asarray``: NumPy returns a scalar, not a 0-d array, for the sum of two 0-d arrays.
        target.grad = Tensor(target.xp.asarray(current.data + g))


def _fits(array: Any, g: Any) -> bool:
    """Whether a gradient ``g`` can be written or added into ``array`` in place: an array that may be written,
    with the gradient's shape and dtype, on its device."""
    return (backend.is_array(array) and array.shape == g.shape and array.dtype == g.dtype
            and backend.same_device(array, g) and _writeable(array))


def _writeable(array: Any) -> bool:
    """Whether ``array`` may be written (NumPy's flag; CuPy arrays have no such flag and always may)."""
    return getattr(array.flags, "writeable", True)


def set_grad_buffer(leaf: Tensor, buffer: Tensor | None) -> None:
    """Register ``buffer`` as the array :meth:`~minigrad.tensor.Tensor.backward` writes ``leaf``'s first gradient into.

    While ``leaf.grad`` is ``None``, backward copies the leaf's gradient into
    ``buffer`` and makes ``buffer`` the leaf's ``grad``; later gradients are
    added to it in place, as PyTorch accumulates. An optimizer that keeps its
    gradients in flat buffers registers a view of its buffer this way, so that
    its step finds them there (``optim``'s ``fused=True``). ``create_graph=True``
    ignores the buffer (the gradient is a differentiable Tensor), and so does a
    row-sparse gradient, or a buffer that no longer fits the gradient (the leaf
    changed shape, dtype or device since): the gradient is then a new array.

    Parameters
    ----------
    leaf : Tensor
        A leaf tensor that requires gradients.
    buffer : Tensor or None
        A writeable tensor of the leaf's shape, dtype and device; ``None`` removes the registration.

    Raises
    ------
    TypeError
        When ``leaf`` or ``buffer`` is not a Tensor, or ``buffer`` has another dtype.
    ValueError
        When ``leaf`` is not a leaf requiring gradients, or ``buffer`` has another shape or device, or is read-only.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> from minigrad.autograd import set_grad_buffer
    >>> w = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> flat = np.zeros(4)                      # say, an optimizer's flat gradient buffer
    >>> set_grad_buffer(w, mg.Tensor(flat[:2]))     # a Tensor that wraps the view (mg.tensor would copy)
    >>> (w * w).sum().backward()
    >>> flat                                    # the gradient 2w landed in the buffer
    array([2., 4., 0., 0.])
    """
    if not isinstance(leaf, Tensor):
        raise TypeError(f"leaf: expected a Tensor, got {reprlib.repr(leaf)}")
    if not leaf.is_leaf or not leaf.requires_grad:
        raise ValueError(f"leaf: expected a leaf tensor that requires gradients, got {leaf!r}")
    if buffer is not None:
        if not isinstance(buffer, Tensor):
            raise TypeError(f"buffer: expected a Tensor or None, got {type(buffer).__name__} {reprlib.repr(buffer)}")
        if buffer.dtype != leaf.dtype:
            raise TypeError(f"buffer: dtype {buffer.dtype}, the leaf's is {leaf.dtype}")
        if buffer.shape != leaf.shape:
            raise ValueError(f"buffer: shape {buffer.shape}, the leaf's is {leaf.shape}")
        if buffer.device != leaf.device:
            raise ValueError(f"buffer: on {buffer.device}, the leaf on {leaf.device}")
        if not _writeable(buffer.data):
            raise ValueError(f"buffer: a read-only array of shape {buffer.shape}; backward must write into it")
    leaf.grad_buffer = buffer


def _add_sparse(current: Any, g: Any) -> Any:
    """Sum involving a row-sparse gradient: sparse + sparse stays sparse, anything + dense is dense."""
    if current is None:
        return g
    if isinstance(current, RowSparseGrad) and isinstance(g, RowSparseGrad):
        return current + g
    dense = current.to_dense() if isinstance(current, RowSparseGrad) else current.data.copy()
    if isinstance(g, RowSparseGrad):
        backend.scatter_add(dense, g.indices, g.values)
    else:
        dense += g.data if isinstance(g, Tensor) else g
    return Tensor(dense)



def zeroed_gradient(grad: Any, param: Tensor) -> Any:
    """What ``zero_grad(set_to_none=False)`` leaves in ``param.grad`` (PyTorch's rule), for
    :meth:`minigrad.nn.Module.zero_grad` and ``optim``'s optimizers alike.

    ``None`` stays ``None``. A Tensor outside any graph (``requires_grad``
    false) or an array, that may be written, is filled with zeros in place and
    stays the same object, as ``torch`` zeroes ``p.grad``. A row-sparse
    gradient becomes one with no rows. Anything else (a Tensor recorded with
    ``create_graph=True``, a read-only array, a value of another type) is
    replaced by a new zero Tensor of the parameter's shape, dtype and device.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> from minigrad.autograd import zeroed_gradient
    >>> w = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> (w * w).sum().backward()
    >>> kept = w.grad
    >>> zeroed_gradient(w.grad, w) is kept, kept
    (True, tensor([0., 0.], dtype=float64))
    """
    if grad is None:
        return None
    if isinstance(grad, RowSparseGrad):
        xp = backend.get_array_module(grad.values)
        no_rows = xp.zeros((0, *grad.dense_shape[1:]), dtype=grad.values.dtype)
        return RowSparseGrad(xp.zeros(0, dtype=grad.indices.dtype), no_rows, grad.dense_shape)
    values = grad.data if isinstance(grad, Tensor) and not grad.requires_grad else grad
    if backend.is_array(values) and getattr(values.flags, "writeable", True):
        values.fill(0)
        return grad
    return Tensor(param.xp.zeros_like(param.data))

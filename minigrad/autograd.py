"""Reverse-mode differentiation: walk the recorded graph from a result back to its leaves.

The walk is iterative (no recursion limit: a chain of 100,000 operations is
fine) and deterministic: the functions are visited in one fixed topological
order, so gradients are summed in the same order on every run.

For a result :math:`y` and each tensor :math:`x` it depends on, the chain rule
collects

.. math::

    \\bar x = \\sum_{f \\,\\in\\, \\text{consumers of } x} \\bar y_f \\,
              \\frac{\\partial y_f}{\\partial x},

processing every function after all the functions that consumed its outputs.
"""

from __future__ import annotations

import reprlib
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import backend
from minigrad.assignment import check_versions
from minigrad.checks import check_flag
from minigrad.config import set_grad_enabled
from minigrad.sparse import RowSparseGrad
from minigrad.tensor import Tensor

if TYPE_CHECKING:
    from minigrad.function import Function

__all__ = ["run_backward", "set_grad_buffer", "topological_order", "zeroed_gradient"]


def topological_order(root: Function) -> list[Function]:
    """All functions that ``root`` depends on, each listed after the functions feeding it.

    Iterative depth-first post-order over ``Function.inputs``; the order only
    depends on the graph, never on memory addresses.

    Examples
    --------
    >>> import minigrad as mg
    >>> from minigrad.autograd import topological_order
    >>> x = mg.tensor([1.0], requires_grad=True)
    >>> y = mg.exp(x * 2.0).sum()
    >>> [type(f).__name__ for f in topological_order(y.creator)]
    ['Mul', 'Exp', 'Sum']
    """
    order: list[Function] = []
    visited: set[int] = set()
    stack: list[tuple[Function, bool]] = [(root, False)]
    while stack:
        function, children_done = stack.pop()
        if children_done:
            order.append(function)
            continue
        if id(function) in visited:
            continue
        visited.add(id(function))
        if function.inputs is None:
            raise RuntimeError(
                f"backward: the graph through {type(function).__name__} was already freed by an "
                "earlier backward call; pass retain_graph=True to the first call to backward twice"
            )
        stack.append((function, True))
        for operand in reversed(function.inputs):
            creator = operand.creator
            if creator is not None and id(creator) not in visited:
                stack.append((creator, False))
    return order


def run_backward(root: Tensor, grad: Any, retain_graph: bool | None, create_graph: bool) -> None:
    """Compute the gradients of ``root`` and accumulate them into the leaves' ``.grad``.

    See :meth:`Tensor.backward` for the meaning of the arguments (``create_graph`` implies ``retain_graph``).

    Examples
    --------
    >>> import minigrad as mg
    >>> from minigrad.autograd import run_backward
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> run_backward(y, None, retain_graph=False, create_graph=False)
    >>> x.grad
    tensor([2., 4.], dtype=float64)
    """
    create_graph = check_flag("create_graph", create_graph)
    retain_graph = create_graph if retain_graph is None else check_flag("retain_graph", retain_graph)
    retain_graph = retain_graph or create_graph
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require gradients (no input had requires_grad=True, "
            "or it was computed under no_grad)"
        )
    seed = _seed_gradient(root, grad)
    shared: set[int] = {id(seed.data)}  # the seed may be the caller's array: never store it as is
    if root.creator is None:
        with set_grad_enabled(create_graph):
            _accumulate(root, seed, create_graph, shared)
        return
    functions = topological_order(root.creator)
    check_versions(functions)
    pending: dict[Tensor, Tensor] = {root: seed}
    with set_grad_enabled(create_graph):
        for function in reversed(functions):
            output_grads = []
            for ref in function.outputs:
                out = ref()
                g = pending.pop(out, None) if out is not None else None
                if g is not None and out.retains_grad:
                    _accumulate(out, g, create_graph, shared)
                output_grads.append(g)
            if all(g is None for g in output_grads):
                continue
            output_grads = [
                g if g is not None else _zeros_like_output(function, i) for i, g in enumerate(output_grads)
            ]
            input_grads = function.backward(*output_grads)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for operand, g in zip(function.inputs, input_grads):
                if g is None or not operand.requires_grad:
                    continue
                if operand.creator is None:
                    _accumulate(operand, g, create_graph, shared)
                    continue
                if isinstance(g, RowSparseGrad):  # only leaves keep a sparse gradient
                    g = Tensor(g.to_dense())
                pending[operand] = pending[operand] + g if operand in pending else g
            if not retain_graph:
                function.release()


def _seed_gradient(root: Tensor, grad: Any) -> Tensor:
    if grad is None:
        if root.size != 1:
            raise RuntimeError(
                f"backward: grad can be omitted only for a one-element result, got shape {root.shape}; "
                "pass grad= with the same shape"
            )
        return Tensor(root.xp.ones_like(root.data))
    seed = grad if isinstance(grad, Tensor) else Tensor(_gradient_array(root, grad))
    if seed.dtype.kind == "c" and root.dtype.kind != "c":
        raise TypeError(
            f"grad: complex dtype {seed.dtype} for a real result of dtype {root.dtype} "
            "(the imaginary part would be dropped)"
        )
    if seed.shape != root.shape:
        raise ValueError(f"backward: grad has shape {seed.shape}, expected {root.shape}")
    if seed.device != root.device:
        raise ValueError(f"backward: grad is on {seed.device}, the result on {root.device}")
    if seed.dtype != root.dtype:
        seed = Tensor(seed.data.astype(root.dtype))
    return seed


def _gradient_array(root: Tensor, grad: Any) -> Any:
    """``grad`` as an array of numbers, or a ``TypeError`` naming ``grad`` and its value.

    An array stays as it is (its device is checked later); anything else is read by NumPy, checked, and moved
    to ``root``'s device.
    """
    if backend.is_array(grad):
        values = grad
    else:
        try:
            values = np.asarray(grad)
        except (TypeError, ValueError):
            values = None
    if values is None or values.dtype.kind not in "biufc":
        raise TypeError(f"grad: expected a Tensor, an array or numbers, got {reprlib.repr(grad)}")
    return values if backend.is_array(grad) else backend.to_device(values, root.device)


def _accumulate(target: Tensor, g: Any, create_graph: bool, shared: set[int]) -> None:
    """``target.grad += g`` as PyTorch accumulates into a leaf's gradient.

    The first gradient is written into the leaf's :attr:`~minigrad.tensor.Tensor.grad_buffer` when one is
    registered (:func:`set_grad_buffer`) and still fits the leaf, which then becomes ``target.grad``; otherwise
    it is stored as a new array, copied when it may be handed out elsewhere. Later ones are added in place into
    a leaf's gradient that is a writeable array of the leaf's shape and dtype on the gradient's device that this
    backward does not hand out elsewhere, otherwise out of place (always for the retained gradient of a
    non-leaf, as PyTorch does). ``shared`` holds the ids of the arrays that
    this backward may still hand out elsewhere (the seed, and every gradient stored without a copy). With
    ``create_graph`` the gradient is a differentiable Tensor, added out of place.
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
        if buffer is not None and _fits(buffer.data, g.data):
            buffer.data[...] = g.data
            target.grad = buffer
            return
        data = g.data
        if id(data) in shared or not data.flags.owndata or not _writeable(data):
            data = data.copy()
        else:
            shared.add(id(data))
        target.grad = Tensor(data)
    elif target.creator is None and id(current.data) not in shared and _fits(current.data, g.data):
        current.data += g.data
    else:
        # ``asarray``: NumPy returns a scalar, not a 0-d array, for the sum of two 0-d arrays.
        target.grad = Tensor(target.xp.asarray(current.data + g.data))


def _fits(array: Any, g: Any) -> bool:
    """Whether a gradient ``g`` can be written or added into ``array`` in place: an array that may be written,
    with the gradient's shape and dtype, on its device."""
    return (backend.is_array(array) and _writeable(array) and array.shape == g.shape
            and array.dtype == g.dtype and backend.device_of(array) == backend.device_of(g))


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
        dense += g.data
    return Tensor(dense)


def _zeros_like_output(function: Function, index: int) -> Tensor:
    """A zero gradient for an output that received none (it may have been dropped, so use its spec)."""
    shape, dtype = function.output_specs[index]
    return Tensor(function.inputs[0].xp.zeros(shape, dtype=dtype))


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

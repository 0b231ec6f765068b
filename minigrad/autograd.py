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
Without ``create_graph`` the gradients travel as plain arrays, through each
function's ``backward_arrays``; with it, as Tensors through ``backward``, so
that the backward pass is recorded too. Where each gradient that reaches a leaf
ends up is :mod:`minigrad.accumulation`'s business.
"""

from __future__ import annotations

import reprlib
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import backend
from minigrad.accumulation import accumulate, set_grad_buffer, zeroed_gradient
from minigrad.assignment import check_versions
from minigrad.checks import check_flag
from minigrad.config import swap_grad_enabled
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
    # Unrecorded, the gradients flow as plain arrays through each function's ``backward_arrays``; recorded
    # (create_graph), as Tensors through ``backward``, so that they can be differentiated again.
    first = seed if create_graph else seed.data
    functions = [] if root.creator is None else topological_order(root.creator)
    check_versions(functions)
    previous_mode = swap_grad_enabled(create_graph)  # recorded only with create_graph; restored below
    try:
        if root.creator is None:
            accumulate(root, first, create_graph, shared)
        else:
            _walk(functions, {root: first}, retain_graph, create_graph, shared)
    finally:
        swap_grad_enabled(previous_mode)


def _walk(functions: list[Function], pending: dict[Tensor, Any], retain_graph: bool, create_graph: bool,
          shared: set[int]) -> None:
    """Run every function's backward, last first, from the gradients ``pending`` (the root's) on, accumulating
    the gradients that reach a leaf."""
    for function in reversed(functions):
        outputs = [ref() for ref in function.outputs]  # alive while the function's backward runs
        output_grads = _take_output_grads(function, outputs, pending, create_graph, shared)
        if output_grads is None:
            continue
        if create_graph:
            input_grads = function.backward(*output_grads)
        else:
            input_grads = function.backward_arrays(*output_grads)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for operand, g in zip(function.inputs, input_grads):
            if g is None or not operand.requires_grad:
                continue
            if isinstance(g, np.generic):  # NumPy's arithmetic on 0-d arrays gives scalars
                g = np.asarray(g)
            if operand.creator is None:
                accumulate(operand, g, create_graph, shared)
                continue
            if isinstance(g, RowSparseGrad):  # only leaves keep a sparse gradient
                g = Tensor(g.to_dense()) if create_graph else g.to_dense()
            pending[operand] = _add(pending[operand], g) if operand in pending else g
        if not retain_graph:
            function.release()


def _take_output_grads(function: Function, outputs: list[Tensor | None], pending: dict[Tensor, Any],
                       create_graph: bool, shared: set[int]) -> list[Any] | None:
    """The gradients of ``function``'s ``outputs`` (``None`` for one freed), taken out of ``pending`` (zeros for an
    output that got none), or ``None`` when none got one; an output that retains its gradient accumulates it."""
    grads = []
    missing = False
    for out in outputs:
        g = pending.pop(out, None) if out is not None else None
        if g is None:
            missing = True
        elif out.retains_grad:
            accumulate(out, g, create_graph, shared)
        grads.append(g)
    if not missing:
        return grads
    if all(g is None for g in grads):
        return None
    return [g if g is not None else _zeros_like_output(function, i, create_graph) for i, g in enumerate(grads)]


def _add(a: Any, b: Any) -> Any:
    """The sum of two gradients of one tensor: Tensors (recorded) or arrays (a 0-d sum stays an array)."""
    total = a + b
    return total if isinstance(total, Tensor) or backend.is_array(total) else backend.get_array_module(a).asarray(total)


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


def _zeros_like_output(function: Function, index: int, as_tensor: bool) -> Any:
    """A zero gradient for an output that received none (it may have been dropped, so use its spec)."""
    shape, dtype = function.output_specs[index]
    zeros = function.inputs[0].xp.zeros(shape, dtype=dtype)
    return Tensor(zeros) if as_tensor else zeros

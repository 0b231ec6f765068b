"""The base class of every differentiable operation.

A :class:`Function` computes its ``forward`` on backend arrays (``numpy`` or
``cupy``) and its ``backward`` on :class:`~minigrad.tensor.Tensor` objects,
built from other functions. Because the backward pass is itself made of
recorded operations, ``backward(create_graph=True)`` yields gradients that can
be differentiated again. A backward pass that is not recorded (the usual one)
calls ``backward_arrays`` instead, on plain arrays: by default ``backward``
wrapped in Tensors, overridden by the operations on the hot path of training.

For an operation :math:`y = f(x_1, \\dots, x_n)`, ``backward`` receives
:math:`\\bar y = \\partial L / \\partial y` and returns the vector-Jacobian
products

.. math::

    \\bar x_i = \\bar y \\, \\frac{\\partial y}{\\partial x_i}, \\qquad i = 1, \\dots, n,

one per input, each with the shape of that input (or ``None`` when the input
needs no gradient).
"""

from __future__ import annotations

import weakref
from typing import Any

from minigrad import backend
from minigrad.assignment import versions_of
from minigrad.backend import device_of, get_array_module, is_array, same_device
from minigrad.config import is_grad_enabled
from minigrad.sparse import RowSparseGrad
from minigrad.tensor import Tensor

__all__ = ["DeviceMismatchError", "Function"]


class DeviceMismatchError(RuntimeError):
    """Raised when one operation receives operands that live on different devices.

    Examples
    --------
    >>> import minigrad as mg
    >>> issubclass(mg.DeviceMismatchError, RuntimeError)
    True
    """


class Function:
    """A differentiable operation: ``forward`` on arrays, ``backward`` on Tensors.

    Subclasses implement ``forward(*arrays)`` and ``backward(*output_grads)``.
    Calling an instance runs ``forward`` and, when gradients are enabled and an
    input requires them, links the outputs to this function so that
    :meth:`Tensor.backward` can find it.

    Attributes
    ----------
    inputs : tuple of Tensor or None
        The operands, kept for the backward pass; ``None`` once the graph has
        been released by a backward pass without ``retain_graph``.
    outputs : list of weakref to Tensor
        The results. Weak references, so that the graph holds no reference
        cycle: the arrays of an intermediate result are freed as soon as
        nothing else uses them.
    output_specs : list of (shape, dtype)
        What each output looked like, so that backward can give a zero
        gradient to an output that was dropped without being used.
    versions : tuple of int or None
        How many item assignments had written the memory of each input, then
        each output, when the operation ran (``None``: none ever had), so that
        backward can refuse values changed since (see :mod:`minigrad.assignment`).

    Examples
    --------
    >>> import minigrad as mg
    >>> class Square(mg.Function):
    ...     def forward(self, x):
    ...         return x * x
    ...     def backward(self, gy):
    ...         (x,) = self.inputs
    ...         return 2.0 * x * gy
    >>> x = mg.tensor([3.0], requires_grad=True)
    >>> Square()(x).sum().backward()
    >>> x.grad
    tensor([6.], dtype=float64)
    """

    inputs: tuple[Tensor, ...] | None
    outputs: list[weakref.ReferenceType[Tensor]]
    output_specs: list[tuple[tuple[int, ...], Any]]
    versions: tuple[int, ...] | None

    def __call__(self, *operands: Any) -> Any:
        inputs = _as_tensors(operands)
        arrays = self.forward(*[x.data for x in inputs])
        record = is_grad_enabled() and _any_requires_grad(inputs)
        several = isinstance(arrays, tuple)
        outputs = [Tensor.of_result(_as_array(a), record) for a in (arrays if several else (arrays,))]
        if record:
            self.inputs = inputs
            self.outputs = [weakref.ref(out) for out in outputs]
            self.output_specs = [(out.data.shape, out.data.dtype) for out in outputs]
            self.versions = versions_of(inputs, outputs)
            for out in outputs:
                out.creator = self
        return tuple(outputs) if several else outputs[0]

    def forward(self, *arrays: Any) -> Any:
        """Compute the outputs from the input arrays."""
        raise NotImplementedError

    def backward(self, *grads: Tensor) -> Any:
        """Return the gradient with respect to each input, given the output gradients."""
        raise NotImplementedError

    def backward_arrays(self, *grads: Any) -> Any:
        """:meth:`backward` on plain arrays, for a backward pass that is not recorded (no ``create_graph``).

        Returns one array (or ``None``, or a :class:`~minigrad.sparse.RowSparseGrad`)
        per input. This default wraps ``grads`` in Tensors, runs :meth:`backward`
        and hands back the arrays of its results. An operation on the hot path
        of training overrides it with the same formulas on arrays, which skips
        building a Tensor (and a recorded operation) for every intermediate
        value; the override must give the same numbers and must not write into
        ``grads``.

        >>> import numpy as np
        >>> import minigrad as mg
        >>> y = mg.relu(mg.tensor([1.0, -2.0], requires_grad=True))
        >>> y.creator.backward_arrays(np.array([5.0, 5.0]))  # ReLU's own: the mask on arrays
        array([5., 0.])
        """
        results = self.backward(*[Tensor(g) for g in grads])
        if isinstance(results, tuple):
            return tuple(self._array_of(r, i) for i, r in enumerate(results))
        return self._array_of(results, 0)

    def _array_of(self, result: Any, index: int) -> Any:
        """The array of one result of :meth:`backward`: a Tensor's data; an array, a row-sparse gradient or
        ``None`` as it is."""
        if isinstance(result, Tensor):
            return result.data
        if result is None or is_array(result) or isinstance(result, RowSparseGrad):
            return result
        raise TypeError(
            f"{type(self).__name__}.backward: gradient {index} is a {type(result).__name__}; "
            "expected a Tensor, an array or None"
        )

    def release(self) -> None:
        """Drop the references to the inputs, freeing their arrays for the garbage collector."""
        self.inputs = None

    def output(self, index: int = 0) -> Tensor:
        """The ``index``-th output, which is alive while backward runs through this function."""
        out = self.outputs[index]()
        if out is None:  # pragma: no cover - outputs stay alive during backward
            raise RuntimeError(f"{type(self).__name__}: output {index} was freed before backward")
        return out


def _as_array(value: Any) -> Any:
    """NumPy reductions can return NumPy scalars; the graph wants 0-d arrays."""
    if is_array(value):
        return value
    return get_array_module(value).asarray(value)


def _any_requires_grad(inputs: tuple[Tensor, ...]) -> bool:
    """Whether an input requires gradients (``any`` over a generator, without the generator)."""
    for x in inputs:
        if x.requires_grad:
            return True
    return False


def _as_tensors(operands: tuple[Any, ...]) -> tuple[Tensor, ...]:
    """Turn constants into Tensors on the device of the tensor operands; check devices agree."""
    reference = None
    has_constants = False
    for operand in operands:
        if not isinstance(operand, Tensor):
            has_constants = True
        elif reference is None:
            reference = operand
        elif not same_device(operand.data, reference.data):
            raise DeviceMismatchError(
                f"operands are on different devices: {reference.device} and {operand.device}; "
                "move them with .to(device) first"
            )
    if reference is None:
        raise TypeError("a Function needs at least one Tensor operand")
    if not has_constants:
        return operands
    return tuple(
        operand if isinstance(operand, Tensor) else _constant(operand, reference)
        for operand in operands
    )


def _constant(value: Any, like: Tensor) -> Tensor:
    """A constant operand as a Tensor on ``like``'s device.

    Python scalars take the dtype NumPy would give ``like.data op value``
    (so ``float32_tensor * 2.0`` stays float32); arrays keep their dtype and
    must already be on the right device.
    """
    xp = like.xp
    if is_array(value):
        if device_of(value) != like.device:
            raise DeviceMismatchError(
                f"operands are on different devices: {like.device} and {device_of(value)}; "
                "move them with .to(device) first"
            )
        return Tensor(value)
    if isinstance(value, (bool, int, float, complex)):
        return Tensor(xp.asarray(value, dtype=backend.python_scalar_dtype(like.dtype, value)))
    try:
        array = xp.asarray(value)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind not in "biufc":
        raise TypeError(f"operand: expected a Tensor, an array or a number, got {value!r}")
    return Tensor(array)

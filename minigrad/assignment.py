"""Item assignment (``x[index] = value``) and the versions that keep it from corrupting gradients.

Item assignment writes into a tensor's array in place and is not recorded, so
a graph cannot differentiate through it. Two rules keep gradients right:

* While recording is on, a tensor that requires gradients refuses item
  assignment, as PyTorch refuses in-place changes of a leaf; under
  :class:`~minigrad.no_grad` it is allowed (to set or reset values by hand),
  and so is assignment into any tensor that needs no gradient.
* Every assignment counts one more *version* of the memory it writes, shared by
  all the arrays that view that memory. Each recorded operation notes the
  versions of its operands and results, and backward, before it computes
  anything, refuses a graph in which one of them was assigned into since: a
  derivative would read the new values instead of the ones it was computed
  from (PyTorch: "modified by an inplace operation"). PyTorch checks only the
  values a derivative reads; this check is stricter, and covers every operand
  and result of the graph.

Only item assignment counts: the optimizers and :meth:`Module.load_state_dict`
write parameter arrays directly, after the backward pass that needs them.
"""

from __future__ import annotations

import reprlib
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import backend
from minigrad.config import is_grad_enabled

if TYPE_CHECKING:
    from minigrad.function import Function
    from minigrad.tensor import Tensor

__all__ = ["assign_items", "check_versions", "versions_of"]

#: Number of item assignments into each memory block, by the ``id`` of the array that owns it.
_assignments: dict[int, int] = {}


def _memory_owner(array: Any) -> Any:
    """The array that owns the memory ``array`` views (``array`` itself when it owns it)."""
    owner = array
    while backend.is_array(owner.base):
        owner = owner.base
    return owner


def _version(array: Any) -> int:
    return _assignments.get(id(_memory_owner(array)), 0)


def _count_assignment(array: Any) -> None:
    owner = _memory_owner(array)
    key = id(owner)
    if key not in _assignments:
        try:  # forget the count with the memory, so that a later array at the same address starts afresh
            weakref.finalize(owner, _assignments.pop, key, None)
        except TypeError:  # an array type without weak references keeps its (harmless) count
            pass
    _assignments[key] = _assignments.get(key, 0) + 1


def versions_of(*groups: Sequence[Tensor]) -> tuple[int, ...] | None:
    """The versions of the memory of the tensors of ``groups`` (an operation's inputs, then its outputs), in
    order, or ``None`` when no item assignment ever happened (all 0)."""
    if not _assignments:
        return None
    return tuple(_version(t.data) for tensors in groups for t in tensors)


def check_versions(functions: list[Function]) -> None:
    """Raise a ``RuntimeError`` when an operand or a result of one of ``functions`` was assigned into since that
    function ran (:attr:`Function.versions` holds what they were then); checked before backward changes anything.
    """
    if not _assignments:  # no live array was ever assigned into (a count lives as long as its memory)
        return
    for function in functions:
        tensors = [*function.inputs, *(ref() for ref in function.outputs)]
        for position, tensor in enumerate(tensors):
            before = 0 if function.versions is None else function.versions[position]
            if tensor is None or _version(tensor.data) == before:
                continue
            operands = len(function.inputs)
            role = f"operand {position}" if position < operands else f"result {position - operands}"
            raise RuntimeError(
                f"backward: {role} of {type(function).__name__} (shape {tensor.shape}) was changed by item "
                "assignment after the operation used it, so its gradient would be wrong; compute the result "
                "again after the assignment (nothing was changed)"
            )


def assign_items(target: Tensor, index: Any, value: Any) -> None:
    """``target[index] = value`` in place, checked before anything is written.

    Parameters
    ----------
    target : Tensor
        The tensor written into. While recording is on it must not require gradients.
    index : object
        Any NumPy index; tensors and lists inside it are read as arrays.
    value : Tensor, array or number
        Broadcast to ``target[index]`` and cast to ``target``'s dtype, as NumPy assigns (a float into an
        integer tensor truncates); a complex value into a real tensor is refused rather than losing its
        imaginary part.

    Raises
    ------
    RuntimeError
        When recording is on and ``target`` or a tensor ``value`` requires gradients.
    TypeError
        When ``value`` is not made of numbers, or is complex for a real ``target``.
    ValueError, IndexError
        When ``value`` does not broadcast to ``target[index]``, or ``index`` is out of range (NumPy's messages).
    """
    from minigrad.function import DeviceMismatchError
    from minigrad.functions.shape import _index_for
    from minigrad.tensor import Tensor

    if is_grad_enabled() and target.requires_grad:
        raise RuntimeError(
            f"item assignment: this tensor (shape {target.shape}) requires gradients and item assignment is not "
            "recorded; assign under minigrad.no_grad(), or build the new values with minigrad.where"
        )
    if isinstance(value, Tensor):
        if is_grad_enabled() and value.requires_grad:
            raise RuntimeError(
                f"value: a tensor that requires gradients (shape {value.shape}); item assignment is not recorded, "
                "so no gradient would reach it: assign under minigrad.no_grad() or assign value.detach()"
            )
        value = value.data
    if backend.is_array(value):
        if backend.device_of(value) != target.device:
            raise DeviceMismatchError(
                f"value: on {backend.device_of(value)}, the tensor on {target.device}; move it with .to(device) first"
            )
        values = value
    else:
        try:
            values = np.asarray(value)
        except (TypeError, ValueError):
            values = None
        if values is None or values.dtype.kind not in "biufc":
            raise TypeError(f"value: expected a Tensor, an array or numbers, got {reprlib.repr(value)}")
        values = backend.to_device(values, target.device)
    if values.dtype.kind == "c" and target.dtype.kind != "c":
        raise TypeError(
            f"value: complex dtype {values.dtype} for a tensor of dtype {target.dtype} "
            "(the imaginary part would be dropped)"
        )
    array_index = _index_for(index, target.data)
    target.data[array_index] = values
    _count_assignment(target.data)

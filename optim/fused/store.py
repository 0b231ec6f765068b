"""The flat buffers of the fused path: a :class:`FlatStore` per device and dtype, a :class:`Slot` per parameter.

:class:`~optim.fused.engine.FusedEngine` lays the parameters out in the stores
(:func:`allocate`, :func:`place`) and hands out views of them; the kernels run
on ranges of the stores (:func:`optim.fused.cpu.launch`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.autograd import set_grad_buffer
from minigrad.backend import Device
from minigrad.tensor import Tensor
from optim.fused import cpu as fused_cpu
from optim.fused import gpu as fused_gpu

if TYPE_CHECKING:
    from optim.optimizer import Optimizer

__all__ = [
    "FlatStore", "Slot", "adopt", "allocate", "lay_out", "pattern_index", "place", "register_grad_buffer",
    "register_members", "replaced", "zeros",
]


@dataclasses.dataclass(eq=False, slots=True)
class FlatStore:
    """Flat buffers of the parameters of one device, dtype and set of state arrays.

    ``staging`` is a second gradient buffer, allocated the first time a step
    must not write into ``grad``: when the pipeline changed (scaled, clipped,
    averaged) a gradient that is the user's ``p.grad`` view of ``grad``.
    """

    device: Device
    dtype: Any
    names: tuple[str, ...]
    param: Any
    grad: Any
    state: dict[str, Any]
    staging: Any = None


@dataclasses.dataclass(eq=False, slots=True)
class Slot:
    """Where one parameter lives in its store: ``[start, stop)``, with the views handed out."""

    param: Tensor
    store: FlatStore
    start: int
    stop: int
    param_view: Any
    grad_view: Any
    grad_tensor: Tensor
    entry: dict[str, Any]  # the state entry: {"step": t, "m": view, ...}
    views: dict[str, Any]  # the views of the state buffers that the entry must hold
    fresh: bool  # the state views still hold the zeros they were allocated with


def zeros(device: Device, size: int, dtype: Any) -> Any:
    """A flat zero buffer on ``device``."""
    return (fused_cpu.zeros if device.type == "cpu" else fused_gpu.zeros)(device, size, dtype)


def lay_out(optimizer: Optimizer, state_names: Callable[[dict[str, Any]], tuple[str, ...]],
            previous: dict[int, Slot]) -> tuple[list[FlatStore], dict[int, Slot]]:
    """The stores and slots of the optimizer's parameters, their values and state copied in (``param.data`` become
    views): one store per device, dtype and set of state arrays (``state_names(group)``), the parameters in group
    order, then by ``pattern_lrs`` entry, then decayed before not, so that parameters that share their numbers
    are contiguous. The parameters of the ``previous`` slots that are not laid out again lose their registration.
    """
    members: dict[tuple[Any, ...], list[tuple[tuple[int, int, bool], Tensor]]] = {}
    for g_index, group in enumerate(optimizer.param_groups):
        names = state_names(group)
        for param in group["params"]:
            order = (g_index, pattern_index(optimizer.names.get(id(param)), optimizer.options.pattern_lrs),
                     not optimizer._decays(param))
            members.setdefault((param.device, param.dtype, names), []).append((order, param))
    register_members(previous, set())
    stores, slots = [], {}
    for (device, dtype, names), entries in members.items():
        entries.sort(key=lambda entry: entry[0])  # stable: parameter order within equal keys
        params = [param for _, param in entries]
        store = allocate(device, dtype, names, sum(param.size for param in params))
        start = 0
        for param in params:
            slots[id(param)] = place(param, store, start, optimizer.state.get(param))
            start += param.size
        stores.append(store)
    return stores, slots


def allocate(device: Device, dtype: Any, names: tuple[str, ...], size: int) -> FlatStore:
    """A store of ``size`` zero elements per buffer: parameters, gradients and the state arrays ``names``."""
    return FlatStore(device, dtype, names, zeros(device, size, dtype), zeros(device, size, dtype),
                     {name: zeros(device, size, dtype) for name in names})


def pattern_index(name: str | None, pattern_lrs: Sequence[tuple[Sequence[str], Any]]) -> int:
    """Index of the ``pattern_lrs`` entry whose patterns match the parameter name ``name`` (-1: none, or no name)."""
    if name is None:
        return -1
    for index, (patterns, _) in enumerate(pattern_lrs):
        if any(re.search(pattern, name) for pattern in patterns):
            return index
    return -1


def place(param: Tensor, store: FlatStore, start: int, entry: dict[str, Any] | None) -> Slot:
    """Copy ``param`` and its state ``entry`` (if any) into ``store`` at ``start``; make ``param.data`` the view.

    The slot's gradient Tensor, a view of the flat gradient buffer, is
    registered as the parameter's gradient buffer (:func:`register_grad_buffer`).
    """
    stop = start + param.size
    param_view = store.param[start:stop].reshape(param.shape)
    param_view[...] = param.data
    param.data = param_view
    grad_view = store.grad[start:stop].reshape(param.shape)
    views = {name: array[start:stop].reshape(param.shape) for name, array in store.state.items()}
    if entry is None:
        entry, fresh = {"step": 0, **views}, True
    else:
        adopt(entry, views, store.device)
        fresh = False
    slot = Slot(param, store, start, stop, param_view, grad_view, Tensor(grad_view), entry, views, fresh)
    register_grad_buffer(slot)
    return slot


def register_members(slots: dict[int, Slot], members: set[int]) -> None:
    """The parameters of ``slots`` whose ids are in ``members`` have their slot's gradient Tensor registered for
    ``backward``; the others (parameters that left the optimizer) no longer have it."""
    for key, slot in slots.items():
        registered = slot.param.grad_buffer is slot.grad_tensor
        if key in members and not registered:
            register_grad_buffer(slot)
        elif key not in members and registered:
            slot.param.grad_buffer = None


def register_grad_buffer(slot: Slot) -> None:
    """Make the slot's gradient Tensor the buffer that ``backward`` writes its parameter's first gradient into
    (:func:`minigrad.autograd.set_grad_buffer`), so that the step finds it in the flat buffer. A parameter that
    gets no gradient (``requires_grad=False``, or not a leaf) has none registered."""
    param = slot.param
    if param.requires_grad and param.is_leaf:
        set_grad_buffer(param, slot.grad_tensor)


def adopt(entry: dict[str, Any], views: dict[str, Any], device: Device) -> None:
    """Copy a state entry's arrays into ``views`` and put the views in the entry (same dict object).

    An array the entry lacks (``amsgrad`` switched on after the first update)
    stays missing, its view zeroed: the optimizer's ``check_call`` refuses to
    update such a parameter, as the reference path does.
    """
    for name, view in views.items():
        value = entry.get(name)
        if value is None:
            view.fill(0)
            continue
        view[...] = backend.to_device(value, device)
        entry[name] = view
    entry.setdefault("step", 0)


def replaced(entry: dict[str, Any], views: dict[str, Any]) -> bool:
    """Whether a state array of ``entry`` is no longer the view of the buffers (it was set by hand)."""
    return any(entry.get(name) is not view for name, view in views.items())

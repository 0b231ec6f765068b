"""The flat buffers of the fused path: a :class:`FlatStore` per device and dtype, a :class:`Slot` per parameter.

:class:`~optim.fused.engine.FusedEngine` lays the parameters out in the stores and
hands out views of them; :func:`launch` runs the kernels on ranges of the
stores, on the CPU (:mod:`optim.fused.cpu`) or a GPU (:mod:`optim.fused.gpu`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from minigrad import backend
from minigrad.backend import Device
from minigrad.tensor import Tensor
from optim.fused import cpu as fused_cpu
from optim.fused import gpu as fused_gpu

__all__ = ["FlatStore", "Slot", "adopt", "launch", "piece", "replaced", "zeros"]


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


def piece(algorithm: str, store: FlatStore, scalars: Any, start: int, stop: int,
          staged: bool = False) -> fused_cpu.Piece:
    """The kernel of ``algorithm`` ("adam", for AMSGrad too, "adamax" or "sgd") on ``[start, stop)`` of ``store``,
    reading the gradients from ``store.staging`` if ``staged``, else from ``store.grad``."""
    grad = store.staging if staged else store.grad
    arrays = (store.param, grad, *(store.state[name] for name in store.names))
    if algorithm == "adam" and len(store.names) == 2:
        arrays = (*arrays, None)  # no v_max without AMSGrad
    if algorithm == "sgd" and not store.names:
        arrays = (*arrays, None)  # no buffer without momentum
    if store.device.type == "cpu":
        kernel = fused_cpu.kernel(algorithm, store.dtype)
    else:
        kernel = fused_gpu.KERNELS[algorithm]
    return fused_cpu.Piece(kernel, arrays, scalars, start, stop)


def launch(pieces: Sequence[fused_cpu.Piece]) -> None:
    """Run the pieces: those in host memory together on the CPU's threads, then each GPU one."""
    on_cpu = [item for item in pieces if item.kernel not in fused_gpu.KERNELS.values()]
    on_gpu = [item for item in pieces if item.kernel in fused_gpu.KERNELS.values()]
    fused_cpu.run_pieces(on_cpu)
    fused_gpu.run_pieces(on_gpu)


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

"""What ``python -m optim bench`` times: the memory bandwidths that give the floor, and each method's step.

A method is a pair ``(prepare, step)``: ``prepare`` runs untimed before each
timed ``step``. In the **plain loop** ``prepare`` is what a training loop does
between two steps, ``zero_grad()`` then ``backward``: each parameter's
``backward(gradient)`` (minigrad) or one ``torch.autograd.backward`` over all
the parameters (PyTorch), which accumulate into ``p.grad`` as a loss's
backward does. With the **gradients kept**, nothing is done between steps: the
gradients set once stay in ``p.grad`` (minigrad's fused rows write them into
the views ``zero_grad(set_to_none=False)`` hands out).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import backend
from optim.adam import Adam
from optim.adamax import Adamax
from optim.amsgrad import AMSGrad
from optim.fused import cpu as fused_cpu
from optim.fused import jit as fused_jit
from optim.fused import scalars as fused_scalars

try:
    import torch
except ImportError:  # PyTorch is optional: the 'torch' extra
    torch = None

__all__ = ["ALGORITHMS", "TORCH_MODES", "Method", "fastest_stream", "measure", "minigrad_method", "nothing",
           "torch_method", "ufunc_arithmetic", "with_kernels"]

ALGORITHMS = {"adam": Adam, "adamax": Adamax, "amsgrad": AMSGrad}
TORCH_MODES = {"torch for-loop": {"foreach": False}, "torch foreach": {"foreach": True}, "torch fused": {"fused": True}}

#: ``(prepare, step)``: ``prepare`` runs untimed before each timed call of ``step``.
Method = tuple[Callable[[], None], Callable[[], Any]]


def nothing() -> None:
    """The ``prepare`` of a method that keeps its gradients between steps."""


# ----------------------------------------------------------------------------- timing
def _synchronize(device: str) -> None:
    if device == "cuda":
        backend._cupy.cuda.Device().synchronize()
        if torch is not None and torch.cuda.is_available():
            torch.cuda.synchronize()


def measure(step: Callable[[], Any], steps: int, device: str = "cpu",
            prepare: Callable[[], None] = nothing) -> list[float]:
    """Seconds of each of ``steps`` calls of ``step``, each after an untimed ``prepare()`` (the device
    synchronised around the timed call)."""
    times = []
    for _ in range(steps):
        prepare()
        _synchronize(device)
        start = time.perf_counter()
        step()
        _synchronize(device)
        times.append(time.perf_counter() - start)
    return times


# ----------------------------------------------------------------------------- bandwidth
def _copy_chunk(dst: np.ndarray, src: np.ndarray, scalars: None, *scratch: np.ndarray) -> None:
    np.copyto(dst, src)


def _scale_chunk(array: np.ndarray, scalars: None, *scratch: np.ndarray) -> None:
    np.multiply(array, 1, out=array)


def _triad_loop(a: np.ndarray, b: np.ndarray, s: Any) -> None:  # pragma: no cover - compiled by Numba
    for i in range(a.size):
        a[i] = a[i] + s * b[i]


_compiled_triad = None if fused_jit.numba is None else fused_jit.numba.njit(nogil=True, cache=True)(_triad_loop)


def _triad_chunk(a: np.ndarray, b: np.ndarray, scalars: Any, *scratch: np.ndarray) -> None:
    _compiled_triad(a, b, scalars)


def fastest_stream(size: int, dtype: str, device: str, steps: int, kind: str) -> tuple[Callable[[], Any], int]:
    """The fastest memory stream over ``size`` elements of ``kind``, and the bytes it reads + writes.

    The candidates: one call on the whole array, and, on the CPU, all the cores
    in the chunks of the fused kernels (:mod:`optim.fused.cpu`). ``kind``:
    ``"copy"`` (``copyto``, as STREAM's copy counts it: its destination is also
    read before being written, a write-allocate it does not count); ``"update"``,
    in-place read-modify-write: ``a *= 1`` and, with Numba, the compiled triad
    ``a += s * b`` (3 arrays), which pay no hidden traffic, as an optimizer
    step's in-place streams do not. The caller times the stream again beside
    the methods, so that the floor meets the same load as they do.
    """
    xp = backend.as_device(device).xp
    src, dst = xp.ones(size, dtype), xp.zeros(size, dtype)
    chunked: list[tuple[Callable[..., None], tuple[Any, ...], Any, int, int]] = []  # kernel, arrays, scalars...
    if kind == "copy":
        candidates = [(lambda: xp.copyto(dst, src), 2)]
        chunked.append((_copy_chunk, (dst, src), None, fused_cpu.CHUNK_BYTES, 2))
        chunked.append((_copy_chunk, (dst, src), None, fused_cpu.COMPILED_CHUNK_BYTES, 2))
    else:
        candidates = [(lambda: xp.multiply(dst, 1, out=dst), 2)]
        chunked.append((_scale_chunk, (dst,), None, fused_cpu.CHUNK_BYTES, 2))
        chunked.append((_scale_chunk, (dst,), None, fused_cpu.COMPILED_CHUNK_BYTES, 2))
        if _compiled_triad is not None and device == "cpu":
            scale = np.dtype(dtype).type(0.0)  # a += 0 * b: the values stay as they are
            _compiled_triad(dst[:16], src[:16], scale)  # compile outside the timing
            chunked.append((_triad_chunk, (dst, src), scale, fused_cpu.COMPILED_CHUNK_BYTES, 3))
    if device == "cpu":
        for kernel, arrays, scalars, chunk_bytes, count in chunked:
            piece = fused_cpu.Piece(kernel, arrays, scalars, 0, size, chunk_bytes)
            candidates.append((lambda piece=piece: fused_cpu.run_pieces([piece]), count))
    itemsize = np.dtype(dtype).itemsize
    rates = [count / statistics.median(measure(run, steps + 2, device)[2:]) for run, count in candidates]
    run, count = candidates[rates.index(max(rates))]
    return run, count * size * itemsize


def bandwidth(size: int, dtype: str, device: str, steps: int, kind: str = "copy") -> float:
    """Bytes per second, read + written, of the fastest stream of ``kind`` over ``size`` elements
    (:func:`fastest_stream`; ``"copy"`` as STREAM counts a copy, ``"update"`` in place), timed over ``steps`` runs.

    >>> bandwidth(1_000, "float32", "cpu", steps=3) > 0
    True
    """
    run, moved = fastest_stream(size, dtype, device, steps, kind)
    return moved / statistics.median(measure(run, steps + 2, device)[2:])


def ufunc_arithmetic(algorithm: str, size: int, dtype: str) -> Callable[[], None]:
    """The arithmetic of the ufunc kernels alone: this thread's share of ``size`` elements (``size`` over
    :func:`~optim.fused.cpu.num_threads`) run as chunks of one cache-resident chunk of arrays, so that no pass
    waits for memory. The time is a lower bound for the ufunc kernels on ``size`` elements on all the cores,
    whatever the memory does (``"pytorch"`` convention's rule, as the methods).

    >>> ufunc_arithmetic("adam", 10_000, "float32")()
    """
    length = min(size, fused_cpu.CHUNK_BYTES // np.dtype(dtype).itemsize)
    param = mg.Tensor(np.ones(length, dtype), requires_grad=True)
    optimizer = ALGORITHMS[algorithm]([param], lr=1e-3, convention="pytorch", fused=True)
    param.grad = mg.Tensor(np.full(length, 0.5, dtype))
    optimizer.step()  # binds the flat buffers (param, gradient, state) that fused_cpu.piece reads
    group = optimizer.param_groups[0]
    rule_step = fused_scalars.for_group(optimizer.algorithm, group, dtype=np.dtype(dtype), step=10, lr=1e-3,
                                        weight_decay=0.0, power_dtype=optimizer.options.power_dtype)
    with fused_cpu.using_kernels("ufunc"):
        chunk = fused_cpu.piece(optimizer.algorithm, optimizer._fused_engine.stores[0], rule_step, 0, length)
    share = -(-size // fused_cpu.num_threads())
    pieces = [chunk] * max(1, round(share / length))
    return lambda: fused_cpu.run_pieces(pieces, threads=1)


# ----------------------------------------------------------------------------- the methods
def _arrays(shape: tuple[int, int], dtype: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20151222)
    size = shape[0] * shape[1]
    return rng.standard_normal(size).astype(dtype), rng.standard_normal(size).astype(dtype)


def minigrad_method(algorithm: str, shape: tuple[int, int], dtype: str, device: str, fused: bool,
                    loop: str = "plain", new_grads: bool = False) -> Method:
    """A minigrad optimizer's step over ``shape`` (ROWS parameters of COLS elements).

    ``loop="plain"``: ``zero_grad()`` and each parameter's ``backward(gradient)`` before every step.
    ``loop="kept"``: the gradients set once (fused: written into the views that
    ``zero_grad(set_to_none=False)`` hands out); ``new_grads`` assigns new gradient Tensors before each step
    instead (the fused general path).
    """
    values, grads = _arrays(shape, dtype)
    rows, cols = shape
    params = [mg.Tensor(backend.to_device(values[i * cols:(i + 1) * cols].copy(), device), requires_grad=True)
              for i in range(rows)]
    optimizer = ALGORITHMS[algorithm](params, lr=1e-3, convention="pytorch", fused=fused)
    row_grads = [backend.to_device(grads[i * cols:(i + 1) * cols].copy(), device) for i in range(rows)]
    if loop == "plain":
        def backward() -> None:
            optimizer.zero_grad()
            for param, grad in zip(params, row_grads):
                param.backward(grad)

        return backward, optimizer.step
    for param, grad in zip(params, row_grads):
        param.grad = mg.Tensor(grad)
    if fused:  # every parameter has a gradient, so each gets the zero view of its slot of the flat buffer
        optimizer.zero_grad(set_to_none=False)
        for param, grad in zip(params, row_grads):
            param.grad.data[...] = grad  # the gradient written into the flat buffer, as backward does
    if not new_grads:
        return nothing, optimizer.step

    def new_tensors() -> None:
        for param, grad in zip(params, row_grads):
            param.grad = mg.Tensor(grad)

    return new_tensors, optimizer.step


def torch_method(algorithm: str, shape: tuple[int, int], dtype: str, device: str, mode: str,
                 loop: str = "plain") -> Method | None:
    """``torch.optim``'s step in ``mode`` (a key of :data:`TORCH_MODES`), in the ``loop`` of
    :func:`minigrad_method`; None for a mode torch lacks (fused Adamax)."""
    if algorithm == "adamax" and mode == "torch fused":
        return None  # torch.optim.Adamax has no fused implementation
    values, grads = _arrays(shape, dtype)
    rows, cols = shape
    where = "cuda" if device == "cuda" else "cpu"
    params = [torch.from_numpy(values[i * cols:(i + 1) * cols].copy()).to(where).requires_grad_(True)
              for i in range(rows)]
    row_grads = [torch.from_numpy(grads[i * cols:(i + 1) * cols].copy()).to(where) for i in range(rows)]
    cls = torch.optim.Adamax if algorithm == "adamax" else torch.optim.Adam
    extra = {"amsgrad": True} if algorithm == "amsgrad" else {}
    optimizer = cls(params, lr=1e-3, **extra, **TORCH_MODES[mode])
    if loop == "plain":
        def backward() -> None:
            optimizer.zero_grad()
            torch.autograd.backward(params, row_grads)

        return backward, optimizer.step
    for param, grad in zip(params, row_grads):
        param.grad = grad
    return nothing, optimizer.step


def with_kernels(kind: str, step: Callable[[], Any]) -> Callable[[], None]:
    """``step`` run with the fused CPU kernels of ``kind`` (:func:`optim.fused.cpu.set_kernels`)."""

    def run() -> None:
        with fused_cpu.using_kernels(kind):
            step()

    return run

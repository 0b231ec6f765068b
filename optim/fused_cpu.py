"""The fused CPU step: the rules of :mod:`optim.functional` as in-place ufunc passes over cache-sized chunks.

A step of the fused path (:mod:`optim.fused`) runs over flat buffers that hold
the parameters, gradients and state of many tensors back to back. This module
cuts the work into chunks of :data:`CHUNK_BYTES` per array and runs the update
rule on each chunk as a short sequence of NumPy ufuncs with ``out=``: the
first pass over a chunk brings it from memory, the next ones find it in the
cache, and it goes back to memory once. :func:`num_threads` threads (NumPy
releases the GIL inside a ufunc) take the chunks from a shared queue.

The ufunc kernels :func:`adam_chunk` and :func:`adamax_chunk` mirror
:func:`optim.functional.adam_update` and :func:`~optim.functional.adamax_update`
line by line, operation by operation, in the same order and the same dtype,
with the scalars of :mod:`optim.fused_scalars`, computed exactly as those
functions compute them: the fused path gives the same bits as the reference.
About a dozen ufuncs per chunk make the step cost more than one pass over
memory; with Numba installed, :func:`kernel` hands out the one-pass compiled
kernels of :mod:`optim.fused_jit` instead, which give the same bits.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import numpy as np

from optim import fused_jit
from optim.fused_scalars import AdamaxScalars, AdamScalars

__all__ = [
    "CHUNK_BYTES",
    "COMPILED_CHUNK_BYTES",
    "Piece",
    "adam_chunk",
    "adamax_chunk",
    "fill_zero",
    "kernel",
    "num_threads",
    "run_pieces",
    "set_kernels",
    "zeros",
]

#: Bytes of one array in one chunk of the ufunc kernels: 131072 float32, 65536 float64 elements. The two or
#: three arrays of one pass stay in the L2/L3 caches between passes. Smaller chunks (all arrays of a chunk in the
#: 1 MiB L2) measured slower on 2 cores: every ufunc call takes the GIL for a moment, and more calls mean more
#: waiting for it.
CHUNK_BYTES = 512 * 1024

#: Bytes of one array in one chunk of the compiled kernels, which pass over a chunk once: the chunks only share
#: the work out among the threads, and longer ones cost fewer calls (measured: 512 KiB to 8 MiB within noise of
#: each other on 1 x 10M, 64 KiB slower).
COMPILED_CHUNK_BYTES = 2 * 1024 * 1024


def num_threads() -> int:
    """The cores this process may run on (``os.sched_getaffinity`` where available, else ``os.cpu_count``)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


# ----------------------------------------------------------------------------- kernels
def _effective_gradient(param: np.ndarray, grad: np.ndarray, s: Any, g_out: np.ndarray,
                        scratch: np.ndarray) -> np.ndarray:
    """``functional._effective_gradient``: ``-grad`` for maximize, then weight decay; ``grad`` is never written."""
    g = grad
    if s.maximize:
        g = np.negative(grad, out=g_out)  # g = -grad
    if not s.decays:
        return g
    if s.decoupled:
        np.multiply(param, s.decay_factor, out=param)  # param *= 1 - lr * weight_decay
        return g
    np.multiply(param, s.weight_decay, out=scratch)  # weight_decay * param
    return np.add(g, scratch, out=g_out)  # g + weight_decay * param


def adam_chunk(param: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, v_max: np.ndarray | None,
               s: AdamScalars, g_out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """:func:`optim.functional.adam_update` on one chunk, in place; ``g_out``, ``a``, ``b`` are scratch.

    Each line is the ufunc form of the line of ``adam_update`` quoted in its
    comment, so the result is the same to the last bit:

    .. math::

        m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t, \\quad
        v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2, \\quad
        \\theta_t = \\theta_{t-1} - \\frac{\\alpha}{1-\\beta_1^t}
                    \\frac{m_t}{\\sqrt{v_t}/\\sqrt{1-\\beta_2^t} + \\epsilon}
    """
    g = _effective_gradient(param, grad, s, g_out, a)
    np.multiply(m, s.beta1, out=m)  # m *= beta1
    np.multiply(g, s.one_minus_beta1, out=a)  # (1 - beta1) * g
    np.add(m, a, out=m)  # m += (1 - beta1) * g
    np.multiply(v, s.beta2, out=v)  # v *= beta2
    np.multiply(g, s.one_minus_beta2, out=a)  # (1 - beta2) * g
    np.multiply(a, g, out=a)  # (1 - beta2) * g * g
    np.add(v, a, out=v)  # v += (1 - beta2) * g * g

    if s.amsgrad_mode == "max_corrected_v":
        np.divide(v, s.bias2, out=a)  # v / bias2
        np.maximum(v_max, a, out=v_max)  # v_max = max(v_max, v / bias2)
        np.divide(m, s.bias1, out=a)  # m / bias1
        np.multiply(a, s.lr, out=a)  # lr * (m / bias1)
        np.sqrt(v_max, out=b)  # sqrt(v_max)
        np.add(b, s.eps, out=b)  # sqrt(v_max) + eps
        np.divide(a, b, out=a)
        np.subtract(param, a, out=param)  # param -= lr * (m / bias1) / (sqrt(v_max) + eps)
        return
    if s.amsgrad_mode == "no_bias_correction":
        np.maximum(v_max, v, out=v_max)  # v_max = max(v_max, v)
        np.multiply(m, s.lr, out=a)  # lr * m
        np.sqrt(v_max, out=b)  # sqrt(v_max)
        np.add(b, s.eps, out=b)  # sqrt(v_max) + eps
        np.divide(a, b, out=a)
        np.subtract(param, a, out=param)  # param -= lr * m / (sqrt(v_max) + eps)
        return
    second = v
    if s.amsgrad_mode == "max_raw_v":
        np.maximum(v_max, v, out=v_max)  # v_max = max(v_max, v)
        second = v_max

    np.sqrt(second, out=b)  # sqrt(second)
    if s.epsilon_mode == "algorithm1":
        np.divide(b, s.sqrt_bias2, out=b)  # sqrt(second) / sqrt(bias2)
        np.add(b, s.eps, out=b)  # denominator = sqrt(second) / sqrt(bias2) + eps
        np.multiply(m, s.step_size, out=a)  # step_size * m
    else:  # "epsilon_hat"
        np.add(b, s.eps, out=b)  # sqrt(second) + eps
        np.multiply(m, s.alpha_t, out=a)  # alpha_t * m
    np.divide(a, b, out=a)
    np.subtract(param, a, out=param)  # param -= step * m / denominator


def adamax_chunk(param: np.ndarray, grad: np.ndarray, m: np.ndarray, u: np.ndarray, s: AdamaxScalars,
                 g_out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """:func:`optim.functional.adamax_update` on one chunk, in place; ``g_out``, ``a``, ``b`` are scratch.

    .. math::

        m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t, \\quad
        u_t = \\max(\\beta_2 u_{t-1}, |g_t|), \\quad
        \\theta_t = \\theta_{t-1} - \\frac{\\alpha}{1-\\beta_1^t}\\frac{m_t}{u_t + \\epsilon}

    (with ``adamax_epsilon="inside_max"``: :math:`u_t = \\max(\\beta_2 u_{t-1}, |g_t| + \\epsilon)`
    and the step divides by :math:`u_t`).
    """
    g = _effective_gradient(param, grad, s, g_out, a)
    np.multiply(m, s.beta1, out=m)  # m *= beta1
    np.multiply(g, s.one_minus_beta1, out=a)  # (1 - beta1) * g
    np.add(m, a, out=m)  # m += (1 - beta1) * g
    np.multiply(u, s.beta2, out=u)  # u *= beta2
    np.absolute(g, out=a)  # abs_g = abs(g)
    if s.adamax_epsilon == "inside_max":
        np.add(a, s.eps, out=a)  # abs_g += eps
        np.maximum(u, a, out=u)  # u = max(beta2 u, |g| + eps)
        denominator = u
    else:  # "denominator"
        np.maximum(u, a, out=u)  # u = max(beta2 u, |g|)
        denominator = np.add(u, s.eps, out=b)  # u + eps
    np.multiply(m, s.step_size, out=a)  # step_size * m
    np.divide(a, denominator, out=a)
    np.subtract(param, a, out=param)  # param -= step_size * m / denominator


# ----------------------------------------------------------------------------- choosing the kernels
_UFUNC_KERNELS = {"adam": adam_chunk, "adamax": adamax_chunk}
_COMPILED_KERNELS = {"adam": fused_jit.adam_chunk, "adamax": fused_jit.adamax_chunk}
_KINDS = ("auto", "ufunc", "compiled")
_kind = "auto"


def set_kernels(kind: str) -> str:
    """Choose the CPU kernels of the fused path; returns the previous choice.

    Parameters
    ----------
    kind : {"auto", "ufunc", "compiled"}
        ``"ufunc"``: the NumPy ufunc passes of this module. ``"compiled"``:
        the one-pass Numba kernels of :mod:`optim.fused_jit`. ``"auto"`` (the
        default): the compiled ones when Numba is installed. Both give the
        same bits.

    Raises
    ------
    ValueError
        For another ``kind``, or ``"compiled"`` without Numba.
    """
    global _kind
    if kind not in _KINDS:
        raise ValueError(f"kind: expected one of {_KINDS}, got {kind!r}")
    if kind == "compiled" and not fused_jit.available():
        raise ValueError("kind: 'compiled' needs Numba (pip install 'minigrad-optim[fast]'), which is not installed")
    previous, _kind = _kind, kind
    return previous


def kernel(algorithm: str, dtype: Any) -> Callable[..., None]:
    """The chunk kernel for ``algorithm`` ("adam", for AMSGrad too, or "adamax") and ``dtype``.

    The compiled kernel where :func:`set_kernels` allows it and it handles the
    dtype (float32, float64), unless NumPy is set to raise or call a handler
    on a floating-point error (``np.errstate``): only the ufuncs report those.
    """
    if _kind == "ufunc" or not fused_jit.available() or np.dtype(dtype) not in fused_jit.DTYPES:
        return _UFUNC_KERNELS[algorithm]
    if any(mode in ("raise", "call") for mode in np.geterr().values()):
        return _UFUNC_KERNELS[algorithm]
    return _COMPILED_KERNELS[algorithm]


# ----------------------------------------------------------------------------- running the chunks
@dataclasses.dataclass(frozen=True)
class Piece:
    """A range ``[start, stop)`` of flat buffers on which one kernel runs with one set of scalars.

    ``arrays`` are the flat buffers in the kernel's argument order (``None``
    for an unused one, such as ``v_max`` without AMSGrad). ``chunk_bytes``
    overrides the chunk length (bytes of one array) that the kernel's kind
    sets: :data:`CHUNK_BYTES` for the ufunc kernels, :data:`COMPILED_CHUNK_BYTES`
    for the compiled ones.
    """

    kernel: Callable[..., None]
    arrays: tuple[np.ndarray | None, ...]
    scalars: Any
    start: int
    stop: int
    chunk_bytes: int | None = None


_local = threading.local()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _scratch(dtype: np.dtype, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three scratch arrays of ``length`` elements, owned by the calling thread and kept between steps."""
    cache = getattr(_local, "scratch", None)
    if cache is None:
        cache = _local.scratch = {}
    arrays = cache.get(dtype)
    if arrays is None or arrays[0].size < length:
        arrays = cache[dtype] = tuple(np.empty(length, dtype) for _ in range(3))
    return arrays


def _is_compiled(kernel: Callable[..., None]) -> bool:
    return kernel is fused_jit.adam_chunk or kernel is fused_jit.adamax_chunk


def _chunk_length(piece: Piece) -> int:
    """Elements per chunk for the piece's kernel and dtype."""
    chunk_bytes = piece.chunk_bytes
    if chunk_bytes is None:
        chunk_bytes = COMPILED_CHUNK_BYTES if _is_compiled(piece.kernel) else CHUNK_BYTES
    return max(1024, chunk_bytes // piece.arrays[0].dtype.itemsize)


def _chunks(pieces: Sequence[Piece]) -> list[tuple[Piece, int, int]]:
    """Every piece cut into chunks ``(piece, lo, hi)`` of :func:`_chunk_length` elements."""
    chunks = []
    for piece in pieces:
        step = _chunk_length(piece)
        chunks.extend((piece, lo, min(lo + step, piece.stop)) for lo in range(piece.start, piece.stop, step))
    return chunks


def _run_chunks(take: Callable[[], tuple[Piece, int, int] | None], errors: dict[str, str]) -> None:
    """Run the kernel on chunks handed out by ``take`` until it returns None, under ``np.errstate(**errors)``."""
    with np.errstate(**errors):
        while True:
            task = take()
            if task is None:
                return
            piece, lo, hi = task
            views = [None if array is None else array[lo:hi] for array in piece.arrays]
            if _is_compiled(piece.kernel):
                piece.kernel(*views, piece.scalars, None, None, None)  # one pass, no scratch
                continue
            k = hi - lo
            g_out, a, b = _scratch(piece.arrays[0].dtype, _chunk_length(piece))
            piece.kernel(*views, piece.scalars, g_out[:k], a[:k], b[:k])


def _executor(workers: int) -> ThreadPoolExecutor:
    """The shared pool of worker threads, with at least ``workers`` threads."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)  # its idle threads exit; a larger pool replaces it
            _pool, _pool_size = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="optim-fused"), workers
        return _pool


def run_pieces(pieces: Sequence[Piece], threads: int | None = None) -> None:
    """Run every piece, chunk by chunk, on ``threads`` threads (default :func:`num_threads`), the caller included.

    The threads take the chunks one at a time from a shared queue, so a core
    that is busy with another process simply runs fewer of them. Work of a
    single chunk stays on the calling thread. Every thread follows the
    caller's ``np.errstate`` (which NumPy keeps per thread), as the reference
    path does.
    """
    chunks = _chunks([piece for piece in pieces if piece.stop > piece.start])
    errors = np.geterr()
    threads = num_threads() if threads is None else threads
    workers = min(threads, len(chunks))
    if workers <= 1:
        queue = iter(chunks)
        _run_chunks(lambda: next(queue, None), errors)
        return
    queue, lock = iter(chunks), threading.Lock()

    def take() -> tuple[Piece, int, int] | None:
        with lock:
            return next(queue, None)

    pool = _executor(workers - 1)
    futures = [pool.submit(_run_chunks, take, errors) for _ in range(workers - 1)]
    try:
        _run_chunks(take, errors)
    finally:
        wait(futures)  # every thread is done with the buffers before the step returns or raises
    for future in futures:
        future.result()  # a worker's error, raised here


def zeros(device: Any, size: int, dtype: Any) -> np.ndarray:
    """A flat zero buffer in host memory (``device`` is the CPU; the argument matches :func:`optim.fused_gpu.zeros`)."""
    return np.zeros(size, dtype)


def fill_zero(array: np.ndarray, threads: int | None = None) -> None:
    """``array[...] = 0`` for a flat array, in parallel chunks like :func:`run_pieces`."""
    piece = Piece(_zero_chunk, (array,), None, 0, array.size)
    run_pieces([piece], threads)


def _zero_chunk(array: np.ndarray, scalars: None, g_out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    array.fill(0)

"""The fused CPU step: a kernel over cache-sized chunks of the flat buffers, on all the cores.

A step of the fused path (:mod:`optim.fused.engine`) runs over flat buffers that hold
the parameters, gradients and state of many tensors back to back. This module
cuts the work into chunks and hands them to :func:`num_threads` threads (the
kernels release the GIL), which take them from a shared queue. The kernels:

* :mod:`optim.fused.ufunc`: the update rule of :mod:`optim.rules`, traced,
  as a short sequence of in-place NumPy ufuncs per chunk of :data:`CHUNK_BYTES`
  per array, small enough that the passes after the first find the chunk in
  the cache;
* :mod:`optim.fused.jit`: the same rule compiled by Numba into one pass over
  each chunk of :data:`COMPILED_CHUNK_BYTES`, when Numba is installed.

Both give the bits of the reference path; :func:`kernel` chooses, and
:func:`set_kernels` overrides the choice. :func:`piece` names the kernel and
the range of a store to run it on, and :func:`launch` runs the pieces: those in
host memory here, those on a GPU through :mod:`optim.fused.gpu`.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from optim.fused import gpu as fused_gpu
from optim.fused import jit as fused_jit
from optim.fused import ufunc as fused_ufunc

if TYPE_CHECKING:
    from optim.fused.store import FlatStore

__all__ = [
    "CHUNK_BYTES",
    "COMPILED_CHUNK_BYTES",
    "Piece",
    "fill_zero",
    "kernel",
    "launch",
    "num_threads",
    "piece",
    "run_pieces",
    "set_kernels",
    "using_kernels",
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


# ----------------------------------------------------------------------------- choosing the kernels
_UFUNC_KERNELS = {"adam": fused_ufunc.adam_chunk, "adamax": fused_ufunc.adamax_chunk, "sgd": fused_ufunc.sgd_chunk}
_COMPILED_KERNELS = {"adam": fused_jit.adam_chunk, "adamax": fused_jit.adamax_chunk, "sgd": fused_jit.sgd_chunk}
_KINDS = ("auto", "ufunc", "compiled")
_kind = "auto"


def set_kernels(kind: str) -> str:
    """Choose the CPU kernels of the fused path; returns the previous choice.

    Parameters
    ----------
    kind : {"auto", "ufunc", "compiled"}
        ``"ufunc"``: the NumPy ufunc passes of :mod:`optim.fused.ufunc`. ``"compiled"``:
        the one-pass Numba kernels of :mod:`optim.fused.jit`. ``"auto"`` (the
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


@contextlib.contextmanager
def using_kernels(kind: str) -> Iterator[str]:
    """Within the block, the CPU kernels of ``kind`` (as :func:`set_kernels` sets them); the previous choice after."""
    previous = set_kernels(kind)
    try:
        yield kind
    finally:
        set_kernels(previous)


def kernel(algorithm: str, dtype: Any) -> Callable[..., None]:
    """The chunk kernel for ``algorithm`` ("adam", for AMSGrad too, "adamax" or "sgd") and ``dtype``.

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
class Piece(NamedTuple):
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
    return kernel in _COMPILED_KERNELS.values()


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


def _run_chunk(piece: Piece, lo: int, hi: int) -> None:
    """Run the piece's kernel on its elements ``[lo, hi)``."""
    views = [None if array is None else array[lo:hi] for array in piece.arrays]
    if _is_compiled(piece.kernel):
        piece.kernel(*views, piece.scalars, None, None, None)  # one pass, no scratch
        return
    k = hi - lo
    g_out, a, b = _scratch(piece.arrays[0].dtype, _chunk_length(piece))
    piece.kernel(*views, piece.scalars, g_out[:k], a[:k], b[:k])


def _run_chunks(take: Callable[[], tuple[Piece, int, int] | None], errors: dict[str, str]) -> None:
    """Run the kernel on chunks handed out by ``take`` until it returns None, under ``np.errstate(**errors)``."""
    with np.errstate(**errors):
        while True:
            task = take()
            if task is None:
                return
            _run_chunk(*task)


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
    if threads is None:  # asking the system for the cores is a system call: not for a single chunk
        threads = num_threads() if len(chunks) > 1 else 1
    workers = min(threads, len(chunks))
    if workers <= 1:  # all on the calling thread, under its own np.errstate
        for chunk in chunks:
            _run_chunk(*chunk)
        return
    errors = np.geterr()
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


def piece(algorithm: str, store: FlatStore, scalars: Any, start: int, stop: int, staged: bool = False) -> Piece:
    """The kernel of ``algorithm`` ("adam", for AMSGrad too, "adamax" or "sgd") on ``[start, stop)`` of ``store``,
    reading the gradients from ``store.staging`` if ``staged``, else from ``store.grad``."""
    grad = store.staging if staged else store.grad
    arrays = (store.param, grad, *(store.state[name] for name in store.names))
    if algorithm == "adam" and len(store.names) == 2:
        arrays = (*arrays, None)  # no v_max without AMSGrad
    if algorithm == "sgd" and not store.names:
        arrays = (*arrays, None)  # no buffer without momentum
    chosen = kernel(algorithm, store.dtype) if store.device.type == "cpu" else fused_gpu.KERNELS[algorithm]
    return Piece(chosen, arrays, scalars, start, stop)


def launch(pieces: Sequence[Piece]) -> None:
    """Run the pieces: those in host memory together on the CPU's threads (:func:`run_pieces`), then each GPU one."""
    on_gpu = [item for item in pieces if item.kernel in fused_gpu.KERNELS.values()]
    run_pieces([item for item in pieces if item.kernel not in fused_gpu.KERNELS.values()])
    fused_gpu.run_pieces(on_gpu)


def zeros(device: Any, size: int, dtype: Any) -> np.ndarray:
    """A flat zero buffer in host memory (``device`` is the CPU; the argument matches :func:`optim.fused.gpu.zeros`)."""
    return np.zeros(size, dtype)


def fill_zero(array: np.ndarray, threads: int | None = None) -> None:
    """``array[...] = 0`` for a flat array, in parallel chunks like :func:`run_pieces`."""
    piece = Piece(_zero_chunk, (array,), None, 0, array.size)
    run_pieces([piece], threads)


def _zero_chunk(array: np.ndarray, scalars: None, g_out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    array.fill(0)

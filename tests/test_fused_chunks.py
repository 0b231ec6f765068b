"""The fused path against the reference path across chunk and thread boundaries: sizes around the chunk
length, odd sizes, many tiny parameters, one large one, and the worker threads' floating-point state."""

from __future__ import annotations

import numpy as np
import pytest
from fused_helpers import CLASSES, DTYPES, check, make_params

import minigrad as mg
import optim
from optim.fused import cpu as fused_cpu

# --------------------------------------------------------------------------- sizes and chunks
pytestmark = pytest.mark.usefixtures("cpu_kernels")  # every test with the ufunc and with the compiled kernels


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 1024 elements and 4 threads, so that small tests cross many chunk and thread boundaries."""
    monkeypatch.setattr(fused_cpu, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(fused_cpu, "COMPILED_CHUNK_BYTES", 4096)
    monkeypatch.setattr(fused_cpu, "num_threads", lambda: 4)


SIZES = {
    "around-one-chunk": [(1023,), (1024,), (1025,)],
    "odd": [(3, 7), (11,), (2049,), (5, 3, 67)],
    "many-tiny": [(1 + i % 7,) for i in range(300)],
    "one-large": [(50_001,)],
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sizes", sorted(SIZES))
@pytest.mark.parametrize("cls", CLASSES)
def test_chunk_boundaries(small_chunks, cls, sizes, dtype):
    """Sizes around the chunk length, odd sizes, hundreds of tiny parameters, one parameter of ~50 chunks."""
    check(cls, {"lr": 0.01, "convention": "pytorch"}, dtype, "cpu", shapes=SIZES[sizes], steps=3)


def test_default_chunks_and_threads(cpu_kernels):
    """The real chunk length of each kind of kernel, with a parameter of a few chunks and gradients in the views."""
    length = (fused_cpu.COMPILED_CHUNK_BYTES if cpu_kernels == "compiled" else fused_cpu.CHUNK_BYTES) // 4
    check(optim.Adam, {"lr": 0.01}, np.float32, "cpu", shapes=[(2 * length + 3,), (length - 1,)], steps=2,
          views=True)


def test_worker_threads_follow_the_callers_errstate(small_chunks):
    """np.errstate is per thread; the fused step applies the caller's to every worker, as the reference does."""
    for fused in (False, True):
        (x,) = make_params([(8192,)], np.float64, "cpu")
        optimizer = optim.Adamax([x], lr=0.1, eps=0.0, fused=fused)
        x.grad = mg.Tensor(np.zeros(8192))  # u = 0 and m = 0: 0 / 0 in every chunk
        with np.errstate(invalid="raise"), pytest.raises(FloatingPointError):
            optimizer.step()

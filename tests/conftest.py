"""Shared fixtures: every test that takes ``device`` runs once per available backend.

Without CuPy or without a GPU the ``cuda`` cases are skipped with the reason.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend
from optim.fused import cpu as fused_cpu
from optim.fused import jit as fused_jit


def _cuda_skip_reason() -> str | None:
    if backend._cupy is None:
        return "CuPy is not installed (install the 'gpu' extra on a machine with an NVIDIA GPU)"
    if not mg.cuda_available():
        return "CuPy is installed but no GPU is visible"
    return None


CUDA_SKIP_REASON = _cuda_skip_reason()

DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param(
        "cuda",
        id="cuda",
        marks=[pytest.mark.gpu, pytest.mark.skipif(CUDA_SKIP_REASON is not None, reason=str(CUDA_SKIP_REASON))],
    ),
]


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> str:
    """``"cpu"`` and, when a GPU is usable, ``"cuda"``."""
    return request.param


@pytest.fixture
def xp(device: str):
    """The array module of ``device``: numpy or cupy."""
    return backend.as_device(device).xp


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, so every run draws the same numbers."""
    return np.random.default_rng(20141222)


KERNEL_KINDS = [
    pytest.param("ufunc", id="ufunc"),
    pytest.param("compiled", id="compiled", marks=pytest.mark.skipif(
        not fused_jit.available(), reason="Numba is not installed (the 'fast' extra): no compiled kernels")),
]


@pytest.fixture(params=KERNEL_KINDS)
def cpu_kernels(request: pytest.FixtureRequest):
    """The fused path's CPU kernels for the test: the NumPy ufuncs, then the compiled ones (restored after)."""
    with fused_cpu.using_kernels(request.param) as kind:
        yield kind

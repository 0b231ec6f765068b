"""Parameter initialisation, reproducible from a seed or a ``numpy.random.Generator``.

Draws always happen on the CPU with NumPy, so a given seed gives the same
values on every device.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["RngLike", "as_generator", "normal", "uniform_fan_in"]

RngLike = np.random.Generator | int | None


def as_generator(rng: RngLike) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a generator (used as is), an integer seed, or ``None`` (fresh entropy).

    Examples
    --------
    >>> from minigrad.nn.init import as_generator
    >>> as_generator(0).integers(10, size=3)
    array([8, 6, 5])
    >>> as_generator(0).integers(10, size=3)
    array([8, 6, 5])
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng: expected a numpy.random.Generator, an int seed or None, got {rng!r}")


def uniform_fan_in(shape: tuple[int, ...], fan_in: int, rng: np.random.Generator, dtype: Any) -> np.ndarray:
    """:math:`\\mathcal U(-1/\\sqrt{n_\\text{in}},\\ 1/\\sqrt{n_\\text{in}})`, the default of PyTorch's ``nn.Linear``.

    It keeps the variance of a layer's output close to that of its input
    (:math:`\\operatorname{Var} = 1/(3 n_\\text{in})` per weight).

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad.nn.init import as_generator, uniform_fan_in
    >>> w = uniform_fan_in((3, 4), 4, as_generator(0), np.float64)
    >>> bool(np.all(np.abs(w) <= 0.5))
    True
    """
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def normal(shape: tuple[int, ...], rng: np.random.Generator, dtype: Any, std: float = 1.0) -> np.ndarray:
    """:math:`\\mathcal N(0, \\sigma^2)` draws, the default of embeddings.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad.nn.init import as_generator, normal
    >>> normal((2, 3), as_generator(0), np.float32).dtype
    dtype('float32')
    """
    return (rng.standard_normal(size=shape) * std).astype(dtype)

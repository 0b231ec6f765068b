"""Scalar routines applied to arrays element by element, and random gradient sequences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def run_elementwise(
    scalar_fn: Callable[..., list[float]], grads: Sequence[np.ndarray | None], x0: np.ndarray, **kwargs: Any,
) -> list[np.ndarray]:
    """Apply a scalar routine to every element: ``grads[k]`` is an array shaped like ``x0`` or None.

    Returns the list of parameter arrays after each call (float64).
    """
    x0 = np.asarray(x0, dtype=np.float64)
    flat_x0 = x0.reshape(-1)
    steps = len(grads)
    result = np.empty((steps, flat_x0.size), dtype=np.float64)
    for i in range(flat_x0.size):
        seq = [None if g is None else float(np.asarray(g, dtype=np.float64).reshape(-1)[i]) for g in grads]
        result[:, i] = scalar_fn(seq, float(flat_x0[i]), **kwargs)
    return [row.reshape(x0.shape) for row in result]


def run_elementwise_with_state(
    scalar_fn: Callable[..., list[float]], grads: Sequence[np.ndarray | None], x0: np.ndarray, **kwargs: Any,
) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Like :func:`run_elementwise` for the generic drivers, also returning the final state arrays
    ("m", "v", "v_max" or "m", "u") of the last update."""
    x0 = np.asarray(x0, dtype=np.float64)
    flat_x0 = x0.reshape(-1)
    steps = len(grads)
    result = np.empty((steps, flat_x0.size), dtype=np.float64)
    states: dict[str, np.ndarray] = {}
    for i in range(flat_x0.size):
        seq = [None if g is None else float(np.asarray(g, dtype=np.float64).reshape(-1)[i]) for g in grads]
        record: list[dict] = []
        result[:, i] = scalar_fn(seq, float(flat_x0[i]), record=record, **kwargs)
        if record:
            for key, value in record[-1].items():
                states.setdefault(key, np.empty(flat_x0.size))[i] = value
    return [row.reshape(x0.shape) for row in result], {k: v.reshape(x0.shape) for k, v in states.items()}


def make_gradient_sequence(
    rng: np.random.Generator, steps: int, shape: tuple[int, ...], *, jump_up: float = 1e3,
    jump_down: float = 1e-3, nonzero_first: bool = False,
) -> list[np.ndarray]:
    """Random float64 gradients with sign flips, exact zeros and two scale jumps.

    * entries ~ N(0, 1), with every third step the exact negation of the previous one;
    * about 15 % exact zeros, one whole step of zeros, and (unless ``nonzero_first``) the first
      element zero for the first two steps (a coordinate that has not been seen yet);
    * steps [T/3, 2T/3) multiplied by ``jump_up``, steps [2T/3, T) by ``jump_down``.
    """
    g = rng.standard_normal((steps, *shape))
    for k in range(2, steps, 3):
        g[k] = -g[k - 1]  # an exact sign flip of the whole gradient
    g[rng.random(g.shape) < 0.15] = 0.0
    if steps > 4:
        g[4] = 0.0
    flat = g.reshape(steps, -1)
    if nonzero_first:
        flat[0][flat[0] == 0.0] = 0.5
    elif flat.shape[1] > 0:
        flat[:2, 0] = 0.0
    g[steps // 3 : 2 * steps // 3] *= jump_up
    g[2 * steps // 3 :] *= jump_down
    return [g[k].copy() for k in range(steps)]

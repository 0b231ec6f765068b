"""Record one parameter's trajectory in a framework, for ``python -m optim identify``.

Each ``record_*`` function runs a framework's optimizer on one parameter, starting from
``initial`` and feeding ``grads[t]`` at step ``t + 1``, and returns the parameter after every step
(shape ``(T, *initial.shape)``, ``initial``'s dtype). :func:`save_run` writes the three arrays, and
what the run used, into the run file. :func:`probe_gradients` makes gradients that show the
frameworks' differences (values small next to epsilon, sign flips, zeros, an early spike).

The framework is imported inside each function, so that this module imports without any of them.
The calls are those of ``tools/reference`` (the generators of ``optim/reference``), at the
versions listed in ``optim/reference/README.md``; docs/how-to-identify.md shows each function.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "probe_gradients", "record_keras", "record_mindspore", "record_optax", "record_tf_keras_legacy", "record_torch",
    "save_run",
]


def probe_gradients(shape: tuple[int, ...], steps: int = 40, dtype: Any = np.float32, seed: int = 0) -> np.ndarray:
    """Gradients of shape ``(steps, *shape)`` whose coordinates span 1e-9 to 10 in size, with sign flips,
    runs of zeros, an all-zero step and an early spike: on them the conventions' choices are observable."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    scales = np.logspace(-9, 1, size)
    grads = rng.standard_normal((steps, size)) * scales
    grads[:, ::3] *= np.sign(np.sin(np.arange(steps)))[:, None]  # sign flips, and a zero at the first step
    grads[3:6, ::4] = 0.0  # runs of zeros
    grads[0, 1::2] *= 100.0  # an early spike: AMSGrad's maximum stays active
    grads[steps // 2] = 0.0  # a step without gradient
    return grads.astype(dtype).reshape((steps, *shape))


def save_run(path: str | Path, initial: np.ndarray, grads: np.ndarray, params: np.ndarray, **settings: Any) -> None:
    """Write the run file: ``initial``, ``grads``, ``params`` and the settings (``algorithm``, ``lr``, ``beta1``,
    ``beta2``, ``eps``, ``weight_decay``, ``maximize``), each a 0-d array."""
    np.savez(path, initial=initial, grads=grads, params=params, **settings)


def record_torch(make_optimizer: Callable[[list[Any]], Any], initial: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """PyTorch: ``make_optimizer([param])`` (e.g. ``lambda p: torch.optim.Adamax(p, lr=0.01)``), then ``step()``
    with each gradient in ``param.grad``."""
    import torch

    param = torch.tensor(initial, requires_grad=True)
    optimizer = make_optimizer([param])
    params = []
    for grad in grads:
        param.grad = torch.tensor(grad)
        optimizer.step()
        params.append(param.detach().numpy().copy())
    return np.stack(params)


def record_keras(optimizer: Any, initial: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Keras 3 (any backend; JAX needs ``JAX_ENABLE_X64=1`` for float64): ``optimizer.apply_gradients`` on a
    ``keras.Variable`` (e.g. ``keras.optimizers.Adamax(learning_rate=0.01)``)."""
    import keras

    dtype = str(initial.dtype)
    variable = keras.Variable(initial, dtype=dtype, name="param")
    params = []
    for grad in grads:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(grad, dtype=dtype), variable)])
        params.append(np.array(keras.ops.convert_to_numpy(variable)))
    return np.stack(params)


def record_tf_keras_legacy(optimizer: Any, initial: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """tf.keras legacy (``tf_keras.optimizers.legacy.Adamax(learning_rate=0.01)``, say), run eagerly:
    ``optimizer.apply_gradients`` on a ``tf.Variable``."""
    import tensorflow as tf

    variable = tf.Variable(initial, name="param")
    params = []
    for grad in grads:
        optimizer.apply_gradients([(tf.constant(grad), variable)])
        params.append(variable.numpy().copy())
    return np.stack(params)


def record_optax(transformation: Any, initial: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Optax: a gradient transformation (``optax.adamax(0.01)``, say), ``update`` then ``optax.apply_updates``.
    Float64 needs ``JAX_ENABLE_X64=1``."""
    import jax.numpy as jnp
    import optax

    param = jnp.asarray(initial)
    if param.dtype != initial.dtype:
        raise TypeError(f"JAX made the parameter {param.dtype}, not {initial.dtype} (set JAX_ENABLE_X64=1)")
    state = transformation.init(param)
    params = []
    for grad in grads:
        updates, state = transformation.update(jnp.asarray(grad), state, param)
        param = optax.apply_updates(param, updates)
        params.append(np.asarray(param).copy())
    return np.stack(params)


def record_mindspore(make_optimizer: Callable[[list[Any]], Any], initial: np.ndarray,
                     grads: np.ndarray) -> np.ndarray:
    """MindSpore: ``make_optimizer([param])`` (e.g. ``lambda p: mindspore.experimental.optim.Adamax(p, lr=0.01)``),
    then the optimizer called with each step's gradients."""
    import mindspore

    param = mindspore.Parameter(mindspore.Tensor(initial), name="param")
    optimizer = make_optimizer([param])
    params = []
    for grad in grads:
        optimizer((mindspore.Tensor(grad),))
        params.append(param.asnumpy().copy())
    return np.stack(params)

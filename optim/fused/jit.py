"""The fused CPU step in one pass: the rules of :mod:`optim.functional` compiled by Numba, element by element.

The ufunc kernels of :mod:`optim.fused.cpu` make about a dozen passes over a
cache-sized chunk, one per operation, because a NumPy ufunc does one
operation. This module writes the same operations as one loop over the
elements, compiled by `Numba <https://numba.readthedocs.io>`_ into vectorised
machine code: each element of the parameter, the gradient and the state is
read once and written once, so a step streams memory once and runs close to
the machine's memory bandwidth.

The loops are the lines of :func:`optim.functional.adam_update` and
:func:`~optim.functional.adamax_update`, in the same order and the same dtype,
with the scalars of :mod:`optim.fused.scalars`: IEEE arithmetic rounds each
operation the same way in a loop as in a ufunc, and Numba (without
``fastmath``) neither reorders nor fuses operations, so the kernels give the
same bits as the reference path (``tests/test_fused.py`` checks it). The
functions are compiled for float32 and float64 on first use and cached on
disk; float16 stays on the ufunc kernels.

Numba is optional (the ``fast`` extra). :func:`available` says whether it is
installed; :mod:`optim.fused.cpu` picks these kernels when it is. A compiled
loop does not report floating-point errors (an overflow gives inf, 0/0 gives
NaN, silently, as in PyTorch); under ``np.errstate`` set to ``"raise"`` or
``"call"``, :func:`optim.fused.cpu.kernel` therefore hands out the ufunc
kernels, which raise as the reference path does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from optim.fused.scalars import AdamaxScalars, AdamScalars

try:
    import numba
except ImportError:  # Numba is optional: the 'fast' extra
    numba = None

__all__ = ["DTYPES", "adam_chunk", "adamax_chunk", "available"]

#: The dtypes the compiled kernels handle; others use the ufunc kernels.
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def available() -> bool:
    """Whether Numba is installed, so that the one-pass kernels can run."""
    return numba is not None


def _nan_maximum(a: Any, b: Any) -> Any:
    """``np.maximum(a, b)`` for two numbers: the larger one, or NaN if either is NaN."""
    if a != a or a > b:
        return a
    return b


if numba is not None:
    _nan_maximum = numba.njit(inline="always")(_nan_maximum)


def _effective_gradient(maximize: bool, decay: str) -> Callable[..., tuple[Any, Any]]:
    """``(g, param)`` for one element as ``functional._effective_gradient`` makes them: ``-grad`` to maximize,
    then weight decay, L2 (into the gradient) or decoupled (into the parameter); compiled to be inlined."""

    def effective(grad, param, weight_decay, decay_factor):  # pragma: no cover - compiled by Numba
        g = grad
        if maximize:
            g = -g
        if decay == "decoupled":
            param = param * decay_factor  # param *= 1 - lr * weight_decay
        elif decay == "l2":
            g = g + param * weight_decay  # g + weight_decay * param
        return g, param

    return numba.njit(inline="always")(effective)


def _adam_loop(maximize: bool, decay: str, amsgrad_mode: str | None, epsilon_mode: str) -> Callable[..., None]:
    """The compiled loop of ``adam_update`` for one set of formula choices.

    The choices are constants of the closure, so the compiler removes the
    branches not taken and vectorises what is left; each line is one ufunc of
    :func:`optim.fused.ufunc.adam_chunk`.
    """
    effective = _effective_gradient(maximize, decay)

    def loop(param, grad, m, v, v_max, weight_decay, decay_factor, beta1, one_minus_beta1, beta2,
             one_minus_beta2, eps, lr, bias1, bias2, step_size, sqrt_bias2, alpha_t):  # pragma: no cover
        for i in range(param.size):
            g, p = effective(grad[i], param[i], weight_decay, decay_factor)
            m_i = m[i] * beta1 + g * one_minus_beta1  # m = beta1 m + (1 - beta1) g
            v_i = v[i] * beta2 + (g * one_minus_beta2) * g  # v = beta2 v + (1 - beta2) g g
            m[i] = m_i
            v[i] = v_i
            if amsgrad_mode == "max_corrected_v":
                v_max_i = _nan_maximum(v_max[i], v_i / bias2)  # v_max = max(v_max, v / bias2)
                v_max[i] = v_max_i
                param[i] = p - ((m_i / bias1) * lr) / (np.sqrt(v_max_i) + eps)
            elif amsgrad_mode == "no_bias_correction":
                v_max_i = _nan_maximum(v_max[i], v_i)  # v_max = max(v_max, v)
                v_max[i] = v_max_i
                param[i] = p - (m_i * lr) / (np.sqrt(v_max_i) + eps)
            else:
                second = v_i
                if amsgrad_mode == "max_raw_v":
                    second = _nan_maximum(v_max[i], v_i)  # v_max = max(v_max, v)
                    v_max[i] = second
                if epsilon_mode == "algorithm1":  # alpha / (1 - beta1^t) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
                    param[i] = p - (m_i * step_size) / (np.sqrt(second) / sqrt_bias2 + eps)
                else:  # "epsilon_hat": alpha_t m / (sqrt(v) + eps)
                    param[i] = p - (m_i * alpha_t) / (np.sqrt(second) + eps)

    return _compile(loop)


def _adamax_loop(maximize: bool, decay: str, inside_max: bool) -> Callable[..., None]:
    """The compiled loop of ``adamax_update`` for one set of formula choices (see :func:`_adam_loop`)."""
    effective = _effective_gradient(maximize, decay)

    def loop(param, grad, m, u, weight_decay, decay_factor, beta1, one_minus_beta1, beta2, eps,
             step_size):  # pragma: no cover
        for i in range(param.size):
            g, p = effective(grad[i], param[i], weight_decay, decay_factor)
            m_i = m[i] * beta1 + g * one_minus_beta1  # m = beta1 m + (1 - beta1) g
            if inside_max:
                u_i = _nan_maximum(u[i] * beta2, abs(g) + eps)  # u = max(beta2 u, |g| + eps)
                denominator = u_i
            else:
                u_i = _nan_maximum(u[i] * beta2, abs(g))  # u = max(beta2 u, |g|)
                denominator = u_i + eps
            m[i] = m_i
            u[i] = u_i
            param[i] = p - (m_i * step_size) / denominator

    return _compile(loop)


def _compile(function: Callable[..., None]) -> Callable[..., None]:
    """Numba's ``njit``: without the GIL (the threads of ``fused_cpu.run_pieces`` run chunks at the same time),
    cached on disk, with NumPy's error model (a division by zero gives inf or nan instead of raising) and
    without ``fastmath``: the arithmetic stays IEEE, operation by operation, in order."""
    return numba.njit(nogil=True, cache=True, error_model="numpy")(function)


@functools.cache
def _loop(algorithm: str, choices: tuple[Any, ...]) -> Callable[..., None]:
    """The compiled loop for ``algorithm`` and its choices, built once per process."""
    return _adam_loop(*choices) if algorithm == "adam" else _adamax_loop(*choices)


def _decay(s: AdamScalars | AdamaxScalars) -> str:
    if not s.decays:
        return "none"
    return "decoupled" if s.decoupled else "l2"


def _scalar(value: Any) -> Any:
    """A 0-d array of :mod:`optim.fused.scalars` as a NumPy scalar of the same dtype, as Numba takes it."""
    return value[()]


def adam_chunk(param: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, v_max: np.ndarray | None,
               s: AdamScalars, *unused_scratch: Any) -> None:
    """:func:`optim.fused.ufunc.adam_chunk` in one compiled pass (the same arguments; it needs no scratch arrays)."""
    amsgrad_mode = s.amsgrad_mode
    epsilon_mode = None if amsgrad_mode in ("max_corrected_v", "no_bias_correction") else s.epsilon_mode
    loop = _loop("adam", (s.maximize, _decay(s), amsgrad_mode, epsilon_mode))
    if v_max is None:
        v_max = v  # never read or written without AMSGrad; an array of the same type keeps one signature
    loop(param, grad, m, v, v_max, s.weight_decay[()], s.decay_factor[()], s.beta1[()], s.one_minus_beta1[()],
         s.beta2[()], s.one_minus_beta2[()], s.eps[()], s.lr[()], s.bias1[()], s.bias2[()], s.step_size[()],
         s.sqrt_bias2[()], s.alpha_t[()])


def adamax_chunk(param: np.ndarray, grad: np.ndarray, m: np.ndarray, u: np.ndarray, s: AdamaxScalars,
                 *unused_scratch: Any) -> None:
    """:func:`optim.fused.ufunc.adamax_chunk` in one compiled pass (the same arguments; it needs no scratch arrays)."""
    loop = _loop("adamax", (s.maximize, _decay(s), s.adamax_epsilon == "inside_max"))
    loop(param, grad, m, u, s.weight_decay[()], s.decay_factor[()], s.beta1[()], s.one_minus_beta1[()],
         s.beta2[()], s.eps[()], s.step_size[()])

"""The fused CPU kernels as NumPy ufuncs: the rules of :mod:`optim.functional`, one in-place ufunc per operation.

:mod:`optim.fused.cpu` runs a kernel on chunks of the flat buffers of the
fused path, a few hundred kilobytes per array. The kernels :func:`adam_chunk`
and :func:`adamax_chunk` mirror :func:`optim.functional.adam_update` and
:func:`~optim.functional.adamax_update` line by line, operation by operation,
in the same order and the same dtype, with the scalars of
:mod:`optim.fused.scalars`, computed exactly as those functions compute them:
the fused path gives the same bits as the reference. Each operation is a ufunc
with ``out=``: the first pass over a chunk brings it from memory, the next
ones find it in the cache, and it goes back to memory once. About a dozen
passes per chunk still cost more than one pass over memory; the compiled
kernels of :mod:`optim.fused.jit` do the same in one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optim.fused.scalars import AdamaxScalars, AdamScalars

__all__ = ["adam_chunk", "adamax_chunk"]


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

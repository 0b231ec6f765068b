"""The literal algorithm boxes, one scalar parameter, Python floats (names follow the papers).

* :func:`kingma_ba_algorithm1` -- Kingma & Ba, "Adam: A Method for Stochastic
  Optimization", ICLR 2015 (arXiv:1412.6980v9), Algorithm 1.
* :func:`kingma_ba_efficient_form` -- same paper, last paragraph of Section 2 (the
  re-ordered update with alpha_t = alpha*sqrt(1-beta2^t)/(1-beta1^t) and "epsilon hat").
  ``eps_hat`` may be a constant (Keras/TF) or a function of t; with
  eps_hat(t) = eps*sqrt(1-beta2^t) it equals Algorithm 1.
* :func:`kingma_ba_adamax` -- same paper, Section 7.1, Algorithm 2 (AdaMax).  The box
  has no epsilon; ``epsilon`` is added to the denominator (0 gives the box literally).
* :func:`reddi_amsgrad` -- Reddi, Kale & Kumar, "On the Convergence of Adam and
  Beyond", ICLR 2018, Algorithm 2 (AMSGrad): no bias correction, max over the raw v,
  optional projection; ``epsilon`` added to sqrt(v_hat) (0 gives the box literally).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence


# --------------------------------------------------------------------------- literal paper boxes
def kingma_ba_algorithm1(
    grads: Sequence[float], theta0: float, alpha: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
    epsilon: float = 1e-8,
) -> list[float]:
    """Kingma & Ba (2015), Algorithm 1, one scalar parameter; returns theta_1..theta_T.

    ``grads[t-1]`` is g_t, the gradient evaluated at theta_{t-1}.
    """
    m = 0.0  # m_0 <- 0 (Initialize 1st moment vector)
    v = 0.0  # v_0 <- 0 (Initialize 2nd moment vector)
    t = 0  # t <- 0 (Initialize timestep)
    theta = float(theta0)
    out = []
    for g in grads:
        t = t + 1
        g = float(g)
        m = beta1 * m + (1.0 - beta1) * g  # Update biased first moment estimate
        v = beta2 * v + (1.0 - beta2) * g * g  # Update biased second raw moment estimate
        m_hat = m / (1.0 - beta1**t)  # Compute bias-corrected first moment estimate
        v_hat = v / (1.0 - beta2**t)  # Compute bias-corrected second raw moment estimate
        theta = theta - alpha * m_hat / (math.sqrt(v_hat) + epsilon)  # Update parameters
        out.append(theta)
    return out


def kingma_ba_efficient_form(
    grads: Sequence[float], theta0: float, alpha: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
    eps_hat: float | Callable[[int], float] = 1e-8,
) -> list[float]:
    """Kingma & Ba (2015), Section 2, last paragraph: the last three lines of Algorithm 1 replaced by
    alpha_t = alpha*sqrt(1-beta2^t)/(1-beta1^t) and theta <- theta - alpha_t*m_t/(sqrt(v_t) + eps_hat).

    ``eps_hat`` is a constant, or a function of t (e.g. ``lambda t: eps*sqrt(1-beta2**t)``).
    """
    m = 0.0
    v = 0.0
    t = 0
    theta = float(theta0)
    out = []
    for g in grads:
        t = t + 1
        g = float(g)
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        alpha_t = alpha * math.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)
        e = eps_hat(t) if callable(eps_hat) else eps_hat
        theta = theta - alpha_t * m / (math.sqrt(v) + e)
        out.append(theta)
    return out


def kingma_ba_adamax(
    grads: Sequence[float], theta0: float, alpha: float = 0.002, beta1: float = 0.9, beta2: float = 0.999,
    epsilon: float = 0.0,
) -> list[float]:
    """Kingma & Ba (2015), Section 7.1, Algorithm 2 (AdaMax), one scalar parameter.

    The box has no epsilon (u_t = max(beta2*u_{t-1}, |g_t|); theta <- theta - (alpha/(1-beta1^t))*m_t/u_t);
    ``epsilon`` is added to u_t in the division (the contract's "denominator" placement); 0 = literal.
    """
    m = 0.0  # m_0 <- 0
    u = 0.0  # u_0 <- 0 (exponentially weighted infinity norm)
    t = 0
    theta = float(theta0)
    out = []
    for g in grads:
        t = t + 1
        g = float(g)
        m = beta1 * m + (1.0 - beta1) * g  # Update biased first moment estimate
        u = max(beta2 * u, abs(g))  # Update the exponentially weighted infinity norm
        theta = theta - (alpha / (1.0 - beta1**t)) * m / (u + epsilon)  # Update parameters
        out.append(theta)
    return out


def reddi_amsgrad(
    grads: Sequence[float] | Callable[[int, float], float], x1: float, alphas: Callable[[int], float],
    beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 0.0, steps: int | None = None,
    project: Callable[[float], float] | None = None,
) -> list[float]:
    """Reddi, Kale & Kumar (2018), Algorithm 2 (AMSGrad) with constant beta1_t = beta1.

    ``alphas(t)`` is alpha_t (1-based t).  ``grads`` is a sequence g_1..g_T or a function
    ``(t, x_t) -> g_t`` (then ``steps`` = T).  v_hat_t = max(v_hat_{t-1}, v_t) over the RAW
    v, no bias correction; x_{t+1} = Proj_F(x_t - alpha_t*m_t/sqrt(v_hat_t)) (``project``,
    identity by default; on an interval the weighted projection is clipping).  ``epsilon``
    is added to sqrt(v_hat_t) (0 = the box literally).  Returns x_2..x_{T+1}.
    """
    m = 0.0
    v = 0.0
    v_hat = 0.0
    x = float(x1)
    out = []
    total = steps if callable(grads) else len(grads)
    for t in range(1, total + 1):
        g = float(grads(t, x) if callable(grads) else grads[t - 1])
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        v_hat = max(v_hat, v)
        x = x - alphas(t) * m / (math.sqrt(v_hat) + epsilon)
        if project is not None:
            x = project(x)
        out.append(x)
    return out

"""The framework variants, one scalar parameter, Python floats.

* :func:`pytorch_adam` -- torch.optim.Adam (2.13.0, single-tensor path
  ``_single_tensor_adam`` in torch/optim/adam.py): maximize, L2 or decoupled weight
  decay (== AdamW), amsgrad as the max of the RAW v, bias correction after the max.
* :func:`pytorch_adamax` -- torch.optim.Adamax (2.13.0, torch/optim/adamax.py):
  u = max(beta2*u, |g| + eps), eps inside the max, L2 weight decay, maximize.
* :func:`optax_amsgrad` -- optax.scale_by_amsgrad (google-deepmind/optax @2edbcbe2,
  optax/_src/transform.py) with its defaults bias_correction_mu=bias_correction_nu=True:
  the max is taken over the bias-corrected v_hat.

A ``None`` gradient means the parameter had no gradient at that call (it is skipped).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .contract import LR, lr_at


def optax_amsgrad(
    grads: Sequence[float], x0: float, lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
) -> list[float]:
    """optax.amsgrad with its defaults (bias_correction_mu = bias_correction_nu = True, eps_root = 0):
    nu_max = max(nu_max, nu/(1-b2^t)); update = -lr * (mu/(1-b1^t)) / (sqrt(nu_max) + eps)."""
    mu = 0.0
    nu = 0.0
    nu_max = 0.0
    x = float(x0)
    out = []
    for count, g in enumerate(grads):
        t = count + 1
        g = float(g)
        mu = (1.0 - b1) * g + b1 * mu
        nu = (1.0 - b2) * g * g + b2 * nu
        mu_hat = mu / (1.0 - b1**t)
        nu_hat = nu / (1.0 - b2**t)
        nu_max = max(nu_max, nu_hat)
        x = x - lr * (mu_hat / (math.sqrt(nu_max) + eps))
        out.append(x)
    return out


def pytorch_adam(
    grads: Sequence[float | None], x0: float, lr: LR = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False,
    decoupled_weight_decay: bool = False,
) -> list[float]:
    """torch.optim.Adam 2.13.0 (``_single_tensor_adam``), one scalar; per-parameter step, None = skipped.

    ``lr`` may be a function of the 0-based call index (what a LambdaLR-style schedule gives).
    """
    b1, b2 = betas
    m = v = max_v = 0.0
    step = 0
    x = float(x0)
    out = []
    for k, grad in enumerate(grads):
        if grad is None:  # p.grad is None: the parameter is skipped, its step does not advance
            out.append(x)
            continue
        a = lr_at(lr, k)
        g = -float(grad) if maximize else float(grad)
        step += 1
        if weight_decay != 0:
            if decoupled_weight_decay:
                x = x * (1.0 - a * weight_decay)
            else:
                g = g + weight_decay * x
        m = m + (1.0 - b1) * (g - m)  # exp_avg.lerp_(grad, 1 - beta1)
        v = b2 * v + (1.0 - b2) * g * g
        bias_correction1 = 1.0 - b1**step
        bias_correction2 = 1.0 - b2**step
        step_size = a / bias_correction1
        if amsgrad:
            max_v = max(max_v, v)
            denom = math.sqrt(max_v) / math.sqrt(bias_correction2) + eps
        else:
            denom = math.sqrt(v) / math.sqrt(bias_correction2) + eps
        x = x - step_size * m / denom
        out.append(x)
    return out


def pytorch_adamax(
    grads: Sequence[float | None], x0: float, lr: LR = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8, weight_decay: float = 0.0, maximize: bool = False,
) -> list[float]:
    """torch.optim.Adamax 2.13.0 (``_single_tensor_adamax``), one scalar; eps inside the max."""
    b1, b2 = betas
    m = u = 0.0
    step = 0
    x = float(x0)
    out = []
    for k, grad in enumerate(grads):
        if grad is None:
            out.append(x)
            continue
        a = lr_at(lr, k)
        g = -float(grad) if maximize else float(grad)
        step += 1
        if weight_decay != 0:
            g = g + weight_decay * x
        m = m + (1.0 - b1) * (g - m)
        u = max(b2 * u, abs(g) + eps)
        clr = a / (1.0 - b1**step)
        x = x - clr * m / u
        out.append(x)
    return out

"""The library contract, transcribed: each convention's defaults and the generic scalar drivers.

:func:`adam_reference` / :func:`adamax_reference` implement every choice of the contract
(epsilon_mode, amsgrad_mode, step_counting, adamax_epsilon, weight decay, maximize, lr
schedules, skipped steps) by scalar recurrences in Python floats.

A gradient sequence is a list whose entry s (0-based call index) is the gradient of
the s-th optimizer call, or ``None`` when the parameter had no gradient at that call
(the parameter is then left untouched, as torch.optim and the contract do).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

# The contract's conventions (tests/spec: optim API contract).  Written out here, not
# imported from optim, so that a wrong default in the library is caught.
CONVENTION_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "paper": {
        "adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "epsilon_mode": "algorithm1",
                 "amsgrad_mode": "no_bias_correction", "step_counting": "global"},
        "adamax": {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "adamax_epsilon": "denominator",
                   "step_counting": "global"},
    },
    "pytorch": {
        "adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "epsilon_mode": "algorithm1",
                 "amsgrad_mode": "max_raw_v", "step_counting": "per_parameter"},
        "adamax": {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "adamax_epsilon": "inside_max",
                   "step_counting": "per_parameter"},
    },
}

ADAM_CHOICES = {
    "epsilon_mode": ("algorithm1", "epsilon_hat"),
    "amsgrad_mode": ("max_raw_v", "max_corrected_v", "no_bias_correction"),
    "step_counting": ("global", "per_parameter"),
}
ADAMAX_CHOICES = {
    "adamax_epsilon": ("denominator", "inside_max"),
    "step_counting": ("global", "per_parameter"),
}


LR = float | Callable[[int], float]


def resolve(kind: str, convention: str, **given: Any) -> dict[str, Any]:
    """The contract's defaults of ``convention`` for ``kind`` ("adam"/"adamax").

    Entries of ``given`` override them; None means "the default"."""
    settings = dict(CONVENTION_DEFAULTS[convention][kind])
    settings.update({key: value for key, value in given.items() if value is not None})
    return settings


def lr_at(lr: LR, k: int) -> float:
    """The step size of the update with 0-based index k (k = updates already applied)."""
    return float(lr(k)) if callable(lr) else float(lr)


# --------------------------------------------------------------------------- generic contract drivers
def adam_reference(
    grads: Sequence[float | None], x0: float, *, lr: LR, betas: tuple[float, float], eps: float,
    weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False, decoupled_weight_decay: bool = False,
    epsilon_mode: str = "algorithm1", amsgrad_mode: str = "max_raw_v", step_counting: str = "per_parameter",
    eps_schedule: Callable[[int], float] | None = None, record: list | None = None,
) -> list[float]:
    """Every Adam / AMSGrad choice of the contract, one scalar; returns x after each call.

    t is 1 + (number of calls so far) for step_counting="global" (every call of the
    tests updates at least one parameter) and 1 + (updates of this parameter) for
    "per_parameter".  ``lr(k)`` gets the 0-based call index.  ``eps_schedule(t)``, when
    given, replaces ``eps`` at step t.  ``record`` receives one dict {"m","v","v_max","t"}
    per update.
    """
    b1, b2 = betas
    m = v = v_max = 0.0
    n_updates = 0
    x = float(x0)
    out = []
    for k, grad in enumerate(grads):
        if grad is None:
            out.append(x)
            continue
        t = k + 1 if step_counting == "global" else n_updates + 1
        n_updates += 1
        a = lr_at(lr, k)
        e = eps_schedule(t) if eps_schedule is not None else eps
        g = float(grad)
        if maximize:
            g = -g
        if weight_decay != 0.0:
            if decoupled_weight_decay:
                x = x - a * weight_decay * x
            else:
                g = g + weight_decay * x
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * g * g
        bc1 = 1.0 - b1**t
        bc2 = 1.0 - b2**t
        if amsgrad and amsgrad_mode == "no_bias_correction":  # Reddi et al. Algorithm 2
            v_max = max(v_max, v)
            x = x - a * m / (math.sqrt(v_max) + e)
        elif amsgrad and amsgrad_mode == "max_corrected_v":  # Optax default
            v_max = max(v_max, v / bc2)
            x = x - a * (m / bc1) / (math.sqrt(v_max) + e)
        else:
            if amsgrad:
                assert amsgrad_mode == "max_raw_v", amsgrad_mode
                v_max = max(v_max, v)
                second = v_max
            else:
                second = v
            if epsilon_mode == "algorithm1":
                x = x - a * (m / bc1) / (math.sqrt(second / bc2) + e)
            else:
                assert epsilon_mode == "epsilon_hat", epsilon_mode
                x = x - a * math.sqrt(bc2) / bc1 * m / (math.sqrt(second) + e)
        if record is not None:
            record.append({"m": m, "v": v, "v_max": v_max, "t": t})
        out.append(x)
    return out


def adamax_reference(
    grads: Sequence[float | None], x0: float, *, lr: LR, betas: tuple[float, float], eps: float,
    weight_decay: float = 0.0, maximize: bool = False, decoupled_weight_decay: bool = False,
    adamax_epsilon: str = "denominator", step_counting: str = "global", record: list | None = None,
) -> list[float]:
    """Every Adamax choice of the contract, one scalar; returns x after each call."""
    b1, b2 = betas
    m = u = 0.0
    n_updates = 0
    x = float(x0)
    out = []
    for k, grad in enumerate(grads):
        if grad is None:
            out.append(x)
            continue
        t = k + 1 if step_counting == "global" else n_updates + 1
        n_updates += 1
        a = lr_at(lr, k)
        g = float(grad)
        if maximize:
            g = -g
        if weight_decay != 0.0:
            if decoupled_weight_decay:
                x = x - a * weight_decay * x
            else:
                g = g + weight_decay * x
        m = b1 * m + (1.0 - b1) * g
        if adamax_epsilon == "denominator":  # Keras/TF placement
            u = max(b2 * u, abs(g))
            x = x - a / (1.0 - b1**t) * m / (u + eps)
        else:
            assert adamax_epsilon == "inside_max", adamax_epsilon  # PyTorch/Optax placement
            u = max(b2 * u, abs(g) + eps)
            x = x - a / (1.0 - b1**t) * m / u
        if record is not None:
            record.append({"m": m, "u": u, "t": t})
        out.append(x)
    return out

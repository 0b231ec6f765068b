"""Float64 scalar transcriptions of the Adam / AdaMax / AMSGrad algorithm boxes, for the optim tests.

Everything here works on ONE scalar parameter with Python floats (IEEE double) and
``math.sqrt``; it never imports ``optim``, so the tests compare the library with an
independent, line-by-line reading of the papers and of the framework conventions.

Literal boxes (names follow the papers: alpha, beta1, beta2, epsilon, theta / x, m, v, u):

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

Framework variants (the "pytorch" convention and the remaining choice values):

* :func:`pytorch_adam` -- torch.optim.Adam (2.13.0, single-tensor path
  ``_single_tensor_adam`` in torch/optim/adam.py): maximize, L2 or decoupled weight
  decay (== AdamW), amsgrad as the max of the RAW v, bias correction after the max.
* :func:`pytorch_adamax` -- torch.optim.Adamax (2.13.0, torch/optim/adamax.py):
  u = max(beta2*u, |g| + eps), eps inside the max, L2 weight decay, maximize.
* :func:`optax_amsgrad` -- optax.scale_by_amsgrad (google-deepmind/optax @2edbcbe2,
  optax/_src/transform.py) with its defaults bias_correction_mu=bias_correction_nu=True:
  the max is taken over the bias-corrected v_hat.

Generic driver: :func:`adam_reference` / :func:`adamax_reference` implement every
choice of the library's contract (epsilon_mode, amsgrad_mode, step_counting,
adamax_epsilon, weight decay, maximize, lr schedules, skipped steps) by the same
scalar recurrences, and :func:`run_elementwise` applies any scalar routine to every
element of an array-valued gradient sequence.

A gradient sequence is a list whose entry s (0-based call index) is the gradient of
the s-th optimizer call, or ``None`` when the parameter had no gradient at that call
(the parameter is then left untouched, as torch.optim and the contract do).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "ADAM_CHOICES",
    "ADAMAX_CHOICES",
    "CONVENTION_DEFAULTS",
    "adam_reference",
    "adam_worst_case_step",
    "adamax_reference",
    "adamax_worst_case_step",
    "kingma_ba_adamax",
    "kingma_ba_algorithm1",
    "kingma_ba_efficient_form",
    "make_gradient_sequence",
    "optax_amsgrad",
    "pytorch_adam",
    "pytorch_adamax",
    "reddi_amsgrad",
    "resolve",
    "run_elementwise",
]

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


def _lr_at(lr: LR, k: int) -> float:
    """The step size of the update with 0-based index k (k = updates already applied)."""
    return float(lr(k)) if callable(lr) else float(lr)


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
        a = _lr_at(lr, k)
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
        a = _lr_at(lr, k)
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
        a = _lr_at(lr, k)
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
        a = _lr_at(lr, k)
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


# --------------------------------------------------------------------------- worst cases (eps = 0)
def adam_worst_case_step(lr: float, b1: float, b2: float, t: int) -> float:
    """max |step_t| of Adam (Algorithm 1, eps = 0) over all gradient sequences g_1..g_t.

    m_hat_t/sqrt(v_hat_t) = (1-b1)/(1-b1^t) * sqrt((1-b2^t)/(1-b2)) * sum_k b1^(t-k) g_k / sqrt(sum_k b2^(t-k) g_k^2);
    Cauchy-Schwarz with a_k = b1^(t-k)/b2^((t-k)/2), c_k = b2^((t-k)/2) g_k bounds the last ratio by
    sqrt(sum_{j=0}^{t-1} (b1^2/b2)^j), with equality for g_k proportional to (b1/b2)^(t-k).
    """
    ratio = b1 * b1 / b2
    geometric = sum(ratio**j for j in range(t))
    return lr * (1.0 - b1) / (1.0 - b1**t) * math.sqrt((1.0 - b2**t) / (1.0 - b2)) * math.sqrt(geometric)


def adamax_worst_case_step(lr: float, b1: float, b2: float, t: int) -> float:
    """max |step_t| of AdaMax (Algorithm 2, eps = 0) over all gradient sequences g_1..g_t.

    u_t = max_k b2^(t-k)|g_k|, so |g_k| <= u_t/b2^(t-k) and |m_t| <= (1-b1) u_t sum_{j=0}^{t-1} (b1/b2)^j;
    equality for g_k proportional to b2^-(t-k) (then every b2^(t-k)|g_k| equals u_t).  For b1 > 0 this
    exceeds the paper's |step| <= alpha as soon as t >= 2 (sum (b1/b2)^j > sum b1^j = (1-b1^t)/(1-b1)).
    """
    geometric = sum((b1 / b2) ** j for j in range(t))
    return lr * (1.0 - b1) / (1.0 - b1**t) * geometric


# --------------------------------------------------------------------------- helpers
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

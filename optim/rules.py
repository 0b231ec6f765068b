"""The arithmetic of Adam, AMSGrad and AdaMax, written once, for every execution path.

Each rule is one elementwise function, line by line with the papers: it takes
the step's numbers ``s`` (an :class:`~optim.step_scalars.Scalars`, each
already in the parameter's dtype), the parameter :math:`\\theta_{t-1}`, the
gradient and the state, and returns the new parameter and state. The formula
choices (``maximize``, the kind of weight decay, ``epsilon_mode``,
``amsgrad_mode``, ``adamax_epsilon``) are fixed when the rule is built by
:func:`make_rule`; the few operations that are not Python operators come from
an :class:`Ops`. So the same function runs wherever its values come from:

* :mod:`optim.functional` (the reference path) calls it on whole NumPy or
  CuPy arrays, with ``np.sqrt``/``np.maximum`` (or CuPy's);
* :mod:`optim.fused.jit` has Numba compile it into a one-pass loop, on
  scalars of the parameter's dtype;
* :mod:`optim.rule_trace` runs it once on symbolic values that record each
  operation, and :mod:`optim.fused.ufunc` (NumPy ufuncs on cache-sized
  chunks) and :mod:`optim.fused.gpu` (CUDA C for CuPy) are generated from
  that record.

Every path thus rounds the same operations in the same order: the results
agree to the last bit. A rule must not branch on a value (only on its
choices) and takes every number from ``s``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from optim.conventions import ADAMAX_EPSILON_CHOICES, EPSILON_MODE_CHOICES, RULE_AMSGRAD_MODES

__all__ = [
    "AdamChoices", "AdamaxChoices", "Ops", "adam_choices", "adamax_choices", "array_ops", "check_optax_options",
    "make_adam_rule",
    "make_adamax_rule", "make_effective_gradient", "make_rule", "state_names",
]

DECAYS = ("none", "l2", "decoupled")


class Ops(NamedTuple):
    """What a backend provides to a rule besides the operators ``+ - * /``, unary ``-`` and ``abs``.

    ``sqrt`` is the correctly rounded square root; ``maximum`` is
    ``np.maximum``: NaN if either operand is NaN, and on a tie (``-0.0`` and
    ``+0.0``) the result NumPy gives for the dtype. ``inline`` turns a helper of
    a rule into something the rule can call: the function itself for NumPy and
    the tracer, an inlined compiled function for Numba.
    """

    sqrt: Callable[[Any], Any]
    maximum: Callable[[Any, Any], Any]
    inline: Callable[[Callable[..., Any]], Callable[..., Any]]


def _as_is(function: Callable[..., Any]) -> Callable[..., Any]:
    return function


def array_ops(xp: Any) -> Ops:
    """The operations on whole arrays of the array module ``xp`` (numpy or cupy)."""
    return Ops(sqrt=xp.sqrt, maximum=xp.maximum, inline=_as_is)


class AdamChoices(NamedTuple):
    """The formula choices of an Adam or AMSGrad step (see :func:`optim.functional.adam_update`)."""

    maximize: bool
    decay: str  # "none", "l2" (g + lambda theta) or "decoupled" ((1 - alpha lambda) theta)
    epsilon_mode: str  # "algorithm1" or "epsilon_hat"
    amsgrad_mode: str | None  # None for plain Adam
    eps_root: bool = False  # Optax: sqrt(v_hat + eps_root) (True when eps_root is not 0)
    nesterov: bool = False  # Optax's scale_by_adam(nesterov=True) (Dozat's NAdam)


class AdamaxChoices(NamedTuple):
    """The formula choices of an AdaMax step (see :func:`optim.functional.adamax_update`)."""

    maximize: bool
    decay: str
    adamax_epsilon: str  # "denominator" or "inside_max"


def _decay(weight_decay: float, decoupled_weight_decay: bool) -> str:
    if weight_decay == 0:
        return "none"
    return "decoupled" if decoupled_weight_decay else "l2"


def _check(value: Any, name: str, allowed: tuple[Any, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}: unknown value {value!r}")


def adam_choices(*, maximize: bool, weight_decay: float, decoupled_weight_decay: bool, epsilon_mode: str,
                 amsgrad_mode: str | None, eps_root: float = 0.0, nesterov: bool = False) -> AdamChoices:
    """The :class:`AdamChoices` of a call of :func:`~optim.functional.adam_update` with these arguments.

    Raises
    ------
    ValueError
        For ``eps_root`` or ``nesterov`` where Optax's formula they belong to is not the rule's:
        with ``epsilon_mode="epsilon_hat"``, ``nesterov`` with AMSGrad, ``eps_root`` with an
        ``amsgrad_mode`` other than ``"max_corrected_v"``.
    """
    _check(epsilon_mode, "epsilon_mode", EPSILON_MODE_CHOICES)
    _check(amsgrad_mode, "amsgrad_mode", RULE_AMSGRAD_MODES)
    check_optax_options(eps_root, nesterov, epsilon_mode, amsgrad_mode)
    return AdamChoices(bool(maximize), _decay(weight_decay, decoupled_weight_decay), epsilon_mode, amsgrad_mode,
                       eps_root != 0, bool(nesterov))


def check_optax_options(eps_root: float, nesterov: bool, epsilon_mode: str, amsgrad_mode: str | None) -> None:
    """Refuse ``eps_root`` and ``nesterov`` with formula choices Optax does not combine them with."""
    if eps_root != 0 and epsilon_mode != "algorithm1":
        raise ValueError(f"eps_root: {eps_root!r} goes inside Optax's sqrt(v_hat + eps_root), which needs "
                         f"epsilon_mode='algorithm1', got {epsilon_mode!r}")
    if eps_root != 0 and amsgrad_mode not in (None, "max_corrected_v"):
        raise ValueError(f"eps_root: {eps_root!r} is Optax's, whose AMSGrad takes the maximum of v_hat "
                         f"(amsgrad_mode='max_corrected_v'), got amsgrad_mode={amsgrad_mode!r}")
    if nesterov and (epsilon_mode != "algorithm1" or amsgrad_mode is not None):
        raise ValueError(f"nesterov: True is optax.adam's Nesterov (NAdam) step, which needs plain Adam with "
                         f"epsilon_mode='algorithm1', got epsilon_mode={epsilon_mode!r}, amsgrad_mode={amsgrad_mode!r}")


def adamax_choices(*, maximize: bool, weight_decay: float, decoupled_weight_decay: bool,
                   adamax_epsilon: str) -> AdamaxChoices:
    """The :class:`AdamaxChoices` of a call of :func:`~optim.functional.adamax_update` with these arguments."""
    _check(adamax_epsilon, "adamax_epsilon", ADAMAX_EPSILON_CHOICES)
    return AdamaxChoices(bool(maximize), _decay(weight_decay, decoupled_weight_decay), adamax_epsilon)


def state_names(choices: AdamChoices | AdamaxChoices) -> tuple[str, ...]:
    """The state arrays the rule of ``choices`` takes and returns after the parameter, in order."""
    if isinstance(choices, AdamaxChoices):
        return ("m", "u")
    return ("m", "v") if choices.amsgrad_mode is None else ("m", "v", "v_max")


def make_effective_gradient(choices: AdamChoices | AdamaxChoices, ops: Ops) -> Callable[..., tuple[Any, Any]]:
    """``(s, param, grad) -> (param, g)``: the gradient the rule uses, and the parameter it updates.

    :math:`g_t` is the gradient with its sign flipped for ``maximize``. L2
    decay adds :math:`\\lambda\\theta_{t-1}` to it; decoupled decay (AdamW)
    instead shrinks the parameter before the step,
    :math:`\\theta \\leftarrow (1 - \\alpha\\lambda)\\theta`, and leaves the gradient alone.
    """
    maximize, decay = choices.maximize, choices.decay
    _check(decay, "decay", DECAYS)

    @ops.inline
    def effective_gradient(s, param, grad):
        g = -grad if maximize else grad
        if decay == "decoupled":
            param = param * s.decay_factor  # theta <- (1 - alpha lambda) theta
        elif decay == "l2":
            g = g + s.weight_decay * param  # g_t <- g_t + lambda theta_{t-1}
        return param, g

    return effective_gradient


def make_adam_rule(choices: AdamChoices, ops: Ops) -> Callable[..., tuple[Any, ...]]:
    """The Adam step of ``choices``: ``(s, param, grad, m, v) -> (param, m, v)``; with AMSGrad
    ``(s, param, grad, m, v, v_max) -> (param, m, v, v_max)``. The equations are those of
    :func:`optim.functional.adam_update`."""
    sqrt, maximum, inline = ops
    epsilon_mode, amsgrad_mode = choices.epsilon_mode, choices.amsgrad_mode
    eps_root, nesterov = choices.eps_root, choices.nesterov
    _check(epsilon_mode, "epsilon_mode", EPSILON_MODE_CHOICES)
    _check(amsgrad_mode, "amsgrad_mode", RULE_AMSGRAD_MODES)
    check_optax_options(1.0 if eps_root else 0.0, nesterov, epsilon_mode, amsgrad_mode)
    effective_gradient = make_effective_gradient(choices, ops)

    @inline
    def moments(s, param, grad, m, v):
        param, g = effective_gradient(s, param, grad)
        m = m * s.beta1 + s.one_minus_beta1 * g  # m_t = beta1 m_{t-1} + (1 - beta1) g_t
        v = v * s.beta2 + s.one_minus_beta2 * g * g  # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        return param, g, m, v

    @inline
    def optax_step(s, param, g, m, v):
        """Optax's scale_by_adam with eps_root or nesterov, in its order: update = m_hat / (sqrt(v_hat + eps_root)
        + eps), theta_t = theta_{t-1} + (-alpha) update."""
        if nesterov:  # m_hat = beta1 m_t / (1 - beta1^(t+1)) + (1 - beta1) g_t / (1 - beta1^t)
            m_hat = s.beta1 * (m / s.bias1_next) + s.one_minus_beta1 * (g / s.bias1)
        else:
            m_hat = m / s.bias1  # m_hat = m_t / (1 - beta1^t)
        v_hat = v / s.bias2  # v_hat = v_t / (1 - beta2^t)
        if eps_root:
            v_hat = v_hat + s.eps_root
        return param - s.lr * (m_hat / (sqrt(v_hat) + s.eps))

    @inline
    def adam_step(s, param, m, second):
        if epsilon_mode == "algorithm1":  # theta_t = theta_{t-1} - alpha m_hat_t / (sqrt(v_hat_t) + eps)
            return param - s.step_size * m / (sqrt(second) / s.sqrt_bias2 + s.eps)
        # "epsilon_hat" (Section 2): theta_t = theta_{t-1} - alpha_t m_t / (sqrt(v_t) + eps_hat)
        return param - s.alpha_t * m / (sqrt(second) + s.eps)

    def adam(s, param, grad, m, v):
        param, g, m, v = moments(s, param, grad, m, v)
        if eps_root or nesterov:
            return optax_step(s, param, g, m, v), m, v
        return adam_step(s, param, m, v), m, v

    def amsgrad(s, param, grad, m, v, v_max):
        param, _, m, v = moments(s, param, grad, m, v)
        if amsgrad_mode == "max_corrected_v":  # Optax: v_max_t = max(v_max_{t-1}, v_hat_t)
            v_max = maximum(v_max, v / s.bias2)
            if eps_root:  # Optax's eps_root: sqrt(v_max_t + eps_root)
                return param - s.lr * (m / s.bias1) / (sqrt(v_max + s.eps_root) + s.eps), m, v, v_max
            return param - s.lr * (m / s.bias1) / (sqrt(v_max) + s.eps), m, v, v_max
        v_max = maximum(v_max, v)  # v_max_t = max(v_max_{t-1}, v_t)
        if amsgrad_mode == "no_bias_correction":  # Reddi et al., Algorithm 2
            return param - s.lr * m / (sqrt(v_max) + s.eps), m, v, v_max
        return adam_step(s, param, m, v_max), m, v, v_max  # "max_raw_v": v_max takes the place of v

    return inline(adam if amsgrad_mode is None else amsgrad)


def make_adamax_rule(choices: AdamaxChoices, ops: Ops) -> Callable[..., tuple[Any, Any, Any]]:
    """The AdaMax step of ``choices``: ``(s, param, grad, m, u) -> (param, m, u)``, the equations of
    :func:`optim.functional.adamax_update`."""
    maximum, inline = ops.maximum, ops.inline
    adamax_epsilon = choices.adamax_epsilon
    _check(adamax_epsilon, "adamax_epsilon", ADAMAX_EPSILON_CHOICES)
    effective_gradient = make_effective_gradient(choices, ops)

    def adamax(s, param, grad, m, u):
        param, g = effective_gradient(s, param, grad)
        m = m * s.beta1 + s.one_minus_beta1 * g  # m_t = beta1 m_{t-1} + (1 - beta1) g_t
        if adamax_epsilon == "inside_max":
            u = maximum(u * s.beta2, abs(g) + s.eps)  # u_t = max(beta2 u_{t-1}, |g_t| + eps)
            return param - s.step_size * m / u, m, u  # theta_t = theta_{t-1} - alpha / (1 - beta1^t) m_t / u_t
        u = maximum(u * s.beta2, abs(g))  # u_t = max(beta2 u_{t-1}, |g_t|)
        return param - s.step_size * m / (u + s.eps), m, u

    return inline(adamax)


def make_rule(choices: AdamChoices | AdamaxChoices, ops: Ops) -> Callable[..., tuple[Any, ...]]:
    """The rule of ``choices`` (Adam and AMSGrad, or AdaMax) with the operations ``ops``."""
    if isinstance(choices, AdamaxChoices):
        return make_adamax_rule(choices, ops)
    return make_adam_rule(choices, ops)

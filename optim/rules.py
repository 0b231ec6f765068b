"""The arithmetic of Adam, AMSGrad, AdaMax and SGD, written once, for every execution path.

Each rule is one elementwise function, line by line with the papers: it takes
the step's numbers ``s`` (an :class:`~optim.step_scalars.Scalars`, each
already in the parameter's dtype), the parameter :math:`\\theta_{t-1}`, the
gradient and the state, and returns the new parameter and state. The formula
choices (``maximize``, the kind of weight decay, ``epsilon_mode``,
``amsgrad_mode``, ``adamax_epsilon``, ``slot_arithmetic``; the tuples of
:mod:`optim.rule_choices`, re-exported here) are fixed when the rule is built by
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

import functools
from collections.abc import Callable
from typing import Any

from minigrad.backend import get_array_module
from optim.conventions import (
    ADAMAX_EPSILON_CHOICES,
    EPSILON_MODE_CHOICES,
    IN_DTYPE_ARITHMETICS,
    RULE_AMSGRAD_MODES,
    SLOT_ARITHMETIC_CHOICES,
)

# The formula choices that select a rule, and the operations it runs with (re-exported: optim.rules.AdamChoices...).
from optim.rule_choices import (
    DECAYS,
    SGD_FORMS,
    AdamaxChoices,
    AdamChoices,
    Ops,
    SgdChoices,
    adam_choices,
    adamax_choices,
    array_ops,
    check_allowed,
    check_optax_options,
    sgd_choices,
    state_names,
)

__all__ = [
    "SGD_FORMS", "AdamChoices", "AdamaxChoices", "Ops", "SgdChoices", "adam_choices", "adamax_choices", "array_ops",
    "check_optax_options", "make_adam_rule", "make_adamax_rule", "make_effective_gradient", "make_first_moment",
    "make_rule", "make_sgd_rule", "run_in_place", "sgd_choices", "state_names",
]


def make_effective_gradient(choices: AdamChoices | AdamaxChoices, ops: Ops) -> Callable[..., tuple[Any, Any]]:
    """``(s, param, grad) -> (param, g)``: the gradient the rule uses, and the parameter it updates.

    :math:`g_t` is the gradient with its sign flipped for ``maximize``. L2
    decay adds :math:`\\lambda\\theta_{t-1}` to it; decoupled decay (AdamW)
    instead shrinks the parameter before the step,
    :math:`\\theta \\leftarrow (1 - \\alpha\\lambda)\\theta`, and leaves the gradient alone.
    """
    maximize, decay = choices.maximize, choices.decay
    check_allowed(decay, "decay", DECAYS)

    @ops.inline
    def effective_gradient(s, param, grad):
        g = -grad if maximize else grad
        if decay == "decoupled":
            param = param * s.decay_factor  # theta <- (1 - alpha lambda) theta
        elif decay == "l2":
            g = g + s.weight_decay * param  # g_t <- g_t + lambda theta_{t-1}
        return param, g

    return effective_gradient


def make_first_moment(choices: AdamChoices | AdamaxChoices, ops: Ops) -> Callable[..., Any]:
    """``(s, m, g) -> m_t``: the first moment, by ``slot_arithmetic``.

    ``"double"``: :math:`m_t = \\beta_1 m_{t-1} + (1 - \\beta_1) g_t`, with
    :math:`1 - \\beta_1` computed in double precision and rounded once.
    ``"in_dtype"`` (TensorFlow's ApplyAdam/ApplyAdaMax kernels, MindSpore's Adam kernel):
    :math:`m_t = m_{t-1} + (g_t - m_{t-1})(1 - \\beta_1)`, with :math:`1 - \\beta_1`
    computed in the parameter's dtype from :math:`\\beta_1` rounded to it
    (:func:`optim.step_scalars.step_scalars` gives that number). ``"in_dtype_sum"``
    (tf.keras legacy's sparse path, ``m * beta_1`` then a scatter-add of ``g * (1 - beta_1)``):
    the weighted sum of ``"double"`` with that number.
    """
    increment = choices.slot_arithmetic == "in_dtype"
    check_allowed(choices.slot_arithmetic, "slot_arithmetic", SLOT_ARITHMETIC_CHOICES)

    @ops.inline
    def first_moment(s, m, g):
        if increment:
            return m + (g - m) * s.one_minus_beta1  # m_t = m_{t-1} + (g_t - m_{t-1}) (1 - beta1)
        return m * s.beta1 + s.one_minus_beta1 * g  # m_t = beta1 m_{t-1} + (1 - beta1) g_t

    return first_moment


def make_adam_rule(choices: AdamChoices, ops: Ops) -> Callable[..., tuple[Any, ...]]:
    """The Adam step of ``choices``: ``(s, param, grad, m, v) -> (param, m, v)``; with AMSGrad
    ``(s, param, grad, m, v, v_max) -> (param, m, v, v_max)``. The equations are those of
    :func:`optim.functional.adam_update`."""
    sqrt, maximum, inline = ops.sqrt, ops.maximum, ops.inline
    epsilon_mode, amsgrad_mode = choices.epsilon_mode, choices.amsgrad_mode
    eps_root, nesterov = choices.eps_root, choices.nesterov
    check_allowed(epsilon_mode, "epsilon_mode", EPSILON_MODE_CHOICES)
    check_allowed(amsgrad_mode, "amsgrad_mode", RULE_AMSGRAD_MODES)
    check_optax_options(1.0 if eps_root else 0.0, nesterov, epsilon_mode, amsgrad_mode)
    effective_gradient = make_effective_gradient(choices, ops)
    first_moment = make_first_moment(choices, ops)
    slot_arithmetic = choices.slot_arithmetic

    @inline
    def moments(s, param, grad, m, v):
        param, g = effective_gradient(s, param, grad)
        m = first_moment(s, m, g)
        if slot_arithmetic == "in_dtype":  # TF's ApplyAdam, MindSpore's Adam: v_t = v_{t-1} + (g_t^2 - v_{t-1})(1 - b2)
            return param, g, m, v + (g * g - v) * s.one_minus_beta2
        if slot_arithmetic == "in_dtype_sum":  # tf.keras legacy's sparse path: v_t = beta2 v_{t-1} + g_t^2 (1 - beta2)
            return param, g, m, v * s.beta2 + g * g * s.one_minus_beta2
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
    check_allowed(adamax_epsilon, "adamax_epsilon", ADAMAX_EPSILON_CHOICES)
    effective_gradient = make_effective_gradient(choices, ops)
    first_moment = make_first_moment(choices, ops)
    in_dtype = choices.slot_arithmetic in IN_DTYPE_ARITHMETICS

    @inline
    def adamax_step(s, param, m, u):
        if adamax_epsilon == "inside_max":  # theta_t = theta_{t-1} - alpha / (1 - beta1^t) m_t / u_t
            return param - s.step_size * (m / u) if in_dtype else param - s.step_size * m / u
        if in_dtype:  # TensorFlow's ApplyAdaMax: theta_t = theta_{t-1} - alpha / (1 - beta1^t) (m_t / (u_t + eps))
            return param - s.step_size * (m / (u + s.eps))
        return param - s.step_size * m / (u + s.eps)

    def adamax(s, param, grad, m, u):
        param, g = effective_gradient(s, param, grad)
        m = first_moment(s, m, g)
        if adamax_epsilon == "inside_max":
            u = maximum(u * s.beta2, abs(g) + s.eps)  # u_t = max(beta2 u_{t-1}, |g_t| + eps)
        else:
            u = maximum(u * s.beta2, abs(g))  # u_t = max(beta2 u_{t-1}, |g_t|)
        return adamax_step(s, param, m, u), m, u

    return inline(adamax)


def make_sgd_rule(choices: SgdChoices, ops: Ops) -> Callable[..., tuple[Any, ...]]:
    """The SGD step of ``choices``: ``(s, param, grad) -> (param,)``; with momentum
    ``(s, param, grad, buffer) -> (param, buffer)``. The equations are those of :func:`optim.functional.sgd_update`.

    The dampened form is ``torch.optim.SGD``'s, whose ``x.add(y, alpha=a)`` is the fused multiply-add
    :math:`\\operatorname{fma}(y, a, x)`; the velocity form is ``keras.optimizers.SGD``'s, each product rounded.
    """
    fma_, inline = ops.fma, ops.inline
    form, decay, momentum, nesterov, first_step = choices[1:]
    check_allowed(form, "form", SGD_FORMS)
    check_allowed(decay, "decay", DECAYS)
    maximize = choices.maximize

    @inline
    def dampened(s, param, grad, buffer):
        g = -grad if maximize else grad
        if decay == "l2":
            g = fma_(param, s.weight_decay, g)  # g_t <- g_t + lambda theta_{t-1}
        if momentum:
            if first_step:
                buffer = g  # b_1 = g_1
            else:
                buffer = fma_(g, s.one_minus_dampening, buffer * s.momentum)  # b_t = mu b_{t-1} + (1 - tau) g_t
            g = fma_(buffer, s.momentum, g) if nesterov else buffer  # Nesterov: g_t + mu b_t
        return fma_(g, s.negative_lr, param), buffer  # theta_t = theta_{t-1} - alpha g_t

    @inline
    def velocity(s, param, grad, buffer):
        g = -grad if maximize else grad
        if decay == "decoupled":
            param = param - param * s.weight_decay * s.lr  # theta <- theta - theta lambda alpha
        if not momentum:
            return param - g * s.lr, buffer  # theta_t = theta_{t-1} - g_t alpha
        buffer = buffer * s.momentum - g * s.lr  # v_t = mu v_{t-1} - g_t alpha
        if nesterov:
            return param + (buffer * s.momentum - g * s.lr), buffer  # theta_t = theta_{t-1} + mu v_t - g_t alpha
        return param + buffer, buffer  # theta_t = theta_{t-1} + v_t

    step = dampened if form == "dampened" else velocity

    def sgd(s, param, grad):
        return (step(s, param, grad, param)[0],)

    def sgd_momentum(s, param, grad, buffer):
        return step(s, param, grad, buffer)

    return inline(sgd_momentum if momentum else sgd)


def make_rule(choices: AdamChoices | AdamaxChoices | SgdChoices, ops: Ops) -> Callable[..., tuple[Any, ...]]:
    """The rule of ``choices`` (Adam and AMSGrad, AdaMax, or SGD) with the operations ``ops``."""
    if isinstance(choices, SgdChoices):
        return make_sgd_rule(choices, ops)
    if isinstance(choices, AdamaxChoices):
        return make_adamax_rule(choices, ops)
    return make_adam_rule(choices, ops)


def run_in_place(choices: AdamChoices | AdamaxChoices | SgdChoices, scalars: Any, grad: Any,
                 arrays: tuple[Any, ...]) -> None:
    """Run the rule of ``choices`` on the whole arrays ``(param, *state)`` and write the new values back
    (the reference path, :mod:`optim.functional`).

    Nothing is written before the rule has computed every new value, so a floating-point error that
    NumPy raises (``np.errstate``) leaves every array as it was.
    """
    rule = _array_rule(choices, get_array_module(arrays[0]))
    new_values = rule(scalars, arrays[0], grad, *arrays[1:])
    for array, new_value in zip(arrays, new_values):
        array[...] = new_value


@functools.cache
def _array_rule(choices: AdamChoices | AdamaxChoices | SgdChoices, xp: Any) -> Callable[..., tuple[Any, ...]]:
    """The rule of ``choices`` on whole arrays of the module ``xp`` (numpy or cupy), built once."""
    return make_rule(choices, array_ops(xp))

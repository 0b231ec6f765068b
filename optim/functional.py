"""The update rules as plain functions on backend arrays: the reference path.

Each function takes the parameter, its gradient and its state as NumPy or
CuPy arrays and updates them **in place**, line by line with the papers:

* :func:`adam_update`: Kingma & Ba (2015), Algorithm 1, and its Section 2
  "efficient" re-ordering; with ``amsgrad_mode`` set, AMSGrad (Reddi, Kale &
  Kumar 2018, Algorithm 2) and the frameworks' variants of it.
* :func:`adamax_update`: Kingma & Ba (2015), Algorithm 2 (AdaMax).
* :func:`sgd_update`: plain gradient descent, the baseline.

Each call checks its arguments (a bad call raises and changes nothing),
computes the step's numbers with :func:`optim.step_scalars.step_scalars`, runs
the elementwise rule of :mod:`optim.rules` on the whole arrays, and writes the
new values back. Arithmetic happens in the parameter's dtype; the bias
corrections :math:`1-\\beta_1^t` and :math:`1-\\beta_2^t` are computed in
double precision unless ``power_dtype`` asks for the lower precision some
frameworks use (:func:`bias_correction`). The optimizer classes in
:mod:`optim` hold the state and call these functions; the fused path
(``fused=True``) runs the same rules, compiled or generated from them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from optim.conventions import (
    ADAMAX_EPSILON_CHOICES,
    EPSILON_MODE_CHOICES,
    POWER_DTYPE_CHOICES,
    RULE_AMSGRAD_MODES,
)
from optim.rules import AdamaxChoices, AdamChoices, adam_choices, adamax_choices, array_ops, make_rule
from optim.step_scalars import Scalars, bias_correction, step_scalars
from optim.validation import check_bool, check_choice, check_nonnegative, check_probability, plain_number

__all__ = ["adam_update", "adamax_update", "bias_correction", "sgd_update"]


_PLAIN_NUMBERS = {int, float}


def _checked_scalars(step: Any, lr: Any, beta1: Any, beta2: Any, eps: Any, weight_decay: Any, power_dtype: Any,
                     arrays: tuple[tuple[str, Any], ...]) -> tuple[int, Any, Any, Any, Any, Any]:
    """What must hold before any array is touched, so that a bad call changes nothing; the scalars to compute with.

    :math:`t \\ge 1`; finite :math:`\\alpha, \\epsilon, \\lambda \\ge 0` and
    :math:`\\beta_1, \\beta_2 \\in [0, 1)`; every array of the parameter's shape and dtype.
    One chained comparison covers the usual case (Python numbers), which returns them as they are; the named
    checks run only when it fails, and return NumPy scalars and 0-d arrays as Python numbers, so that the
    arithmetic is the same as with the Python values.
    """
    try:
        valid = (type(step) is int and step >= 1 and 0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0
                 and 0.0 <= lr < math.inf and 0.0 <= eps < math.inf and 0.0 <= weight_decay < math.inf
                 and power_dtype in POWER_DTYPE_CHOICES
                 and {type(lr), type(beta1), type(beta2), type(eps), type(weight_decay)} <= _PLAIN_NUMBERS)
    except (TypeError, ValueError):  # not numbers: the named checks below say which
        valid = False
    if not valid:
        count = plain_number(step)
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"step: expected an integer >= 1 (t counts from 1), got {step!r}")
        step = count
        beta1 = check_probability(beta1, "beta1")
        beta2 = check_probability(beta2, "beta2")
        lr, eps, weight_decay = (check_nonnegative(value, name) for name, value in
                                 (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)))
        check_choice(power_dtype, "power_dtype", POWER_DTYPE_CHOICES)
    _check_arrays(arrays)
    return step, lr, beta1, beta2, eps, weight_decay


def _check_arrays(arrays: tuple[tuple[str, Any], ...]) -> None:
    """Every array of the first one's (the parameter's) shape and dtype."""
    param = arrays[0][1]
    for name, array in arrays:
        if getattr(array, "shape", None) != param.shape or getattr(array, "dtype", None) != param.dtype:
            raise ValueError(
                f"{name}: expected an array of the parameter's shape {param.shape} and dtype {param.dtype}, "
                f"got {getattr(array, 'shape', type(array).__name__)} {getattr(array, 'dtype', '')}"
            )


def adam_update(
    param: Any,
    grad: Any,
    m: Any,
    v: Any,
    v_max: Any | None,
    *,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
    epsilon_mode: str = "algorithm1",
    amsgrad_mode: str | None = None,
    power_dtype: str | None = None,
    eps_root: float = 0.0,
    nesterov: bool = False,
) -> None:
    """One Adam (or AMSGrad) step, in place on ``param``, ``m``, ``v`` (and ``v_max``).

    With :math:`g_t` the gradient, after the optional sign flip (``maximize``)
    and weight decay:

    .. math::

        m_t &= \\beta_1 m_{t-1} + (1 - \\beta_1)\\, g_t \\\\
        v_t &= \\beta_2 v_{t-1} + (1 - \\beta_2)\\, g_t^2 \\\\
        \\hat m_t &= m_t / (1 - \\beta_1^t), \\qquad \\hat v_t = v_t / (1 - \\beta_2^t)

    and then, by ``epsilon_mode`` (Adam, ``amsgrad_mode=None``):

    * ``"algorithm1"`` (Algorithm 1; PyTorch, Optax):
      :math:`\\theta_t = \\theta_{t-1} - \\alpha\\, \\hat m_t / (\\sqrt{\\hat v_t} + \\epsilon)`
    * ``"epsilon_hat"`` (the Section 2 re-ordering with a constant
      :math:`\\hat\\epsilon`; Keras, TensorFlow):
      :math:`\\alpha_t = \\alpha \\sqrt{1-\\beta_2^t}/(1-\\beta_1^t)`,
      :math:`\\theta_t = \\theta_{t-1} - \\alpha_t\\, m_t / (\\sqrt{v_t} + \\hat\\epsilon)`.

    AMSGrad keeps :math:`v^{\\max}` and, by ``amsgrad_mode``:

    * ``"max_raw_v"`` (PyTorch, Keras, TensorFlow): :math:`v^{\\max}_t = \\max(v^{\\max}_{t-1}, v_t)`
      takes the place of :math:`v_t` in the formula above (bias-corrected after the max);
    * ``"max_corrected_v"`` (Optax): :math:`v^{\\max}_t = \\max(v^{\\max}_{t-1}, \\hat v_t)`,
      :math:`\\theta_t = \\theta_{t-1} - \\alpha\\, \\hat m_t / (\\sqrt{v^{\\max}_t} + \\epsilon)`;
    * ``"no_bias_correction"`` (Reddi et al., Algorithm 2):
      :math:`v^{\\max}_t = \\max(v^{\\max}_{t-1}, v_t)`,
      :math:`\\theta_t = \\theta_{t-1} - \\alpha\\, m_t / (\\sqrt{v^{\\max}_t} + \\epsilon)`.

    Parameters
    ----------
    param, grad, m, v : array
        Parameter, gradient and moment estimates, all of one shape, dtype and device.
    v_max : array or None
        The running maximum for AMSGrad; ignored when ``amsgrad_mode`` is None.
    step : int
        :math:`t`, 1 at the first update.
    lr, beta1, beta2, eps : float
        :math:`\\alpha, \\beta_1, \\beta_2, \\epsilon`.
    weight_decay : float
        :math:`\\lambda`. L2 (:math:`g_t \\leftarrow g_t + \\lambda\\theta_{t-1}`) unless
        ``decoupled_weight_decay``, which applies
        :math:`\\theta \\leftarrow \\theta - \\alpha\\lambda\\theta` before the step (AdamW).
    maximize : bool
        Ascend: use :math:`-g_t`.
    epsilon_mode, amsgrad_mode, power_dtype : str or None
        The formula choices described above.
    eps_root : float, default 0
        Optax's :math:`\\epsilon_\\text{root}` (``optax.adam(eps_root=...)``): when not 0 the step is
        Optax's, in its order, :math:`\\theta_t = \\theta_{t-1} - \\alpha\\,(\\hat m_t /
        (\\sqrt{\\hat v_t + \\epsilon_\\text{root}} + \\epsilon))` (with AMSGrad's ``"max_corrected_v"``,
        :math:`v^{\\max}_t + \\epsilon_\\text{root}` under the root). Needs ``epsilon_mode="algorithm1"``.
    nesterov : bool, default False
        Optax's ``scale_by_adam(nesterov=True)`` (Dozat's NAdam), plain Adam only:
        :math:`\\hat m_t = \\beta_1 m_t/(1-\\beta_1^{t+1}) + (1-\\beta_1)\\,g_t/(1-\\beta_1^t)` in the
        step above.
    """
    check_choice(epsilon_mode, "epsilon_mode", EPSILON_MODE_CHOICES)
    check_choice(amsgrad_mode, "amsgrad_mode", RULE_AMSGRAD_MODES)
    eps_root = check_nonnegative(eps_root, "eps_root")
    nesterov = check_bool(nesterov, "nesterov")
    arrays = (("param", param), ("grad", grad), ("m", m), ("v", v))
    step, lr, beta1, beta2, eps, weight_decay = _checked_scalars(
        step, lr, beta1, beta2, eps, weight_decay, power_dtype,
        arrays if amsgrad_mode is None else (*arrays, ("v_max", v_max)))
    choices = adam_choices(maximize=maximize, weight_decay=weight_decay,
                           decoupled_weight_decay=decoupled_weight_decay, epsilon_mode=epsilon_mode,
                           amsgrad_mode=amsgrad_mode, eps_root=eps_root, nesterov=nesterov)
    # The numbers first: the bias corrections refuse a beta that rounds to 1, before anything changes.
    scalars = step_scalars(choices, dtype=param.dtype, step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                           weight_decay=weight_decay, power_dtype=power_dtype, eps_root=eps_root)
    _apply(choices, scalars, grad, (param, m, v) if amsgrad_mode is None else (param, m, v, v_max))


def adamax_update(
    param: Any,
    grad: Any,
    m: Any,
    u: Any,
    *,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
    adamax_epsilon: str = "denominator",
    power_dtype: str | None = None,
) -> None:
    """One AdaMax step, in place on ``param``, ``m`` and ``u``.

    Algorithm 2 of Kingma & Ba replaces Adam's :math:`v_t` by an
    exponentially weighted infinity norm, which needs no bias correction:

    .. math::

        m_t &= \\beta_1 m_{t-1} + (1 - \\beta_1)\\, g_t \\\\
        u_t &= \\max(\\beta_2 u_{t-1},\\ |g_t|) \\\\
        \\theta_t &= \\theta_{t-1} - \\frac{\\alpha}{1 - \\beta_1^t} \\, \\frac{m_t}{u_t}

    The algorithm box has no :math:`\\epsilon`, so a coordinate whose
    gradients have all been zero divides 0 by 0. By ``adamax_epsilon``:

    * ``"denominator"`` (Keras, TensorFlow; the library's paper convention):
      :math:`u_t` exactly as above, and the step divides by :math:`u_t + \\epsilon`;
    * ``"inside_max"`` (PyTorch, Optax, MindSpore):
      :math:`u_t = \\max(\\beta_2 u_{t-1}, |g_t| + \\epsilon)` and the step divides by :math:`u_t`,
      so :math:`\\epsilon` is stored in :math:`u` and decays with it.

    With ``eps=0`` both are Algorithm 2 literally.

    Parameters
    ----------
    param, grad, m, u : array
        Parameter, gradient, first moment and infinity norm, all of one shape, dtype and device.
    step, lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay, maximize, power_dtype
        As in :func:`adam_update`.
    adamax_epsilon : {"denominator", "inside_max"}
        Where :math:`\\epsilon` goes.
    """
    check_choice(adamax_epsilon, "adamax_epsilon", ADAMAX_EPSILON_CHOICES)
    step, lr, beta1, beta2, eps, weight_decay = _checked_scalars(
        step, lr, beta1, beta2, eps, weight_decay, power_dtype, (("param", param), ("grad", grad), ("m", m), ("u", u)))
    choices = adamax_choices(maximize=maximize, weight_decay=weight_decay,
                             decoupled_weight_decay=decoupled_weight_decay, adamax_epsilon=adamax_epsilon)
    # The numbers first: the bias correction refuses a beta1 that rounds to 1, before anything changes.
    scalars = step_scalars(choices, dtype=param.dtype, step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                           weight_decay=weight_decay, power_dtype=power_dtype)
    _apply(choices, scalars, grad, (param, m, u))


def sgd_update(param: Any, grad: Any, *, lr: float, maximize: bool = False) -> None:
    """Plain gradient descent, in place: :math:`\\theta_t = \\theta_{t-1} - \\alpha\\, g_t` (``+`` when maximizing).

    ``lr`` is a finite number >= 0 (a NumPy scalar or 0-d array is used as the Python number); ``grad`` has the
    parameter's shape and dtype. Both are checked before the parameter changes.
    """
    if type(lr) is not float or not 0.0 <= lr < math.inf:
        lr = check_nonnegative(lr, "lr")
    _check_arrays((("param", param), ("grad", grad)))
    if maximize:
        param += lr * grad
    else:
        param -= lr * grad


def _apply(choices: AdamChoices | AdamaxChoices, scalars: Scalars, grad: Any, arrays: tuple[Any, ...]) -> None:
    """Run the rule of ``choices`` on the whole arrays ``(param, *state)`` and write the new values back.

    Nothing is written before the rule has computed every new value, so a
    floating-point error that NumPy raises (``np.errstate``) leaves every array as it was.
    """
    rule = _array_rule(choices, _module_of(arrays[0]))
    new_values = rule(scalars, arrays[0], grad, *arrays[1:])
    for array, new_value in zip(arrays, new_values):
        array[...] = new_value


@functools.cache
def _array_rule(choices: AdamChoices | AdamaxChoices, xp: Any) -> Callable[..., tuple[Any, ...]]:
    """The rule of ``choices`` on whole arrays of the module ``xp`` (numpy or cupy), built once."""
    return make_rule(choices, array_ops(xp))


def _module_of(array: Any) -> Any:
    from minigrad.backend import get_array_module

    return get_array_module(array)

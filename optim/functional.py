"""The update rules as plain functions on backend arrays: the reference path.

Each function takes the parameter, its gradient and its state as NumPy or
CuPy arrays and updates them **in place**, line by line with the papers:

* :func:`adam_update`: Kingma & Ba (2015), Algorithm 1, and its Section 2
  "efficient" re-ordering; with ``amsgrad_mode`` set, AMSGrad (Reddi, Kale &
  Kumar 2018, Algorithm 2) and the frameworks' variants of it.
* :func:`adamax_update`: Kingma & Ba (2015), Algorithm 2 (AdaMax).
* :func:`sgd_update`: gradient descent, plain or with momentum (PyTorch's
  dampened buffer or Keras's velocity), Nesterov and weight decay.
* :func:`update_parameter`: the optimizers' step 4: one of the above with a
  parameter group's hyperparameters, on a whole parameter or on the rows of a
  row-sparse gradient.

Each call checks its arguments (a bad call raises and changes nothing),
computes the step's numbers with :func:`optim.step_scalars.step_scalars`, runs
the elementwise rule of :mod:`optim.rules` on the whole arrays, and writes the
new values back. Arithmetic happens in the parameter's dtype; the bias
corrections :math:`1-\\beta_1^t` and :math:`1-\\beta_2^t` are computed in
double precision unless ``power_dtype`` asks for the lower precision some
frameworks use (:func:`bias_correction`). The optimizer classes in
:mod:`optim` hold the state and call :func:`update_parameter`; the fused path
(``fused=True``) runs the same rules, compiled or generated from them.
"""

from __future__ import annotations

from typing import Any

from minigrad.backend import is_array
from minigrad.sparse import RowSparseGrad
from optim.conventions import (
    ADAMAX_EPSILON_CHOICES,
    EPSILON_MODE_CHOICES,
    RULE_AMSGRAD_MODES,
    SLOT_ARITHMETIC_CHOICES,
    rule_amsgrad_mode,
)
from optim.functional_sgd import sgd_update
from optim.rules import adam_choices, adamax_choices, run_in_place
from optim.step_scalars import bias_correction, step_scalars
from optim.validation import check_bool, check_choice, check_nonnegative, checked_rule_scalars

__all__ = ["adam_update", "adamax_update", "bias_correction", "sgd_update", "update_parameter"]


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
    slot_arithmetic: str = "double",
    bias_corrected: bool = True,
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
    slot_arithmetic : {"double", "in_dtype"}
        ``"double"``: the moments as above, with :math:`1-\\beta` and the step's numbers computed in double
        precision and rounded once. ``"in_dtype"`` (TensorFlow's ApplyAdam and ApplyAdamWithAmsgrad kernels,
        MindSpore's Adam kernel): :math:`m_t = m_{t-1} + (g_t - m_{t-1})(1-\\beta_1)`,
        :math:`v_t = v_{t-1} + (g_t^2 - v_{t-1})(1-\\beta_2)`, with :math:`1-\\beta` and
        :math:`\\alpha_t` computed in the parameter's dtype (see :func:`optim.rules.make_first_moment`).
        ``"in_dtype_sum"`` (tf.keras legacy's sparse path): the weighted sums above with those numbers.
    bias_corrected : bool
        False: no bias correction, :math:`1-\\beta_1^t` and :math:`1-\\beta_2^t` taken as 1 (the step of
        capreolus's AdamMultilr on a sparse gradient, with ``epsilon_mode="epsilon_hat"``:
        :math:`\\theta_t = \\theta_{t-1} - \\alpha\\, m_t / (\\sqrt{v_t} + \\hat\\epsilon)`).
    eps_root : float, default 0
        Optax's :math:`\\epsilon_\\text{root}` (``optax.adam(eps_root=...)``): when not 0 the step is
        Optax's, in its order, :math:`\\theta_t = \\theta_{t-1} - \\alpha\\,(\\hat m_t /
        (\\sqrt{\\hat v_t + \\epsilon_\\text{root}} + \\epsilon))` (with AMSGrad's ``"max_corrected_v"``,
        :math:`v^{\\max}_t + \\epsilon_\\text{root}` under the root). Needs ``epsilon_mode="algorithm1"``.
    nesterov : bool, default False
        Optax's ``scale_by_adam(nesterov=True)`` (Dozat's NAdam), plain Adam only:
        :math:`\\hat m_t = \\beta_1 m_t/(1-\\beta_1^{t+1}) + (1-\\beta_1)\\,g_t/(1-\\beta_1^t)` in the
        step above.

    Examples
    --------
    >>> import numpy as np
    >>> from optim.functional import adam_update
    >>> param, m, v = np.array([1.0]), np.zeros(1), np.zeros(1)
    >>> adam_update(param, np.array([0.5]), m, v, None, step=1, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    >>> param, m, v
    (array([0.9]), array([0.05]), array([0.00025]))
    """
    check_choice(epsilon_mode, "epsilon_mode", EPSILON_MODE_CHOICES)
    check_choice(amsgrad_mode, "amsgrad_mode", RULE_AMSGRAD_MODES)
    check_choice(slot_arithmetic, "slot_arithmetic", SLOT_ARITHMETIC_CHOICES)
    if type(eps_root) is not float or eps_root != 0.0:  # the default, 0.0, needs no check
        eps_root = check_nonnegative(eps_root, "eps_root")
    if nesterov is not False:
        nesterov = check_bool(nesterov, "nesterov")
    arrays = (("param", param), ("grad", grad), ("m", m), ("v", v))
    step, lr, beta1, beta2, eps, weight_decay = checked_rule_scalars(
        step, lr, beta1, beta2, eps, weight_decay, power_dtype,
        arrays if amsgrad_mode is None else (*arrays, ("v_max", v_max)))
    choices = adam_choices(maximize=maximize, weight_decay=weight_decay,
                           decoupled_weight_decay=decoupled_weight_decay, epsilon_mode=epsilon_mode,
                           amsgrad_mode=amsgrad_mode, slot_arithmetic=slot_arithmetic, eps_root=eps_root,
                           nesterov=nesterov)
    # The numbers first: the bias corrections refuse a beta that rounds to 1, before anything changes.
    scalars = step_scalars(choices, dtype=param.dtype, step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                           weight_decay=weight_decay, power_dtype=power_dtype,
                           bias_corrected=bias_corrected is True or check_bool(bias_corrected, "bias_corrected"),
                           eps_root=eps_root)
    run_in_place(choices, scalars, grad, (param, m, v) if amsgrad_mode is None else (param, m, v, v_max))


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
    slot_arithmetic: str = "double",
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
    slot_arithmetic : {"double", "in_dtype"}
        ``"in_dtype"`` (TensorFlow's ApplyAdaMax kernel): :math:`m_t = m_{t-1} + (g_t - m_{t-1})(1-\\beta_1)`
        and :math:`\\theta_t = \\theta_{t-1} - \\frac{\\alpha}{1-\\beta_1^t}\\,(m_t / d_t)` (the quotient first),
        with the numbers computed in the parameter's dtype; ``"double"`` as above.

    Examples
    --------
    >>> import numpy as np
    >>> from optim.functional import adamax_update
    >>> param, m, u = np.array([1.0]), np.zeros(1), np.zeros(1)
    >>> adamax_update(param, np.array([-0.5]), m, u, step=1, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    >>> param, u
    (array([1.1]), array([0.5]))
    """
    check_choice(adamax_epsilon, "adamax_epsilon", ADAMAX_EPSILON_CHOICES)
    check_choice(slot_arithmetic, "slot_arithmetic", SLOT_ARITHMETIC_CHOICES)
    step, lr, beta1, beta2, eps, weight_decay = checked_rule_scalars(
        step, lr, beta1, beta2, eps, weight_decay, power_dtype, (("param", param), ("grad", grad), ("m", m), ("u", u)))
    choices = adamax_choices(maximize=maximize, weight_decay=weight_decay,
                             decoupled_weight_decay=decoupled_weight_decay, adamax_epsilon=adamax_epsilon,
                             slot_arithmetic=slot_arithmetic)
    # The numbers first: the bias correction refuses a beta1 that rounds to 1, before anything changes.
    scalars = step_scalars(choices, dtype=param.dtype, step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                           weight_decay=weight_decay, power_dtype=power_dtype)
    run_in_place(choices, scalars, grad, (param, m, u))


def update_parameter(algorithm: str, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any],
                     lr: float, step: int, weight_decay: float, power_dtype: str | None = None, *,
                     lazy: bool = True, sparse_update: str = "as_dense") -> None:
    """One parameter's update, in place, with its group's hyperparameters: the optimizers' step 4.

    ``algorithm`` (``"adam"``, ``"adamax"`` or ``"sgd"``) picks :func:`adam_update`
    (AMSGrad when ``group["amsgrad"]``), :func:`adamax_update` or :func:`sgd_update`;
    ``state`` holds its arrays by name (``m``, ``v``, ``v_max``; ``m``, ``u``; SGD's
    ``momentum_buffer`` (PyTorch's name) or ``momentum`` (Keras's)).
    ``lr``, ``step`` and ``weight_decay`` are this parameter's numbers for this
    call (:func:`optim.parameter_numbers.parameter_scalars`).

    A :class:`~minigrad.sparse.RowSparseGrad` (coalesced, as the gradient
    pipeline hands it over) updates lazily when ``lazy``: the rows it lists are
    gathered from the parameter and the state, the same rule runs on them, and
    they are written back; the other rows, and their state, keep their values.
    Otherwise every row takes the rule of the dense gradient, or, with
    ``sparse_update="uncorrected"`` (Adam and AMSGrad), the sparse step of
    capreolus's AdamMultilr: moments :math:`\\beta m + (1-\\beta) g` in the
    parameter's dtype (``slot_arithmetic="in_dtype_sum"``) and no bias correction,
    :math:`\\theta_t = \\theta_{t-1} - \\alpha\\, m_t / (\\sqrt{v_t} + \\hat\\epsilon)`.

    >>> import numpy as np
    >>> param, grad = np.array([1.0, 2.0]), np.array([0.5, -0.5])
    >>> state = {"m": np.zeros(2), "v": np.zeros(2)}
    >>> group = {"betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False, "decoupled_weight_decay": False,
    ...          "maximize": False, "epsilon_mode": "algorithm1", "slot_arithmetic": "double"}
    >>> update_parameter("adam", param, grad, state, group, lr=0.1, step=1, weight_decay=0.0)
    >>> param.round(6).tolist()
    [0.9, 2.1]
    """
    if not isinstance(grad, RowSparseGrad):
        _update_arrays(algorithm, param, grad, state, group, lr, step, weight_decay, power_dtype)
        return
    if not lazy:
        uncorrected = sparse_update == "uncorrected"
        _update_arrays(algorithm, param, grad.to_dense(), state, group, lr, step, weight_decay, power_dtype,
                       uncorrected=uncorrected)
        return
    rows = grad.indices
    arrays = {name: value for name, value in state.items() if is_array(value)}
    param_rows = param[rows]
    state_rows = {name: value[rows] for name, value in arrays.items()}
    _update_arrays(algorithm, param_rows, grad.values, state_rows, group, lr, step, weight_decay, power_dtype)
    param[rows] = param_rows
    for name, value in arrays.items():
        value[rows] = state_rows[name]


def _update_arrays(algorithm: str, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any],
                   lr: float, step: int, weight_decay: float, power_dtype: str | None,
                   uncorrected: bool = False) -> None:
    """:func:`update_parameter` on whole arrays: the group's hyperparameters as the rule's keywords
    (``uncorrected``: capreolus's sparse step, Adam only)."""
    if algorithm == "sgd":  # the momentum buffer, if any, under PyTorch's name or Keras's
        buffer = state.get("momentum_buffer", state.get("momentum"))
        sgd_update(param, grad, buffer, lr=lr, maximize=group["maximize"], momentum=group["momentum"],
                   dampening=group["dampening"], nesterov=group["nesterov"], weight_decay=weight_decay,
                   form=group["form"], first_step=step == 1)
        return
    beta1, beta2 = group["betas"]
    common = {"step": step, "lr": lr, "beta1": beta1, "beta2": beta2, "eps": group["eps"],
              "weight_decay": weight_decay, "decoupled_weight_decay": group["decoupled_weight_decay"],
              "maximize": group["maximize"], "power_dtype": power_dtype,
              "slot_arithmetic": "in_dtype_sum" if uncorrected else group["slot_arithmetic"]}
    if algorithm == "adam":
        adam_update(param, grad, state["m"], state["v"], state.get("v_max"), epsilon_mode=group["epsilon_mode"],
                    amsgrad_mode=rule_amsgrad_mode(group), bias_corrected=not uncorrected,
                    eps_root=group.get("eps_root", 0.0), nesterov=group.get("nesterov", False), **common)
    elif algorithm == "adamax":
        adamax_update(param, grad, state["m"], state["u"], adamax_epsilon=group["adamax_epsilon"], **common)
    else:
        raise ValueError(f"algorithm: unknown value {algorithm!r}; expected 'adam', 'adamax' or 'sgd'")

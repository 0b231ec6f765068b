"""Adam (Kingma & Ba, 2015, Algorithm 1), with AMSGrad as an option."""

from __future__ import annotations

from typing import Any

from minigrad.tensor import Tensor
from optim.adaptive import AdaptiveOptimizer
from optim.conventions import AMSGRAD_MODE_CHOICES, EPSILON_MODE_CHOICES, rule_amsgrad_mode
from optim.optimizer import ParamsLike
from optim.rules import check_optax_options
from optim.validation import check_bool, check_choice, check_nonnegative

__all__ = ["Adam"]


class Adam(AdaptiveOptimizer):
    r"""Adam: adaptive moment estimation.

    Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015,
    Algorithm 1. For each parameter :math:`\theta` with gradient :math:`g_t`
    at step :math:`t = 1, 2, \dots`, starting from :math:`m_0 = v_0 = 0`:

    .. math::

        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat m_t &= m_t / (1 - \beta_1^t) \\
        \hat v_t &= v_t / (1 - \beta_2^t) \\
        \theta_t &= \theta_{t-1} - \alpha\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    With ``epsilon_mode="epsilon_hat"`` the last three lines become the
    paper's "efficient" form (Section 2, before 2.1) with a constant
    :math:`\hat\epsilon`, as Keras and TensorFlow compute it:
    :math:`\alpha_t = \alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)`,
    :math:`\theta_t = \theta_{t-1} - \alpha_t m_t/(\sqrt{v_t} + \hat\epsilon)`.
    It equals Algorithm 1 exactly when :math:`\hat\epsilon = \epsilon\sqrt{1-\beta_2^t}`.

    With ``amsgrad=True`` the optimizer is AMSGrad (see :class:`~optim.AMSGrad`).

    Parameters
    ----------
    params : iterable of Tensor, or of dict, or None
        Tensors to optimise, or parameter groups (dicts with ``"params"`` and
        overrides). ``None``: bound at the first :meth:`apply_gradients`.
    lr : float or callable, optional
        :math:`\alpha`, or a schedule ``lr(k)`` of the number of updates already
        applied (0 at the first). Default: the convention's (``1e-3``).
    betas : tuple of float, optional
        :math:`(\beta_1, \beta_2)`, each in ``[0, 1)``. Default ``(0.9, 0.999)``.
    eps : float, optional
        :math:`\epsilon` (:math:`\hat\epsilon` in ``"epsilon_hat"`` mode). Default: the convention's.
    weight_decay : float, default 0
        :math:`\lambda`: an L2 term :math:`g_t \leftarrow g_t + \lambda\theta_{t-1}`,
        or with ``decoupled_weight_decay`` the AdamW decay
        :math:`\theta \leftarrow (1 - \alpha\lambda)\theta` before the step.
    amsgrad : bool, default False
        Keep the running maximum of the second moment (Reddi et al., 2018).
    maximize : bool, default False
        Maximise the objective (use :math:`-g_t`).
    decoupled_weight_decay : bool, optional
        Decoupled (AdamW) rather than L2 weight decay. Default: the convention's.
    convention : str, default "paper"
        The defaults and formula choices to start from; see :mod:`optim.conventions`.
    epsilon_mode : {"algorithm1", "epsilon_hat"}, optional
        Where :math:`\epsilon` enters. Default: the convention's.
    amsgrad_mode : {"max_raw_v", "max_corrected_v", "no_bias_correction"}, optional
        What AMSGrad takes the maximum of, and how it corrects the bias. Default: the convention's.
    step_counting : {"global", "per_parameter"}, optional
        Whether :math:`t` counts the optimizer's updates or each parameter's. Default: the convention's.
    slot_arithmetic : {"double", "in_dtype"}, optional
        ``"in_dtype"``: the moments as TensorFlow's and MindSpore's kernels update them,
        :math:`m_t = m_{t-1} + (g_t - m_{t-1})(1-\beta_1)`, with :math:`1-\beta` and the step size computed in
        the parameter's dtype (see :func:`optim.functional.adam_update`). Default: the convention's.
    eps_root : float, optional
        ``convention="optax"`` only (``optax.adam``/``adamw``/``amsgrad``'s ``eps_root``, default 0):
        :math:`\epsilon_\text{root}` inside the square root, :math:`\hat m_t/(\sqrt{\hat v_t + \epsilon_\text{root}}
        + \epsilon)`; see :func:`optim.functional.adam_update`.
    nesterov : bool, optional
        ``convention="optax"`` only, plain Adam (``optax.adam(nesterov=True)``, NAdam; default False):
        :math:`\hat m_t = \beta_1 m_t/(1-\beta_1^{t+1}) + (1-\beta_1) g_t/(1-\beta_1^t)`.
    fused : bool or None, default False
        Update all parameters at once from flat buffers (PyTorch's keyword): the
        same results as the reference path, faster; see :mod:`optim.fused`. None (PyTorch's default)
        means False.
    **options
        Optimizer-wide options of Keras and TensorFlow: ``clipnorm``, ``clipvalue``,
        ``global_clipnorm``, ``use_ema``, ``ema_momentum``, ``ema_overwrite_frequency``,
        ``loss_scale_factor``, ``gradient_accumulation_steps``, ``decay`` (legacy),
        ``pattern_lrs``, ``lazy`` (row-sparse gradients) and ``power_dtype``;
        see :func:`optim.options.make_options`.

    Notes
    -----
    State per parameter: ``m`` (:math:`m_t`), ``v`` (:math:`v_t`), ``v_max``
    with AMSGrad, and ``step``, all on the parameter's device and dtype.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> from optim import Adam
    >>> w = mg.tensor(np.array([1.0, -1.0]), requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> w.grad = mg.tensor(np.array([0.5, -2.0]))
    >>> opt.step()
    >>> w
    tensor([ 0.9, -0.9], dtype=float64, requires_grad=True)
    >>> Adam([w], lr=0.1, convention='keras').defaults['epsilon_mode']
    'epsilon_hat'
    """

    algorithm = "adam"
    has_uncorrected_sparse_rule = True

    def __init__(
        self,
        params: ParamsLike = None,
        lr: Any = None,
        betas: tuple[float, float] | None = None,
        eps: float | None = None,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
        decoupled_weight_decay: bool | None = None,
        convention: str = "paper",
        *,
        epsilon_mode: str | None = None,
        amsgrad_mode: str | None = None,
        step_counting: str | None = None,
        slot_arithmetic: str | None = None,
        eps_root: float | None = None,
        nesterov: bool | None = None,
        fused: bool | None = False,
        **options: Any,
    ) -> None:
        super().__init__(
            params, convention, fused, options, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=decoupled_weight_decay,
            step_counting=step_counting, epsilon_mode=epsilon_mode, amsgrad_mode=amsgrad_mode,
            slot_arithmetic=slot_arithmetic, eps_root=eps_root, nesterov=nesterov,
        )

    def validate_group(self, group: dict[str, Any]) -> dict[str, Any]:
        """Check every hyperparameter of a group (names the argument and value on failure)."""
        group = super().validate_group(group)
        group["amsgrad"] = check_bool(group["amsgrad"], "amsgrad")
        check_choice(group["epsilon_mode"], "epsilon_mode", EPSILON_MODE_CHOICES)
        check_choice(group["amsgrad_mode"], "amsgrad_mode", AMSGRAD_MODE_CHOICES)
        if "eps_root" in group:  # the optax convention's keywords
            group["eps_root"] = check_nonnegative(group["eps_root"], "eps_root")
            group["nesterov"] = check_bool(group["nesterov"], "nesterov")
            check_optax_options(group["eps_root"], group["nesterov"], group["epsilon_mode"], rule_amsgrad_mode(group))
        return group

    def state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        """``("m", "v")``, and ``"v_max"`` for AMSGrad."""
        return ("m", "v", "v_max") if group["amsgrad"] else ("m", "v")

    def init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """``m`` and ``v`` (and ``v_max`` for AMSGrad) as zeros like the parameter."""
        xp = param.xp
        state = {"step": 0, "m": xp.zeros_like(param.data), "v": xp.zeros_like(param.data)}
        if group["amsgrad"]:
            state["v_max"] = xp.zeros_like(param.data)
        return state

"""AdaMax (Kingma & Ba, 2015, Algorithm 2): Adam with an infinity norm."""

from __future__ import annotations

from typing import Any

from minigrad.tensor import Tensor
from optim.adaptive import AdaptiveOptimizer
from optim.conventions import ADAMAX_EPSILON_CHOICES
from optim.optimizer import ParamsLike
from optim.validation import check_choice

__all__ = ["Adamax"]


class Adamax(AdaptiveOptimizer):
    r"""AdaMax: Adam with the second moment replaced by an exponentially weighted infinity norm.

    Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015,
    Section 7.1, Algorithm 2. Starting from :math:`m_0 = u_0 = 0`:

    .. math::

        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \\
        u_t &= \max(\beta_2 u_{t-1},\ |g_t|) \\
        \theta_t &= \theta_{t-1} - \frac{\alpha}{1 - \beta_1^t}\, \frac{m_t}{u_t}

    :math:`u_t` needs no bias correction. The paper states
    :math:`|\Delta_t| \le \alpha`; exactly, since :math:`|g_k| \le u_t/\beta_2^{t-k}`,

    .. math::

        |\Delta_t| \le \alpha\, \frac{1-\beta_1}{1-\beta_1^t} \sum_{j=0}^{t-1} \left(\frac{\beta_1}{\beta_2}\right)^j,

    reached by :math:`g_k \propto \beta_2^{-(t-k)}`. That is close to
    :math:`\alpha` for the default betas but above it whenever
    :math:`\beta_1 > 0` and :math:`t \ge 2` (:math:`1.0005\,\alpha` at
    :math:`t = 2` with :math:`g = (1/\beta_2, 1)`), and far above it when
    :math:`\beta_1 > \beta_2`.

    The box has no :math:`\epsilon`: a coordinate whose gradients have all been
    zero divides 0 by 0. The library adds one, by ``adamax_epsilon``: in the
    denominator, :math:`m_t/(u_t + \epsilon)` (the ``"paper"`` convention's
    choice, which keeps :math:`u_t` exactly as in the box; Keras and
    TensorFlow do the same), or inside the maximum,
    :math:`u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon)` (PyTorch, Optax,
    MindSpore). ``eps=0`` gives Algorithm 2 literally.

    Parameters
    ----------
    params : iterable of Tensor, or of dict, or None
        As for :class:`~optim.Adam`.
    lr : float or callable, optional
        :math:`\alpha`; default the convention's (``2e-3`` in the paper and PyTorch).
    betas : tuple of float, optional
        :math:`(\beta_1, \beta_2)`; default ``(0.9, 0.999)``.
    eps : float, optional
        :math:`\epsilon`; default the convention's.
    weight_decay : float, default 0
        :math:`\lambda`, L2 unless ``decoupled_weight_decay``.
    maximize : bool, default False
        Maximise the objective.
    decoupled_weight_decay : bool, optional
        :math:`\theta \leftarrow (1 - \alpha\lambda)\theta` before the step instead of L2.
    convention : str, default "paper"
        See :mod:`optim.conventions`.
    adamax_epsilon : {"denominator", "inside_max"}, optional
        Where :math:`\epsilon` goes; default the convention's.
    step_counting : {"global", "per_parameter"}, optional
        Default the convention's.
    slot_arithmetic : {"double", "in_dtype"}, optional
        ``"in_dtype"``: as TensorFlow's ApplyAdaMax kernel (see :func:`optim.functional.adamax_update`);
        default the convention's.
    fused : bool or None, default False
        Update all parameters at once from flat buffers (PyTorch's keyword): the
        same results as the reference path, faster; see :mod:`optim.fused`. None (PyTorch's default)
        means False.
    **options
        Optimizer-wide options (clipping, EMA, accumulation, loss scaling, legacy
        decay, ``pattern_lrs``, ``lazy``, ``power_dtype``): see :func:`optim.options.make_options`.

    Notes
    -----
    State per parameter: ``m`` (:math:`m_t`), ``u`` (:math:`u_t`) and ``step``.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> from optim import Adamax
    >>> w = mg.tensor(np.array([1.0, -1.0]), requires_grad=True)
    >>> opt = Adamax([w], lr=0.1)
    >>> w.grad = mg.tensor(np.array([0.5, -2.0]))
    >>> opt.step()
    >>> w
    tensor([ 0.9, -0.9], dtype=float64, requires_grad=True)
    """

    corrected_betas = ("beta1",)  # u_t needs no bias correction

    algorithm = "adamax"

    def __init__(
        self,
        params: ParamsLike = None,
        lr: Any = None,
        betas: tuple[float, float] | None = None,
        eps: float | None = None,
        weight_decay: float = 0.0,
        maximize: bool = False,
        decoupled_weight_decay: bool | None = None,
        convention: str = "paper",
        *,
        adamax_epsilon: str | None = None,
        step_counting: str | None = None,
        slot_arithmetic: str | None = None,
        fused: bool | None = False,
        **options: Any,
    ) -> None:
        super().__init__(
            params, convention, fused, options, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            maximize=maximize, decoupled_weight_decay=decoupled_weight_decay, step_counting=step_counting,
            adamax_epsilon=adamax_epsilon, slot_arithmetic=slot_arithmetic,
        )

    def validate_group(self, group: dict[str, Any]) -> dict[str, Any]:
        """Check every hyperparameter of a group (names the argument and value on failure)."""
        group = super().validate_group(group)
        check_choice(group["adamax_epsilon"], "adamax_epsilon", ADAMAX_EPSILON_CHOICES)
        return group

    def state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        """``("m", "u")``."""
        return ("m", "u")

    def init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """``m`` and ``u`` as zeros like the parameter."""
        xp = param.xp
        return {"step": 0, "m": xp.zeros_like(param.data), "u": xp.zeros_like(param.data)}

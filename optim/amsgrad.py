"""AMSGrad (Reddi, Kale & Kumar, 2018, Algorithm 2): Adam with a non-decreasing second moment."""

from __future__ import annotations

from typing import Any

from optim.adam import Adam
from optim.optimizer import ParamsLike

__all__ = ["AMSGrad"]


class AMSGrad(Adam):
    r"""AMSGrad: Adam whose denominator never shrinks.

    Reddi, Kale & Kumar, *On the Convergence of Adam and Beyond*, ICLR 2018,
    Algorithm 2. Adam can fail to converge when rare large gradients are
    forgotten by the moving average :math:`v_t` (the paper's Theorem 1 and
    Figure 1); AMSGrad keeps the running maximum :math:`\hat v_t`, so the
    effective step size :math:`\alpha/\sqrt{\hat v_t}` never increases:

    .. math::

        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \\
        \theta_t &= \theta_{t-1} - \alpha_t\, m_t / \sqrt{\hat v_t}

    The paper's box has no bias correction and no :math:`\epsilon`. Under the
    ``"paper"`` convention the library follows it with a constant step
    :math:`\alpha_t = \alpha` (pass a callable ``lr`` for the theory's
    :math:`\alpha/\sqrt t`) and adds :math:`\epsilon` to the denominator,
    :math:`m_t / (\sqrt{\hat v_t} + \epsilon)`, so that coordinates whose
    gradients have all been zero do not divide 0 by 0; ``eps=0`` gives the box
    literally. Frameworks bias-correct: PyTorch, Keras and TensorFlow take the
    maximum of the raw :math:`v_t` and correct afterwards
    (``amsgrad_mode="max_raw_v"``), Optax the maximum of the corrected
    :math:`v_t/(1-\beta_2^t)` (``"max_corrected_v"``).

    ``AMSGrad(...)`` is exactly ``Adam(..., amsgrad=True)``; it takes the same
    keywords as :class:`~optim.Adam` except ``amsgrad``.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> from optim import AMSGrad
    >>> w = mg.tensor(np.array([1.0, -1.0]), requires_grad=True)
    >>> opt = AMSGrad([w], lr=0.1)
    >>> w.grad = mg.tensor(np.array([0.5, -2.0]))
    >>> opt.step()
    >>> w
    tensor([ 0.68377243, -0.68377228], dtype=float64, requires_grad=True)
    """

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
        epsilon_mode: str | None = None,
        amsgrad_mode: str | None = None,
        step_counting: str | None = None,
        slot_arithmetic: str | None = None,
        fused: bool | None = False,
        **options: Any,
    ) -> None:
        if "amsgrad" in options:
            raise TypeError(
                f"amsgrad: AMSGrad always keeps the maximum (it is Adam with amsgrad=True), got "
                f"amsgrad={options['amsgrad']!r}; use optim.Adam to choose"
            )
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=True, maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay, convention=convention,
            epsilon_mode=epsilon_mode, amsgrad_mode=amsgrad_mode, step_counting=step_counting,
            slot_arithmetic=slot_arithmetic, fused=fused,
            **options,
        )

    def get_config(self) -> dict[str, Any]:
        """As :meth:`Adam.get_config`, without ``amsgrad`` (always on)."""
        config = super().get_config()
        del config["amsgrad"]
        return config

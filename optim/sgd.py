"""Plain stochastic gradient descent: the baseline the adaptive methods are compared with."""

from __future__ import annotations

from typing import Any

from optim.optimizer import Optimizer, ParamsLike
from optim.validation import check_bool

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Gradient descent with a fixed (or scheduled) step: :math:`\theta_t = \theta_{t-1} - \alpha\, g_t`.

    Parameters
    ----------
    params : iterable of Tensor, or of dict, or None
        As for :class:`~optim.Adam`.
    lr : float or callable, default 0.01
        :math:`\alpha`, or a schedule of the number of updates already applied.
    maximize : bool, default False
        Ascend instead: :math:`\theta_t = \theta_{t-1} + \alpha\, g_t`.
    **options
        Optimizer-wide options (clipping, EMA, accumulation...): see :func:`optim.options.make_options`.
        They follow the paper convention's rules: SGD takes no ``convention``
        (its update is the same in every framework), so a clipping threshold
        of 0 is refused rather than read as "off" as under Keras.

    Examples
    --------
    >>> import numpy as np
    >>> import minigrad as mg
    >>> from optim import SGD
    >>> w = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> opt = SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([0.8, 1.6], dtype=float64, requires_grad=True)
    """

    algorithm = "sgd"

    def __init__(self, params: ParamsLike = None, lr: Any = 0.01, maximize: bool = False, **options: Any) -> None:
        if "convention" in options:
            raise TypeError(
                f"convention: SGD takes no convention (plain gradient descent is the same in every framework), "
                f"got {options['convention']!r}"
            )
        super().__init__(params, self.validate_group({"lr": lr, "maximize": maximize}), "paper", **options)

    def validate_group(self, group: dict[str, Any]) -> dict[str, Any]:
        """Check ``lr`` and ``maximize``."""
        group = super().validate_group(group)
        group["maximize"] = check_bool(group["maximize"], "maximize")
        return group

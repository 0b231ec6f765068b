"""The online convex problem of Reddi, Kale & Kumar (2018), Figure 1, on which Adam fails.

On the feasible set :math:`F = [-1, 1]` the loss at round :math:`t = 1, 2, \\dots` is linear:

.. math::

    f_t(x) = \\begin{cases} 1010\\,x & t \\bmod 101 = 1 \\\\ -10\\,x & \\text{otherwise.} \\end{cases}

Over one period of 101 rounds the gradients add up to :math:`1010 - 100 \\cdot 10 = 10 > 0`, so the best
fixed point is :math:`x^* = -1`. Adam with :math:`\\beta_1 = 0.9, \\beta_2 = 0.99` forgets the rare large
gradient too fast: the 100 small steps up outweigh the one step down, and the iterate drifts to
:math:`x = +1`, the worst point of :math:`F`. AMSGrad keeps the largest second moment seen so far, so its
steps up stay small and it moves towards :math:`-1`.

Reference: S. J. Reddi, S. Kale and S. Kumar, "On the Convergence of Adam and Beyond", ICLR 2018,
Section 5 (synthetic experiments). The paper does not state the step size it used; this module uses
:math:`\\alpha_t = \\alpha / \\sqrt t`, the schedule of the paper's convergence theorem.

>>> from optim import AMSGrad
>>> result = run_online_problem(lambda: AMSGrad(lr=InverseSqrtSchedule(0.5), betas=(0.9, 0.99), eps=0.0), 2020)
>>> bool(result.final_x < 0)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import minigrad as mg
from optim import Adam, AMSGrad
from optim.experiments.progress import Progress

__all__ = [
    "BETAS", "PERIOD", "OnlineResult", "InverseSqrtSchedule", "gradient_at", "loss_at",
    "make_online_optimizers", "run_online_problem",
]

PERIOD = 101
"""Every ``PERIOD``-th round (``t % PERIOD == 1``) carries the large gradient."""
LARGE_GRADIENT = 1010.0
"""The gradient on the rare rounds: pushes ``x`` towards ``-1``."""
SMALL_GRADIENT = -10.0
"""The gradient on the other rounds: pushes ``x`` towards ``+1``."""
OPTIMUM = -1.0
"""The best fixed point in hindsight, against which the regret is measured."""
LOWER, UPPER = -1.0, 1.0
"""The feasible interval ``F``."""
BETAS = (0.9, 0.99)
"""The moment decay rates of the paper's Figure 1, for both Adam and AMSGrad."""


def gradient_at(t: int) -> float:
    """The gradient :math:`f_t'(x)` of round ``t`` (counted from 1); it does not depend on ``x``.

    Parameters
    ----------
    t : int
        The round, 1-based.

    Returns
    -------
    float
        ``1010.0`` when ``t % 101 == 1``, otherwise ``-10.0``.
    """
    if t % PERIOD == 1:
        return LARGE_GRADIENT
    return SMALL_GRADIENT


def loss_at(t: int, x: float) -> float:
    """The loss :math:`f_t(x) = f_t'(x) \\cdot x` of round ``t`` at the point ``x``."""
    return gradient_at(t) * x


class InverseSqrtSchedule:
    """The step size :math:`\\alpha_t = \\alpha / \\sqrt t` as an optimizer learning-rate callable.

    The optimizers call it with ``k``, the number of updates already applied (0 at the first
    update), so round :math:`t = k + 1`.

    Parameters
    ----------
    alpha : float
        The step size of the first round.
    """

    def __init__(self, alpha: float) -> None:
        if not alpha > 0 or not math.isfinite(alpha):
            raise ValueError(f"alpha: expected a finite positive number, got {alpha!r}")
        self.alpha = float(alpha)

    def __call__(self, k: int) -> float:
        return self.alpha / math.sqrt(k + 1)

    def __repr__(self) -> str:
        return f"InverseSqrtSchedule(alpha={self.alpha!r})"


@dataclass
class OnlineResult:
    """What one optimizer did on the online problem.

    Attributes
    ----------
    name : str
        The optimizer's label.
    iterates : numpy.ndarray
        Shape ``(T + 1,)``: :math:`x_1, \\dots, x_{T+1}`, each after projection onto ``F``.
    regrets : numpy.ndarray
        Shape ``(T,)``: the regret of each round, :math:`f_t(x_t) - f_t(x^*)`.
    """

    name: str
    iterates: np.ndarray
    regrets: np.ndarray

    @property
    def steps(self) -> int:
        """The number of rounds :math:`T`."""
        return len(self.regrets)

    @property
    def final_x(self) -> float:
        """The last iterate :math:`x_{T+1}`."""
        return float(self.iterates[-1])

    @property
    def average_regret(self) -> float:
        """The average regret :math:`R_T / T = \\frac1T \\sum_t f_t(x_t) - f_t(x^*)`."""
        return float(self.regrets.sum() / self.steps)


def project(x: mg.Tensor) -> None:
    """Project ``x`` onto ``F = [-1, 1]`` in place (in one dimension the projection is clipping)."""
    x.xp.clip(x.data, LOWER, UPPER, out=x.data)


def run_online_problem(
    optimizer_factory: Callable[[], Any], steps: int, x0: float = 0.0, name: str = "", device: str = "cpu",
    progress: bool = False,
) -> OnlineResult:
    """Play ``steps`` rounds of the online problem with a fresh optimizer.

    Each round reads the gradient of :math:`f_t`, applies it with
    ``opt.apply_gradients([(grad, x)])`` and projects ``x`` back onto ``F``.

    Parameters
    ----------
    optimizer_factory : callable
        Called with no arguments; returns an optimizer built with ``params=None``
        (it binds ``x`` at the first ``apply_gradients``).
    steps : int
        The number of rounds :math:`T`.
    x0 : float, default 0.0
        The starting point :math:`x_1`, inside ``F``.
    name : str, optional
        A label stored in the result.
    device : str, default "cpu"
        Where ``x`` lives.
    progress : bool, default False
        Show a progress bar on stderr (only when it is a terminal).

    Returns
    -------
    OnlineResult
        The iterates and the regret of every round.
    """
    if steps <= 0:
        raise ValueError(f"steps: expected a positive integer, got {steps!r}")
    if not LOWER <= x0 <= UPPER:
        raise ValueError(f"x0: expected a point of [{LOWER}, {UPPER}], got {x0!r}")
    optimizer = optimizer_factory()
    x = mg.tensor(np.array([x0], dtype=np.float64), requires_grad=True, device=device)
    iterates = np.empty(steps + 1)
    regrets = np.empty(steps)
    iterates[0] = x0
    for t in Progress(range(1, steps + 1), name, "round", show=progress):
        x_t = iterates[t - 1]
        regrets[t - 1] = loss_at(t, x_t) - loss_at(t, OPTIMUM)
        grad = x.xp.full((1,), gradient_at(t), dtype=np.float64)
        optimizer.apply_gradients([(grad, x)])
        project(x)
        iterates[t] = float(x.data[0])
    return OnlineResult(name=name, iterates=iterates, regrets=regrets)


def make_online_optimizers(alpha: float) -> dict[str, Callable[[], Any]]:
    """Factories for Adam and AMSGrad as in the paper's Figure 1.

    Both use ``betas=(0.9, 0.99)``, the step size :math:`\\alpha/\\sqrt t` and ``eps=0`` (the paper's
    algorithms have no epsilon; every gradient here is nonzero, so nothing divides by zero). Adam keeps
    the bias correction of Kingma & Ba's Algorithm 1 (convention ``"paper"``); Reddi et al. drop it
    for simplicity and note that their argument holds either way. AMSGrad follows their Algorithm 2.

    Parameters
    ----------
    alpha : float
        The step size of the first round.

    Returns
    -------
    dict of str to callable
        ``{"Adam": factory, "AMSGrad": factory}``; each factory returns a new optimizer.
    """
    def adam() -> Any:
        return Adam(lr=InverseSqrtSchedule(alpha), betas=BETAS, eps=0.0)

    def amsgrad() -> Any:
        return AMSGrad(lr=InverseSqrtSchedule(alpha), betas=BETAS, eps=0.0)

    return {"Adam": adam, "AMSGrad": amsgrad}

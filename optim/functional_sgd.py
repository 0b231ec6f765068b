"""SGD's reference function: gradient descent, plain or with momentum, on whole arrays, in place.

Split from :mod:`optim.functional` (which re-exports it and calls it from
:func:`~optim.functional.update_parameter`) to keep each file short; it works
as the other reference functions do: it checks every argument first, computes
the step's numbers with :func:`optim.step_scalars.step_scalars` and runs the
rule of :func:`optim.rules.make_sgd_rule` on the whole arrays.
"""

from __future__ import annotations

import math
from typing import Any

from optim.rules import SGD_FORMS, run_in_place, sgd_choices
from optim.step_scalars import step_scalars
from optim.validation import check_bool, check_choice, check_nonnegative, check_same_arrays, check_sgd_momentum

__all__ = ["sgd_update"]


def sgd_update(
    param: Any,
    grad: Any,
    buffer: Any | None = None,
    *,
    lr: float,
    maximize: bool = False,
    momentum: float = 0.0,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    form: str = "velocity",
    first_step: bool = False,
) -> None:
    """One SGD step, in place on ``param`` (and the momentum ``buffer``).

    With :math:`g_t` the gradient (:math:`-g_t` when maximizing), by ``form``:

    * ``"velocity"`` (Keras 3, tf.keras; without momentum the paper's
      :math:`\\theta_t = \\theta_{t-1} - g_t\\alpha`), weight decay decoupled, applied first as
      :math:`\\theta \\leftarrow \\theta - \\theta\\lambda\\alpha`, then

      .. math::

          v_t = \\mu v_{t-1} - g_t\\alpha, \\qquad
          \\theta_t = \\theta_{t-1} + v_t \\quad\\text{or, Nesterov,}\\quad
          \\theta_t = \\theta_{t-1} + \\mu v_t - g_t\\alpha;

    * ``"dampened"`` (``torch.optim.SGD``), weight decay as an L2 term
      :math:`g_t \\leftarrow g_t + \\lambda\\theta_{t-1}`, then

      .. math::

          b_1 = g_1, \\quad b_t = \\mu b_{t-1} + (1 - \\tau) g_t, \\qquad
          \\theta_t = \\theta_{t-1} - \\alpha b_t \\quad\\text{or, Nesterov,}\\quad
          \\theta_t = \\theta_{t-1} - \\alpha (g_t + \\mu b_t),

      each "``x + a y``" rounded once, as a fused multiply-add (PyTorch's ``add(..., alpha=a)``).

    Parameters
    ----------
    param, grad : array
        The parameter and its gradient, of one shape, dtype and device.
    buffer : array or None
        The momentum buffer (:math:`v` or :math:`b`), of the parameter's shape and dtype; required with momentum.
    lr : float
        :math:`\\alpha`, finite and >= 0 (a NumPy scalar or 0-d array is used as the Python number).
    maximize : bool
        Ascend: use :math:`-g_t`.
    momentum, dampening : float
        :math:`\\mu \\ge 0` (0: plain SGD) and :math:`\\tau \\in [0, 1]` (the dampened form only).
    nesterov : bool
        Nesterov momentum; needs a momentum, and in the dampened form no dampening (as PyTorch).
    weight_decay : float
        :math:`\\lambda \\ge 0`.
    form : {"velocity", "dampened"}
        The formula, as above.
    first_step : bool
        The dampened form's first step with this buffer: :math:`b_1 = g_1` (PyTorch's buffer is None then).

    Every argument is checked before anything changes.

    Examples
    --------
    >>> import numpy as np
    >>> from optim.functional import sgd_update
    >>> param = np.array([1.0, 2.0])
    >>> sgd_update(param, np.array([10.0, -10.0]), lr=0.01)
    >>> param
    array([0.9, 2.1])
    """
    if type(lr) is not float or not 0.0 <= lr < math.inf:
        lr = check_nonnegative(lr, "lr")
    check_choice(form, "form", SGD_FORMS)
    momentum, dampening, weight_decay = (check_nonnegative(value, name) for name, value in
                                         (("momentum", momentum), ("dampening", dampening),
                                          ("weight_decay", weight_decay)))
    check_sgd_momentum(momentum, dampening, nesterov, form)
    first_step = check_bool(first_step, "first_step")
    arrays = (("param", param), ("grad", grad))
    check_same_arrays(arrays if momentum == 0 else (*arrays, ("buffer", buffer)))
    choices = sgd_choices(maximize=maximize, form=form, weight_decay=weight_decay, momentum=momentum,
                          nesterov=nesterov, first_step=first_step)
    scalars = step_scalars(choices, dtype=param.dtype, step=1, lr=lr, beta1=0.0, beta2=0.0, eps=0.0,
                           weight_decay=weight_decay, power_dtype=None, momentum=momentum, dampening=dampening)
    run_in_place(choices, scalars, grad, (param,) if momentum == 0 else (param, buffer))

"""The rule and numbers of one fused step of a parameter group, as :mod:`optim.functional` gets them.

The optimizer classes call :func:`~optim.functional.adam_update` and
:func:`~optim.functional.adamax_update` with a group's hyperparameters; the
fused path (:mod:`optim.fused.engine`, :mod:`optim.fused.direct`) passes the same
hyperparameters to the same functions that those use,
:func:`optim.rules.adam_choices` (or ``adamax_choices``) and
:func:`optim.step_scalars.step_scalars`: the kernels get the numbers of the
reference path, computed once per run of parameters rather than once per
parameter.
"""

from __future__ import annotations

from typing import Any

from optim.conventions import rule_amsgrad_mode
from optim.rules import adam_choices, adamax_choices, sgd_choices
from optim.step_scalars import RuleStep, step_scalars

__all__ = ["for_group"]


def for_group(algorithm: str, group: dict[str, Any], *, dtype: Any, step: int, lr: float, weight_decay: float,
              power_dtype: str | None) -> RuleStep:
    """The rule and numbers of one step of a parameter group, with its hyperparameters passed as the
    optimizer's ``update`` passes them to :mod:`optim.functional` (``algorithm``: "adam", for AMSGrad too,
    "adamax" or "sgd").

    Raises
    ------
    ValueError
        For a beta that rounds to 1 where ``power_dtype`` computes the bias
        correction (:func:`~optim.step_scalars.bias_correction`), before anything changes.
    """
    if algorithm == "sgd":  # its numbers do not depend on t; t == 1 tells the dampened form's first step
        choices = sgd_choices(maximize=group["maximize"], form=group["form"], weight_decay=weight_decay,
                              momentum=group["momentum"], nesterov=group["nesterov"], first_step=step == 1)
        scalars = step_scalars(choices, dtype=dtype, step=1, lr=lr, beta1=0.0, beta2=0.0, eps=0.0,
                               weight_decay=weight_decay, power_dtype=None, momentum=group["momentum"],
                               dampening=group["dampening"])
        return RuleStep(choices, scalars)
    beta1, beta2 = group["betas"]
    common = {"maximize": group["maximize"], "weight_decay": weight_decay,
              "decoupled_weight_decay": group["decoupled_weight_decay"], "slot_arithmetic": group["slot_arithmetic"]}
    if algorithm == "adamax":
        choices = adamax_choices(adamax_epsilon=group["adamax_epsilon"], **common)
    else:
        choices = adam_choices(epsilon_mode=group["epsilon_mode"], amsgrad_mode=rule_amsgrad_mode(group),
                               eps_root=group.get("eps_root", 0.0), nesterov=group.get("nesterov", False), **common)
    scalars = step_scalars(choices, dtype=dtype, step=step, lr=lr, beta1=beta1, beta2=beta2, eps=group["eps"],
                           weight_decay=weight_decay, power_dtype=power_dtype, eps_root=group.get("eps_root", 0.0))
    return RuleStep(choices, scalars)

"""The scalars of one fused step, computed exactly as :mod:`optim.functional` computes them.

:func:`~optim.functional.adam_update` and :func:`~optim.functional.adamax_update`
compute their bias corrections and step sizes as Python floats (double
precision, or the precision ``power_dtype`` asks for, through
:func:`~optim.functional.bias_correction`), and NumPy and CuPy round each
Python float to the array's dtype where it meets an array (NEP 50). The
fused kernels (:mod:`optim.fused.cpu`, :mod:`optim.fused.gpu`) take the same
numbers, rounded once here: the same bits, once per run of parameters rather
than once per parameter.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from optim.conventions import (
    ADAMAX_EPSILON_CHOICES,
    EPSILON_MODE_CHOICES,
    RULE_AMSGRAD_MODES,
    rule_amsgrad_mode,
)
from optim.functional import bias_correction

__all__ = ["AdamScalars", "AdamaxScalars", "adam_scalars", "adamax_scalars", "for_group"]


@dataclasses.dataclass(frozen=True)
class AdamScalars:
    """Every scalar :func:`~optim.functional.adam_update` uses, each already in the parameter's dtype.

    NumPy converts a Python float to the array's dtype before it multiplies
    (NEP 50), so converting once here gives the same bits. The numbers are
    0-d arrays of that dtype, which a ufunc takes with the least overhead.
    The formula choices stay strings; ``amsgrad_mode`` is None for plain Adam.
    """

    maximize: bool
    weight_decay: Any  # lambda, for the L2 term g + lambda theta
    decay_factor: Any  # 1 - alpha lambda, for decoupled decay
    decoupled: bool
    decays: bool  # weight_decay != 0
    beta1: Any
    one_minus_beta1: Any
    beta2: Any
    one_minus_beta2: Any
    eps: Any
    lr: Any
    bias1: Any  # 1 - beta1^t
    bias2: Any  # 1 - beta2^t
    step_size: Any  # alpha / (1 - beta1^t)
    sqrt_bias2: Any  # sqrt(1 - beta2^t)
    alpha_t: Any  # alpha sqrt(1 - beta2^t) / (1 - beta1^t)
    epsilon_mode: str
    amsgrad_mode: str | None


@dataclasses.dataclass(frozen=True)
class AdamaxScalars:
    """Every scalar :func:`~optim.functional.adamax_update` uses, each in the parameter's dtype."""

    maximize: bool
    weight_decay: Any
    decay_factor: Any
    decoupled: bool
    decays: bool
    beta1: Any
    one_minus_beta1: Any
    beta2: Any
    eps: Any
    step_size: Any  # alpha / (1 - beta1^t)
    adamax_epsilon: str


def adam_scalars(*, dtype: Any, step: int, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                 decoupled_weight_decay: bool, maximize: bool, epsilon_mode: str, amsgrad_mode: str | None,
                 power_dtype: str | None) -> AdamScalars:
    """The scalars of one Adam step, computed in double precision exactly as ``adam_update`` does, then cast."""
    if epsilon_mode not in EPSILON_MODE_CHOICES:
        raise ValueError(f"epsilon_mode: unknown value {epsilon_mode!r}")
    if amsgrad_mode not in RULE_AMSGRAD_MODES:
        raise ValueError(f"amsgrad_mode: unknown value {amsgrad_mode!r}")
    cast = _caster(dtype)
    bias1 = bias_correction(beta1, step, power_dtype, dtype, "beta1")  # 1 - beta1^t
    bias2 = bias_correction(beta2, step, power_dtype, dtype, "beta2")  # 1 - beta2^t
    return AdamScalars(
        maximize=maximize, weight_decay=cast(weight_decay), decay_factor=cast(1 - lr * weight_decay),
        decoupled=decoupled_weight_decay, decays=weight_decay != 0,
        beta1=cast(beta1), one_minus_beta1=cast(1 - beta1), beta2=cast(beta2), one_minus_beta2=cast(1 - beta2),
        eps=cast(eps), lr=cast(lr), bias1=cast(bias1), bias2=cast(bias2),
        step_size=cast(lr / bias1), sqrt_bias2=cast(math.sqrt(bias2)), alpha_t=cast(lr * math.sqrt(bias2) / bias1),
        epsilon_mode=epsilon_mode, amsgrad_mode=amsgrad_mode,
    )


def adamax_scalars(*, dtype: Any, step: int, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                   decoupled_weight_decay: bool, maximize: bool, adamax_epsilon: str,
                   power_dtype: str | None) -> AdamaxScalars:
    """The scalars of one AdaMax step, computed exactly as ``adamax_update`` does, then cast."""
    if adamax_epsilon not in ADAMAX_EPSILON_CHOICES:
        raise ValueError(f"adamax_epsilon: unknown value {adamax_epsilon!r}")
    cast = _caster(dtype)
    bias1 = bias_correction(beta1, step, power_dtype, dtype, "beta1")  # 1 - beta1^t
    return AdamaxScalars(
        maximize=maximize, weight_decay=cast(weight_decay), decay_factor=cast(1 - lr * weight_decay),
        decoupled=decoupled_weight_decay, decays=weight_decay != 0,
        beta1=cast(beta1), one_minus_beta1=cast(1 - beta1), beta2=cast(beta2), eps=cast(eps),
        step_size=cast(lr / bias1), adamax_epsilon=adamax_epsilon,
    )


def _caster(dtype: Any) -> Callable[[float], np.ndarray]:
    """``value -> 0-d array of dtype``: the rounding NumPy applies to a Python float operand."""
    dtype = np.dtype(dtype)

    def cast(value: float) -> np.ndarray:
        return np.array(value, dtype=dtype)

    return cast


def for_group(algorithm: str, group: dict[str, Any], *, dtype: Any, step: int, lr: float, weight_decay: float,
              power_dtype: str | None) -> AdamScalars | AdamaxScalars:
    """The scalars of one step of a parameter group, with its hyperparameters passed as the optimizer's
    ``update`` passes them to :mod:`optim.functional` (``algorithm``: "adam", for AMSGrad too, or "adamax")."""
    beta1, beta2 = group["betas"]
    common = {
        "dtype": dtype, "step": step, "lr": lr, "beta1": beta1, "beta2": beta2, "eps": group["eps"],
        "weight_decay": weight_decay, "decoupled_weight_decay": group["decoupled_weight_decay"],
        "maximize": group["maximize"], "power_dtype": power_dtype,
    }
    if algorithm == "adamax":
        return adamax_scalars(adamax_epsilon=group["adamax_epsilon"], **common)
    return adam_scalars(epsilon_mode=group["epsilon_mode"], amsgrad_mode=rule_amsgrad_mode(group), **common)

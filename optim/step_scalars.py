"""The numbers of one step, computed once for every execution path.

The rules of :mod:`optim.rules` take their numbers (the bias corrections
:math:`1-\\beta_1^t` and :math:`1-\\beta_2^t`, the step sizes, :math:`1-\\beta`,
the decay factor...) from :func:`step_scalars`. Each is computed in double
precision, as a Python float (or in the lower precision ``power_dtype`` asks
for, through :func:`bias_correction`), then rounded once to the parameter's
dtype: the rounding NumPy and CuPy apply to a Python float where it meets an
array (NEP 50). With ``slot_arithmetic="in_dtype"`` or ``"in_dtype_sum"`` (the
kernels of TensorFlow and MindSpore, tf.keras legacy's sparse path) they are
instead computed operation by operation in the parameter's dtype, from the
hyperparameters rounded to it, as those kernels do. The reference path
(:mod:`optim.functional`) and the fused kernels (:mod:`optim.fused.cpu`, :mod:`optim.fused.gpu`) use the same numbers,
so they compute the same bits.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import struct
from typing import Any, NamedTuple

import numpy as np

from optim import rule_trace
from optim.conventions import IN_DTYPE_ARITHMETICS
from optim.rules import AdamaxChoices, AdamChoices, SgdChoices

__all__ = ["RuleStep", "Scalars", "bias_correction", "step_scalars"]

#: The eight floats of a step's key, as doubles: exact bits, so -0.0 and 0.0 (and NaNs) stay apart.
_FLOATS = struct.Struct("<8d")


class Scalars(NamedTuple):
    """Every number a rule reads, each a NumPy scalar of the parameter's dtype.

    A number the rule of the step's choices does not read is 0 (it is not
    converted, so that a value the rule never uses cannot overflow the dtype).
    """

    weight_decay: Any  # lambda, for the L2 term g + lambda theta
    decay_factor: Any  # 1 - alpha lambda, for decoupled decay
    beta1: Any
    one_minus_beta1: Any
    beta2: Any
    one_minus_beta2: Any
    eps: Any
    lr: Any  # alpha
    bias1: Any  # 1 - beta1^t
    bias2: Any  # 1 - beta2^t
    step_size: Any  # alpha / (1 - beta1^t)
    sqrt_bias2: Any  # sqrt(1 - beta2^t)
    alpha_t: Any  # alpha sqrt(1 - beta2^t) / (1 - beta1^t)
    momentum: Any  # mu, SGD's momentum
    one_minus_dampening: Any  # 1 - tau, SGD's dampening (PyTorch)
    negative_lr: Any  # -alpha, PyTorch's param.add_(g, alpha=-lr)
    eps_root: Any = 0.0  # Optax's epsilon inside the square root
    bias1_next: Any = 1.0  # 1 - beta1^(t+1), for Optax's Nesterov step


@dataclasses.dataclass(frozen=True)
class RuleStep:
    """What a kernel needs besides the arrays: the formula choices (which rule) and the numbers."""

    choices: AdamChoices | AdamaxChoices | SgdChoices
    scalars: Scalars


def bias_correction(beta: float, step: int, power_dtype: str | None = None, dtype: Any = None,
                    name: str = "beta") -> float:
    """:math:`1 - \\beta^t`, the factor that removes the bias of a zero-initialised average.

    Parameters
    ----------
    beta : float
        Decay rate of the exponential moving average.
    step : int
        :math:`t`, 1 at the first update.
    power_dtype : {None, "float32", "param", "float32_or_wider"}
        ``None`` computes in double precision (PyTorch); ``"float32"`` computes
        :math:`\\beta^t` and the difference in single precision (MindSpore);
        ``"param"`` in ``dtype``, the parameter's (Keras, TensorFlow);
        ``"float32_or_wider"`` in single precision, or in ``dtype`` where it is
        wider (Optax: JAX holds float64 only with x64 enabled, which computes in float64).
    dtype : dtype, optional
        The parameter's dtype, for ``power_dtype="param"``.
    name : str
        What to call ``beta`` in the error message ("beta1", "beta2").

    Raises
    ------
    ValueError
        When the factor is 0. In double precision :math:`1 - \\beta^t > 0` for
        every :math:`\\beta < 1`; in single or half precision a :math:`\\beta`
        close to 1 rounds to 1 (float16 from 0.99976 up), and the factor is 0
        at every step: the step size would divide by zero.

    Examples
    --------
    >>> from optim.functional import bias_correction
    >>> bias_correction(0.5, 2)
    0.75
    >>> bias_correction(0.999, 1, power_dtype='float32')
    0.0009999871253967285
    """
    if power_dtype == "float32_or_wider":
        power_dtype = "param" if np.dtype(dtype).itemsize > 4 else "float32"
    if power_dtype == "float32" or (power_dtype == "param" and np.dtype(dtype) == np.float32):
        factor = float(np.float32(1) - np.float32(beta) ** np.float32(step))
    elif power_dtype == "param" and np.dtype(dtype) == np.float16:
        factor = float(np.float16(1) - np.float16(beta) ** np.float16(step))
    else:
        factor = 1.0 - beta**step
    if factor == 0:
        precision = "float32" if power_dtype == "float32" else str(np.dtype(dtype))
        raise ValueError(
            f"{name}: {beta!r} rounds to 1 in {precision}, where power_dtype={power_dtype!r} computes the bias "
            f"correction 1 - {name}^t, which is then 0 at every step; use a smaller {name} or power_dtype=None"
        )
    return factor


def step_scalars(choices: AdamChoices | AdamaxChoices | SgdChoices, *, dtype: Any, step: int, lr: float,
                 beta1: float, beta2: float, eps: float, weight_decay: float, power_dtype: str | None,
                 momentum: float = 0.0, dampening: float = 0.0, bias_corrected: bool = True,
                 eps_root: float = 0.0) -> Scalars:
    """The numbers of one step of the rule of ``choices``, in ``dtype``.

    Parameters
    ----------
    choices : AdamChoices, AdamaxChoices or SgdChoices
        Which rule (:func:`optim.rules.adam_choices`, :func:`~optim.rules.adamax_choices`,
        :func:`~optim.rules.sgd_choices`).
    dtype : dtype
        The parameter's.
    step, lr, beta1, beta2, eps, weight_decay, power_dtype
        As :func:`optim.functional.adam_update` takes them (already checked). SGD reads none of the betas,
        ``eps`` or ``power_dtype``, and computes no bias correction.
    momentum, dampening : float
        SGD's :math:`\\mu` and :math:`\\tau` (:func:`optim.functional.sgd_update`).
    bias_corrected : bool
        False takes :math:`1-\\beta_1^t = 1-\\beta_2^t = 1`: the step of capreolus's AdamMultilr on a sparse
        gradient, which uses the raw learning rate.
    eps_root : float
        Optax's :math:`\\epsilon` inside the square root (:func:`optim.functional.adam_update`).

    Raises
    ------
    ValueError
        From :func:`bias_correction`, for a beta that rounds to 1 where
        ``power_dtype`` computes the bias correction: before anything changes.
        AdaMax needs no :math:`1-\\beta_2^t` and computes only :math:`1-\\beta_1^t`.
    """
    # Every parameter of a group takes the same numbers at a step: computed once, then remembered. The key
    # holds each float's exact bits (packed as doubles), so that -0.0 and 0.0, which compare equal, stay apart.
    key = (choices, np.dtype(dtype), step, power_dtype, bool(bias_corrected),
           _FLOATS.pack(lr, beta1, beta2, eps, weight_decay, momentum, dampening, eps_root))
    return _computed_numbers(key)


@functools.lru_cache(maxsize=32)  # one step's groups and dtypes; t changes every step
def _computed_numbers(key: tuple[Any, ...]) -> Scalars:
    """The numbers of :func:`step_scalars` for ``key`` (its arguments, the floats packed as doubles)."""
    choices, dtype, step, power_dtype, bias_corrected, packed = key
    lr, beta1, beta2, eps, weight_decay, momentum, dampening, eps_root = _FLOATS.unpack(packed)
    bias1 = bias2 = 1.0  # SGD corrects no bias; AdaMax only the first moment's; capreolus's sparse step none
    if bias_corrected and not isinstance(choices, SgdChoices):
        bias1 = bias_correction(beta1, step, power_dtype, dtype, "beta1")  # 1 - beta1^t
    if bias_corrected and isinstance(choices, AdamChoices):
        bias2 = bias_correction(beta2, step, power_dtype, dtype, "beta2")
    nesterov = isinstance(choices, AdamChoices) and choices.nesterov
    bias1_next = bias_correction(beta1, step + 1, power_dtype, dtype, "beta1") if nesterov else 1.0
    if not isinstance(choices, SgdChoices) and choices.slot_arithmetic in IN_DTYPE_ARITHMETICS:
        numbers = _numbers_in_dtype(dtype, lr, beta1, beta2, eps, weight_decay, bias1, bias2)
    else:
        numbers = Scalars(
            weight_decay=weight_decay, decay_factor=1 - lr * weight_decay,
            beta1=beta1, one_minus_beta1=1 - beta1, beta2=beta2, one_minus_beta2=1 - beta2, eps=eps, lr=lr,
            bias1=bias1, bias2=bias2, step_size=lr / bias1, sqrt_bias2=math.sqrt(bias2),
            alpha_t=lr * math.sqrt(bias2) / bias1, momentum=momentum, one_minus_dampening=1 - dampening,
            negative_lr=-lr, eps_root=eps_root, bias1_next=bias1_next,
        )
    convert, zero = dtype.type, dtype.type(0)
    return Scalars._make(convert(number) if read else zero for number, read in zip(numbers, _read_by(choices)))


def _numbers_in_dtype(dtype: np.dtype, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                      bias1: float, bias2: float) -> Scalars:
    """The numbers as TensorFlow's ApplyAdam/ApplyAdaMax kernels and MindSpore's Adam kernel compute them: each
    hyperparameter rounded to ``dtype``, then every operation in ``dtype``: :math:`1-\\beta` and
    :math:`\\alpha_t = \\alpha\\sqrt{1-\\beta_2^t}/(1-\\beta_1^t)` (left to right), :math:`\\alpha/(1-\\beta_1^t)`.
    The weight-decay numbers are not the kernels' and stay as with ``"double"``."""
    number = dtype.type
    one, lr_, bias1_, bias2_ = number(1), number(lr), number(bias1), number(bias2)
    with np.errstate(all="ignore"):  # an overflow gives the dtype's infinity, as in the kernels
        return Scalars(
            weight_decay=weight_decay, decay_factor=1 - lr * weight_decay,
            beta1=beta1, one_minus_beta1=one - number(beta1), beta2=beta2, one_minus_beta2=one - number(beta2),
            eps=eps, lr=lr, bias1=bias1, bias2=bias2, step_size=lr_ / bias1_, sqrt_bias2=np.sqrt(bias2_),
            alpha_t=lr_ * np.sqrt(bias2_) / bias1_, momentum=0.0, one_minus_dampening=1.0, negative_lr=-lr,
        )


@functools.cache
def _read_by(choices: AdamChoices | AdamaxChoices | SgdChoices) -> tuple[bool, ...]:
    """For each field of :class:`Scalars`, whether the rule of ``choices`` reads it (from its traced program)."""
    read = rule_trace.trace(choices).scalars
    return tuple(name in read for name in Scalars._fields)

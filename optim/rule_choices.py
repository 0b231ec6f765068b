"""The formula choices that select an update rule, and the operations a rule runs with.

:func:`optim.rules.make_rule` builds the rule of an :class:`AdamChoices`,
:class:`AdamaxChoices` or :class:`SgdChoices`; :func:`adam_choices`,
:func:`adamax_choices` and :func:`sgd_choices` make them from the keywords of
:mod:`optim.functional`, refusing what no rule computes. :class:`Ops` carries
the few operations that are not Python operators (NumPy's or CuPy's on whole
arrays, :func:`array_ops`; Numba's or the tracer's elsewhere). Everything here
is re-exported by :mod:`optim.rules`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from optim import fma
from optim.conventions import (
    ADAMAX_EPSILON_CHOICES,
    EPSILON_MODE_CHOICES,
    RULE_AMSGRAD_MODES,
    SLOT_ARITHMETIC_CHOICES,
)

__all__ = [
    "DECAYS", "SGD_FORMS", "AdamChoices", "AdamaxChoices", "Ops", "SgdChoices", "adam_choices", "adamax_choices",
    "array_ops", "check_allowed", "check_optax_options", "sgd_choices", "state_names",
]

DECAYS = ("none", "l2", "decoupled")


class Ops(NamedTuple):
    """What a backend provides to a rule besides the operators ``+ - * /``, unary ``-`` and ``abs``.

    ``sqrt`` is the correctly rounded square root; ``maximum`` is
    ``np.maximum``: NaN if either operand is NaN, and on a tie (``-0.0`` and
    ``+0.0``) the result NumPy gives for the dtype. ``inline`` turns a helper of
    a rule into something the rule can call: the function itself for NumPy and
    the tracer, an inlined compiled function for Numba. ``fma(a, b, c)`` is
    :math:`a b + c` rounded once (:func:`optim.fma.fma`), which PyTorch's SGD
    computes; only the SGD rule of the ``"dampened"`` form uses it.
    """

    sqrt: Callable[[Any], Any]
    maximum: Callable[[Any, Any], Any]
    inline: Callable[[Callable[..., Any]], Callable[..., Any]]
    fma: Callable[[Any, Any, Any], Any] | None = None


def _as_is(function: Callable[..., Any]) -> Callable[..., Any]:
    return function


def array_ops(xp: Any) -> Ops:
    """The operations on whole arrays of the array module ``xp`` (numpy or cupy)."""
    return Ops(sqrt=xp.sqrt, maximum=xp.maximum, inline=_as_is, fma=fma.fma_of(xp))


class AdamChoices(NamedTuple):
    """The formula choices of an Adam or AMSGrad step (see :func:`optim.functional.adam_update`)."""

    maximize: bool
    decay: str  # "none", "l2" (g + lambda theta) or "decoupled" ((1 - alpha lambda) theta)
    epsilon_mode: str  # "algorithm1" or "epsilon_hat"
    amsgrad_mode: str | None  # None for plain Adam
    slot_arithmetic: str = "double"  # "double", "in_dtype" (TF's and MindSpore's kernels) or "in_dtype_sum"
    eps_root: bool = False  # Optax: sqrt(v_hat + eps_root) (True when eps_root is not 0)
    nesterov: bool = False  # Optax's scale_by_adam(nesterov=True) (Dozat's NAdam)


class AdamaxChoices(NamedTuple):
    """The formula choices of an AdaMax step (see :func:`optim.functional.adamax_update`)."""

    maximize: bool
    decay: str
    adamax_epsilon: str  # "denominator" or "inside_max"
    slot_arithmetic: str = "double"  # "double", "in_dtype" (TF's ApplyAdaMax kernel) or "in_dtype_sum"


def _decay(weight_decay: float, decoupled_weight_decay: bool) -> str:
    if weight_decay == 0:
        return "none"
    return "decoupled" if decoupled_weight_decay else "l2"


def check_allowed(value: Any, name: str, allowed: tuple[Any, ...]) -> None:
    """``ValueError`` naming ``name`` and ``value`` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name}: unknown value {value!r}")


def adam_choices(*, maximize: bool, weight_decay: float, decoupled_weight_decay: bool, epsilon_mode: str,
                 amsgrad_mode: str | None, slot_arithmetic: str = "double", eps_root: float = 0.0,
                 nesterov: bool = False) -> AdamChoices:
    """The :class:`AdamChoices` of a call of :func:`~optim.functional.adam_update` with these arguments.

    Raises
    ------
    ValueError
        For ``eps_root`` or ``nesterov`` where Optax's formula they belong to is not the rule's:
        with ``epsilon_mode="epsilon_hat"``, ``nesterov`` with AMSGrad, ``eps_root`` with an
        ``amsgrad_mode`` other than ``"max_corrected_v"``.
    """
    check_allowed(epsilon_mode, "epsilon_mode", EPSILON_MODE_CHOICES)
    check_allowed(amsgrad_mode, "amsgrad_mode", RULE_AMSGRAD_MODES)
    check_allowed(slot_arithmetic, "slot_arithmetic", SLOT_ARITHMETIC_CHOICES)
    check_optax_options(eps_root, nesterov, epsilon_mode, amsgrad_mode)
    return AdamChoices(bool(maximize), _decay(weight_decay, decoupled_weight_decay), epsilon_mode, amsgrad_mode,
                       slot_arithmetic, eps_root != 0, bool(nesterov))


def check_optax_options(eps_root: float, nesterov: bool, epsilon_mode: str, amsgrad_mode: str | None) -> None:
    """Refuse ``eps_root`` and ``nesterov`` with formula choices Optax does not combine them with."""
    if eps_root != 0 and epsilon_mode != "algorithm1":
        raise ValueError(f"eps_root: {eps_root!r} goes inside Optax's sqrt(v_hat + eps_root), which needs "
                         f"epsilon_mode='algorithm1', got {epsilon_mode!r}")
    if eps_root != 0 and amsgrad_mode not in (None, "max_corrected_v"):
        raise ValueError(f"eps_root: {eps_root!r} is Optax's, whose AMSGrad takes the maximum of v_hat "
                         f"(amsgrad_mode='max_corrected_v'), got amsgrad_mode={amsgrad_mode!r}")
    if nesterov and (epsilon_mode != "algorithm1" or amsgrad_mode is not None):
        raise ValueError(f"nesterov: True is optax.adam's Nesterov (NAdam) step, which needs plain Adam with "
                         f"epsilon_mode='algorithm1', got epsilon_mode={epsilon_mode!r}, amsgrad_mode={amsgrad_mode!r}")


def adamax_choices(*, maximize: bool, weight_decay: float, decoupled_weight_decay: bool,
                   adamax_epsilon: str, slot_arithmetic: str = "double") -> AdamaxChoices:
    """The :class:`AdamaxChoices` of a call of :func:`~optim.functional.adamax_update` with these arguments."""
    check_allowed(adamax_epsilon, "adamax_epsilon", ADAMAX_EPSILON_CHOICES)
    check_allowed(slot_arithmetic, "slot_arithmetic", SLOT_ARITHMETIC_CHOICES)
    return AdamaxChoices(bool(maximize), _decay(weight_decay, decoupled_weight_decay), adamax_epsilon,
                         slot_arithmetic)


class SgdChoices(NamedTuple):
    """The formula choices of an SGD step (see :func:`optim.functional.sgd_update`)."""

    maximize: bool
    form: str  # "dampened" (torch.optim.SGD) or "velocity" (keras.optimizers.SGD; the paper's plain step)
    decay: str  # "none", "l2" (dampened form) or "decoupled" (velocity form)
    momentum: bool
    nesterov: bool
    first_step: bool  # dampened form: the buffer starts as the gradient itself


#: The two arithmetic forms of SGD: PyTorch's (fused multiply-adds, a dampened buffer) and Keras's (a velocity).
SGD_FORMS = ("dampened", "velocity")


def sgd_choices(*, maximize: bool, form: str, weight_decay: float, momentum: float, nesterov: bool,
                first_step: bool) -> SgdChoices:
    """The :class:`SgdChoices` of a call of :func:`~optim.functional.sgd_update` with these arguments: weight
    decay is L2 in the dampened form and decoupled in the velocity form; ``first_step`` matters to the dampened
    form with momentum only."""
    check_allowed(form, "form", SGD_FORMS)
    decay = "none" if weight_decay == 0 else ("l2" if form == "dampened" else "decoupled")
    has_momentum = momentum != 0
    return SgdChoices(bool(maximize), form, decay, has_momentum, bool(nesterov) and has_momentum,
                      bool(first_step) and has_momentum and form == "dampened")


def state_names(choices: AdamChoices | AdamaxChoices | SgdChoices) -> tuple[str, ...]:
    """The state arrays the rule of ``choices`` takes and returns after the parameter, in order."""
    if isinstance(choices, SgdChoices):
        return ("buffer",) if choices.momentum else ()
    if isinstance(choices, AdamaxChoices):
        return ("m", "u")
    return ("m", "v") if choices.amsgrad_mode is None else ("m", "v", "v_max")

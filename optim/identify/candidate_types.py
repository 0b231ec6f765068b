"""The records of :mod:`optim.identify.candidates` (re-exported there): the algorithms identify knows, the
``floatx`` variants, the hyperparameters given, a candidate's rule settings, the candidate and the set of them,
and the phrase that describes each changed choice.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from optim.conventions import IN_DTYPE_ARITHMETICS

__all__ = ["ALGORITHMS", "FLOATX", "PHRASES", "Candidate", "CandidateSet", "FloatX", "Hyperparameters", "RuleSettings"]

#: The algorithms :func:`optim.identify` recognises, and the optimizer class that runs each.
ALGORITHMS = {"adam": "Adam", "amsgrad": "AMSGrad", "adamax": "Adamax"}


@dataclasses.dataclass(frozen=True)
class FloatX:
    """What a framework keeps in float32 variables: the hyperparameters it rounds, how it computes
    :math:`\\beta^t` from them (a ``power_dtype``), and the sentence that says so."""

    rounded: tuple[str, ...]
    power_dtype: str | None
    words: str


#: The frameworks whose hyperparameters live in float32 variables (see the module docstring).
FLOATX = {
    "tensorflow": FloatX(("lr", "beta1", "beta2"), "param", "lr and betas held in float32 (floatx)"),
    "mindspore": FloatX(("lr", "beta1", "beta2"), "float32", "lr and betas held in float32 (floatx)"),
}

PHRASES = {
    ("epsilon_mode", "algorithm1"): "epsilon enters as in Algorithm 1",
    ("epsilon_mode", "epsilon_hat"): "epsilon enters as epsilon-hat",
    ("amsgrad_mode", "max_raw_v"): "AMSGrad takes the max of the raw v",
    ("amsgrad_mode", "max_corrected_v"): "AMSGrad takes the max of the corrected v",
    ("amsgrad_mode", "no_bias_correction"): "AMSGrad corrects no bias",
    ("amsgrad_mode", "ignored"): "amsgrad is ignored",
    ("adamax_epsilon", "denominator"): "epsilon is added to u",
    ("adamax_epsilon", "inside_max"): "epsilon enters inside the max",
    ("power_dtype", None): "beta^t in double precision",
    ("power_dtype", "float32"): "beta^t in float32",
    ("power_dtype", "param"): "beta^t in the parameter's dtype",
    ("power_dtype", "float32_or_wider"): "beta^t in float32, or in the parameter's dtype where wider",
    ("slot_arithmetic", "double"): "moments and step sizes from double-precision numbers",
    ("slot_arithmetic", "in_dtype"): "moments updated as m += (g - m)(1 - beta) in the parameter's dtype",
    ("slot_arithmetic", "in_dtype_sum"): "moments beta m + (1 - beta) g with numbers in the parameter's dtype",
    ("lr_dtype", None): "lr used as given",
    ("lr_dtype", "float32"): "lr held in float32 (floatx)",
    ("decoupled_weight_decay", True): "decoupled weight decay",
    ("decoupled_weight_decay", False): "L2 weight decay",
}
"""How the description of a candidate says its changed choice (see docs/how-to-identify.md for the formulas)."""


@dataclasses.dataclass(frozen=True)
class Hyperparameters:
    """What the caller gave; ``None`` means "each convention's default"."""

    lr: float | None
    betas: tuple[float, float] | None
    eps: float | None
    weight_decay: float
    maximize: bool


@dataclasses.dataclass(frozen=True)
class RuleSettings:
    """The arguments of one :mod:`optim.functional` rule: what a replay computes.

    ``rule`` is ``"adam"`` (Adam and AMSGrad) or ``"adamax"``; ``amsgrad_mode`` is the rule's (None: plain
    Adam). :meth:`key` tells two settings apart only where the computation differs.
    """

    rule: str
    lr: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    decoupled_weight_decay: bool
    maximize: bool
    epsilon_mode: str | None
    amsgrad_mode: str | None
    adamax_epsilon: str | None
    power_dtype: str | None
    slot_arithmetic: str = "double"

    def rule_kwargs(self) -> dict[str, Any]:
        """The keywords of :func:`~optim.functional.adam_update` or :func:`~optim.functional.adamax_update`."""
        kwargs = {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                  "weight_decay": self.weight_decay, "decoupled_weight_decay": self.decoupled_weight_decay,
                  "maximize": self.maximize, "power_dtype": self.power_dtype, "slot_arithmetic": self.slot_arithmetic}
        if self.rule == "adamax":
            return {**kwargs, "adamax_epsilon": self.adamax_epsilon}
        return {**kwargs, "epsilon_mode": self.epsilon_mode, "amsgrad_mode": self.amsgrad_mode}

    def key(self, dtype: np.dtype) -> tuple[Any, ...]:
        """Equal for two settings exactly when they compute the same numbers on ``dtype`` data."""
        power = self.power_dtype
        if power == "float32_or_wider":
            power = "float32" if dtype.itemsize <= 4 else "param"
        if power == "param":
            power = "float32" if dtype == np.float32 else None
        lr, beta1, beta2 = self.lr, self.beta1, self.beta2
        if self.slot_arithmetic in IN_DTYPE_ARITHMETICS:  # the numbers come from lr and the betas in the dtype
            lr = float(dtype.type(lr))
            if power == "float32" and dtype == np.float32:  # and so does beta^t
                beta1, beta2 = float(dtype.type(beta1)), float(dtype.type(beta2))
        uses_bias2 = self.rule == "adam" and self.amsgrad_mode != "no_bias_correction"
        uses_epsilon_mode = self.rule == "adam" and self.amsgrad_mode in (None, "max_raw_v")
        return (
            self.rule, lr, beta1, beta2, self.eps, self.weight_decay,
            self.decoupled_weight_decay and self.weight_decay != 0, self.maximize,
            self.epsilon_mode if uses_epsilon_mode else None, self.amsgrad_mode, self.adamax_epsilon,
            power if (uses_bias2 or self.rule == "adamax") else None, self.slot_arithmetic,
        )

    def arithmetic_observable(self, dtype: np.dtype) -> bool:
        """Whether the replay can tell this ``slot_arithmetic`` from another on ``dtype`` data. On float64 data
        :math:`1-\\beta` is the same number either way and only the order of the operations differs (a rounding
        far below the float64 tolerance); without bias correction (AMSGrad's ``"no_bias_correction"``) the float32
        :math:`1-\\beta` only scales the step by its square root, about 7e-6 relative: below 16 units in the last
        place of the parameter."""
        return dtype == np.float32 and not (self.rule == "adam" and self.amsgrad_mode == "no_bias_correction")


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One convention with at most one changed choice, ready to replay.

    Attributes
    ----------
    convention : str
        The convention it starts from.
    overrides : dict
        The changed choice (empty for the convention itself): an optimizer keyword, or ``"floatx"``.
    description : str
        In words: ``"keras, except epsilon enters as in Algorithm 1, ..."``.
    defaults : tuple of str
        The hyperparameters taken from the convention because the caller did not give them.
    settings : RuleSettings
        What the replay passes to the update rule.
    keywords : dict
        ``{"class": ..., **keywords}``: the optimizer that reproduces the candidate, e.g.
        ``optim.Adam(params, **keywords)`` after removing ``"class"``.
    order : int
        Position in the list of candidates (conventions in :data:`~optim.conventions.CONVENTIONS`
        order, each followed by its variants), used to order ties.
    """

    convention: str
    overrides: dict[str, Any]
    description: str
    defaults: tuple[str, ...]
    settings: RuleSettings
    keywords: dict[str, Any]
    order: int = 0


@dataclasses.dataclass(frozen=True)
class CandidateSet:
    """What :func:`build_candidates` returns: the candidates, the variants that cannot be told apart from
    their convention here (``(convention, choice, value)``), and the conventions that cannot run, with why."""

    candidates: tuple[Candidate, ...]
    unobservable: tuple[tuple[str, str, Any], ...]
    skipped: tuple[tuple[str, str], ...]

"""The candidates that :func:`optim.identify` replays: every convention, and each with one choice changed.

A candidate is a convention of :mod:`optim.conventions` and at most one changed choice. The
choices and their values come from that module (``EPSILON_MODE_CHOICES``, ``AMSGRAD_MODE_CHOICES``,
``ADAMAX_EPSILON_CHOICES``, ``STEP_COUNTING_CHOICES``, the ``power_dtype``, ``slot_arithmetic`` and
``lr_dtype`` values the conventions use, decoupled or L2 weight decay), so a convention or a choice
added there is tried here too. (``slot_arithmetic="in_dtype_sum"``, which no convention uses for its
dense rule, differs from ``"in_dtype"`` only in the order of two roundings: below what a match
tolerates.) A convention whose source lacks the algorithm (capreolus has no AdaMax) is skipped, with
the reason.

One more choice, ``floatx``, exists only for the frameworks that keep their betas in variables of
their default float type (float32) rather than as Python numbers: tf.keras legacy (``optimizer_v2``)
keeps ``learning_rate``, ``beta_1`` and ``beta_2`` in float32 variables, and MindSpore's ``Adam``
kernel takes :math:`\\beta_1, \\beta_2` and their powers as float32 tensors. With
``floatx="float32"`` the candidate rounds those hyperparameters to float32 before the library uses
them (and computes the powers as they do). On float32 data the conventions' own
``slot_arithmetic="in_dtype"`` already computes :math:`1-\\beta` and the step size from the betas
rounded to float32, so the variant is then not observable; no float64 run of those two is recorded,
and their floatx candidates assume the same variables there. (Keras 3's float32 learning rate is the
keras convention's ``lr_dtype="float32"``.)

A changed choice that computes exactly as its convention on the data at hand (the step count of one
parameter that every step updates, decoupled decay without weight decay, ``power_dtype="param"`` on
float32 data...) is not a separate candidate: :func:`build_candidates` lists it as not observable.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from optim.conventions import (
    ADAMAX_EPSILON_CHOICES,
    AMSGRAD_MODE_CHOICES,
    CONVENTIONS,
    EPSILON_MODE_CHOICES,
    IN_DTYPE_ARITHMETICS,
    STEP_COUNTING_CHOICES,
    Convention,
)
from optim.functional import bias_correction

__all__ = ["ALGORITHMS", "FLOATX", "Candidate", "FloatX", "Hyperparameters", "RuleSettings", "build_candidates"]

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

_PHRASES = {
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


def _power_choices() -> tuple[str | None, ...]:
    """Every ``power_dtype`` that some convention uses, in order of first use."""
    return tuple(dict.fromkeys(convention.power_dtype for convention in CONVENTIONS.values()))


def _slot_arithmetic_choices() -> tuple[str, ...]:
    """Every ``slot_arithmetic`` that some convention uses, in order of first use."""
    return tuple(dict.fromkeys(value for convention in CONVENTIONS.values()
                               for value in (convention.adam_slot_arithmetic, convention.adamax_slot_arithmetic)))


def _lr_dtype_choices() -> tuple[str | None, ...]:
    """Every ``lr_dtype`` that some convention uses, in order of first use."""
    return tuple(dict.fromkeys(convention.lr_dtype for convention in CONVENTIONS.values()))


def _choices(algorithm: str) -> dict[str, tuple[Any, ...]]:
    """The choices that apply to ``algorithm``, each with its values."""
    choices: dict[str, tuple[Any, ...]] = {}
    if algorithm == "adamax":
        choices["adamax_epsilon"] = ADAMAX_EPSILON_CHOICES
    else:
        choices["epsilon_mode"] = EPSILON_MODE_CHOICES
    if algorithm == "amsgrad":
        choices["amsgrad_mode"] = AMSGRAD_MODE_CHOICES
    choices["power_dtype"] = _power_choices()
    choices["slot_arithmetic"] = _slot_arithmetic_choices()
    choices["lr_dtype"] = _lr_dtype_choices()
    choices["step_counting"] = STEP_COUNTING_CHOICES
    choices["decoupled_weight_decay"] = (False, True)
    return choices


def _base_choices(convention: Convention, algorithm: str) -> dict[str, Any]:
    arithmetic = convention.adamax_slot_arithmetic if algorithm == "adamax" else convention.adam_slot_arithmetic
    values = {"power_dtype": convention.power_dtype, "step_counting": convention.step_counting,
              "decoupled_weight_decay": convention.decoupled_weight_decay, "slot_arithmetic": arithmetic,
              "lr_dtype": convention.lr_dtype}
    if algorithm == "adamax":
        values["adamax_epsilon"] = convention.adamax_epsilon
    else:
        values["epsilon_mode"] = convention.epsilon_mode
    if algorithm == "amsgrad":
        values["amsgrad_mode"] = convention.amsgrad_mode
    return values


def _float32(value: float) -> float:
    return float(np.float32(value))


def _make(convention: Convention, algorithm: str, given: Hyperparameters, dtype: np.dtype,
          choices: dict[str, Any], floatx: FloatX | None) -> tuple[RuleSettings, dict[str, Any], tuple[str, ...]]:
    """The rule settings, the reproducing optimizer keywords and the defaults used, for one candidate."""
    adamax = algorithm == "adamax"
    defaults = tuple(name for name in ("lr", "betas", "eps") if getattr(given, name) is None)
    lr = (convention.adamax_lr if adamax else convention.adam_lr) if given.lr is None else given.lr
    beta1, beta2 = convention.betas if given.betas is None else given.betas
    eps = (convention.adamax_eps if adamax else convention.adam_eps) if given.eps is None else given.eps
    power_dtype = choices["power_dtype"]
    lr_dtype = choices["lr_dtype"]
    if lr_dtype is not None and dtype.itemsize > np.dtype(lr_dtype).itemsize:
        lr = float(np.dtype(lr_dtype).type(lr))  # as the optimizer rounds it (optim.parameter_numbers)
    if floatx is not None:
        rounded = set(floatx.rounded) - ({"lr"} if dtype == np.float32 else set())
        lr = _float32(lr) if "lr" in rounded else lr
        beta1 = _float32(beta1) if "beta1" in rounded else beta1
        beta2 = _float32(beta2) if "beta2" in rounded else beta2
        power_dtype = floatx.power_dtype or power_dtype
    amsgrad_mode = choices.get("amsgrad_mode")
    settings = RuleSettings(
        rule="adamax" if adamax else "adam", lr=lr, beta1=beta1, beta2=beta2, eps=eps,
        weight_decay=given.weight_decay, decoupled_weight_decay=choices["decoupled_weight_decay"],
        maximize=given.maximize, epsilon_mode=None if adamax else choices["epsilon_mode"],
        amsgrad_mode=None if amsgrad_mode in (None, "ignored") else amsgrad_mode,
        adamax_epsilon=choices["adamax_epsilon"] if adamax else None, power_dtype=power_dtype,
        slot_arithmetic=choices["slot_arithmetic"],
    )
    keywords = {"class": ALGORITHMS[algorithm], "convention": convention.name, "lr": lr, "betas": (beta1, beta2),
                "eps": eps, "weight_decay": given.weight_decay, "maximize": given.maximize}
    base = _base_choices(convention, algorithm)
    for name, value in {**choices, "power_dtype": power_dtype}.items():
        if value != base[name]:
            keywords[name] = value
    return settings, keywords, defaults


def _describe(convention: str, choice: str | None, value: Any, floatx: FloatX | None) -> str:
    if choice is None:
        return convention
    if floatx is not None:
        return f"{convention}, except {floatx.words}"
    return f"{convention}, except {_PHRASES.get((choice, value), f'{choice}={value!r}')}"


def _cannot_run(settings: RuleSettings, dtype: np.dtype) -> str | None:
    """Why the rule would refuse these settings (a beta that rounds to 1 where the bias is corrected), or None."""
    names = ("beta1",) if settings.rule == "adamax" else ("beta1", "beta2")
    for name in names:
        try:
            bias_correction(getattr(settings, name), 1, settings.power_dtype, dtype, name)
        except ValueError as error:
            return str(error)
    return None


def build_candidates(algorithm: str, given: Hyperparameters, dtype: np.dtype) -> CandidateSet:
    """Every convention, and each with one choice changed, for ``algorithm`` on ``dtype`` data.

    A convention without a default learning rate is skipped when ``given.lr`` is None; so is a
    candidate whose rule would refuse the betas (see :func:`~optim.functional.bias_correction`).
    """
    candidates: list[Candidate] = []
    unobservable: list[tuple[str, str, Any]] = []
    skipped: list[tuple[str, str]] = []
    for convention in CONVENTIONS.values():
        family = "adamax" if algorithm == "adamax" else "adam"
        if family not in convention.algorithms:
            skipped.append((convention.name, f"{convention.name} has no {ALGORITHMS[algorithm]}"))
            continue
        if given.lr is None and (convention.adamax_lr if algorithm == "adamax" else convention.adam_lr) is None:
            skipped.append((convention.name, f"{convention.name} has no default learning rate; give lr"))
            continue
        base = _base_choices(convention, algorithm)
        variants: list[tuple[str | None, Any, dict[str, Any], FloatX | None]] = [(None, None, base, None)]
        for choice, values in _choices(algorithm).items():
            variants += [(choice, value, {**base, choice: value}, None) for value in values if value != base[choice]]
        if convention.name in FLOATX:
            variants.append(("floatx", "float32", base, FLOATX[convention.name]))
        base_key = None
        for choice, value, choices, floatx in variants:
            settings, keywords, defaults = _make(convention, algorithm, given, dtype, choices, floatx)
            key = settings.key(dtype)
            if choice is None:
                base_key = key
            elif key == base_key or (choice == "slot_arithmetic" and not settings.arithmetic_observable(dtype)):
                unobservable.append((convention.name, choice, value))
                continue
            reason = _cannot_run(settings, dtype)
            description = _describe(convention.name, choice, value, floatx)
            if reason is not None:
                skipped.append((description, reason))
                continue
            overrides = {} if choice is None else {choice: value}
            candidates.append(Candidate(convention.name, overrides, description, defaults, settings, keywords,
                                        len(candidates)))
    return CandidateSet(tuple(candidates), tuple(unobservable), tuple(skipped))

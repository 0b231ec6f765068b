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

from typing import Any

import numpy as np

from optim.conventions import (
    ADAMAX_EPSILON_CHOICES,
    AMSGRAD_MODE_CHOICES,
    CONVENTIONS,
    EPSILON_MODE_CHOICES,
    STEP_COUNTING_CHOICES,
    Convention,
)
from optim.functional import bias_correction
from optim.identify.candidate_types import (
    ALGORITHMS,
    FLOATX,
    PHRASES,
    Candidate,
    CandidateSet,
    FloatX,
    Hyperparameters,
    RuleSettings,
)

__all__ = ["ALGORITHMS", "FLOATX", "Candidate", "FloatX", "Hyperparameters", "RuleSettings", "build_candidates"]

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
    return f"{convention}, except {PHRASES.get((choice, value), f'{choice}={value!r}')}"


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

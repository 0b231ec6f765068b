"""Shared by tests/test_fused_kernels.py and tests/test_rule_*.py: arrays of special values, every set of formula
choices, one step's numbers, and the bit-for-bit comparison."""

from __future__ import annotations

import itertools
import math

import numpy as np

from optim import rules
from optim.conventions import (
    ADAMAX_EPSILON_CHOICES,
    EPSILON_MODE_CHOICES,
    RULE_AMSGRAD_MODES,
    SLOT_ARITHMETIC_CHOICES,
)
from optim.step_scalars import RuleStep, step_scalars

STATE = {"adam": ("param", "m", "v"), "amsgrad": ("param", "m", "v", "v_max"), "adamax": ("param", "m", "u")}
DECAYS = {"none": (0.0, False), "l2": (0.01, False), "decoupled": (0.01, True)}


def all_choices():
    """Every set of formula choices: Adam and AMSGrad, each with every slot arithmetic, and with Optax's eps_root
    and nesterov where they apply; then AdaMax, with every slot arithmetic."""
    switches = list(itertools.product((False, True), rules.DECAYS))
    adam = [rules.AdamChoices(maximize, decay, epsilon_mode, amsgrad_mode, arithmetic)
            for (maximize, decay), epsilon_mode, amsgrad_mode, arithmetic
            in itertools.product(switches, EPSILON_MODE_CHOICES, RULE_AMSGRAD_MODES, SLOT_ARITHMETIC_CHOICES)]
    optax = [(None, True, False), (None, False, True), (None, True, True), ("max_corrected_v", True, False)]
    adam += [rules.AdamChoices(maximize, decay, "algorithm1", amsgrad_mode, "double", eps_root, nesterov)
             for (maximize, decay), (amsgrad_mode, eps_root, nesterov) in itertools.product(switches, optax)]
    adamax = [rules.AdamaxChoices(maximize, decay, adamax_epsilon, arithmetic)
              for (maximize, decay), adamax_epsilon, arithmetic
              in itertools.product(switches, ADAMAX_EPSILON_CHOICES, SLOT_ARITHMETIC_CHOICES)]
    return adam + adamax


def kind_of(choices):
    """"adam", "amsgrad" or "adamax": which arrays the rule of ``choices`` takes."""
    if isinstance(choices, rules.AdamaxChoices):
        return "adamax"
    return "adam" if choices.amsgrad_mode is None else "amsgrad"


def special_values(dtype, running_max=False):
    """Signed zeros, NaN, infinities, huge values (their squares overflow), subnormals and ordinary numbers; for a
    running maximum (v_max, u) only what it can hold: it starts at +0.0 and takes maxima with g^2 or |g|."""
    huge = 1e30 if dtype == np.float32 else 1e300
    tiny = float(np.finfo(dtype).smallest_subnormal)
    if running_max:
        return np.array([0.0, math.nan, math.inf, huge, tiny, 0.25, 4.0], dtype)
    third = float(np.finfo(dtype).smallest_normal) / 3  # a subnormal too
    return np.array([0.0, -0.0, math.nan, math.inf, -math.inf, huge, -huge, tiny, -third, 0.5, -1.5, 3e-3], dtype)


def make_arrays(kind, dtype, size, rng):
    """The gradient and the state of ``kind``; every (grad, m, v or u) triple of special values once size allows."""
    values = special_values(dtype)
    count = len(values)
    cells = np.resize(rng.permutation(count**3), size)
    grad = values[cells % count]
    running_max = special_values(dtype, running_max=True)
    state = {"param": rng.choice(values, size), "m": values[cells // count % count],
             "v": values[cells // count**2 % count], "v_max": rng.choice(running_max, size),
             "u": rng.choice(running_max, size)}
    return grad, {name: state[name] for name in STATE[kind]}


def options_choices(kind, options):
    """The choices of a call of optim.functional with ``options`` (the rule's kind and keyword arguments)."""
    common = {"maximize": options["maximize"], "weight_decay": options["weight_decay"],
              "decoupled_weight_decay": options["decoupled_weight_decay"],
              "slot_arithmetic": options.get("slot_arithmetic", "double")}
    if kind == "adamax":
        return rules.adamax_choices(adamax_epsilon=options["adamax_epsilon"], **common)
    return rules.adam_choices(epsilon_mode=options["epsilon_mode"], amsgrad_mode=options["amsgrad_mode"],
                              eps_root=options.get("eps_root", 0.0), nesterov=options.get("nesterov", False), **common)


def rule_step(kind, dtype, step, options):
    """The RuleStep a fused kernel gets for one call of optim.functional with ``options`` at ``step``."""
    choices = options_choices(kind, options)
    numbers = {name: options[name] for name in ("lr", "beta1", "beta2", "eps", "weight_decay", "power_dtype")}
    eps_root = options.get("eps_root", 0.0)
    return RuleStep(choices, step_scalars(choices, dtype=dtype, step=step, eps_root=eps_root, **numbers))


def assert_same_bits(actual, expected, what):
    """NaN exactly where ``expected`` has NaN, and the same bit pattern at every other position."""
    assert actual.dtype == expected.dtype and actual.shape == expected.shape, what
    np.testing.assert_array_equal(actual, expected, err_msg=what)
    unsigned = {2: np.uint16, 4: np.uint32, 8: np.uint64}[actual.dtype.itemsize]
    differ = (actual.view(unsigned) != expected.view(unsigned)) & ~np.isnan(expected)
    if differ.any():
        first = np.flatnonzero(differ)[:5]
        raise AssertionError(f"{what}: {differ.sum()} values differ in their bits, first at {first.tolist()}: "
                             f"{actual[first].tolist()} against {expected[first].tolist()}")

"""Named conventions: each one's defaults (lr, betas, eps) and formula choices (each framework's source, at the
versions in optim.conventions).

Every expected value is computed in the test from the formula its docstring names.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conventions_helpers import dev, host, param

import optim

# (adam lr, adamax lr, betas, adam eps, adamax eps) -- the frameworks' source (optim.conventions).
EXPECTED_DEFAULTS = {
    "paper": (1e-3, 2e-3, (0.9, 0.999), 1e-8, 1e-8),  # Kingma & Ba 2015, Algorithms 1 and 2
    "pytorch": (1e-3, 2e-3, (0.9, 0.999), 1e-8, 1e-8),  # PyTorch 2.13.0
    "keras": (1e-3, 1e-3, (0.9, 0.999), 1e-7, 1e-7),  # Keras 3.15.1
    "tensorflow": (1e-3, 1e-3, (0.9, 0.999), 1e-7, 1e-7),  # tf_keras 2.21.0 legacy
    "optax": (None, None, (0.9, 0.999), 1e-8, 1e-8),  # Optax 0.2.8: learning_rate has no default
    "mindspore": (1e-3, 2e-3, (0.9, 0.999), 1e-8, 1e-8),  # MindSpore 2.10.0 experimental
}
# epsilon_mode, amsgrad_mode, adamax_epsilon, step_counting, decoupled weight decay, power dtype (docs/conventions.md).
# Precision of 1 - b^t: Keras 3.15.1 and tf_keras 2.21.0 legacy in the variable's dtype, Optax 0.2.8 in float32 (in
# float64 for float64 parameters, which JAX holds only with x64), MindSpore 2.10.0 in float32, PyTorch 2.13.0 in
# double (optim/reference/README.md, "Precision of the bias corrections").
EXPECTED_CHOICES = {
    "paper": ("algorithm1", "no_bias_correction", "denominator", "global", False, None),
    "pytorch": ("algorithm1", "max_raw_v", "inside_max", "per_parameter", False, None),
    "keras": ("epsilon_hat", "max_raw_v", "denominator", "global", True, "param"),
    "tensorflow": ("epsilon_hat", "max_raw_v", "denominator", "global", True, "param"),
    "optax": ("algorithm1", "max_corrected_v", "inside_max", "global", True, "float32_or_wider"),
    "mindspore": ("epsilon_hat", "ignored", "inside_max", "global", False, "float32"),
}


@pytest.mark.parametrize("convention", sorted(EXPECTED_DEFAULTS))
def test_convention_defaults(device, convention):
    """Defaults per convention (docs/conventions.md): e.g. Keras 3.15.1 Adamax lr 1e-3 and eps 1e-7, PyTorch 2.13.0
    Adamax lr 2e-3, Optax 0.2.8 none (lr required); and each convention's formula choices."""
    adam_lr, adamax_lr, betas, adam_eps, adamax_eps = EXPECTED_DEFAULTS[convention]
    eps_mode, ams_mode, adamax_epsilon, counting, decoupled, _ = EXPECTED_CHOICES[convention]
    x = param([1.0], device)
    lr = {} if adam_lr is not None else {"lr": 0.5}
    adam = optim.Adam([x], convention=convention, **lr)
    assert adam.defaults["lr"] == (adam_lr if adam_lr is not None else 0.5)
    assert tuple(adam.defaults["betas"]) == betas
    assert adam.defaults["eps"] == adam_eps
    assert adam.defaults["epsilon_mode"] == eps_mode
    assert adam.defaults["amsgrad_mode"] == ams_mode
    assert adam.defaults["step_counting"] == counting
    assert adam.defaults["decoupled_weight_decay"] is decoupled
    adamax = optim.Adamax([x], convention=convention, **lr)
    assert adamax.defaults["lr"] == (adamax_lr if adamax_lr is not None else 0.5)
    assert tuple(adamax.defaults["betas"]) == betas
    assert adamax.defaults["eps"] == adamax_eps
    assert adamax.defaults["adamax_epsilon"] == adamax_epsilon
    assert adamax.defaults["decoupled_weight_decay"] is decoupled
    amsgrad = optim.AMSGrad([x], convention=convention, **lr)
    assert amsgrad.defaults["lr"] == adam.defaults["lr"] and amsgrad.defaults["eps"] == adam_eps


def _bias(beta, t, power):
    """1 - beta^t of a float64 parameter: in float32 where the convention always computes it so (MindSpore),
    else in double (the parameter's dtype)."""
    if power == "float32":
        return float(np.float32(1) - np.float32(beta) ** np.float32(t))
    return 1.0 - beta**t


@pytest.mark.parametrize("convention", sorted(EXPECTED_DEFAULTS))
def test_default_lr_and_eps_drive_the_first_step(device, convention):
    """One float64 step from zero state with the defaults, against Kingma & Ba's formulas at t = 1:
    Algorithm 1 x - lr (m/(1-b1)) / (sqrt(v/(1-b2)) + eps), or the efficient form
    x - lr sqrt(1-b2)/(1-b1) m / (sqrt(v) + eps_hat); Adamax x - lr/(1-b1) m/(|g| + eps). The gradient
    3e-8 is below eps, so the step shows which eps (1e-8 or 1e-7) and which placement is used. Keras keeps the
    learning rate in floatx (float32) and casts it to the float64 variable's dtype."""
    adam_lr, adamax_lr, (b1, b2), adam_eps, adamax_eps = EXPECTED_DEFAULTS[convention]
    eps_mode, *_, power = EXPECTED_CHOICES[convention]
    adam_lr, adamax_lr = adam_lr or 0.5, adamax_lr or 0.5
    if convention == "keras":
        adam_lr, adamax_lr = float(np.float32(adam_lr)), float(np.float32(adamax_lr))
    x0, g = np.array([1.0, -2.0, 0.5]), np.array([3e-8, 0.25, -4.0])
    bc1, bc2 = _bias(b1, 1, power), _bias(b2, 1, power)
    m, v = (1 - b1) * g, (1 - b2) * g * g
    if eps_mode == "algorithm1":
        expected_adam = x0 - adam_lr * (m / bc1) / (np.sqrt(v / bc2) + adam_eps)
    else:
        expected_adam = x0 - adam_lr * math.sqrt(bc2) / bc1 * m / (np.sqrt(v) + adam_eps)
    expected_adamax = x0 - adamax_lr / bc1 * m / (np.abs(g) + adamax_eps)
    lr = {} if EXPECTED_DEFAULTS[convention][0] is not None else {"lr": 0.5}
    for cls, expected in ((optim.Adam, expected_adam), (optim.Adamax, expected_adamax)):
        x = param(x0, device, np.float64)
        cls([x], convention=convention, **lr).apply_gradients([(dev(g, device), x)])
        np.testing.assert_allclose(host(x.data), expected, rtol=1e-13, atol=0, err_msg=cls.__name__)


@pytest.mark.parametrize("cls", [optim.Adam, optim.AMSGrad, optim.Adamax])
def test_optax_requires_lr(device, cls):
    """Optax 0.2.8: optax.adam / amsgrad / adamax take learning_rate with no default, so the optax
    convention has none: omitting lr is a ValueError naming lr."""
    x = param([1.0], device)
    with pytest.raises(ValueError, match="lr"):
        cls([x], convention="optax")
    assert cls([x], lr=0.01, convention="optax").defaults["lr"] == 0.01


def test_unknown_convention_is_named(device):
    """A convention that does not exist: ValueError naming the argument and the value."""
    x = param([1.0], device)
    for cls in (optim.Adam, optim.Adamax, optim.AMSGrad):
        with pytest.raises(ValueError, match=r"convention.*'jax'"):
            cls([x], convention="jax")

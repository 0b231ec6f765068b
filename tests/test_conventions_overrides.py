"""Explicit keywords override a convention's choices: step counting, power dtype, weight decay meaning.

A convention with one keyword changed is the convention (or framework) that makes that choice; the
framework numbers are recorded framework runs
(tests/conventions_data.py), every other expected value is computed from the formula the docstring names.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conventions_data import (
    KERAS_ADAM_EPS01,
    KERAS_ADAMAX_EPS01,
    OPTAX_AMSGRAD,
    PYTORCH_ADAM,
    PYTORCH_ADAM_L2,
    PYTORCH_ADAMAX_EPS01,
    PYTORCH_ADAMW,
    PYTORCH_AMSGRAD,
    X0,
    G,
)
from conventions_helpers import F32, dev, host, param, random_grads, trajectory

import optim
from optim import functional

OVERRIDES = [
    ("keras+algorithm1 == pytorch eps 1e-7",
     lambda p: optim.Adam(p, lr=0.1, convention="keras", epsilon_mode="algorithm1", power_dtype=None),
     lambda p: optim.Adam(p, lr=0.1, eps=1e-7, convention="pytorch")),
    ("pytorch+epsilon_hat == keras",
     lambda p: optim.Adam(p, lr=0.1, eps=1e-7, convention="pytorch", epsilon_mode="epsilon_hat", power_dtype="param"),
     lambda p: optim.Adam(p, lr=0.1, convention="keras")),
    ("optax+max_raw_v == pytorch amsgrad",
     lambda p: optim.AMSGrad(p, lr=0.1, convention="optax", amsgrad_mode="max_raw_v", power_dtype=None),
     lambda p: optim.AMSGrad(p, lr=0.1, convention="pytorch")),
    ("pytorch+max_corrected_v == optax amsgrad",
     lambda p: optim.AMSGrad(p, lr=0.1, convention="pytorch", amsgrad_mode="max_corrected_v", power_dtype="float32"),
     lambda p: optim.AMSGrad(p, lr=0.1, convention="optax")),
    ("keras+inside_max == pytorch adamax eps 1e-7",
     lambda p: optim.Adamax(p, lr=0.1, convention="keras", adamax_epsilon="inside_max", power_dtype=None),
     lambda p: optim.Adamax(p, lr=0.1, eps=1e-7, convention="pytorch")),
    ("pytorch+denominator == tensorflow adamax",
     lambda p: optim.Adamax(p, lr=0.1, eps=1e-7, convention="pytorch", adamax_epsilon="denominator",
                            slot_arithmetic="in_dtype", power_dtype="param"),
     lambda p: optim.Adamax(p, lr=0.1, convention="tensorflow")),
    ("keras L2 == mindspore-like L2",
     lambda p: optim.Adam(p, lr=0.1, weight_decay=0.1, eps=1e-8, convention="keras", decoupled_weight_decay=False,
                          power_dtype="float32", slot_arithmetic="in_dtype"),
     lambda p: optim.Adam(p, lr=0.1, weight_decay=0.1, convention="mindspore")),
    ("mindspore+max_raw_v == keras amsgrad eps 1e-8",
     lambda p: optim.AMSGrad(p, lr=0.1, convention="mindspore", amsgrad_mode="max_raw_v", power_dtype="param",
                             slot_arithmetic="double"),
     lambda p: optim.AMSGrad(p, lr=0.1, eps=1e-8, convention="keras")),
]


@pytest.mark.parametrize("left, right", [o[1:] for o in OVERRIDES], ids=[o[0] for o in OVERRIDES])
def test_explicit_choice_overrides_the_convention(device, left, right):
    """Each formula choice is a keyword: a convention with one choice changed is the convention that makes
    that choice (same formulas, same eps, same power precision), so the trajectories are identical."""
    grads = random_grads(5, 8, (2, 3), scale=0.5)
    np.testing.assert_array_equal(trajectory(left, grads, device, np.ones((2, 3))),
                                  trajectory(right, grads, device, np.ones((2, 3))))


@pytest.mark.parametrize("make, expected, source", [
    (lambda p: optim.Adam(p, lr=0.1, convention="keras", epsilon_mode="algorithm1", eps=1e-8, power_dtype=None),
     PYTORCH_ADAM, "PyTorch 2.13.0 Adam(lr=0.1)"),
    (lambda p: optim.Adam(p, lr=0.1, convention="pytorch", decoupled_weight_decay=True, weight_decay=0.1),
     PYTORCH_ADAMW, "PyTorch 2.13.0 AdamW(lr=0.1, weight_decay=0.1)"),
    (lambda p: optim.Adam(p, lr=0.1, convention="keras", decoupled_weight_decay=False, weight_decay=0.1,
                          epsilon_mode="algorithm1", eps=1e-8), PYTORCH_ADAM_L2,
     "PyTorch 2.13.0 Adam(lr=0.1, weight_decay=0.1)"),
    (lambda p: optim.AMSGrad(p, lr=0.1, convention="optax", amsgrad_mode="max_raw_v"), PYTORCH_AMSGRAD,
     "PyTorch 2.13.0 Adam(lr=0.1, amsgrad=True)"),
    (lambda p: optim.AMSGrad(p, lr=0.1, convention="pytorch", amsgrad_mode="max_corrected_v"), OPTAX_AMSGRAD,
     "Optax 0.2.8 amsgrad(0.1)"),
    (lambda p: optim.Adamax(p, lr=0.1, eps=0.1, convention="keras", adamax_epsilon="inside_max"),
     PYTORCH_ADAMAX_EPS01, "PyTorch 2.13.0 Adamax(lr=0.1, eps=0.1)"),
    (lambda p: optim.Adamax(p, lr=0.1, eps=0.1, convention="pytorch", adamax_epsilon="denominator"),
     KERAS_ADAMAX_EPS01, "Keras 3.15.1 Adamax(0.1, epsilon=0.1)"),
    (lambda p: optim.Adam(p, lr=0.1, eps=0.1, convention="pytorch", epsilon_mode="epsilon_hat"),
     KERAS_ADAM_EPS01, "Keras 3.15.1 Adam(0.1, epsilon=0.1)"),
], ids=["keras->alg1", "pytorch->adamw", "keras->l2", "optax->max_raw_v", "pytorch->max_corrected_v",
        "keras->inside_max", "pytorch->denominator", "pytorch->epsilon_hat"])
def test_overridden_convention_matches_the_other_framework(device, make, expected, source):
    """A convention with one keyword changed reproduces the framework that makes that choice (recorded framework runs
    numbers, float32, rtol 2e-6 / atol 1e-6; the beta-power precision difference is inside it)."""
    np.testing.assert_allclose(trajectory(make, G, device, X0), np.array(expected), **F32, err_msg=source)


def test_step_counting_keyword(device):
    """PyTorch 2.13.0 counts t per parameter (state['step']), the other frameworks once per optimizer. A
    parameter without a gradient at the first call gets its first update at t = 1 (per_parameter:
    x - lr g/(|g| + eps)) or at t = 2 (global: Algorithm 1 with m_hat = 0.1 g/(1-0.9^2),
    v_hat = 0.001 g^2/(1-0.999^2)); step_counting="global" overrides the pytorch convention."""
    lr, eps, g = 0.1, 1e-8, 0.5
    per_param = 1.0 - lr * g / (abs(g) + eps)
    m_hat, v_hat = 0.1 * g / (1 - 0.9**2), 0.001 * g * g / (1 - 0.999**2)
    global_t = 1.0 - lr * m_hat / (math.sqrt(v_hat) + eps)
    for counting, expected in ((None, per_param), ("per_parameter", per_param), ("global", global_t)):
        a, b = param([1.0], device, np.float64), param([1.0], device, np.float64)
        kwargs = {} if counting is None else {"step_counting": counting}
        opt = optim.Adam([a, b], lr=lr, convention="pytorch", **kwargs)
        opt.apply_gradients([(dev([0.3], device), a)])
        opt.apply_gradients([(dev([0.3], device), a), (dev([g], device), b)])
        assert host(b.data)[0] == pytest.approx(expected, rel=1e-13), counting
    assert not math.isclose(per_param, global_t, rel_tol=1e-6)


def test_power_dtype_keyword(device):
    """power_dtype: 1 - b^t in double (PyTorch 2.13.0) or in float32 (Optax 0.2.8 computes decay**count in
    float32): float32(1) - float32(0.999) = 1.00004673e-3 is not 1e-3 (keras/src/optimizers/adam.py,
    optax/_src/transform.py). One float64 Adam
    step (epsilon_hat form, eps 0) shows the precision of both corrections: x - lr sqrt(bc2)/bc1 sign(g)."""
    bc1_32 = float(np.float32(1) - np.float32(0.9))
    bc2_32 = float(np.float32(1) - np.float32(0.999))
    assert bc2_32 != pytest.approx(1e-3, rel=1e-6)
    for power, bc1, bc2 in ((None, 1 - 0.9, 1 - 0.999), ("float32", bc1_32, bc2_32), ("param", 1 - 0.9, 1 - 0.999)):
        x = param([0.0], device, np.float64)
        opt = optim.Adam([x], lr=1.0, eps=0.0, epsilon_mode="epsilon_hat", power_dtype=power)
        opt.apply_gradients([(dev([2.0], device), x)])
        expected = -math.sqrt(bc2) / bc1 * (0.1 * 2.0) / math.sqrt(0.001 * 4.0)
        assert host(x.data)[0] == pytest.approx(expected, rel=1e-13), power
    assert functional.bias_correction(0.999, 1, "float32") == bc2_32
    assert functional.bias_correction(0.999, 1, "param", np.float32) == bc2_32
    assert functional.bias_correction(0.999, 3, None) == pytest.approx(1 - 0.999**3, rel=1e-15)


@pytest.mark.parametrize("convention, decoupled", [("paper", False), ("pytorch", False), ("keras", True),
                                                   ("tensorflow", True), ("optax", True), ("mindspore", False)])
@pytest.mark.parametrize("cls", [optim.Adam, optim.Adamax])
def test_weight_decay_meaning_per_convention(device, cls, convention, decoupled):
    """weight_decay is decoupled in Keras 3.15.1 (x -= x wd lr before the step) and Optax 0.2.8 adamw
    (same), an L2 term g += wd x in PyTorch 2.13.0 and MindSpore 2.10.0 (docs/conventions.md). With a zero gradient a
    decoupled step is exactly x (1 - lr wd), with Keras's lr float32(0.1) (floatx); an L2 step is a full Adam step
    on g = wd x (|step| ~ lr)."""
    x = param([2.0], device, np.float64)
    opt = cls([x], lr=0.1, weight_decay=0.1, convention=convention)
    opt.apply_gradients([(dev([0.0], device), x)])
    lr = float(np.float32(0.1)) if convention == "keras" else 0.1
    if decoupled:
        assert host(x.data)[0] == pytest.approx(2.0 * (1 - lr * 0.1), rel=1e-15)
    else:
        assert host(x.data)[0] == pytest.approx(2.0 - 0.1, rel=1e-6)

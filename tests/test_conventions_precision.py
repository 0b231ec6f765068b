"""The precision of the numbers a step uses: Optax's bias corrections and Keras's learning rate.

* Optax 0.2.8 computes ``1 - decay**count`` with ``decay`` a Python float and ``count`` an int32: in float32, or
  in float64 when JAX's x64 mode is on, the only way JAX holds float64 parameters (optax/_src/numerics.py,
  transform.py). The optax convention's ``power_dtype="float32_or_wider"`` computes it in float32, or in the
  parameter's dtype where that is wider.
* Keras 3.15.1 keeps the learning rate in a variable of ``floatx`` (float32 unless ``keras.config.set_floatx``)
  and casts it to the variable's dtype (keras/src/optimizers/base_optimizer.py): float64 parameters step with
  float32(0.1) = 0.10000000149... The keras convention's ``lr_dtype="float32"`` rounds it so; ``lr_dtype="float64"``
  is ``set_floatx("float64")``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import optim
from optim.functional import bias_correction


def _one_step(dtype, **kwargs):
    """x after one step from 0 with g = 2, eps = 0, epsilon-hat form: -lr sqrt(1 - b2)/(1 - b1) (m / sqrt(v))."""
    x = mg.tensor(np.zeros(1, dtype), requires_grad=True)
    optim.Adam([x], eps=0.0, **kwargs).apply_gradients([(np.full(1, 2.0, dtype), x)])
    return float(x.data[0])


@pytest.mark.parametrize("dtype, expected_dtype", [(np.float64, np.float64), (np.float32, np.float32),
                                                   (np.float16, np.float32)])
@settings(max_examples=20, deadline=None)
@given(beta=st.floats(0.5, 0.9999), step=st.integers(1, 500))
def test_optax_bias_correction_follows_wider_parameters(dtype, expected_dtype, beta, step):
    """float32_or_wider: 1 - beta^t in float64 for float64 parameters, in float32 for float32 and float16 ones."""
    if expected_dtype == np.float64:
        expected = 1.0 - beta**step
    else:
        expected = float(np.float32(1) - np.float32(beta) ** np.float32(step))
    assert bias_correction(beta, step, "float32_or_wider", dtype) == expected


def test_optax_float64_adam_uses_float64_corrections():
    """A float64 Adam step under convention="optax" equals Algorithm 1 with double-precision corrections (x64 JAX),
    not with float32 ones (about 7e-6 relative apart after these three steps; 3e-4 to 9e-4 over the recorded
    random scenarios)."""
    x = mg.tensor(np.zeros(1), requires_grad=True)
    opt = optim.Adam([x], lr=0.1, convention="optax")
    for _ in range(3):
        opt.apply_gradients([(np.array([0.5]), x)])
    m_hat, v_hat = 0.5, 0.25  # a constant gradient: the corrected moments are exact
    assert float(x.data[0]) == pytest.approx(-3 * 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8), rel=1e-14)
    y = mg.tensor(np.zeros(1), requires_grad=True)
    opt32 = optim.Adam([y], lr=0.1, convention="optax", power_dtype="float32")
    for _ in range(3):
        opt32.apply_gradients([(np.array([0.5]), y)])
    assert abs(float(y.data[0]) / float(x.data[0]) - 1) > 1e-6


def test_keras_float64_parameters_step_with_the_float32_learning_rate():
    """keras: float64 parameters use float32(lr); float32 parameters are unchanged by the rounding (the step's
    numbers round lr to float32 anyway); lr_dtype="float64" (set_floatx("float64")) uses lr itself."""
    lr32 = float(np.float32(0.1))
    scale = math.sqrt(1 - 0.999) / (1 - 0.9) * 0.1 * 2 / math.sqrt(0.001 * 4)  # the step divided by lr
    assert _one_step(np.float64, lr=0.1, convention="keras") == pytest.approx(-lr32 * scale, rel=1e-15)
    assert _one_step(np.float64, lr=0.1, convention="keras", lr_dtype="float64") == pytest.approx(-0.1 * scale,
                                                                                                    rel=1e-15)
    assert _one_step(np.float32, lr=0.1, convention="keras") == _one_step(np.float32, lr=0.1, convention="keras",
                                                                         lr_dtype=None)


def test_lr_dtype_rounds_schedules_and_pattern_rates_too():
    """The rounding acts on the learning rate each parameter gets: a schedule's value and a pattern's rate."""
    x = mg.tensor(np.zeros(1), requires_grad=True)
    opt = optim.Adam([("w", x)], lr=lambda k: 0.3, convention="keras", pattern_lrs=[{"patterns": ["w"], "lr": 0.7}])
    assert opt.parameter_scalars(x, opt.param_groups[0]).lr == float(np.float32(0.7))
    y = mg.tensor(np.zeros(1), requires_grad=True)
    opt = optim.Adam([y], lr=lambda k: 0.3, convention="keras")
    assert opt.parameter_scalars(y, opt.param_groups[0]).lr == float(np.float32(0.3))
    assert opt.parameter_scalars(y, opt.param_groups[0]).lr != 0.3


def test_lr_dtype_is_a_keyword_of_every_convention():
    """lr_dtype="float32" under pytorch rounds float64 parameters' lr as Keras does; the default leaves it."""
    assert _one_step(np.float64, lr=0.1, convention="pytorch", lr_dtype="float32") == _one_step(
        np.float64, lr=float(np.float32(0.1)), convention="pytorch")
    assert _one_step(np.float64, lr=0.1, convention="pytorch") != _one_step(np.float64, lr=float(np.float32(0.1)),
                                                                            convention="pytorch")

"""slot_arithmetic="in_dtype": the moments as TensorFlow's kernels and MindSpore's Adam kernel compute them.

TensorFlow 2.21.0 (tensorflow/core/kernels/training_ops.cc, ApplyAdam, ApplyAdamWithAmsgrad, ApplyAdaMax) and
MindSpore 2.10.0 (the CPU Adam kernel) update ``m += (g - m) * (1 - beta1)`` and ``v += (g*g - v) * (1 - beta2)``
with ``1 - beta`` computed in the variable's dtype from the float32 beta: 1 - float32(0.999) = 0.0009999871, not
0.001. The step size ``lr * sqrt(1 - beta2^t) / (1 - beta1^t)`` is computed in float32 too, from float32 powers.
The models below are those kernels transcribed in NumPy float32.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import optim

F = np.float32


def _tf_adam_kernel(x0, grads, lr, eps, amsgrad):
    """ApplyAdam / ApplyAdamWithAmsgrad in float32: every parameter and slot after every step."""
    beta1, beta2, lr, eps = F(0.9), F(0.999), F(lr), F(eps)
    x, m, v, v_hat = x0.copy(), np.zeros_like(x0), np.zeros_like(x0), np.zeros_like(x0)
    out = []
    for t, g in enumerate(grads, start=1):
        alpha = lr * np.sqrt(F(1) - beta2 ** F(t)) / (F(1) - beta1 ** F(t))
        m = m + (g - m) * (F(1) - beta1)
        v = v + (g * g - v) * (F(1) - beta2)
        v_hat = np.maximum(v_hat, v)
        x = x - (m * alpha) / (np.sqrt(v_hat if amsgrad else v) + eps)
        out.append((x, m, v, v_hat))
    return out


def _tf_adamax_kernel(x0, grads, lr, eps):
    """ApplyAdaMax in float32: x -= lr / (1 - beta1^t) * (m / (u + eps))."""
    beta1, beta2, lr, eps = F(0.9), F(0.999), F(lr), F(eps)
    x, m, u = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
    out = []
    for t, g in enumerate(grads, start=1):
        m = m + (g - m) * (F(1) - beta1)
        u = np.maximum(beta2 * u, np.abs(g))
        x = x - lr / (F(1) - beta1 ** F(t)) * (m / (u + eps))
        out.append((x, m, u))
    return out


def _library_run(cls, x0, grads, **kwargs):
    x = mg.tensor(x0.copy(), requires_grad=True)
    opt = cls([x], **kwargs)
    out = []
    for g in grads:
        opt.apply_gradients([(g, x)])
        out.append((x.data.copy(), *(opt.state[x][name].copy() for name in opt.state_names(opt.param_groups[0]))))
    return out


gradients = hnp.arrays(F, st.tuples(st.integers(1, 6), st.integers(1, 5)),
                       elements=st.floats(-1e3, 1e3, width=32) | st.sampled_from([0.0, 1e-6, -4.5]))


@settings(max_examples=40, deadline=None)
@given(grads=gradients, amsgrad=st.booleans(), fused=st.booleans())
def test_tensorflow_adam_is_the_kernel_bit_for_bit(grads, amsgrad, fused):
    """Adam and AMSGrad under convention="tensorflow" give ApplyAdam's (ApplyAdamWithAmsgrad's) parameters, m, v
    and v_hat bit for bit, on the reference path and the fused one."""
    x0 = np.linspace(-1, 1, grads.shape[1], dtype=F)
    expected = _tf_adam_kernel(x0, grads, 0.1, 1e-7, amsgrad)
    ours = _library_run(optim.Adam, x0, grads, lr=0.1, amsgrad=amsgrad, convention="tensorflow", fused=fused)
    for (x, m, v, v_hat), (our_x, our_m, our_v, *our_max) in zip(expected, ours):
        np.testing.assert_array_equal(our_x, x)
        np.testing.assert_array_equal(our_m, m)
        np.testing.assert_array_equal(our_v, v)
        if amsgrad:
            np.testing.assert_array_equal(our_max[0], v_hat)


@settings(max_examples=40, deadline=None)
@given(grads=gradients, fused=st.booleans())
def test_tensorflow_adamax_is_the_kernel_bit_for_bit(grads, fused):
    """Adamax under convention="tensorflow" gives ApplyAdaMax's parameters, m and u bit for bit."""
    x0 = np.linspace(-1, 1, grads.shape[1], dtype=F)
    expected = _tf_adamax_kernel(x0, grads, 0.1, 1e-7)
    ours = _library_run(optim.Adamax, x0, grads, lr=0.1, convention="tensorflow", fused=fused)
    for step, ((x, m, u), (our_x, our_m, our_u)) in enumerate(zip(expected, ours), start=1):
        np.testing.assert_array_equal(our_m, m, err_msg=f"m at step {step}")
        np.testing.assert_array_equal(our_u, u, err_msg=f"u at step {step}")
        np.testing.assert_array_equal(our_x, x, err_msg=f"param at step {step}")


@pytest.mark.parametrize("convention, expected", [
    ("tensorflow", F(1e6) * (F(1) - F(0.999))), ("mindspore", F(1e6) * (F(1) - F(0.999))),
    ("keras", F(1000.0)), ("pytorch", F(1000.0)),
])
def test_the_second_moment_after_one_gradient_of_1000(convention, expected):
    """The issue's example: one step with g = 1000 stores v = 999.9871 under TensorFlow and MindSpore (1 - beta2 in
    float32) and 1000.0 under Keras 3 and PyTorch (1 - beta2 in double, rounded once)."""
    x = mg.tensor(np.zeros(1, F), requires_grad=True)
    opt = optim.Adam([x], lr=0.1, convention=convention)
    opt.apply_gradients([(np.array([1000.0], F), x)])
    assert opt.state[x]["v"][0] == expected
    assert (expected == F(1000.0)) == (convention in ("keras", "pytorch"))


def test_mindspore_adamax_keeps_the_weighted_sum():
    """MindSpore's Adamax is Python arithmetic (exp_avg * beta1 + grad * (1 - beta1), 1 - beta1 a Python float):
    only its Adam uses the kernel, so its Adamax is bit for bit the "double" arithmetic."""
    grads = np.array([[0.5, -2.0], [1e-3, 3.0], [0.0, -1.0]], F)
    x0 = np.ones(2, F)
    default = _library_run(optim.Adamax, x0, grads, lr=0.1, convention="mindspore")
    double = _library_run(optim.Adamax, x0, grads, lr=0.1, convention="mindspore", slot_arithmetic="double")
    for ours, theirs in zip(default, double):
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, b)


def test_the_keyword_overrides_the_convention():
    """slot_arithmetic="double" makes tensorflow store v = 1000 (the one choice changed), and "in_dtype" makes
    pytorch store 999.9871."""
    for convention, arithmetic, expected in (("tensorflow", "double", 1000.0), ("pytorch", "in_dtype", 999.9871)):
        x = mg.tensor(np.zeros(1, F), requires_grad=True)
        opt = optim.Adam([x], lr=0.1, convention=convention, slot_arithmetic=arithmetic)
        opt.apply_gradients([(np.array([1000.0], F), x)])
        assert opt.state[x]["v"][0] == pytest.approx(expected, rel=1e-7)
        assert opt.param_groups[0]["slot_arithmetic"] == arithmetic

"""Identities between the conventions' formula choices (docs/conventions.md): epsilon placements, Adamax's eps,
MindSpore.

Every expected value is computed in the test from the formula its docstring names.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conventions_data import X0, G
from conventions_helpers import dev, host, param, random_grads, trajectory

import optim
from optim import functional


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("eps_hat", [1e-7, 0.1])
def test_epsilon_hat_is_algorithm1_with_time_varying_eps(device, amsgrad, eps_hat):
    """Kingma & Ba, Section 2: the efficient form with a constant eps_hat (Keras 3 / TF) equals Algorithm 1
    with eps_t = eps_hat / sqrt(1 - b2^t) (checked against the frameworks in optim/reference). With AMSGrad,
    Keras and PyTorch both take the max of the raw v, so the same substitution holds. The Algorithm 1
    side is computed step by step with optim.functional.adam_update and a per-step eps. Keras's floatx is set to
    float64 (``lr_dtype``), so that both sides use the same learning rate."""
    grads = random_grads(1, 12, (5,), scale=0.3)
    b1, b2, lr = 0.9, 0.999, 0.05
    x = param(np.linspace(-1, 1, 5), device, np.float64)
    opt = optim.Adam([x], lr=lr, eps=eps_hat, amsgrad=amsgrad, convention="keras", lr_dtype="float64")
    ref_param = np.linspace(-1, 1, 5)
    m, v, v_max = np.zeros(5), np.zeros(5), np.zeros(5)
    for t, g in enumerate(grads, start=1):
        opt.apply_gradients([(dev(g, device), x)])
        functional.adam_update(ref_param, g.copy(), m, v, v_max, step=t, lr=lr, beta1=b1, beta2=b2,
                               eps=eps_hat / math.sqrt(1 - b2**t), epsilon_mode="algorithm1",
                               amsgrad_mode="max_raw_v" if amsgrad else None)
        np.testing.assert_allclose(host(x.data), ref_param, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_pytorch_eps_is_keras_with_eps_hat_t(device, amsgrad):
    """The converse of the identity above (= tf_keras 2.21.0 ``adaptive_epsilon=True``): PyTorch's
    Algorithm 1 with eps equals the efficient form with eps_hat_t = eps sqrt(1 - b2^t), computed step by
    step with optim.functional.adam_update in epsilon_hat mode."""
    grads = random_grads(2, 12, (4,), scale=0.2)
    b1, b2, lr, eps = 0.9, 0.999, 0.02, 0.05
    x = param(np.ones(4), device, np.float64)
    opt = optim.Adam([x], lr=lr, eps=eps, amsgrad=amsgrad, convention="pytorch")
    ref_param, m, v, v_max = np.ones(4), np.zeros(4), np.zeros(4), np.zeros(4)
    for t, g in enumerate(grads, start=1):
        opt.apply_gradients([(dev(g, device), x)])
        functional.adam_update(ref_param, g.copy(), m, v, v_max, step=t, lr=lr, beta1=b1, beta2=b2,
                               eps=eps * math.sqrt(1 - b2**t), epsilon_mode="epsilon_hat",
                               amsgrad_mode="max_raw_v" if amsgrad else None)
        np.testing.assert_allclose(host(x.data), ref_param, rtol=1e-12, atol=1e-14)


def test_adamax_epsilon_placements_coincide_only_without_eps(device):
    """Adamax: u = max(b2 u, |g| + eps) with m/u (PyTorch) and u = max(b2 u, |g|) with m/(u + eps)
    (Keras/TF) are the same when eps = 0 (docs/conventions.md); with eps = 0.1 they differ. Hand check at t = 2 of the
    scenario, coordinate 0 (g = 1 then 0.01, lr 0.1): x1 = 1 - 0.1*0.1/(0.1*1.1);
    inside: u2 = max(0.999*1.1, 0.11), denominator: u2 = max(0.999, 0.01) + 0.1; x2 = x1 - 0.1/0.19 * 0.091/u2."""
    grads = np.abs(random_grads(3, 10, (6,))) + 0.01  # non-zero everywhere: no 0/0 without eps

    def run(mode, eps, rows=grads, x0=None, dtype=np.float64):
        x0 = np.zeros(6) if x0 is None else x0
        return trajectory(lambda p: optim.Adamax(p, lr=0.1, eps=eps, adamax_epsilon=mode), rows, device, x0, dtype)

    np.testing.assert_array_equal(run("inside_max", 0.0), run("denominator", 0.0))
    inside, denominator = run("inside_max", 0.1, G, X0), run("denominator", 0.1, G, X0)
    x1 = 1 - 0.1 * 0.1 / (0.1 * 1.1)
    m2, bc2 = 0.9 * 0.1 + 0.1 * 0.01, 1 - 0.9**2
    assert inside[1, 0] == pytest.approx(x1 - 0.1 / bc2 * m2 / max(0.999 * 1.1, 0.11), rel=1e-13)
    assert denominator[1, 0] == pytest.approx(x1 - 0.1 / bc2 * m2 / (max(0.999, 0.01) + 0.1), rel=1e-13)
    assert abs(inside[1, 0] - denominator[1, 0]) > 1e-6


def test_mindspore_ignores_amsgrad(device):
    """MindSpore 2.10.0 experimental Adam ignores amsgrad=True (mindspore/experimental/optim/adam.py, MindSpore
    2.10.0): under the
    mindspore convention AMSGrad's trajectory is plain Adam's, bit for bit, on a run where the max matters;
    an explicit amsgrad_mode turns it back on."""
    grads = random_grads(4, 10, (5,))
    plain = trajectory(lambda p: optim.Adam(p, lr=0.1, convention="mindspore"), grads, device, np.zeros(5))
    ams = trajectory(lambda p: optim.Adam(p, lr=0.1, amsgrad=True, convention="mindspore"), grads, device, np.zeros(5))
    cls = trajectory(lambda p: optim.AMSGrad(p, lr=0.1, convention="mindspore"), grads, device, np.zeros(5))
    np.testing.assert_array_equal(ams, plain)
    np.testing.assert_array_equal(cls, plain)
    on = trajectory(lambda p: optim.AMSGrad(p, lr=0.1, convention="mindspore", amsgrad_mode="max_raw_v"),
                    grads, device, np.zeros(5))
    assert not np.array_equal(on, plain)


def test_mindspore_adam_is_the_epsilon_hat_form(device):
    """MindSpore 2.10.0 experimental Adam calls ops.Adam, whose documented formula is the epsilon-hat form
    (MindSpore 2.10.0 ops.Adam, confirmed by the real runs in optim/reference/README.md): x -= lr sqrt(1-b2^t)/(1-b1^t)
    m/(sqrt(v) + eps), with eps 1e-8, beta powers in float32 (ops.Pow of the float betas) and the kernel's moments
    m += (g - m)(1 - b1), v += (g^2 - v)(1 - b2). Hand recurrence in float64, three steps."""
    grads = [np.array([0.3, -1e-9]), np.array([0.1, 2e-9]), np.array([-0.2, 0.0])]
    x = param([0.5, 0.5], device, np.float64)
    opt = optim.Adam([x], convention="mindspore")
    ref_x, m, v = np.array([0.5, 0.5]), np.zeros(2), np.zeros(2)
    for t, g in enumerate(grads, start=1):
        opt.apply_gradients([(dev(g, device), x)])
        m = m + (g - m) * (1 - 0.9)
        v = v + (g * g - v) * (1 - 0.999)
        bias1, bias2 = (float(np.float32(1) - np.float32(beta) ** np.float32(t)) for beta in (0.9, 0.999))
        alpha_t = 1e-3 * math.sqrt(bias2) / bias1
        ref_x = ref_x - alpha_t * m / (np.sqrt(v) + 1e-8)
        np.testing.assert_allclose(host(x.data), ref_x, rtol=1e-14, atol=1e-17)

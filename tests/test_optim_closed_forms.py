"""Closed forms: first steps, constant gradients, rescaling invariance, the eps-hat identity, AMSGrad monotonicity.

Every expected value below is derived from the update formulas (derivation in each docstring),
not taken from the library.
"""

from __future__ import annotations

import math

import numpy as np
import optim_reference as ref
import pytest

import minigrad as mg
import optim


def param(values, device, dtype=np.float64):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=True, device=device)


def set_grad(p, values, device):
    p.grad = mg.tensor(np.asarray(values, dtype=p.dtype), device=device)


def steps_taken(opt, p, grads, device):
    """Feed ``grads`` one by one; return the measured steps x_before - x_after (float64 arrays)."""
    out = []
    for g in grads:
        before = p.numpy().astype(np.float64, copy=True)
        set_grad(p, g, device)
        opt.step()
        out.append(before - p.numpy().astype(np.float64))
    return out


# --------------------------------------------------------------------------- first step
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
def test_keras_docstring_example_first_step_is_lr_sign_grad(device, convention):
    """tf.keras.optimizers.Adam docstring "Usage" example (TensorFlow 2.x,
    tensorflow/python/keras/optimizer_v2/adam.py; also tf_keras/optimizers/legacy/adam.py):
    Adam(learning_rate=0.1), var1 = 10.0, loss = var1**2/2, one minimize -> var1 == 9.9 ("The first
    step is -learning_rate*sign(grad)").  Kingma & Ba Sec. 2.1: at t=1, m_hat = g and v_hat = g^2, so
    the step is lr*g/(|g|+eps) = 0.1*10/(10+1e-8)."""
    var1 = param(10.0, device)
    opt = optim.Adam([var1], lr=0.1, convention=convention)
    loss = opt.minimize(lambda: (var1 * var1) / 2.0, [var1])
    assert isinstance(loss, mg.Tensor)
    assert float(loss.item()) == 50.0  # the loss at the point where the gradient was taken
    assert f"{float(var1.item()):.1f}" == "9.9"
    assert float(var1.item()) == pytest.approx(10.0 - 0.1 * 10.0 / (10.0 + 1e-8), rel=1e-15, abs=1e-14)


@pytest.mark.parametrize("optimizer", ["adam", "adam_eps_hat", "adam_max_raw_v", "adam_max_corrected_v", "adamax"])
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
def test_first_step_is_lr_sign_g(device, optimizer, convention):
    """First update t=1 (m_1 = (1-b1)g, v_1 = (1-b2)g^2, u_1 = |g|):
    Algorithm 1: lr*g/(|g|+eps); eps-hat form: lr*g/(|g|+eps/sqrt(1-b2)); AMSGrad with bias correction:
    the same as Adam (v_max = v_1); AdaMax (either eps placement): lr*g/(|g|+eps).  All equal
    lr*sign(g) up to eps/|g| (Kingma & Ba 2015, Sec. 2.1: "|Delta_1| = alpha" for eps=0)."""
    g = np.array([3.0, -0.02, 1e3, -7e-3, 0.0, 1e-5])
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    if optimizer == "adamax":
        opt_factory = lambda ps: optim.Adamax(ps, lr=lr, betas=(b1, b2), eps=eps, convention=convention)  # noqa: E731
        expected = lr * g / (np.abs(g) + eps)
    else:
        kw = {"lr": lr, "betas": (b1, b2), "eps": eps, "convention": convention}
        if optimizer == "adam_eps_hat":
            kw["epsilon_mode"] = "epsilon_hat"
            expected = lr * g / (np.abs(g) + eps / math.sqrt(1 - b2))
        else:
            expected = lr * g / (np.abs(g) + eps)
        if optimizer.startswith("adam_max"):
            kw.update(amsgrad=True, amsgrad_mode=optimizer.removeprefix("adam_"))
        opt_factory = lambda ps: optim.Adam(ps, **kw)  # noqa: E731
    p = param(np.zeros_like(g), device)
    (step,) = steps_taken(opt_factory([p]), p, [g], device)
    np.testing.assert_allclose(step, expected, rtol=1e-13, atol=0)
    big = np.abs(g) >= 1e-2
    np.testing.assert_allclose(step[big], lr * np.sign(g[big]), rtol=1e-4)  # eps/sqrt(1-b2)/|g| <= 1.6e-5
    assert step[4] == 0.0  # g = 0: m = 0, so no movement at all


def test_amsgrad_paper_first_step_is_not_sign(device):
    """Reddi et al. Algorithm 2 has no bias correction: the first step is
    alpha*(1-b1)g/(sqrt(1-b2)|g|+eps) ~ alpha*(1-b1)/sqrt(1-b2) = 3.162*alpha for the defaults."""
    p = param([2.0, -5.0], device)
    opt = optim.AMSGrad([p], lr=0.1, convention="paper")
    (step,) = steps_taken(opt, p, [[2.0, -5.0]], device)
    g = np.array([2.0, -5.0])
    np.testing.assert_allclose(step, 0.1 * 0.1 * g / (math.sqrt(0.001) * np.abs(g) + 1e-8), rtol=1e-13)
    assert abs(step[0]) > 3.16 * 0.1


# --------------------------------------------------------------------------- constant gradients
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("eps", [1e-8, 0.5])
def test_adam_constant_gradient_every_step_is_lr_g_over_abs_g_plus_eps(device, convention, eps):
    """Constant g: m_t = g(1-b1^t), v_t = g^2(1-b2^t), so m_hat = g and v_hat = g^2 exactly and every
    Algorithm 1 step equals lr*g/(|g|+eps); the eps-hat form gives lr*g/(|g|+eps/sqrt(1-b2^t))."""
    g = np.array([2.5, -0.25, 1e-3, -40.0])
    lr, b1, b2 = 0.01, 0.9, 0.999
    p = param(np.zeros(4), device)
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps, convention=convention)
    for step in steps_taken(opt, p, [g] * 100, device):
        np.testing.assert_allclose(step, lr * g / (np.abs(g) + eps), rtol=1e-12)
    q = param(np.zeros(4), device)
    opt = optim.Adam([q], lr=lr, betas=(b1, b2), eps=eps, convention=convention, epsilon_mode="epsilon_hat")
    for t, step in enumerate(steps_taken(opt, q, [g] * 60, device), start=1):
        np.testing.assert_allclose(step, lr * g / (np.abs(g) + eps / math.sqrt(1 - b2**t)), rtol=1e-12)


@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("adamax_epsilon", ["denominator", "inside_max"])
def test_adamax_constant_gradient(device, convention, adamax_epsilon):
    """Constant g: u_t = max(b2*u, |g|) = |g| (or |g|+eps inside the max), m_t/(1-b1^t) = g, so every
    AdaMax step is lr*g/(|g|+eps) for both eps placements."""
    g = np.array([2.5, -0.25, 1e-3, -40.0])
    lr, eps = 0.02, 0.01
    p = param(np.ones(4), device)
    opt = optim.Adamax([p], lr=lr, eps=eps, convention=convention, adamax_epsilon=adamax_epsilon)
    for step in steps_taken(opt, p, [g] * 60, device):
        np.testing.assert_allclose(step, lr * g / (np.abs(g) + eps), rtol=1e-12)


@pytest.mark.parametrize("amsgrad_mode", ["max_raw_v", "max_corrected_v", "no_bias_correction"])
def test_amsgrad_constant_gradient(device, amsgrad_mode):
    """Constant g: v_t = g^2(1-b2^t) increases, so v_max = v_t (raw) or g^2 (corrected): the bias-
    corrected modes step exactly like Adam, lr*g/(|g|+eps); Reddi's uncorrected rule steps
    lr*g(1-b1^t)/(|g|sqrt(1-b2^t)+eps)."""
    g = np.array([2.5, -0.25, 1e-3])
    lr, b1, b2, eps = 0.01, 0.9, 0.99, 1e-8
    p = param(np.zeros(3), device)
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps, amsgrad=True, amsgrad_mode=amsgrad_mode)
    for t, step in enumerate(steps_taken(opt, p, [g] * 50, device), start=1):
        if amsgrad_mode == "no_bias_correction":
            expected = lr * g * (1 - b1**t) / (np.abs(g) * math.sqrt(1 - b2**t) + eps)
        else:
            expected = lr * g / (np.abs(g) + eps)
        np.testing.assert_allclose(step, expected, rtol=1e-12)


# --------------------------------------------------------------------------- rescaling invariance
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda ps, c: optim.Adam(ps, lr=0.05, eps=0.0, convention=c), id="adam"),
        pytest.param(lambda ps, c: optim.Adam(ps, lr=0.05, eps=0.0, convention=c, epsilon_mode="epsilon_hat"),
                     id="adam-eps-hat"),
        pytest.param(lambda ps, c: optim.AMSGrad(ps, lr=0.05, eps=0.0, convention=c), id="amsgrad"),
        pytest.param(lambda ps, c: optim.Adam(ps, lr=0.05, eps=0.0, convention=c, amsgrad=True,
                                              amsgrad_mode="max_corrected_v"), id="amsgrad-corrected"),
        pytest.param(lambda ps, c: optim.Adamax(ps, lr=0.05, eps=0.0, convention=c), id="adamax"),
    ],
)
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
def test_update_is_invariant_to_gradient_rescaling_when_eps_is_zero(device, make, convention):
    """Kingma & Ba (2015) Sec. 2.1: with eps = 0 the step c*m_hat/sqrt(c^2*v_hat) does not depend on
    c > 0 (AdaMax: c*m/(c*u)).  For c a power of two every rounding scales exactly, so the
    trajectories are bitwise equal; for other c they agree to ~1e-12."""
    rng = np.random.default_rng(5)
    grads = ref.make_gradient_sequence(rng, 30, (4, 3), nonzero_first=True)
    x0 = rng.standard_normal((4, 3))
    runs = {}
    for c in (1.0, 2.0**-20, 2.0**30, 1e-3, 7.3, 1e4):
        p = param(x0, device)
        opt = make([p], convention)
        traj = []
        for g in grads:
            set_grad(p, c * g, device)
            opt.step()
            traj.append(p.numpy().copy())
        runs[c] = np.array(traj)
    for c in (2.0**-20, 2.0**30):
        assert np.array_equal(runs[c], runs[1.0]), c
    for c in (1e-3, 7.3, 1e4):
        np.testing.assert_allclose(runs[c], runs[1.0], rtol=1e-12, atol=1e-13)


def test_rescaling_invariance_is_broken_by_eps(device):
    """Control for the test above: with eps > 0 a small gradient scale is NOT invariant, so the
    invariance test could fail."""
    g = np.array([1e-6, -2e-6])
    out = []
    for c in (1.0, 1e6):
        p = param([0.0, 0.0], device)
        opt = optim.Adam([p], lr=0.1, eps=1e-6)
        set_grad(p, c * g, device)
        opt.step()
        out.append(p.numpy().copy())
    assert np.max(np.abs(out[0] - out[1])) > 1e-2


# --------------------------------------------------------------------------- eps-hat identity
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_efficient_form_with_eps_hat_t_equals_algorithm_1(device, convention, amsgrad):
    """Kingma & Ba (2015), Section 2 last paragraph: with alpha_t = alpha*sqrt(1-b2^t)/(1-b1^t),
    alpha_t*m/(sqrt(v)+eps_hat) = alpha*m_hat/(sqrt(v_hat)+eps) exactly when eps_hat = eps*sqrt(1-b2^t)
    (divide numerator and denominator by sqrt(1-b2^t)).  The library's epsilon_mode="epsilon_hat" with
    group["eps"] set to eps*sqrt(1-b2^t) before step t must reproduce epsilon_mode="algorithm1" (for
    AMSGrad with amsgrad_mode="max_raw_v", v -> v_max on both sides); a constant eps_hat must not."""
    rng = np.random.default_rng(9)
    grads = ref.make_gradient_sequence(rng, 40, (6,), jump_down=1e-4)
    x0 = rng.standard_normal(6)
    lr, b1, b2, eps = 0.05, 0.9, 0.99, 1e-3
    extra = {"amsgrad": True, "amsgrad_mode": "max_raw_v"} if amsgrad else {}

    def run(epsilon_mode, eps_of_t):
        p = param(x0, device)
        opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps, convention=convention, epsilon_mode=epsilon_mode,
                         **extra)
        traj = []
        for t, g in enumerate(grads, start=1):
            opt.param_groups[0]["eps"] = eps_of_t(t)
            set_grad(p, g, device)
            opt.step()
            traj.append(p.numpy().copy())
        return np.array(traj)

    algorithm1 = run("algorithm1", lambda t: eps)
    efficient = run("epsilon_hat", lambda t: eps * math.sqrt(1 - b2**t))
    constant_hat = run("epsilon_hat", lambda t: eps)
    np.testing.assert_allclose(efficient, algorithm1, rtol=1e-12, atol=1e-13)
    assert np.max(np.abs(constant_hat - algorithm1)) > 1e-3
    # and the same identity through the float64 transcription of Algorithm 1 itself
    if not amsgrad:
        want = np.array(ref.run_elementwise(ref.kingma_ba_algorithm1, grads, x0, alpha=lr, beta1=b1, beta2=b2,
                                            epsilon=eps))
        np.testing.assert_allclose(efficient, want, rtol=1e-12, atol=1e-13)


def test_functional_adam_update_eps_hat_t_equals_algorithm_1(device):
    """Same identity through optim.functional.adam_update with a per-step eps argument
    (Kingma & Ba 2015, Sec. 2: eps_hat = eps*sqrt(1-b2^t))."""
    from optim import functional

    rng = np.random.default_rng(10)
    grads = ref.make_gradient_sequence(rng, 30, (5,))
    x0 = rng.standard_normal(5)
    lr, b1, b2, eps = 0.05, 0.8, 0.95, 1e-2
    xp = mg.backend.as_device(device).xp
    x_a, m_a, v_a = xp.asarray(x0.copy()), xp.zeros(5), xp.zeros(5)
    x_b, m_b, v_b = xp.asarray(x0.copy()), xp.zeros(5), xp.zeros(5)
    for t, g in enumerate(grads, start=1):
        functional.adam_update(x_a, xp.asarray(g), m_a, v_a, None, step=t, lr=lr, beta1=b1, beta2=b2, eps=eps,
                               epsilon_mode="algorithm1")
        functional.adam_update(x_b, xp.asarray(g), m_b, v_b, None, step=t, lr=lr, beta1=b1, beta2=b2,
                               eps=eps * math.sqrt(1 - b2**t), epsilon_mode="epsilon_hat")
        np.testing.assert_allclose(mg.backend.to_numpy(x_b), mg.backend.to_numpy(x_a), rtol=1e-12, atol=1e-13)
    want = ref.run_elementwise(ref.kingma_ba_algorithm1, grads, x0, alpha=lr, beta1=b1, beta2=b2, epsilon=eps)[-1]
    np.testing.assert_allclose(mg.backend.to_numpy(x_a), want, rtol=1e-12, atol=1e-13)


# --------------------------------------------------------------------------- AMSGrad monotonicity
@pytest.mark.parametrize("amsgrad_mode", ["max_raw_v", "max_corrected_v", "no_bias_correction"])
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
def test_amsgrad_v_max_never_decreases(device, amsgrad_mode, convention):
    """Reddi et al. (2018) Algorithm 2: v_hat_t = max(v_hat_{t-1}, v_t) is elementwise non-decreasing;
    it dominates v_t (raw modes) or v_t/(1-b2^t) (max_corrected_v, Optax), and equals the running max
    of those values.  The sequence has large gradients followed by tiny ones, so v itself decreases."""
    rng = np.random.default_rng(3)
    grads = ref.make_gradient_sequence(rng, 45, (3, 5), jump_down=1e-4)
    b1, b2 = 0.9, 0.9
    p = param(rng.standard_normal((3, 5)), device)
    opt = optim.Adam([p], lr=0.01, betas=(b1, b2), amsgrad=True, amsgrad_mode=amsgrad_mode, convention=convention)
    previous = np.zeros((3, 5))
    v_ref = np.zeros((3, 5))
    running_max = np.zeros((3, 5))
    v_decreased = False
    for t, g in enumerate(grads, start=1):
        set_grad(p, g, device)
        opt.step()
        v_max = mg.backend.to_numpy(opt.state[p]["v_max"]).astype(np.float64)
        v = mg.backend.to_numpy(opt.state[p]["v"]).astype(np.float64)
        assert np.all(v_max >= previous), f"v_max decreased at t={t}"
        tracked = v / (1 - b2**t) if amsgrad_mode == "max_corrected_v" else v
        assert np.all(v_max >= tracked * (1 - 1e-15)), f"v_max below the tracked v at t={t}"
        new_v_ref = b2 * v_ref + (1 - b2) * g * g
        v_decreased |= bool(np.any(new_v_ref < v_ref))
        v_ref = new_v_ref
        running_max = np.maximum(running_max, v_ref / (1 - b2**t) if amsgrad_mode == "max_corrected_v" else v_ref)
        np.testing.assert_allclose(v_max, running_max, rtol=1e-12, atol=0)
        previous = v_max
    assert v_decreased  # the max really had work to do

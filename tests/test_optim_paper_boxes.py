"""The library against literal float64 transcriptions of the algorithm boxes (tests/optim_reference.py):
Kingma & Ba Algorithms 1 and 2 and the efficient form, Reddi et al. Algorithm 2, torch.optim and Optax.

Gradient sequences have sign flips, exact zeros, a whole zero step, a coordinate that is
zero for the first steps, and scale jumps (x1e3, then x1e-3) -- see
``optim_reference.make_gradient_sequence``.  Float64 runs must agree to rtol 1e-12 (the
absolute floor 1e-13 covers iterates that pass near 0: x is O(1), so each update rounds
at ~1e-16 absolute); float32 runs agree with the float64 transcription to ~1e-5.
"""

from __future__ import annotations

import numpy as np
import optim_reference as ref
import pytest
from optim_paper_helpers import assert_trajectories, make_problem, reference_trajectories, run_library

import optim


# --------------------------------------------------------------------------- the reference itself
def test_reference_drivers_reproduce_the_literal_boxes():
    """Self-check of tests/optim_reference.py: the generic contract drivers equal the literal boxes
    (Kingma & Ba Alg. 1, Sec. 2 efficient form, Alg. 2; Reddi et al. Alg. 2; PyTorch Adam/Adamax;
    Optax amsgrad) on a random sequence, so a slip in one transcription shows up here."""
    rng = np.random.default_rng(7)
    g = [float(v) for v in rng.standard_normal(40) * np.repeat([1.0, 1e3, 1e-3, 1.0], 10)]
    g[5] = 0.0
    kw = {"lr": 0.03, "betas": (0.8, 0.97), "eps": 1e-3}
    alg1 = ref.kingma_ba_algorithm1(g, 0.4, alpha=0.03, beta1=0.8, beta2=0.97, epsilon=1e-3)
    np.testing.assert_allclose(ref.adam_reference(g, 0.4, **kw), alg1, rtol=1e-14)
    np.testing.assert_allclose(ref.pytorch_adam(g, 0.4, **kw), alg1, rtol=1e-13)
    eff = ref.kingma_ba_efficient_form(g, 0.4, alpha=0.03, beta1=0.8, beta2=0.97, eps_hat=1e-3)
    np.testing.assert_allclose(ref.adam_reference(g, 0.4, epsilon_mode="epsilon_hat", **kw), eff, rtol=1e-14)
    reddi = ref.reddi_amsgrad(g, 0.4, lambda t: 0.03, beta1=0.8, beta2=0.97, epsilon=1e-3)
    np.testing.assert_allclose(
        ref.adam_reference(g, 0.4, amsgrad=True, amsgrad_mode="no_bias_correction", **kw), reddi, rtol=1e-14)
    np.testing.assert_allclose(
        ref.adam_reference(g, 0.4, amsgrad=True, amsgrad_mode="max_raw_v", **kw),
        ref.pytorch_adam(g, 0.4, amsgrad=True, **kw), rtol=1e-13)
    np.testing.assert_allclose(
        ref.adam_reference(g, 0.4, amsgrad=True, amsgrad_mode="max_corrected_v", **kw),
        ref.optax_amsgrad(g, 0.4, lr=0.03, b1=0.8, b2=0.97, eps=1e-3), rtol=1e-14)
    np.testing.assert_allclose(
        ref.adamax_reference(g, 0.4, adamax_epsilon="denominator", **kw),
        ref.kingma_ba_adamax(g, 0.4, alpha=0.03, beta1=0.8, beta2=0.97, epsilon=1e-3), rtol=1e-14)
    np.testing.assert_allclose(
        ref.adamax_reference(g, 0.4, adamax_epsilon="inside_max", **kw), ref.pytorch_adamax(g, 0.4, **kw),
        rtol=1e-13)
    # the choices really differ on this sequence (otherwise the library tests could not tell them apart)
    assert abs(eff[-1] - alg1[-1]) > 1e-6
    assert abs(reddi[-1] - alg1[-1]) > 1e-3


# --------------------------------------------------------------------------- literal boxes
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("eps", [1e-8, 1e-3])
def test_adam_is_kingma_ba_algorithm_1(device, convention, eps):
    """Kingma & Ba (2015) Algorithm 1: m, v, m_hat = m/(1-b1^t), v_hat = v/(1-b2^t),
    theta -= alpha*m_hat/(sqrt(v_hat)+eps); both conventions default to it (epsilon_mode="algorithm1")."""
    x0s, per_param = make_problem(11, with_none=False)
    _, _, got = run_library(
        lambda ps: optim.Adam(ps, lr=0.05, betas=(0.9, 0.999), eps=eps, convention=convention),
        x0s, per_param, device)
    want = reference_trajectories(
        ref.kingma_ba_algorithm1, x0s, per_param, alpha=0.05, beta1=0.9, beta2=0.999, epsilon=eps)
    assert_trajectories(got, want)


@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("eps_hat", [1e-8, 1e-3])
def test_adam_epsilon_hat_is_the_efficient_form(device, convention, eps_hat):
    """Kingma & Ba (2015), last paragraph of Section 2: alpha_t = alpha*sqrt(1-b2^t)/(1-b1^t),
    theta -= alpha_t*m/(sqrt(v)+eps_hat) with a constant eps_hat (epsilon_mode="epsilon_hat", Keras/TF)."""
    x0s, per_param = make_problem(12, with_none=False)
    _, _, got = run_library(
        lambda ps: optim.Adam(ps, lr=0.05, betas=(0.85, 0.99), eps=eps_hat, convention=convention,
                              epsilon_mode="epsilon_hat"),
        x0s, per_param, device)
    want = reference_trajectories(
        ref.kingma_ba_efficient_form, x0s, per_param, alpha=0.05, beta1=0.85, beta2=0.99, eps_hat=eps_hat)
    assert_trajectories(got, want)


@pytest.mark.parametrize("eps", [0.0, 1e-8, 0.1])
def test_adamax_is_kingma_ba_algorithm_2(device, eps):
    """Kingma & Ba (2015) Section 7.1 Algorithm 2: u = max(b2*u, |g|), theta -= (alpha/(1-b1^t))*m/u;
    the "paper" convention adds eps to the denominator (eps=0: the box literally; the first
    gradient has no zeros then, since the box divides 0 by 0 at a coordinate never seen)."""
    x0s, per_param = make_problem(13, with_none=False, nonzero_first=(eps == 0.0))
    _, _, got = run_library(
        lambda ps: optim.Adamax(ps, lr=0.02, betas=(0.9, 0.999), eps=eps, convention="paper"),
        x0s, per_param, device)
    want = reference_trajectories(
        ref.kingma_ba_adamax, x0s, per_param, alpha=0.02, beta1=0.9, beta2=0.999, epsilon=eps)
    assert_trajectories(got, want)


@pytest.mark.parametrize("eps", [0.0, 1e-8])
def test_amsgrad_paper_is_reddi_algorithm_2(device, eps):
    """Reddi, Kale & Kumar (2018) Algorithm 2 with constant alpha_t and beta1_t: no bias correction,
    v_hat = max(v_hat, v) over the raw v, x -= alpha*m/sqrt(v_hat) (+eps; eps=0 is the box)."""
    x0s, per_param = make_problem(14, with_none=False, nonzero_first=(eps == 0.0))
    _, _, got = run_library(
        lambda ps: optim.AMSGrad(ps, lr=0.01, betas=(0.9, 0.99), eps=eps, convention="paper"),
        x0s, per_param, device)
    want = reference_trajectories(
        ref.reddi_amsgrad, x0s, per_param, alphas=lambda t: 0.01, beta1=0.9, beta2=0.99, epsilon=eps)
    assert_trajectories(got, want)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("weight_decay,decoupled", [(0.0, False), (0.1, False), (0.1, True)])
@pytest.mark.parametrize("maximize", [False, True])
def test_adam_pytorch_convention_is_torch_adam(device, amsgrad, weight_decay, decoupled, maximize):
    """torch.optim.Adam 2.13.0 single-tensor path (transcribed in optim_reference.pytorch_adam):
    g = -g if maximize; L2 g += wd*x or decoupled x *= 1-lr*wd; amsgrad = max of the raw v with
    bias correction after the max; per-parameter steps, a None gradient skips the parameter."""
    x0s, per_param = make_problem(15, with_none=True)
    kw = {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": weight_decay, "amsgrad": amsgrad,
          "maximize": maximize, "decoupled_weight_decay": decoupled}
    _, _, got = run_library(lambda ps: optim.Adam(ps, convention="pytorch", **kw), x0s, per_param, device)
    want = reference_trajectories(ref.pytorch_adam, x0s, per_param, **kw)
    assert_trajectories(got, want)


def test_amsgrad_max_corrected_v_is_optax_amsgrad(device):
    """optax.scale_by_amsgrad defaults (optax @2edbcbe2, optax/_src/transform.py): the max is over
    the bias-corrected nu/(1-b2^t), update = (mu/(1-b1^t))/(sqrt(nu_max)+eps)."""
    x0s, per_param = make_problem(16, with_none=False)
    _, _, got = run_library(
        lambda ps: optim.Adam(ps, lr=0.05, betas=(0.9, 0.99), eps=1e-8, amsgrad=True,
                              amsgrad_mode="max_corrected_v"),
        x0s, per_param, device)
    want = reference_trajectories(ref.optax_amsgrad, x0s, per_param, lr=0.05, b1=0.9, b2=0.99, eps=1e-8)
    assert_trajectories(got, want)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("eps", [1e-8, 0.1])
def test_adamax_pytorch_convention_is_torch_adamax(device, weight_decay, maximize, eps):
    """torch.optim.Adamax 2.13.0 (optim_reference.pytorch_adamax): u = max(b2*u, |g|+eps) (eps
    inside the max), x -= lr/(1-b1^t)*m/u, L2 weight decay after the maximize flip."""
    x0s, per_param = make_problem(17, with_none=True)
    kw = {"lr": 0.02, "betas": (0.85, 0.98), "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
    _, _, got = run_library(lambda ps: optim.Adamax(ps, convention="pytorch", **kw), x0s, per_param, device)
    want = reference_trajectories(ref.pytorch_adamax, x0s, per_param, **kw)
    assert_trajectories(got, want)

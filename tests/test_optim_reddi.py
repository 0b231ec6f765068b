"""Reddi, Kale & Kumar (2018), "On the Convergence of Adam and Beyond": Adam fails, AMSGrad does not.

Both problems are online linear losses on F = [-1, 1] whose minimiser is x = -1.  The optimizer
is driven with opt.apply_gradients([(grad_array, x)]) and the projection onto F (clipping; in 1-D
the weighted projection of Algorithm 2 is plain clipping) is applied to x.data in place.
"""

from __future__ import annotations

import math

import numpy as np
import optim_reference as ref
import pytest

import minigrad as mg
import optim


def run_online(device, make_opt, gradient_at, steps, x1):
    """x_{t+1} = clip(x_t - update(g_t), -1, 1) for t = 1..steps; returns x_2..x_{T+1} (float64)."""
    xp = mg.backend.as_device(device).xp
    x = mg.tensor(np.array([x1]), requires_grad=True, device=device)
    opt = make_opt()
    out = np.empty(steps)
    for t in range(1, steps + 1):
        opt.apply_gradients([(xp.asarray([gradient_at(t)], dtype=np.float64), x)])
        xp.clip(x.data, -1.0, 1.0, out=x.data)
        out[t - 1] = float(x.data[0])
    assert opt.iterations == steps
    return out


# --------------------------------------------------------------------------- Theorem 1
C = 3.0


def theorem1_gradient(t: int) -> float:
    """f_t(x) = C*x if t mod 3 == 1 else -x (Reddi et al. 2018, Theorem 1 / Sec. 3), C = 3 > 2."""
    return C if t % 3 == 1 else -1.0


def theorem1_lr(k: int) -> float:
    """alpha_t = alpha/sqrt(t) with alpha = 0.5 < sqrt(1-b2); the library calls lr(k) with k = t-1."""
    return 0.5 / math.sqrt(k + 1)


BETAS_THEOREM1 = (0.0, 1.0 / (1.0 + C * C))  # b1 = 0, b2 = 1/(1+C^2) as in Theorem 1
T1 = 300


@pytest.mark.parametrize("convention", ["paper", "pytorch"])
def test_theorem_1_adam_converges_to_the_worst_point(device, convention):
    """Reddi et al. (2018) Theorem 1: with b1 = 0, b2 = 1/(1+C^2), Adam on f_t = C*x (t mod 3 == 1),
    -x (otherwise), F = [-1, 1] has non-zero average regret: its iterate goes to x = +1 (the
    worst point), although the average gradient (C-2)/3 > 0 points to x = -1.  Start x_1 = 1."""
    xs = run_online(device, lambda: optim.Adam(None, lr=theorem1_lr, betas=BETAS_THEOREM1, convention=convention),
                    theorem1_gradient, T1, 1.0)
    assert xs[-1] == 1.0
    assert xs[-30:].min() > 0.9  # stays near +1 over the last ten periods


@pytest.mark.parametrize("convention", ["paper", "pytorch"])
def test_theorem_1_amsgrad_converges_to_the_optimum(device, convention):
    """Same problem with AMSGrad (Reddi et al. Algorithm 2 under "paper", the max-raw-v variant with
    bias correction under "pytorch"): v_max keeps the C^2 spike, so the -1 gradients win and x -> -1."""
    xs = run_online(device, lambda: optim.AMSGrad(None, lr=theorem1_lr, betas=BETAS_THEOREM1, convention=convention),
                    theorem1_gradient, T1, 1.0)
    assert xs[-1] < -0.95
    assert xs[-30:].max() < -0.95


def test_theorem_1_paper_amsgrad_follows_reddi_algorithm_2(device):
    """The projected trajectory itself equals the float64 transcription of Reddi et al. Algorithm 2
    (alpha_t = 0.5/sqrt(t), constant b1 = 0, projection = clipping, plus the contract's eps = 1e-8)."""
    xs = run_online(device, lambda: optim.AMSGrad(None, lr=theorem1_lr, betas=BETAS_THEOREM1, convention="paper"),
                    theorem1_gradient, 90, 1.0)
    want = ref.reddi_amsgrad(lambda t, x: theorem1_gradient(t), 1.0, lambda t: 0.5 / math.sqrt(t),
                             beta1=BETAS_THEOREM1[0], beta2=BETAS_THEOREM1[1], epsilon=1e-8, steps=90,
                             project=lambda x: min(1.0, max(-1.0, x)))
    np.testing.assert_allclose(xs, want, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------- Figure 1 (online)
def figure1_gradient(t: int) -> float:
    """Reddi et al. (2018) Sec. 5, Figure 1 (online): f_t(x) = 1010*x if t mod 101 == 1 else -10*x."""
    return 1010.0 if t % 101 == 1 else -10.0


def figure1_lr(k: int) -> float:
    # The paper does not state the step size of Figure 1 (Reddi et al., Section 5).  With
    # x_1 = 0 and alpha_t = 1/sqrt(t), 50 periods (5050 steps) already separate the two methods
    # (float64 transcription: Adam 1.0; AMSGrad -0.54 paper form, -0.74 with bias correction).
    return 1.0 / math.sqrt(k + 1)


T_FIGURE1 = 50 * 101


@pytest.mark.parametrize("convention", ["paper", "pytorch"])
def test_figure_1_adam_drifts_to_plus_one_and_amsgrad_to_minus_one(device, convention):
    """Reddi et al. (2018) Figure 1 setting (b1 = 0.9, b2 = 0.99, F = [-1, 1], optimum x = -1): Adam's
    iterate goes to +1 (the largest regret in F) while AMSGrad's goes towards -1 (at this horizon the
    average regrets are still close, so the test checks the iterates, as Figure 1 (center) shows them)."""
    betas = (0.9, 0.99)
    adam = run_online(device, lambda: optim.Adam(None, lr=figure1_lr, betas=betas, convention=convention),
                      figure1_gradient, T_FIGURE1, 0.0)
    ams = run_online(device, lambda: optim.AMSGrad(None, lr=figure1_lr, betas=betas, convention=convention),
                     figure1_gradient, T_FIGURE1, 0.0)
    assert adam[-1] > 0.95
    assert adam[-101:].mean() > 0.9  # over the whole last period, not only at its end
    assert ams[-1] < -0.5
    assert ams[-101:].max() < -0.4

"""Step-size bounds (Kingma & Ba 2015, Section 2.1 and Section 7.1), measured on the library's steps.

All bounds assume eps = 0 (as Section 2.1 does).  The exact worst cases are derived in
tests/optim_reference.py (``adam_worst_case_step``, ``adamax_worst_case_step``):

* Adam: |step_t| <= lr*(1-b1)/(1-b1^t) * sqrt((1-b2^t)/(1-b2)) * sqrt(sum_{j<t} (b1^2/b2)^j)
  (Cauchy-Schwarz), attained by g_k proportional to (b1/b2)^(t-k).  The paper's
  |step| <= lr*(1-b1)/sqrt(1-b2) is an approximation, exceeded e.g. for betas (0.5, 0.9).
* AdaMax: |step_t| <= lr*(1-b1)/(1-b1^t) * sum_{j<t} (b1/b2)^j, attained by g_k proportional to
  b2^-(t-k).  The paper's |step| <= lr holds when |g_k| <= u_t for all k <= t (e.g. non-decreasing
  gradient magnitudes) but not in general -- not even for b1 <= b2 (the default betas with
  g = (1/b2, 1) give 1.00047*lr at t = 2).
"""

from __future__ import annotations

import math
import os

import numpy as np
import optim_reference as ref
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
import optim

# OPTIM_HYPOTHESIS_EXAMPLES=2000 for a longer search (60 keeps the suite fast).
HYPOTHESIS = settings(
    max_examples=int(os.environ.get("OPTIM_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def measured_steps(opt, p, grads, device):
    """Feed scalar gradients one by one into a (1,)-shaped parameter; return x_before - x_after per step."""
    out = []
    for g in grads:
        before = float(p.numpy()[0])
        p.grad = mg.tensor(np.array([g], dtype=np.float64), device=device)
        opt.step()
        out.append(before - float(p.numpy()[0]))
    return out


def new_param(device, value=0.0):
    return mg.tensor(np.array([value]), requires_grad=True, device=device)


def adam(device, b1, b2, convention="paper", lr=1.0):
    p = new_param(device)
    return optim.Adam([p], lr=lr, betas=(b1, b2), eps=0.0, convention=convention), p


def adamax(device, b1, b2, convention="paper", lr=1.0, eps=0.0):
    p = new_param(device)
    return optim.Adamax([p], lr=lr, betas=(b1, b2), eps=eps, convention=convention), p


gradient = st.one_of(
    st.just(0.0),
    st.builds(lambda s, e, m: s * m * 10.0**e, st.sampled_from([-1.0, 1.0]), st.integers(-3, 3),
              st.floats(0.1, 1.0)),
)


# --------------------------------------------------------------------------- Adam, Section 2.1
def test_section_2_1_bound_is_an_approximation_exceeded_for_betas_05_09(device):
    """Kingma & Ba (2015) Sec. 2.1 states |Delta_t| <= alpha*(1-b1)/sqrt(1-b2) when (1-b1) > sqrt(1-b2).
    For betas (0.5, 0.9) that is 1.581*alpha, but the sequence g_k = (b1/b2)^(t-k), t = 50, gives
    |Delta_50| = 1.8557*alpha (the Cauchy-Schwarz worst case), so the statement is not a theorem."""
    b1, b2, t, lr = 0.5, 0.9, 50, 0.1
    opt, p = adam(device, b1, b2, lr=lr)
    steps = measured_steps(opt, p, [(b1 / b2) ** (t - k) for k in range(1, t + 1)], device)
    paper_bound = lr * (1 - b1) / math.sqrt(1 - b2)
    assert abs(steps[-1]) > paper_bound * 1.17
    assert abs(steps[-1]) == pytest.approx(ref.adam_worst_case_step(lr, b1, b2, t), rel=1e-12)


def test_section_2_1_bound_is_exceeded_at_the_default_betas(device):
    """Same for the paper defaults (0.9, 0.999): bound alpha*(1-b1)/sqrt(1-b2) = 3.162*alpha, while the
    worst-case sequence with t = 1000 steps gives 5.78*alpha."""
    b1, b2, t = 0.9, 0.999, 1000
    opt, p = adam(device, b1, b2)
    steps = measured_steps(opt, p, [(b1 / b2) ** (t - k) for k in range(1, t + 1)], device)
    assert abs(steps[-1]) > 1.8 * (1 - b1) / math.sqrt(1 - b2)
    assert abs(steps[-1]) == pytest.approx(ref.adam_worst_case_step(1.0, b1, b2, t), rel=1e-11)


@HYPOTHESIS
@given(
    b1=st.floats(0.0, 0.99),
    b2=st.floats(0.05, 0.999),
    grads=st.lists(gradient, min_size=1, max_size=30).filter(lambda gs: gs[0] != 0.0),
    convention=st.sampled_from(["paper", "pytorch"]),
)
def test_adam_step_never_exceeds_the_cauchy_schwarz_bound(device, b1, b2, grads, convention):
    """|step_t| <= lr*(1-b1)/(1-b1^t)*sqrt((1-b2^t)/(1-b2))*sqrt(sum_{j<t}(b1^2/b2)^j) for every t, any
    betas and any gradients (eps = 0; g_1 != 0 so that v_hat > 0)."""
    opt, p = adam(device, b1, b2, convention=convention, lr=0.1)
    for t, step in enumerate(measured_steps(opt, p, grads, device), start=1):
        assert abs(step) <= ref.adam_worst_case_step(0.1, b1, b2, t) * (1 + 1e-10), t


@HYPOTHESIS
@given(b1=st.floats(0.05, 0.99), b2=st.floats(0.05, 0.999), t=st.integers(1, 40), scale=st.floats(1e-3, 1e3),
       sign=st.sampled_from([-1.0, 1.0]))
def test_adam_cauchy_schwarz_bound_is_attained(device, b1, b2, t, scale, sign):
    """The bound is attained: g_k = c*(b1/b2)^(t-k) (k = 1..t) makes the Cauchy-Schwarz inequality an
    equality, so |step_t| equals the bound (to rounding, 1e-12 relative)."""
    opt, p = adam(device, b1, b2, lr=0.1)
    grads = [sign * scale * (b1 / b2) ** (t - k) for k in range(1, t + 1)]
    step = measured_steps(opt, p, grads, device)[-1]
    assert sign * step == pytest.approx(ref.adam_worst_case_step(0.1, b1, b2, t), rel=1e-12)


# --------------------------------------------------------------------------- AdaMax, Section 7.1
def test_adamax_bound_fails_for_b1_greater_than_b2(device):
    """Kingma & Ba (2015) Sec. 7.1 claims |Delta_t| <= alpha for AdaMax.  With b1 = 0.99 > b2 = 0.5 and
    g = 1, 0, 0: m_3 = 0.01*0.99^2, u_3 = 0.25, so Delta_3 = alpha*0.009801/(1-0.99^3)/0.25 = 1.31996*alpha."""
    opt, p = adamax(device, 0.99, 0.5)
    steps = measured_steps(opt, p, [1.0, 0.0, 0.0], device)
    expected = 0.01 * 0.99**2 / (1 - 0.99**3) / 0.25
    assert steps[-1] == pytest.approx(expected, rel=1e-13)
    assert steps[-1] > 1.3


@pytest.mark.parametrize("convention", ["paper", "pytorch"])
def test_adamax_bound_fails_even_at_the_default_betas(device, convention):
    """b1 = 0.9 <= b2 = 0.999 (the defaults) and g = (1/b2, 1): u_2 = max(b2/b2, 1) = 1,
    m_2 = 0.1*(0.9/0.999 + 1), so Delta_2 = alpha*m_2/(1-0.81) = 1.000474*alpha > alpha
    (eps = 0; with eps at all the step is only ~1e-8 smaller)."""
    opt, p = adamax(device, 0.9, 0.999, convention=convention)
    steps = measured_steps(opt, p, [1 / 0.999, 1.0], device)
    assert steps[0] == pytest.approx(1.0, rel=1e-14)
    assert steps[1] == pytest.approx(0.1 * (0.9 / 0.999 + 1) / (1 - 0.81), rel=1e-13)
    assert steps[1] > 1.0004


@HYPOTHESIS
@given(
    b1=st.floats(0.0, 0.99),
    b2=st.floats(0.05, 0.999),
    grads=st.lists(gradient, min_size=1, max_size=30).filter(lambda gs: gs[0] != 0.0),
    setting=st.sampled_from([("paper", 0.0), ("pytorch", 0.0), ("paper", 1e-12), ("pytorch", 1e-12)]),
)
def test_adamax_step_never_exceeds_the_exact_bound(device, b1, b2, grads, setting):
    """|step_t| <= lr*(1-b1)/(1-b1^t)*sum_{j<t}(b1/b2)^j for any betas and gradients: since
    u_t = max_k b2^(t-k)|g_k|, |g_k| <= u_t/b2^(t-k).  eps > 0 only shrinks the step (u+eps, or
    max(b2*u, |g|+eps) >= u)."""
    convention, eps = setting
    opt, p = adamax(device, b1, b2, convention=convention, lr=0.1, eps=eps)
    for t, step in enumerate(measured_steps(opt, p, grads, device), start=1):
        assert abs(step) <= ref.adamax_worst_case_step(0.1, b1, b2, t) * (1 + 1e-10), t


@HYPOTHESIS
@given(b1=st.floats(0.05, 0.99), b2=st.floats(0.05, 0.999), t=st.integers(1, 30), scale=st.floats(1e-3, 1e3))
def test_adamax_exact_bound_is_attained(device, b1, b2, t, scale):
    """g_k = c*b2^-(t-k) keeps every b2^(t-k)|g_k| equal to u_t, so |step_t| equals the bound."""
    opt, p = adamax(device, b1, b2, lr=0.1)
    step = measured_steps(opt, p, [scale * b2 ** (k - t) for k in range(1, t + 1)], device)[-1]
    assert step == pytest.approx(ref.adamax_worst_case_step(0.1, b1, b2, t), rel=1e-12)
    if t >= 2:
        assert step > 0.1  # the paper's |Delta| <= alpha fails on this sequence for every b1 > 0


@HYPOTHESIS
@given(
    b1=st.floats(0.0, 0.99),
    b2=st.floats(0.0, 0.999),
    magnitudes=st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=30),
    signs=st.lists(st.sampled_from([-1.0, 1.0]), min_size=30, max_size=30),
    setting=st.sampled_from([("paper", 0.0), ("pytorch", 0.0), ("paper", 1e-8), ("pytorch", 1e-8)]),
)
def test_adamax_paper_bound_holds_for_non_decreasing_magnitudes(device, b1, b2, magnitudes, signs, setting):
    """When |g_1| <= |g_2| <= ... then u_t >= |g_t| >= |g_k| for all k <= t, so
    |m_t| <= (1-b1)*sum_k b1^(t-k)|g_k| <= (1-b1^t)*u_t and |Delta_t| <= alpha (Kingma & Ba Sec. 7.1)."""
    convention, eps = setting
    grads = [s * m for s, m in zip(signs, sorted(magnitudes), strict=False)]
    opt, p = adamax(device, b1, b2, convention=convention, lr=0.1, eps=eps)
    for t, step in enumerate(measured_steps(opt, p, grads, device), start=1):
        assert abs(step) <= 0.1 * (1 + 1e-12), t

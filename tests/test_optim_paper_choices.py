"""The library against the float64 transcriptions of the contract (tests/optim_reference.py): every choice
value, weight decay, maximize, schedules, the apply_gradients path, and float32 parameters.

Gradient sequences have sign flips, exact zeros, a whole zero step, a coordinate that is
zero for the first steps, and scale jumps (x1e3, then x1e-3) -- see
``optim_reference.make_gradient_sequence``.  Float64 runs must agree to rtol 1e-12 (the
absolute floor 1e-13 covers iterates that pass near 0: x is O(1), so each update rounds
at ~1e-16 absolute); float32 runs agree with the float64 transcription to ~1e-5.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import optim_reference as ref
import pytest
from optim_paper_helpers import (
    STEPS,
    assert_state_close,
    assert_trajectories,
    make_problem,
    reference_trajectories,
    run_library,
)

import optim

# --------------------------------------------------------------------------- every choice value
ADAM_GRID = list(itertools.product(
    ["paper", "pytorch"],
    ["algorithm1", "epsilon_hat"],
    [None, "max_raw_v", "max_corrected_v", "no_bias_correction"],
    ["global", "per_parameter"],
))


@pytest.mark.parametrize("convention,epsilon_mode,amsgrad_mode,step_counting", ADAM_GRID)
@pytest.mark.parametrize("eps", [1e-8, 1e-3])
def test_adam_every_choice_matches_transcription(device, convention, epsilon_mode, amsgrad_mode, step_counting, eps):
    """Contract formulas for every (convention, epsilon_mode, amsgrad_mode, step_counting): Algorithm 1
    or the eps-hat form; v_max = max(v_max, v) replacing v (max_raw_v), v_max = max(v_max, v/(1-b2^t))
    with m_hat (max_corrected_v), or x -= lr*m/(sqrt(v_max)+eps) (no_bias_correction); t global or per
    parameter (parameters 2 and 4 skip some calls).  Also checks the state arrays m, v, v_max."""
    x0s, per_param = make_problem(21, with_none=True)
    amsgrad = amsgrad_mode is not None
    kw = {"lr": 0.05, "betas": (0.9, 0.99), "eps": eps}
    choices = {"epsilon_mode": epsilon_mode, "step_counting": step_counting}
    if amsgrad:
        choices["amsgrad_mode"] = amsgrad_mode
    params, opt, got = run_library(
        lambda ps: optim.Adam(ps, amsgrad=amsgrad, convention=convention, **kw, **choices), x0s, per_param, device)
    want_states = []
    want = []
    for x0, seq in zip(x0s, per_param, strict=True):
        traj, state = ref.run_elementwise_with_state(
            ref.adam_reference, seq, x0, amsgrad=amsgrad, **kw,
            **{"amsgrad_mode": amsgrad_mode or "max_raw_v", "epsilon_mode": epsilon_mode,
               "step_counting": step_counting})
        want.append(traj)
        want_states.append(state)
    assert_trajectories(got, want)
    for i, (p, state) in enumerate(zip(params, want_states, strict=True)):
        keys = ["m", "v", "v_max"] if amsgrad else ["m", "v"]
        for key in keys:
            assert_state_close(opt.state[p][key], state[key], f"state[{key!r}] of parameter {i}")
        if step_counting == "per_parameter":
            updates = sum(g is not None for g in per_param[i])
            assert opt.state[p]["step"] == updates


ADAMAX_GRID = list(itertools.product(["paper", "pytorch"], ["denominator", "inside_max"], ["global", "per_parameter"]))


@pytest.mark.parametrize("convention,adamax_epsilon,step_counting", ADAMAX_GRID)
@pytest.mark.parametrize("eps", [1e-8, 0.1])
def test_adamax_every_choice_matches_transcription(device, convention, adamax_epsilon, step_counting, eps):
    """Contract formulas for every Adamax (convention, adamax_epsilon, step_counting): u = max(b2*u, |g|)
    and divide by u+eps ("denominator", Keras/TF) or u = max(b2*u, |g|+eps) ("inside_max", PyTorch/Optax);
    checks the state arrays m and u too."""
    x0s, per_param = make_problem(22, with_none=True)
    kw = {"lr": 0.02, "betas": (0.9, 0.99), "eps": eps}
    params, opt, got = run_library(
        lambda ps: optim.Adamax(ps, convention=convention, adamax_epsilon=adamax_epsilon,
                                step_counting=step_counting, **kw),
        x0s, per_param, device)
    want, want_states = [], []
    for x0, seq in zip(x0s, per_param, strict=True):
        traj, state = ref.run_elementwise_with_state(
            ref.adamax_reference, seq, x0, adamax_epsilon=adamax_epsilon, step_counting=step_counting, **kw)
        want.append(traj)
        want_states.append(state)
    assert_trajectories(got, want)
    for i, (p, state) in enumerate(zip(params, want_states, strict=True)):
        for key in ("m", "u"):
            assert_state_close(opt.state[p][key], state[key], f"state[{key!r}] of parameter {i}")


@pytest.mark.parametrize("optimizer", ["adam", "adamax"])
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("weight_decay,decoupled", [(0.05, False), (0.05, True)])
@pytest.mark.parametrize("maximize", [False, True])
def test_weight_decay_maximize_and_schedule_match_transcription(device, optimizer, convention, weight_decay,
                                                               decoupled, maximize):
    """Contract: g = -g (maximize) first; L2 g += wd*x after the flip, or decoupled x -= lr*wd*x before
    the step with the CURRENT lr; lr(k) is called with k = updates already applied (0 first)."""
    x0s, per_param = make_problem(23, with_none=True)

    def schedule(k):
        return 0.05 * 0.93**k

    kw = {"betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": weight_decay, "maximize": maximize,
          "decoupled_weight_decay": decoupled}
    if optimizer == "adam":
        cls, fn = optim.Adam, ref.adam_reference
        choices = ref.resolve("adam", convention)
        extra = {"epsilon_mode": choices["epsilon_mode"], "step_counting": choices["step_counting"]}
    else:
        cls, fn = optim.Adamax, ref.adamax_reference
        choices = ref.resolve("adamax", convention)
        extra = {"adamax_epsilon": choices["adamax_epsilon"], "step_counting": choices["step_counting"]}
    _, _, got = run_library(lambda ps: cls(ps, lr=schedule, convention=convention, **kw), x0s, per_param, device)
    want = reference_trajectories(fn, x0s, per_param, lr=schedule, **kw, **extra)
    assert_trajectories(got, want)


@pytest.mark.parametrize("optimizer", ["adam", "amsgrad", "adamax"])
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
def test_apply_gradients_path_equals_transcription(device, optimizer, convention):
    """opt.apply_gradients([(array, param), ...]) (Keras style, params bound lazily: params=None)
    follows the same formulas as step(); parameters missing from a call are skipped."""
    x0s, per_param = make_problem(24, with_none=True, first_call_complete=True)
    kw = {"lr": 0.03, "betas": (0.9, 0.995), "eps": 1e-7}
    if optimizer == "adamax":
        s = ref.resolve("adamax", convention)
        fn, extra = ref.adamax_reference, {"adamax_epsilon": s["adamax_epsilon"], "step_counting": s["step_counting"]}
        make = lambda ps: optim.Adamax(None, convention=convention, **kw)  # noqa: E731
    else:
        s = ref.resolve("adam", convention)
        fn = ref.adam_reference
        extra = {"amsgrad": optimizer == "amsgrad", "amsgrad_mode": s["amsgrad_mode"],
                 "epsilon_mode": s["epsilon_mode"], "step_counting": s["step_counting"]}
        cls = optim.AMSGrad if optimizer == "amsgrad" else optim.Adam
        make = lambda ps: cls(None, convention=convention, **kw)  # noqa: E731
    _, opt, got = run_library(make, x0s, per_param, device, via="apply_gradients")
    want = reference_trajectories(fn, x0s, per_param, **kw, **extra)
    assert_trajectories(got, want)
    assert opt.iterations == STEPS


# --------------------------------------------------------------------------- float32
@pytest.mark.parametrize("optimizer", ["adam", "amsgrad", "adam_eps_hat", "adamax"])
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
def test_float32_params_follow_the_float64_transcription(device, optimizer, convention):
    """Float32 parameters (and float32 gradients) stay within ~1e-5 relative of the float64
    transcription fed the same float32-rounded inputs; the state keeps the parameter's dtype."""
    x0s, per_param = make_problem(31, with_none=True)
    kw = {"lr": 0.02, "betas": (0.9, 0.99), "eps": 1e-3}
    if optimizer == "adamax":
        s = ref.resolve("adamax", convention)
        make = lambda ps: optim.Adamax(ps, convention=convention, **kw)  # noqa: E731
        fn, extra = ref.adamax_reference, {"adamax_epsilon": s["adamax_epsilon"], "step_counting": s["step_counting"]}
    else:
        s = ref.resolve("adam", convention)
        mode = "epsilon_hat" if optimizer == "adam_eps_hat" else "algorithm1"
        amsgrad = optimizer == "amsgrad"
        make = lambda ps: optim.Adam(ps, convention=convention, amsgrad=amsgrad, epsilon_mode=mode, **kw)  # noqa: E731
        fn = ref.adam_reference
        extra = {"amsgrad": amsgrad, "amsgrad_mode": s["amsgrad_mode"], "epsilon_mode": mode,
                 "step_counting": s["step_counting"]}
    params, opt, got = run_library(make, x0s, per_param, device, dtype=np.float32)
    want = reference_trajectories(fn, x0s, per_param, dtype=np.float32, **kw, **extra)
    assert_trajectories(got, want, rtol=1e-5, atol=1e-5)
    for p in params:
        assert p.dtype == np.float32
        for key, value in opt.state[p].items():
            if key != "step":
                assert value.dtype == np.float32, key


def test_float32_transcription_tolerance_is_meaningful():
    """Guard for the float32 tolerance above: on the same inputs the eps placement alone moves the
    float64 trajectories apart by far more than 1e-5, so the float32 comparison can fail."""
    x0s, per_param = make_problem(31, with_none=True)
    kw = {"lr": 0.02, "betas": (0.9, 0.99), "eps": 1e-3}
    a = reference_trajectories(ref.adam_reference, x0s, per_param, step_counting="global", **kw)
    for other in (
        {"epsilon_mode": "epsilon_hat", "step_counting": "global"},
        {"step_counting": "per_parameter"},
        {"amsgrad": True, "amsgrad_mode": "max_raw_v", "step_counting": "global"},
    ):
        b = reference_trajectories(ref.adam_reference, x0s, per_param, **kw, **other)
        gap = max(float(np.max(np.abs(x - y)))
                  for ta, tb in zip(a, b, strict=True) for x, y in zip(ta, tb, strict=True))
        assert gap > 1e-3, other
    assert math.isfinite(a[-1][-1].sum())

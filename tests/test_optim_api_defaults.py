"""The optim API contract, defaults: each convention's documented defaults, and AMSGrad == Adam(amsgrad=True)."""

from __future__ import annotations

import math

import numpy as np
import optim_reference as ref
import pytest
from optim_api_helpers import CLASSES, feed, grads_for, param, to_numpy, values

import optim


# --------------------------------------------------------------------------- defaults
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("name", list(CLASSES))
def test_none_means_the_convention_default(device, name, convention):
    """Contract, conventions: "paper" Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8, algorithm1,
    no_bias_correction, global; Adamax lr 2e-3, denominator; "pytorch": max_raw_v, per_parameter,
    inside_max.  Recorded in param_groups; explicit None gives the same; convention="paper" is the default."""
    kind = "adamax" if name == "Adamax" else "adam"
    want = ref.CONVENTION_DEFAULTS[convention][kind]
    cls = CLASSES[name]
    p = param([1.0], device)
    group = cls([p], convention=convention).param_groups[0]
    for key, value in want.items():
        got = tuple(group[key]) if key == "betas" else group[key]
        assert got == value, key
    explicit = {key: None for key in want}
    group2 = cls([param([1.0], device)], convention=convention, **explicit).param_groups[0]
    for key in want:
        assert group2[key] == group[key], key
    if convention == "paper":
        group3 = cls([param([1.0], device)]).param_groups[0]
        for key in want:
            assert group3[key] == group[key], key
    for key in ("weight_decay", "maximize", "decoupled_weight_decay"):
        assert key in group
    if kind == "adam":
        assert group["amsgrad"] is (name == "AMSGrad")


@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("name", list(CLASSES))
def test_default_hyperparameters_drive_the_update(device, name, convention):
    """Without any hyperparameter the trajectory equals the transcription run with the convention's
    documented defaults (catches a wrong default used internally, e.g. eps=1e-7)."""
    kind = "adamax" if name == "Adamax" else "adam"
    d = ref.resolve(kind, convention)
    shapes = [(3,), (2, 2)]
    steps = grads_for(1, shapes, 25, none_at={1: {0, 10}})
    params = [param(np.linspace(-1, 1, math.prod(s)).reshape(s), device) for s in shapes]
    x0s = values(params)
    opt = CLASSES[name](params, convention=convention)
    for g in steps:
        feed(opt, params, g, device)
    for i, p in enumerate(params):
        seq = [g[i] for g in steps]
        if kind == "adamax":
            want = ref.run_elementwise(ref.adamax_reference, seq, x0s[i], lr=d["lr"], betas=d["betas"], eps=d["eps"],
                                       adamax_epsilon=d["adamax_epsilon"], step_counting=d["step_counting"])
        else:
            want = ref.run_elementwise(ref.adam_reference, seq, x0s[i], lr=d["lr"], betas=d["betas"], eps=d["eps"],
                                       amsgrad=name == "AMSGrad", amsgrad_mode=d["amsgrad_mode"],
                                       epsilon_mode=d["epsilon_mode"], step_counting=d["step_counting"])
        np.testing.assert_allclose(p.numpy(), want[-1], rtol=1e-12, atol=1e-13)


# --------------------------------------------------------------------------- AMSGrad == Adam(amsgrad=True)
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("amsgrad_mode", [None, "max_raw_v", "max_corrected_v", "no_bias_correction"])
def test_amsgrad_equals_adam_with_amsgrad_true(device, convention, amsgrad_mode):
    """AMSGrad(...) is Adam(amsgrad=True): bitwise equal trajectories and state."""
    shapes = [(4,), (2, 3)]
    steps = grads_for(2, shapes, 30, none_at={0: {3}})
    kw = {"lr": 0.02, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.01, "convention": convention,
          "amsgrad_mode": amsgrad_mode}
    a = [param(np.ones(s), device) for s in shapes]
    b = [param(np.ones(s), device) for s in shapes]
    opt_a, opt_b = optim.AMSGrad(a, **kw), optim.Adam(b, amsgrad=True, **kw)
    for g in steps:
        feed(opt_a, a, g, device)
        feed(opt_b, b, g, device)
        for x, y in zip(a, b, strict=True):
            assert np.array_equal(x.numpy(), y.numpy())
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(to_numpy(opt_a.state[x]["v_max"]), to_numpy(opt_b.state[y]["v_max"]))

"""Optax's eps_root and nesterov (optax.adam / adamw / amsgrad, Optax 0.2.8, optax/_src/transform.py
scale_by_adam) under convention="optax": the step in Optax's order of operations, the fused path bit for bit,
the defaults kept, and the refusals (the recorded cases are in optim/reference/optax.json)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from fused_helpers import assert_identical, run, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import optim
from optim.reference import DATA_DIR, replay

F32 = np.float32


def _optax_moments(mu, nu, g, b1, b2):
    """Optax's update_moment and update_moment_per_elem_norm (order 2) in float32."""
    return F32(1 - b1) * g + F32(b1) * mu, F32(1 - b2) * (g * g) + F32(b2) * nu


def _optax_update(p, mu, nu, g, count, lr, b1, b2, eps, eps_root, nesterov):
    """The rest of a step of Optax's adam in float32, operation by operation as scale_by_adam then
    scale_by_learning_rate and apply_updates compute it, from the new moments."""
    if nesterov:
        corrected_next = mu / (F32(1) - F32(b1) ** F32(count + 1))
        mu_hat = F32(b1) * corrected_next + F32(1 - b1) * (g / (F32(1) - F32(b1) ** F32(count)))
    else:
        mu_hat = mu / (F32(1) - F32(b1) ** F32(count))
    nu_hat = nu / (F32(1) - F32(b2) ** F32(count))
    update = mu_hat / (np.sqrt(nu_hat + F32(eps_root)) + F32(eps))
    return p + F32(-lr) * update


@pytest.mark.parametrize("eps_root, nesterov", [(1e-3, False), (0.0, True), (1e-4, True)])
def test_reference_step_is_optax_order_of_operations_in_float32(eps_root, nesterov):
    """Each step of the library's reference path against a float32 transcription of Optax's scale_by_adam from
    the same state: m is the same bits; v is rounded once more in the library ((1 - b2) g g against Optax's
    (1 - b2) (g g)), by at most one unit in the last place; from the library's new m and v, the step (bias
    corrections, Nesterov's m_hat, sqrt(v_hat + eps_root) + eps, the update) is Optax's, bit for bit."""
    rng = np.random.default_rng(7)
    x = mg.tensor(rng.standard_normal(64).astype(F32), requires_grad=True)
    opt = optim.Adam([x], lr=0.1, convention="optax", eps_root=eps_root, nesterov=nesterov)
    mu = nu = np.zeros(64, F32)
    for count in range(1, 9):
        g = rng.standard_normal(64).astype(F32) * F32(10.0 ** rng.integers(-3, 2))
        want_mu, want_nu = _optax_moments(mu, nu, g, 0.9, 0.999)
        before = x.data.copy()
        x.grad = mg.tensor(g.copy())
        opt.step()
        mu, nu = opt.state[x]["m"].copy(), opt.state[x]["v"].copy()
        np.testing.assert_array_equal(mu, want_mu)
        np.testing.assert_array_max_ulp(nu, want_nu, maxulp=1)
        want = _optax_update(before, mu, nu, g, count, 0.1, 0.9, 0.999, 1e-8, eps_root, nesterov)
        np.testing.assert_array_equal(x.data.view(np.int32), want.view(np.int32))


def test_each_option_changes_the_step_and_zero_keeps_the_default_bits():
    """eps_root=0.0 and nesterov=False are the defaults: the same bits as without them; eps_root=1e-3 and
    nesterov=True each give other steps."""
    def final(**kwargs):
        x = mg.tensor(np.linspace(-1, 1, 9), requires_grad=True)
        opt = optim.Adam([x], lr=0.1, convention="optax", **kwargs)
        for step in range(5):
            x.grad = mg.tensor(np.cos(np.arange(9.0) + step) * 1e-3)
            opt.step()
        return x.data.copy()

    default = final()
    np.testing.assert_array_equal(final(eps_root=0.0, nesterov=False), default)
    assert not np.array_equal(final(eps_root=1e-3), default)
    assert not np.array_equal(final(nesterov=True), default)
    group = optim.Adam([mg.tensor(np.zeros(1), requires_grad=True)], lr=0.1, convention="optax").param_groups[0]
    assert group["eps_root"] == 0.0 and group["nesterov"] is False


OPTAX_CASES = st.sampled_from([
    (optim.Adam, {"eps_root": 1e-3}), (optim.Adam, {"nesterov": True}),
    (optim.Adam, {"eps_root": 1e-8, "nesterov": True, "weight_decay": 0.1}),
    (optim.Adam, {"nesterov": True, "maximize": True}), (optim.AMSGrad, {"eps_root": 1e-3}),
    (optim.AMSGrad, {"eps_root": 1e-2, "weight_decay": 0.01}),
])


@settings(max_examples=30, deadline=None)
@given(case=OPTAX_CASES, dtype=st.sampled_from([np.float32, np.float64]), views=st.booleans(),
       seed=st.integers(0, 1000))
def test_fused_path_is_bit_identical(case, dtype, views, seed):
    """fused=True (NumPy ufuncs or Numba, and the direct step on the gradient views) runs the same rule: the
    parameters and the state are the reference path's bits."""
    cls, kwargs = case
    kwargs = {"lr": 0.05, "convention": "optax", **kwargs}
    shapes = [(3, 4), (257,), (1,)]
    reference = run(cls, kwargs, shapes, dtype, "cpu", fused=False, steps=5, seed=seed, views=views)
    fused = run(cls, kwargs, shapes, dtype, "cpu", fused=True, steps=5, seed=seed, views=views)
    assert_identical(snapshot(*fused), snapshot(*reference))


def test_config_and_state_dict_keep_the_options():
    """get_config and from_config, and state_dict and load_state_dict, carry eps_root and nesterov."""
    x = mg.tensor(np.zeros(2), requires_grad=True)
    opt = optim.Adam([x], lr=0.1, convention="optax", eps_root=1e-6, nesterov=True)
    config = json.loads(json.dumps(opt.get_config()))
    assert config["eps_root"] == 1e-6 and config["nesterov"] is True
    rebuilt = optim.Adam.from_config(config)
    assert rebuilt.defaults["eps_root"] == 1e-6 and rebuilt.defaults["nesterov"] is True
    other = optim.Adam([mg.tensor(np.zeros(2), requires_grad=True)], lr=0.1, convention="optax")
    other.load_state_dict(opt.state_dict())
    assert other.param_groups[0]["eps_root"] == 1e-6 and other.param_groups[0]["nesterov"] is True


REFUSED = [
    (lambda p: optim.Adam(p, lr=0.1, convention="pytorch", eps_root=1e-8), ValueError,
     r"eps_root: only convention='optax' defines it, got eps_root=1e-08 under convention='pytorch'"),
    (lambda p: optim.Adam(p, convention="keras", nesterov=True), ValueError, r"nesterov: only convention='optax'"),
    (lambda p: optim.AMSGrad(p, lr=0.1, convention="optax", nesterov=True), ValueError,
     r"nesterov: True is optax.adam's Nesterov"),
    (lambda p: optim.Adam(p, lr=0.1, convention="optax", eps_root=1e-3, epsilon_mode="epsilon_hat"), ValueError,
     r"eps_root: 0.001 goes inside Optax's sqrt"),
    (lambda p: optim.AMSGrad(p, lr=0.1, convention="optax", eps_root=1e-3, amsgrad_mode="max_raw_v"), ValueError,
     r"eps_root: 0.001 is Optax's, whose AMSGrad"),
    (lambda p: optim.Adam(p, lr=0.1, convention="optax", eps_root=-1e-3), ValueError, r"eps_root.*-0.001"),
    (lambda p: optim.Adam(p, lr=0.1, convention="optax", nesterov="yes"), TypeError, r"nesterov.*'yes'"),
    (lambda p: optim.Adamax(p, lr=0.1, convention="optax", nesterov=True), TypeError, r"nesterov"),
]


@pytest.mark.parametrize("build, error, pattern", REFUSED, ids=[f"refused{i}" for i in range(len(REFUSED))])
def test_options_are_refused_where_they_mean_nothing(build, error, pattern):
    """Outside the optax convention, with AMSGrad (nesterov), with epsilon_hat or another AMSGrad maximum
    (eps_root), with bad values, and for Adamax (optax.adamax has neither): refused, naming the keyword."""
    with pytest.raises(error, match=pattern):
        build([mg.tensor(np.zeros(2), requires_grad=True)])


def test_options_changed_through_param_groups_are_checked_at_the_next_step():
    """nesterov switched on for an AMSGrad group after construction is refused at the step, before any change."""
    x = mg.tensor(np.ones(2), requires_grad=True)
    opt = optim.AMSGrad([x], lr=0.1, convention="optax")
    opt.param_groups[0]["nesterov"] = True
    x.grad = mg.tensor(np.ones(2))
    with pytest.raises(ValueError, match=r"param_groups\[0\]: nesterov: True"):
        opt.step()
    np.testing.assert_array_equal(x.data, np.ones(2))


@pytest.mark.parametrize("case_id, option", [("optax/adam_nesterov/random", "nesterov"),
                                             ("optax/adam_eps_root1e-3/random", "eps_root")])
def test_a_recorded_case_needs_its_option(case_id, option):
    """The recorded Optax case passes with its option and fails when the option is dropped."""
    document = json.loads((DATA_DIR / "optax.json").read_text())
    scenarios = {s["name"]: s for s in json.loads((DATA_DIR / "scenarios.json").read_text())["scenarios"]}
    case = next(c for c in document["cases"] if c["id"] == case_id)
    assert replay.compare(case, scenarios[case["scenario"]]).passed
    without = copy.deepcopy(case)
    del without["library"]["kwargs"][option]
    assert not replay.compare(without, scenarios[case["scenario"]]).passed

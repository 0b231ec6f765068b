"""Hyperparameters changed through ``optimizer.param_groups`` after construction: an invalid value is refused at
the next step, before anything changes, on the reference path, the fused general path and the fused direct step;
a valid one is used, with the same bits on every path."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fused_helpers import SHAPES, assert_identical, make_params, snapshot

import minigrad as mg
import optim

NAN, INF = math.nan, math.inf
PATHS = ["reference", "fused general", "fused direct"]

# hyperparameter -> [(bad value, exception, substring of the message)]
SHARED = {
    "lr": [(NAN, ValueError, "nan"), (-0.1, ValueError, "-0.1"), (INF, ValueError, "inf"), ("0.1", TypeError, "'0.1'")],
    "betas": [((0.9, 1.0), ValueError, "1.0"), ((NAN, 0.9), ValueError, "nan"), (0.9, TypeError, "0.9")],
    "eps": [(-1.0, ValueError, "-1.0"), (NAN, ValueError, "nan"), (INF, ValueError, "inf")],
    "weight_decay": [(INF, ValueError, "inf"), (-0.5, ValueError, "-0.5"), (None, TypeError, "None")],
    "maximize": [("no", TypeError, "'no'"), (1, TypeError, "1"), (None, TypeError, "None")],
    "decoupled_weight_decay": [("yes", TypeError, "'yes'"), (0, TypeError, "0")],
    "step_counting": [("per_step", ValueError, "'per_step'")],
}
BAD = {
    "Adam": {**SHARED, "amsgrad": [("no", TypeError, "'no'"), (1, TypeError, "1")],
             "epsilon_mode": [("hat", ValueError, "'hat'")], "amsgrad_mode": [("max", ValueError, "'max'")]},
    "Adamax": {**SHARED, "adamax_epsilon": [("outside", ValueError, "'outside'")]},
}
CASES = [(name, key, value, error, needle) for name, table in BAD.items() for key, rows in table.items()
         for value, error, needle in rows]


def trained(cls, path, steps=2, **kwargs):
    """An optimizer over two groups after ``steps`` calls, ready for one more call on ``path``: new gradient
    Tensors (reference, fused general) or gradients written into the views of the flat buffer (fused direct)."""
    params = make_params(SHAPES, np.float64, "cpu")
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": 0.02}]
    optimizer = cls(groups, lr=0.01, fused=path != "reference", use_ema=True, **kwargs)
    rng = np.random.default_rng(1)
    for call in range(steps + 1):
        if path == "fused direct" and call > 0:
            optimizer.zero_grad(set_to_none=False)
            for param in params:
                param.grad.data[...] = rng.standard_normal(param.shape)
        else:
            for param in params:
                param.grad = mg.Tensor(rng.standard_normal(param.shape))
        if call < steps:
            optimizer.step()
    return params, optimizer


def direct_steps(optimizer):
    """Whether the fused direct step applies now (a probe: a plan that declines changes nothing)."""
    engine = optimizer._fused_engine
    return engine is not None and engine.plan is not None and engine.plan._still_bound()


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name, key, value, error, needle", CASES)
def test_an_invalid_value_set_through_param_groups_is_refused(path, name, key, value, error, needle):
    """The second group's hyperparameter made invalid: step() raises, naming the group, the hyperparameter and
    the value, and nothing has changed (the first group included; the bad value stays where it was put)."""
    params, optimizer = trained(getattr(optim, name), path)
    assert direct_steps(optimizer) == (path == "fused direct")
    optimizer.param_groups[1][key] = value
    before = snapshot(params, optimizer)
    with pytest.raises(error) as caught:
        optimizer.step()
    message = str(caught.value)
    assert "param_groups[1]" in message and key in message and needle in message, message
    assert_identical(snapshot(params, optimizer), before)
    assert optimizer.param_groups[1][key] is value


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", sorted(BAD))
def test_a_removed_hyperparameter_is_refused(path, name):
    """A hyperparameter deleted from a group: refused by name, nothing changed."""
    params, optimizer = trained(getattr(optim, name), path)
    del optimizer.param_groups[0]["eps"]
    before = snapshot(params, optimizer)
    with pytest.raises(ValueError, match=r"param_groups\[0\]: the hyperparameter\(s\) \['eps'\] are missing"):
        optimizer.step()
    assert_identical(snapshot(params, optimizer), before)


@pytest.mark.parametrize("fused", [False, True])
def test_apply_gradients_checks_the_groups_of_its_parameters(fused):
    """Keras style: apply_gradients refuses a bad group too, before anything changes."""
    params, optimizer = trained(optim.Adamax, "fused general" if fused else "reference")
    optimizer.param_groups[0]["lr"] = NAN
    before = snapshot(params, optimizer)
    with pytest.raises(ValueError, match=r"param_groups\[0\]: lr: .* got nan"):
        optimizer.apply_gradients([(np.ones(p.shape), p) for p in params])
    assert_identical(snapshot(params, optimizer), before)


def test_sgd_refuses_too():
    """SGD (reference path only) checks its groups at step: a string maximize is not taken as True."""
    (x,) = make_params([(3,)], np.float64, "cpu")
    optimizer = optim.SGD([x], lr=0.1)
    optimizer.param_groups[0]["maximize"] = "no"
    x.grad = mg.Tensor(np.ones(3))
    before = x.data.copy()
    with pytest.raises(TypeError, match=r"param_groups\[0\]: maximize: expected True or False, got 'no'"):
        optimizer.step()
    np.testing.assert_array_equal(x.data, before)


@pytest.mark.parametrize("path", PATHS)
def test_amsgrad_switched_on_after_the_first_step_is_refused(path):
    """amsgrad=True set after the state was created without v_max: every path refuses (the fused path used to
    run the AMSGrad kernel without a v_max buffer); nothing changes."""
    params, optimizer = trained(optim.Adam, path)
    optimizer.param_groups[0]["amsgrad"] = True
    before = snapshot(params, optimizer)
    with pytest.raises(ValueError, match=r"state: the state of the parameter of shape \(3, 4\) has no \['v_max'\]"):
        optimizer.step()
    assert_identical(snapshot(params, optimizer), before)


# --------------------------------------------------------------------------- valid changes
VALID = {
    "lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-4, "weight_decay": 0.1, "maximize": True,
    "decoupled_weight_decay": True, "step_counting": "per_parameter", "epsilon_mode": "epsilon_hat",
    "amsgrad_mode": "max_corrected_v",
}


@pytest.mark.parametrize("key", sorted(VALID))
def test_a_valid_change_is_used_with_the_same_bits_on_every_path(key):
    """A valid value set through param_groups after two steps: the next step uses it, with the same bits on the
    three paths (the direct step stays direct)."""
    results = []
    for path in PATHS:
        params, optimizer = trained(optim.AMSGrad, path, steps=2)
        optimizer.param_groups[1][key] = VALID[key]
        assert direct_steps(optimizer) == (path == "fused direct")
        optimizer.step()
        results.append(snapshot(params, optimizer))
    assert_identical(results[1], results[0])
    assert_identical(results[2], results[0])


def test_amsgrad_switched_on_before_a_parameter_has_state():
    """amsgrad=True set on a group whose parameters have no state yet: the fused path rebuilds its buffers with a
    v_max, and gives the reference path's bits."""
    results = []
    for fused in (False, True):
        params = make_params(SHAPES, np.float64, "cpu")
        optimizer = optim.Adam([{"params": params[:2]}, {"params": params[2:]}], lr=0.01, fused=fused)
        for call in range(4):
            if call == 2:
                optimizer.param_groups[1]["amsgrad"] = True
            for param in params if call >= 2 else params[:2]:
                param.grad = mg.Tensor(np.full(param.shape, 0.5 + call))
            optimizer.step()
        results.append(snapshot(params, optimizer))
    assert_identical(results[1], results[0])
    assert all("v_max" in state for state in results[1]["state"][2:])


def test_amsgrad_switched_on_with_state_on_some_parameters_only():
    """One parameter of the group has state (no v_max), the other none: a call with only the second one works
    (the fused path rebuilds its buffers without giving the first a v_max), a later call with the first one is
    refused on both paths, with the same state everywhere."""
    results = []
    for fused in (False, True):
        first, second = make_params([(3,), (2, 2)], np.float64, "cpu")
        optimizer = optim.Adam([first, second], lr=0.01, fused=fused)
        optimizer.apply_gradients([(np.ones(3), first)])
        optimizer.param_groups[0]["amsgrad"] = True
        optimizer.apply_gradients([(np.ones((2, 2)), second)])
        before = snapshot([first, second], optimizer)
        with pytest.raises(ValueError, match=r"state: .* shape \(3,\) has no \['v_max'\]"):
            optimizer.apply_gradients([(np.ones(3), first), (np.ones((2, 2)), second)])
        assert_identical(snapshot([first, second], optimizer), before)
        results.append(before)
    assert_identical(results[1], results[0])


@pytest.mark.parametrize("path", PATHS)
def test_a_state_array_deleted_by_hand_is_refused(path):
    """The same check without amsgrad: Adamax's u deleted from a parameter's state is refused on every path
    (the fused path used to start it again from zeros), nothing changed."""
    params, optimizer = trained(optim.Adamax, path)
    del optimizer.state[params[2]]["u"]
    before = snapshot(params, optimizer)
    with pytest.raises(ValueError, match=r"state: the state of the parameter of shape \(1,\) has no \['u'\], which"):
        optimizer.step()
    assert_identical(snapshot(params, optimizer), before)

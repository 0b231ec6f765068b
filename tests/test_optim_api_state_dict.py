"""The optim API contract, saving: state_dict / load_state_dict (resume, copies, refusals) and get_config."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest
from optim_api_helpers import CLASSES, feed, grads_for, param, to_numpy, values

import minigrad as mg
import optim

# --------------------------------------------------------------------------- state_dict
RESUME_CASES = [
    ("Adam", {}), ("AMSGrad", {}), ("Adamax", {}),
    ("Adam", {"epsilon_mode": "epsilon_hat", "weight_decay": 0.05, "decoupled_weight_decay": True}),
    ("AMSGrad", {"amsgrad_mode": "max_corrected_v", "maximize": True}),
    ("Adamax", {"weight_decay": 0.05}),
]


def schedule_for_resume(k):
    return 0.05 / (1 + 0.1 * k)


def arrays_to_lists(obj):
    """json.dumps default= hook that converts backend arrays only (anything else stays an error)."""
    if mg.backend.is_array(obj):
        return to_numpy(obj).tolist()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


@pytest.mark.parametrize("name", list(CLASSES))
def test_state_dict_is_json_able_except_arrays(device, name):
    """Contract: state_dict() is JSON-able except numpy arrays -- also when lr is a schedule callable
    (the callable itself belongs to the constructor, not to the saved state)."""
    for lr in (0.05, schedule_for_resume):
        p = param([1.0, 2.0], device)
        opt = CLASSES[name]([p], lr=lr)
        p.grad = mg.tensor(np.array([0.5, -1.0]), device=device)
        opt.step()
        json.dumps(opt.state_dict(), default=arrays_to_lists)


@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("name,extra", RESUME_CASES)
@pytest.mark.parametrize("lr", [0.03, schedule_for_resume], ids=["const-lr", "schedule"])
def test_resume_from_state_dict_is_bitwise_identical(device, convention, name, extra, lr):
    """k steps, state_dict(), a fresh optimizer on fresh parameter copies, load_state_dict(), the
    remaining steps: bitwise equal to the uninterrupted run (iterations, per-parameter steps and the
    schedule position are restored).  The state dict also survives deepcopy and pickle."""
    cls = CLASSES[name]
    shapes = [(3,), (2, 2), (1,)]
    steps = grads_for(5, shapes, 20, none_at={1: {2, 9}, 2: {0}})
    kw = {"lr": lr, "betas": (0.8, 0.95), "convention": convention, **extra}
    full = [param(np.ones(s), device) for s in shapes]
    opt_full = cls(full, **kw)
    history = []
    for g in steps:
        feed(opt_full, full, g, device)
        history.append(values(full))

    first = [param(np.ones(s), device) for s in shapes]
    opt_first = cls(first, **kw)
    for g in steps[:8]:
        feed(opt_first, first, g, device)
    sd = pickle.loads(pickle.dumps(copy.deepcopy(opt_first.state_dict())))
    assert sd["iterations"] == 8
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1, 2]]
    if not callable(lr):
        json.dumps(sd, default=arrays_to_lists)  # JSON-able except the arrays

    resumed = [mg.tensor(p.data, requires_grad=True) for p in first]  # fresh copies of the parameters
    opt_resumed = cls(resumed, **kw)
    opt_resumed.load_state_dict(sd)
    assert opt_resumed.iterations == 8
    for k, g in enumerate(steps[8:], start=8):
        feed(opt_resumed, resumed, g, device)
        for i, p in enumerate(resumed):
            assert np.array_equal(p.numpy(), history[k][i]), f"parameter {i} after step {k + 1}"
    assert opt_resumed.iterations == opt_full.iterations == 20


def test_load_state_dict_copies_the_arrays(device):
    """After load_state_dict the optimizer owns its state: scribbling on the loaded dict afterwards
    (or continuing the optimizer it came from) does not change the resumed run."""
    steps = grads_for(6, [(4,)], 12)
    a = [param(np.ones(4), device)]
    opt_a = optim.Adam(a, lr=0.05, amsgrad=True)
    for g in steps[:6]:
        feed(opt_a, a, g, device)
    sd = opt_a.state_dict()
    b = [mg.tensor(a[0].data, requires_grad=True)]
    opt_b = optim.Adam(b, lr=0.05, amsgrad=True)
    opt_b.load_state_dict(sd)
    twin = [mg.tensor(a[0].data, requires_grad=True)]
    opt_twin = optim.Adam(twin, lr=0.05, amsgrad=True)
    opt_twin.load_state_dict(copy.deepcopy(sd))
    for key in ("m", "v", "v_max"):
        sd["state"][0][key][...] = 123.0
    for g in steps[6:]:
        feed(opt_a, a, g, device)  # the source optimizer keeps going
        feed(opt_b, b, g, device)
        feed(opt_twin, twin, g, device)
        assert np.array_equal(b[0].numpy(), twin[0].numpy())


def _trained(device, name="Adam", groups=1, steps=5, **kw):
    shapes = [(3,), (2, 2)]
    params = [param(np.ones(s), device) for s in shapes]
    spec = [{"params": params}] if groups == 1 else [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.2}]
    opt = CLASSES[name](spec, lr=0.05, **kw)
    for g in grads_for(7, shapes, steps):
        feed(opt, params, g, device)
    return params, opt


def _bad_dicts(device):
    """(description, mutate(sd)) pairs, each making the state dict unloadable into _trained()'s optimizer."""

    def wrong_group_count(sd):
        _, other = _trained(device, groups=2)
        sd.clear()
        sd.update(copy.deepcopy(other.state_dict()))

    def wrong_param_count(sd):
        sd["param_groups"][0]["params"] = [0]
        del sd["state"][1]

    def wrong_shape(sd):
        m = sd["state"][1]["m"]
        sd["state"][1]["m"] = mg.backend.get_array_module(m).zeros((4,))

    def wrong_dtype(sd):
        sd["state"][1]["v"] = sd["state"][1]["v"].astype(np.float32)

    def missing_state_key(sd):
        del sd["state"][1]["v"]

    def missing_top_level_key(sd):
        del sd["param_groups"]

    return [wrong_group_count, wrong_param_count, wrong_shape, wrong_dtype, missing_state_key, missing_top_level_key]


@pytest.mark.parametrize("case", range(6), ids=[f.__name__ for f in _bad_dicts("cpu")])
def test_load_state_dict_refuses_mismatch_and_changes_nothing(device, case):
    """load_state_dict validates everything first (group count, parameter counts, shapes, dtypes, keys):
    ValueError, and the optimizer (state, hyperparameters, iterations) and the parameters are unchanged,
    even though the same dict also carries valid changes for parameter 0 and a new lr."""
    params, opt = _trained(device)
    twin_params, twin = _trained(device)
    sd = copy.deepcopy(opt.state_dict())
    if "state" in sd and 0 in sd["state"]:
        m0 = sd["state"][0]["m"]
        sd["state"][0]["m"] = mg.backend.get_array_module(m0).full_like(m0, 7.0)  # valid, must not be applied
    for group in sd.get("param_groups", []):
        group["lr"] = 9.0
    _bad_dicts(device)[case](sd)
    snapshot = {key: to_numpy(value).copy() for key, value in opt.state[params[0]].items() if key != "step"}
    with pytest.raises(ValueError):
        opt.load_state_dict(sd)
    assert opt.iterations == 5
    assert opt.param_groups[0]["lr"] == 0.05
    for key, value in snapshot.items():
        assert np.array_equal(to_numpy(opt.state[params[0]][key]), value), key
    for g in grads_for(8, [(3,), (2, 2)], 5):
        feed(opt, params, g, device)
        feed(twin, twin_params, g, device)
    for x, y in zip(params, twin_params, strict=True):
        assert np.array_equal(x.numpy(), y.numpy())


IMPOSSIBLE_MOMENTS = [
    # class, entry, value put into one element, what the message says
    ("Adam", "v", -1e-3, "negative"), ("Adam", "v", -np.inf, "negative"), ("Adam", "v", np.nan, "NaN"),
    ("Adam", "m", np.nan, "NaN"), ("Adam", "m", np.inf, "infinite"), ("Adam", "m", -np.inf, "infinite"),
    ("AMSGrad", "v_max", -2.0, "negative"), ("AMSGrad", "v_max", np.nan, "NaN"),
    ("Adamax", "u", -0.5, "negative"), ("Adamax", "u", np.nan, "NaN"), ("Adamax", "m", np.inf, "infinite"),
]


@pytest.mark.parametrize("name, key, value, what", IMPOSSIBLE_MOMENTS,
                         ids=[f"{n}-{k}={v}" for n, k, v, _ in IMPOSSIBLE_MOMENTS])
def test_load_state_dict_refuses_impossible_moments(device, name, key, value, what):
    """v (an average of squares), v_max (its maximum) and u (a maximum of absolute values) are never negative, and
    no moment is NaN, nor is m infinite: such a state is refused naming the entry (state_dict['state'][1][key]), and
    the optimizer is unchanged."""
    _, opt = _trained(device, name)
    sd = copy.deepcopy(opt.state_dict())
    array = sd["state"][1][key]
    array.reshape(-1)[2] = value
    before = copy.deepcopy(opt.state_dict())
    with pytest.raises(ValueError, match=rf"^state_dict\['state'\]\[1\]\['{key}'\]: holds 1 {what}"):
        opt.load_state_dict(sd)
    after = opt.state_dict()
    for position, entry in before["state"].items():
        for k, v in entry.items():
            assert np.array_equal(to_numpy(v), to_numpy(after["state"][position][k])), (position, k)


@pytest.mark.parametrize("name, key", [("Adam", "v"), ("AMSGrad", "v_max"), ("Adamax", "u")])
def test_load_state_dict_keeps_an_overflowed_second_moment(device, name, key):
    """+inf in v, v_max or u is reachable from finite gradients (g**2 overflows; see the Numerics page), so a saved
    state holding it loads, and training resumes exactly as the saved optimizer continues."""
    params, opt = _trained(device, name)
    array = opt.state[params[1]][key]
    array.reshape(-1)[0] = np.inf
    twin_params = [mg.tensor(p.data.copy(), requires_grad=True) for p in params]
    twin = CLASSES[name](twin_params, lr=0.05)
    twin.load_state_dict(opt.state_dict())
    for g in grads_for(9, [(3,), (2, 2)], 3):
        feed(opt, params, g, device)
        feed(twin, twin_params, g, device)
    for x, y in zip(params, twin_params, strict=True):
        assert np.array_equal(x.numpy(), y.numpy())


# --------------------------------------------------------------------------- config
CONFIG_CASES = [
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-5, "weight_decay": 0.01, "decoupled_weight_decay": True,
              "maximize": True, "convention": "pytorch", "epsilon_mode": "epsilon_hat", "step_counting": "global"}),
    ("Adam", {"lr": 0.02, "amsgrad": True, "amsgrad_mode": "max_corrected_v", "convention": "paper",
              "step_counting": "per_parameter"}),
    ("AMSGrad", {"lr": 0.03, "eps": 0.0, "convention": "pytorch", "amsgrad_mode": "no_bias_correction"}),
    ("Adamax", {"lr": 0.01, "betas": (0.7, 0.9), "eps": 0.1, "weight_decay": 0.02, "adamax_epsilon": "inside_max",
                "convention": "paper"}),
]


@pytest.mark.parametrize("name,kw", CONFIG_CASES)
def test_get_config_is_json_and_from_config_round_trips(device, name, kw):
    """get_config() is JSON-serialisable and records the convention and the choices;
    cls.from_config(json round trip) gives an optimizer with bitwise identical trajectories,
    both with params given and with params=None (bound by apply_gradients)."""
    cls = CLASSES[name]
    shapes = [(3,), (2, 2)]
    steps = grads_for(9, shapes, 15, none_at={0: {4}}, nonzero_first=True)  # eps=0 case: no 0/0
    original = [param(np.ones(s), device) for s in shapes]
    opt = cls(original, **kw)
    cfg = json.loads(json.dumps(opt.get_config()))
    assert cfg["convention"] == kw["convention"]
    for key in ("epsilon_mode", "amsgrad_mode", "adamax_epsilon", "step_counting"):
        if key in kw:
            assert cfg[key] == kw[key], key
    copy_params = [param(np.ones(s), device) for s in shapes]
    clone = cls.from_config(cfg, params=copy_params)
    lazy_params = [param(np.ones(s), device) for s in shapes]
    lazy = cls.from_config(cfg)
    xp = mg.backend.as_device(device).xp
    for g in steps:
        feed(opt, original, g, device)
        feed(clone, copy_params, g, device)
        lazy.apply_gradients([(xp.asarray(gi), p) for gi, p in zip(g, lazy_params, strict=True) if gi is not None])
    for x, y, z in zip(original, copy_params, lazy_params, strict=True):
        assert np.array_equal(x.numpy(), y.numpy())
        assert np.array_equal(x.numpy(), z.numpy())

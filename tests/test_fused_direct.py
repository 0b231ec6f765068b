"""The direct fused step (:mod:`optim.fused.direct`): taken when every gradient still lies in the flat buffer
that ``zero_grad(set_to_none=False)`` handed out, declined (having changed nothing) whenever a condition fails,
and in both cases bit-for-bit the reference path (``fused=False``) on the CPU: parameters, state arrays, step
counts and counters. Errors (non-finite gradients, a bad learning rate) leave everything as it was."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from fused_helpers import CLASSES, DTYPES, SHAPES, assert_identical, make_params, snapshot

import minigrad as mg
import optim
from optim import schedules
from optim.cli import bench_methods
from optim.fused.engine import FusedEngine


# --------------------------------------------------------------------------- helpers
def spy(monkeypatch, optimizer):
    """Record what each ``direct_step`` returns (the method still runs); a ``False`` must have changed nothing."""
    engine = optimizer._fused_engine
    original, taken = engine.direct_step, []

    def direct_step(*pairs):
        before = snapshot(list(optimizer.parameters()), optimizer)
        taken.append(original(*pairs))
        if not taken[-1]:
            assert_identical(snapshot(list(optimizer.parameters()), optimizer), before)
        return taken[-1]

    monkeypatch.setattr(engine, "direct_step", direct_step)
    return taken


def train(cls, kwargs, *, fused, monkeypatch=None, steps=5, dtype=np.float64, groups=None, extra=(), events=None,
          seed=0):
    """``steps`` calls of ``zero_grad(set_to_none=False)``, seeded gradients (written into the views when fused
    and the parameter had a gradient, else new Tensors: at the first call, and after a gradient was set to None),
    ``events[call](params, optimizer)`` if any, ``step``. ``extra`` shapes are parameters that only an event
    hands to the optimizer. Returns the parameters, the optimizer and the ``direct_step`` results (None without
    ``monkeypatch``)."""
    params = make_params(SHAPES, dtype, "cpu", seed) + make_params(extra, dtype, "cpu", seed + 7)
    base = params[:len(SHAPES)]
    optimizer = cls(base if groups is None else groups(base), fused=fused, **kwargs)
    taken = spy(monkeypatch, optimizer) if monkeypatch is not None else None
    rng = np.random.default_rng(seed + 1)
    for call in range(steps):
        optimizer.zero_grad(set_to_none=False)
        for param in optimizer.parameters():
            grad = rng.standard_normal(param.shape).astype(param.dtype)
            if fused and param.grad is not None:
                param.grad.data[...] = grad
            else:
                param.grad = mg.Tensor(grad)
        if events and call in events:
            events[call](params, optimizer)
        optimizer.step()
    return params, optimizer, taken


def compare(monkeypatch, cls, kwargs, grads=True, **options):
    """Run both paths; assert they are identical (``p.grad`` too unless ``grads=False``) and return the fused
    run's ``direct_step`` results."""
    ref = train(cls, kwargs, fused=False, **options)
    fused = train(cls, kwargs, fused=True, monkeypatch=monkeypatch, **options)
    expected, actual = snapshot(*ref[:2]), snapshot(*fused[:2])
    if not grads:
        del expected["grads"], actual["grads"]
    assert_identical(actual, expected)
    return fused[2]


def two_groups(params):
    return [{"params": params[:2], "lr": 0.02, "weight_decay": 0.1},
            {"params": params[2:], "weight_decay": 0.05, "decoupled_weight_decay": True}]


COMMON = [False] + [True] * 4  # the first call creates the state entries on the general path
AGAIN = [False, True, False, True, True]  # declined at call 2 only
ONE_MORE = [False, True, False, False, True]  # declined at call 2 and 3: a gradient set to None stays None
NEVER = [False] * 5


# --------------------------------------------------------------------------- the direct path is taken
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("convention", ["paper", "pytorch", "keras"])
@pytest.mark.parametrize("cls", CLASSES)
def test_direct_path_is_taken_and_identical(monkeypatch, cls, convention, dtype):
    """Gradients written into the zero_grad views: every call after the first goes direct, with the reference's
    bits, over two groups with their own lr and (L2 or decoupled) weight decay, maximizing."""
    kwargs = {"lr": 0.01, "convention": convention, "maximize": True}
    assert compare(monkeypatch, cls, kwargs, dtype=dtype, groups=two_groups) == COMMON


OPTIONS = {
    "schedule": {"lr": schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5)},
    "callable_lr": {"lr": lambda k: 0.01 / (1 + k)},
    "ema": {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 3},
    "legacy_decay": {"decay": 0.1, "convention": "tensorflow"},
    "finite_under_raise": {"nonfinite": "raise"},
}


@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("cls", CLASSES)
def test_direct_path_with_options_that_allow_it(monkeypatch, cls, option):
    """Schedules, callable lr, EMA, legacy decay and finite gradients under nonfinite="raise" keep it direct."""
    kwargs = {"lr": 0.01, "weight_decay": 0.01, **OPTIONS[option]}
    assert compare(monkeypatch, cls, kwargs, dtype=np.float32, groups=two_groups) == COMMON


def test_direct_path_with_mixed_dtypes_and_per_group_amsgrad(monkeypatch):
    """Several stores (float32 next to float64, with and without v_max) and segments in one direct step."""
    def groups(params):
        for param in params[1::2]:
            param.data = param.data.astype(np.float32)
        return [{"params": params[:2], "amsgrad": True, "lr": 0.03}, {"params": params[2:], "weight_decay": 0.2}]

    assert compare(monkeypatch, optim.Adam, {"lr": 0.01, "convention": "pytorch"}, groups=groups) == COMMON


# --------------------------------------------------------------------------- fallbacks
FALLBACKS = {
    "new_grad_tensor": ({}, lambda ps, o: setattr(ps[1], "grad", mg.Tensor(ps[1].grad.data.copy()))),
    "grad_none": ({}, lambda ps, o: setattr(ps[2], "grad", None)),
    "grad_data_replaced": ({}, lambda ps, o: setattr(ps[0].grad, "data", ps[0].grad.data * 2)),
    "data_replaced": ({}, lambda ps, o: setattr(ps[3], "data", ps[3].data * 0.5)),
    "state_cleared": ({}, lambda ps, o: o.state.clear()),
    "state_array_set_by_hand": ({}, lambda ps, o: o.state[ps[1]].__setitem__("m", o.state[ps[1]]["m"] * 0.5)),
    "clipnorm": ({"clipnorm": 0.5}, None),
    "global_clipnorm": ({"global_clipnorm": 0.7}, None),
    "clipvalue": ({"clipvalue": 0.3}, None),
    "loss_scale_factor": ({"loss_scale_factor": 128.0}, None),
    "accumulation": ({"gradient_accumulation_steps": 2}, None),
}


@pytest.mark.parametrize("case", sorted(FALLBACKS))
@pytest.mark.parametrize("cls", CLASSES)
def test_fallbacks_take_the_general_path(monkeypatch, cls, case):
    """Each failing condition sends the call to the general path, unchanged, with the reference's result: a
    gradient or parameter array that is not the bound view, or a cleared state, at call 2 only (the next call
    goes direct again; a gradient set to None at call 2 is still None after zero_grad, so call 3 gets a new
    Tensor and goes general too); an option that acts on the gradients one by one, at every call."""
    options, event = FALLBACKS[case]
    kwargs = {"lr": 0.01, "weight_decay": 0.05, **options}
    events = None if event is None else {2: event}
    taken = compare(monkeypatch, cls, kwargs, groups=two_groups, events=events)
    assert taken == (NEVER if event is None else ONE_MORE if case == "grad_none" else AGAIN)


@pytest.mark.parametrize("loop, new_grads, expected", [("plain", False, [False, True, True]),
                                                       ("kept", False, [False, True, True]),
                                                       ("kept", True, [False, False, False])])
def test_the_bench_fused_rows_time_the_direct_step(monkeypatch, loop, new_grads, expected):
    """python -m optim bench: after the first step (which creates the state entries), the "fused" rows time the
    direct step, in the plain loop (zero_grad, backward, step) and with the gradients kept in the views; "fused
    (general path)", with new gradient Tensors at each step, the general one."""
    taken, original = [], FusedEngine.direct_step

    def step(engine, *pairs):
        taken.append(original(engine, *pairs))
        return taken[-1]

    monkeypatch.setattr(FusedEngine, "direct_step", step)
    prepare, bench_step = bench_methods.minigrad_method("adam", (3, 100), "float32", "cpu", fused=True, loop=loop,
                                                        new_grads=new_grads)
    for _ in range(3):
        prepare()
        bench_step()
    assert taken == expected


@pytest.mark.parametrize("cls", CLASSES)
def test_a_parameter_removed_from_its_group(monkeypatch, cls):
    """After call 1 a parameter leaves its group: it is no longer updated, and the others still go direct
    (the plan is rebuilt around the gap the parameter leaves in the buffers)."""
    events = {2: lambda ps, o: o.param_groups[0]["params"].pop(1)}  # ps[1]: list.remove would compare by value
    taken = compare(monkeypatch, cls, {"lr": 0.01}, groups=two_groups, events=events)
    assert taken == COMMON


@pytest.mark.parametrize("case", ["clipnorm", "clipvalue", "global_clipnorm", "loss_scale_factor", "accumulation"])
def test_step_leaves_gradients_in_the_views_as_written(case):
    """As on the reference path, step() does not change p.grad: a second step() without zero_grad sees the same
    gradient (with loss_scale_factor it must not be divided twice)."""
    (options, _), results = FALLBACKS[case], []
    for fused in (False, True):
        written = []  # the gradients of the last call, just before its step (an update, also with accumulation)
        events = {1: lambda ps, o, written=written: written.append(snapshot(ps, o)["grads"])}
        params, optimizer, _ = train(optim.Adam, {"lr": 0.01, **options}, fused=fused, steps=2, events=events)
        assert_identical(snapshot(params, optimizer)["grads"], written[0])
        optimizer.step()
        results.append(snapshot(params, optimizer))
    assert_identical(results[1], results[0])


@pytest.mark.parametrize("cls", CLASSES)
def test_pattern_lrs_and_weight_decay_exclusions_fall_back(monkeypatch, cls):
    """pattern_lrs and exclude_from_weight_decay (by object or by name) act per parameter: never direct."""
    names = ["encoder.weight", "encoder.bias", "head.weight", "head.bias"]
    named = {"groups": lambda params: list(zip(names, params))}
    kwargs = {"lr": 0.01, "weight_decay": 0.1}
    patterns = {**kwargs, "pattern_lrs": [{"patterns": ["^head"], "lr": 0.05}]}
    assert compare(monkeypatch, cls, patterns, **named) == NEVER
    for exclude in (lambda ps, o: o.exclude_from_weight_decay(var_list=[ps[0]]),
                    lambda ps, o: o.exclude_from_weight_decay(var_names=["bias$"])):
        monkeypatch.undo()
        assert compare(monkeypatch, cls, kwargs, **named, events={0: exclude}) == NEVER


@pytest.mark.parametrize("cls", CLASSES)
def test_group_added_and_state_loaded_mid_run(monkeypatch, cls):
    """add_param_group (new buffers) and load_state_dict (new state entries) decline once, then go direct."""
    kwargs = {"lr": 0.01, "convention": "pytorch"}

    def add(params, optimizer):
        extra = params[len(SHAPES):]
        for param in extra:
            param.grad = mg.Tensor(np.full(param.shape, 0.25))
        optimizer.add_param_group({"params": extra, "lr": 0.05})

    assert compare(monkeypatch, cls, kwargs, extra=[(6,), (2, 2)], events={2: add}) == AGAIN
    monkeypatch.undo()
    donor = train(cls, kwargs, fused=False, steps=3, seed=11)[1].state_dict()  # another optimizer's state
    assert compare(monkeypatch, cls, kwargs, events={2: lambda ps, o: o.load_state_dict(donor)}) == AGAIN


@pytest.mark.parametrize("convention, expected", [("pytorch", [False, True] + [False] * 4),
                                                   ("paper", ONE_MORE + [True])])
@pytest.mark.parametrize("cls", CLASSES)
def test_step_counts_that_differ(monkeypatch, cls, convention, expected):
    """One parameter misses call 2: per-parameter step counts (pytorch) then differ within a segment and every
    later call is general; with one global count (paper) the calls after the next (which gives the parameter a
    new gradient Tensor) go direct again."""
    events = {2: lambda ps, o: setattr(ps[1], "grad", None)}
    assert compare(monkeypatch, cls, {"lr": 0.01, "convention": convention}, steps=6, events=events) == expected


# --------------------------------------------------------------------------- errors change nothing
@pytest.mark.parametrize("cls", CLASSES)
def test_nonfinite_raise_names_the_parameter_and_changes_nothing(monkeypatch, cls):
    """A NaN in a gradient view: the direct step declines and the general path raises, naming parameter 1."""
    kwargs = {"lr": 0.01, "nonfinite": "raise"}
    params, optimizer, taken = train(cls, kwargs, fused=True, monkeypatch=monkeypatch, steps=3, groups=two_groups)
    params[1].grad.data[7] = np.nan
    before = snapshot(params, optimizer)
    with pytest.raises(FloatingPointError, match=r"parameter 1, shape \(257,\), holds 1 non-finite"):
        optimizer.step()
    assert taken == [False, True, True, False]
    assert_identical(snapshot(params, optimizer), before)


@pytest.mark.parametrize("cls", CLASSES)
def test_nonfinite_skip_skips_the_call(monkeypatch, cls):
    """A non-finite value in a gradient view under nonfinite="skip": only skipped_steps changes; the run then
    goes on direct, identical to the reference path skipping the same call."""
    kwargs = {"lr": 0.01, "nonfinite": "skip"}
    poison = {2: lambda ps, o: ps[0].grad.data.__setitem__((0, 0), np.inf)}
    assert compare(monkeypatch, cls, kwargs, events=poison) == AGAIN
    monkeypatch.undo()
    params, optimizer, _ = train(cls, kwargs, fused=True, monkeypatch=monkeypatch, steps=2)
    params[3].grad.data[4, 0, 2] = np.nan
    before = snapshot(params, optimizer)
    optimizer.step()
    after = snapshot(params, optimizer)
    assert (before.pop("counters"), after.pop("counters")) == ((2, 2, 0), (2, 2, 1))  # skipped_steps only
    assert_identical(after, before)


BAD_LRS = {
    "raises": (ZeroDivisionError, r"division by zero", lambda k: 0.01 if k < 2 else 1 / 0),
    "negative": (ValueError, r"lr\(2\)", lambda k: 0.01 if k < 2 else -1.0),
    "nan": (ValueError, r"lr\(2\)", lambda k: 0.01 if k < 2 else float("nan")),
}


@pytest.mark.parametrize("bad", sorted(BAD_LRS))
@pytest.mark.parametrize("cls", CLASSES)
def test_bad_learning_rate_changes_nothing(monkeypatch, cls, bad):
    """An lr callable of the second group raising or returning an invalid value at call 2: the error propagates
    out of the direct step and no group (the first one included) has moved, step counts and counters included."""
    error, message, lr = BAD_LRS[bad]

    def groups(params):
        return [{"params": params[:2]}, {"params": params[2:], "lr": lr}]

    params, optimizer, taken = train(cls, {"lr": 0.01}, fused=True, monkeypatch=monkeypatch, steps=2, groups=groups)
    optimizer.zero_grad(set_to_none=False)
    for param in params:
        param.grad.data[...] = 0.5
    before = snapshot(params, optimizer)
    with pytest.raises(error, match=message):
        optimizer.step()
    assert taken == [False, True]  # the third call raised inside direct_step
    assert_identical(snapshot(params, optimizer), before)
    assert all(optimizer.state[p]["step"] == 2 for p in params)


def test_a_beta_that_rounds_to_one_is_refused_before_the_direct_step_changes_anything():
    """power_dtype="float32" with beta2 = 0.99999999 (1.0 in float32): the bias correction would be 0; the
    direct step raises the ValueError of the general path, naming beta2, with nothing changed."""
    params = make_params(SHAPES, np.float32, "cpu")
    optimizer = optim.Adam(params, lr=0.01, betas=(0.9, 0.99999999), fused=True)
    for param in params:
        param.grad = mg.Tensor(np.ones(param.shape, np.float32))
    optimizer.step()  # double-precision corrections: fine
    optimizer.zero_grad(set_to_none=False)  # the views: the direct step applies
    optimizer.options = dataclasses.replace(optimizer.options, power_dtype="float32")
    before = snapshot(params, optimizer)
    with pytest.raises(ValueError, match=r"beta2: 0\.99999999 rounds to 1 in float32"):
        optimizer._fused_engine.direct_step()
    assert_identical(snapshot(params, optimizer), before)

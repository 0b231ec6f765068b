"""Numerics: the non-finite gradient policy (``nonfinite=``).

``"propagate"`` (default, every framework's behaviour): NaN/inf flows into the
moments and the parameter. ``"raise"``: ``FloatingPointError`` naming the
parameter and the count, before anything changes. ``"skip"``: the call is a
no-op (parameters, state, counters, accumulators, EMA), counted in
``skipped_steps``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numerics_helpers import ALGORITHMS, make_params, set_grads

import minigrad as mg
import optim
from minigrad import nn


def _snapshot(params, opt):
    """Bitwise picture of the parameters and everything in the optimizer's state dict."""
    state = opt.state_dict()
    arrays = {f"param{i}": mg.backend.to_numpy(p.data).copy() for i, p in enumerate(params)}
    for position, entry in state["state"].items():
        for key, value in entry.items():
            arrays[f"state{position}.{key}"] = mg.backend.to_numpy(value) if key != "step" else value
    for kind in ("averages", "accumulators"):
        for position, value in state[kind].items():
            arrays[f"{kind}{position}"] = mg.backend.to_numpy(value)
    counters = (state["iterations"], state["calls"], state["skipped_steps"])
    return arrays, counters


def _assert_same(a, b):
    arrays_a, counters_a = a
    arrays_b, counters_b = b
    assert counters_a == counters_b
    assert arrays_a.keys() == arrays_b.keys()
    for key in arrays_a:
        np.testing.assert_array_equal(arrays_a[key], arrays_b[key], err_msg=key)
        if isinstance(arrays_a[key], np.ndarray):
            assert arrays_a[key].tobytes() == arrays_b[key].tobytes(), key


# --------------------------------------------------------------------------- non-finite policy
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_propagate_is_the_default_and_lets_nan_reach_the_parameter(device, algorithm, bad):
    """Default (the frameworks' behaviour): the non-finite coordinate's moments and parameter
    become NaN/inf, the other coordinates update normally, and the step counts."""
    params = make_params(device, np.float32)
    opt = ALGORITHMS[algorithm](params, lr=0.01)
    assert opt.options.nonfinite == "propagate"
    set_grads(params, [[bad, 1.0, 1.0], [1.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        opt.step()
    values = params[0].numpy()
    assert not np.isfinite(values[0]) and np.all(np.isfinite(values[1:]))
    assert not np.isfinite(mg.backend.to_numpy(opt.state[params[0]]["m"])[0])
    assert opt.iterations == 1 and opt.skipped_steps == 0


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_raise_names_the_parameter_and_changes_nothing(device, algorithm):
    """nonfinite="raise": FloatingPointError naming the parameter's position, name and shape
    and the number of non-finite values, raised before any parameter or state changes."""
    model = nn.Linear(3, 2, rng=0, device=device)
    opt = ALGORITHMS[algorithm](model.named_parameters(), lr=0.01, nonfinite="raise", use_ema=True)
    params = list(model.parameters())
    set_grads(params, [np.ones((2, 3)), [1.0, 2.0]])
    opt.step()
    before = _snapshot(params, opt)
    set_grads(params, [np.ones((2, 3)), [np.nan, np.inf]])
    with pytest.raises(FloatingPointError, match=r"parameter 1 \('bias'\), shape \(2,\), holds 2 non-finite"):
        opt.step()
    _assert_same(_snapshot(params, opt), before)


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@pytest.mark.parametrize("accumulation", [None, 3])
def test_skip_drops_the_call_as_if_it_never_happened(device, algorithm, accumulation):
    """nonfinite="skip": the call changes nothing (parameters, moments, iterations, calls, EMA,
    accumulators) and skipped_steps counts it; the rest of the run is bitwise the run without
    the bad call, also with a schedule, EMA and gradient accumulation."""
    clean = [[[0.1 * k, -0.2, 0.3], [1.0, -0.5 * k]] for k in range(9)]
    bad = [[0.1, np.inf, 0.3], [np.nan, 1.0]]
    runs = {}
    for name, sequence in {"clean": clean, "with_bad": clean[:4] + [bad] + clean[4:]}.items():
        params = make_params(device, np.float32)
        opt = ALGORITHMS[algorithm](params, lr=optim.schedules.ExponentialDecay(0.05, 2, 0.5), nonfinite="skip",
                                    use_ema=True, gradient_accumulation_steps=accumulation)
        for grads in sequence:
            before = _snapshot(params, opt)
            set_grads(params, grads)
            opt.step()
            if grads is bad:
                _assert_same(_snapshot(params, opt), (before[0], (*before[1][:2], 1)))
        runs[name] = (_snapshot(params, opt), opt.skipped_steps)
    assert runs["with_bad"][1] == 1 and runs["clean"][1] == 0
    arrays, counters = runs["with_bad"][0]
    _assert_same((arrays, (*counters[:2], 0)), runs["clean"][0])


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_skip_catches_an_overflowing_accumulated_sum_and_loss_scaling(device):
    """The check runs after loss-scale division and on the accumulated sum: two finite float32
    gradients of 3e38 overflow the accumulator (skipped, accumulator unchanged); an inf gradient
    under loss scaling (an fp16-style overflow) is skipped too."""
    params = make_params(device, np.float32, values=((1.0,),))
    opt = optim.Adam(params, lr=0.01, nonfinite="skip", gradient_accumulation_steps=3)
    set_grads(params, [[3e38]])
    opt.step()
    set_grads(params, [[3e38]])
    opt.step()
    assert opt.skipped_steps == 1 and opt.calls == 1
    assert float(mg.backend.to_numpy(opt.accumulators[params[0]])[0]) == np.float32(3e38)
    scaled = make_params(device, np.float32, values=((1.0,),))
    opt = optim.Adam(scaled, lr=0.01, nonfinite="skip", loss_scale_factor=1024.0)
    set_grads(scaled, [[np.inf]])
    opt.step()
    assert opt.skipped_steps == 1 and opt.iterations == 0 and float(scaled[0].numpy()[0]) == 1.0


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_raise_on_an_accumulated_sum_names_it(device):
    """nonfinite="raise" on a call that only accumulates: the message says 'accumulated gradient'."""
    params = make_params(device, np.float32, values=((1.0,),))
    opt = optim.Adamax(params, lr=0.01, nonfinite="raise", gradient_accumulation_steps=3)
    set_grads(params, [[3e38]])
    opt.step()
    with pytest.raises(FloatingPointError, match=r"accumulated gradient of parameter 0, shape \(1,\), holds 1"):
        opt.step()
    assert opt.calls == 1 and float(mg.backend.to_numpy(opt.accumulators[params[0]])[0]) == np.float32(3e38)


def test_nonfinite_checks_row_sparse_gradients(device):
    """A row-sparse (embedding) gradient is checked on its values."""
    table = nn.Embedding(5, 2, rng=0, device=device, sparse=True)
    opt = optim.Adam(table.parameters(), lr=0.01, nonfinite="raise", lazy=True)
    before = table.weight.numpy().copy()
    table.weight.grad = mg.RowSparseGrad(
        table.weight.xp.asarray(np.array([1, 3])), table.weight.xp.asarray(np.array([[1.0, np.nan], [0.0, 1.0]],
                                                                                     dtype=np.float32)), (5, 2))
    with pytest.raises(FloatingPointError, match=r"parameter 0, shape \(5, 2\), holds 1 non-finite"):
        opt.step()
    np.testing.assert_array_equal(table.weight.numpy(), before)


def test_nonfinite_option_is_validated_and_persisted(device):
    """An unknown policy is refused naming it; the policy is part of get_config, and
    skipped_steps is saved and restored by state_dict / load_state_dict."""
    params = make_params(device, np.float32)
    with pytest.raises(ValueError, match=r"nonfinite: unknown value 'ignore'"):
        optim.Adam(params, nonfinite="ignore")
    opt = optim.Adam(params, lr=0.1, nonfinite="skip")
    assert opt.get_config()["nonfinite"] == "skip"
    set_grads(params, [[np.nan, 0, 0], [0, 0]])
    opt.step()
    other = optim.Adam(params, lr=0.1, nonfinite="skip")
    other.load_state_dict(opt.state_dict())
    assert other.skipped_steps == 1

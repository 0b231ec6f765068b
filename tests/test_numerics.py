"""Numerics: parameter dtypes, the non-finite gradient policy, and gradients near float32 overflow.

State dtype
    Every state array (Adam's ``m``, ``v``, ``v_max``; Adamax's ``m``, ``u``), the
    EMA averages and the accumulated gradients have the parameter's dtype; ``step``
    is a Python int; bias corrections are Python floats (double) unless
    ``power_dtype`` asks otherwise. So float16 parameters get float16 moments.

Non-finite gradients (``nonfinite=``)
    ``"propagate"`` (default, every framework's behaviour): NaN/inf flows into the
    moments and the parameter. ``"raise"``: ``FloatingPointError`` naming the
    parameter and the count, before anything changes. ``"skip"``: the call is a
    no-op (parameters, state, counters, accumulators, EMA), counted in
    ``skipped_steps``.

Near float32 overflow (measured, see docs/numerics.md)
    Adam computes ``v += (1 - b2) * g * g`` left to right, ``((1 - b2) g) g``, so
    with b2 = 0.999 it overflows only for |g| > 5.8333722e20 (not at g^2 > 3.4e38,
    i.e. |g| > 1.8e19). Then v = inf, sqrt(v) = inf and m / inf = 0: the update is
    exactly 0, in both epsilon modes and for AMSGrad, and v stays inf, so the
    coordinate is frozen for good, silently (the gradient itself is finite, so the
    nonfinite policy does not fire). Adamax keeps u = max(b2 u, |g|) = |g| finite
    and its first step is lr, as always.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
import optim
from minigrad import nn

ALGORITHMS = {"adam": optim.Adam, "amsgrad": optim.AMSGrad, "adamax": optim.Adamax}
CONVENTIONS = sorted(optim.CONVENTIONS)
DTYPES = [np.float16, np.float32, np.float64]
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _params(device, dtype, values=((1.0, -0.5, 0.25), (0.5, 2.0))):
    return [mg.tensor(np.array(v), dtype=dtype, requires_grad=True, device=device) for v in values]


def _set_grads(params, grads):
    for p, g in zip(params, grads):
        p.grad = None if g is None else mg.tensor(np.array(g), dtype=p.dtype, device=p.device)


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


# --------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@pytest.mark.parametrize("convention", CONVENTIONS)
def test_state_has_the_parameter_dtype(device, dtype, algorithm, convention):
    """float16, float32 and float64 parameters: after steps with EMA and accumulation, the
    parameters keep their dtype and every state array (moments, EMA averages, accumulated
    gradients) has it too; the values follow a float64 run to the dtype's resolution."""
    results = {}
    for run_dtype in (dtype, np.float64):
        params = _params(device, run_dtype)
        opt = ALGORITHMS[algorithm](params, lr=0.01, eps=1e-3, convention=convention, use_ema=True,
                                    gradient_accumulation_steps=2)
        for k in range(5):
            _set_grads(params, [[0.5, -0.25 * k, 1.0], [0.125, -1.0]])
            opt.step()
        results[run_dtype] = params
        for p in params:
            assert p.dtype == run_dtype
            assert opt.averages[p].dtype == run_dtype
            for key, value in opt.state[p].items():
                assert isinstance(value, int) if key == "step" else value.dtype == run_dtype, key
        assert all(a.dtype == run_dtype for a in opt.accumulators.values())  # a window is open after 5 calls
        assert len(opt.accumulators) == 2
    atol = {np.float16: 4e-3, np.float32: 1e-6, np.float64: 0.0}[dtype]
    for low, high in zip(results[dtype], results[np.float64]):
        np.testing.assert_allclose(low.numpy().astype(np.float64), high.numpy(), rtol=0, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_sgd_keeps_the_parameter_dtype(device, dtype):
    """SGD has no moments; its parameters, EMA averages and accumulated gradients keep the dtype."""
    params = _params(device, dtype)
    opt = optim.SGD(params, lr=0.1, use_ema=True, gradient_accumulation_steps=2)
    for _ in range(3):
        _set_grads(params, [[0.5, -0.25, 1.0], [0.125, -1.0]])
        opt.step()
    assert all(p.dtype == dtype and opt.averages[p].dtype == dtype for p in params)
    assert all(a.dtype == dtype for a in opt.accumulators.values()) and len(opt.accumulators) == 2
    np.testing.assert_allclose(params[0].numpy().astype(np.float64), [0.95, -0.475, 0.15], rtol=2e-3)


def test_float16_adam_with_the_default_eps_turns_small_gradients_into_inf(device):
    """float16 caveat, measured: eps = 1e-8 rounds to 0 in float16 (smallest subnormal 6e-8) and
    v = (1 - b2) g^2 underflows to 0 for |g| <= 1e-3, so Adam divides m by 0: g = 1e-3 sends the
    parameter to -inf, g = 1e-5 to NaN (m * lr underflows too, 0 / 0). eps = 1e-4 (representable)
    gives a finite step; Adamax, which never squares g, is fine with the default eps."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        outcomes = {}
        for name, make in {
            "adam": lambda ps: optim.Adam(ps, lr=1e-3),
            "adam_eps_1e-4": lambda ps: optim.Adam(ps, lr=1e-3, eps=1e-4),
            "adamax": lambda ps: optim.Adamax(ps, lr=1e-3),
        }.items():
            params = _params(device, np.float16, values=((1.0, 1.0),))
            opt = make(params)
            _set_grads(params, [[1e-3, 1e-5]])
            opt.step()
            outcomes[name] = params[0].numpy().astype(np.float64)
    assert np.float16(1e-8) == 0
    assert outcomes["adam"][0] == -np.inf and np.isnan(outcomes["adam"][1])
    assert np.all(np.isfinite(outcomes["adam_eps_1e-4"])) and outcomes["adam_eps_1e-4"][0] < 1.0
    np.testing.assert_allclose(outcomes["adamax"], [1.0 - 1e-3, 1.0], atol=1e-3)


# --------------------------------------------------------------------------- non-finite policy
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_propagate_is_the_default_and_lets_nan_reach_the_parameter(device, algorithm, bad):
    """Default (the frameworks' behaviour): the non-finite coordinate's moments and parameter
    become NaN/inf, the other coordinates update normally, and the step counts."""
    params = _params(device, np.float32)
    opt = ALGORITHMS[algorithm](params, lr=0.01)
    assert opt.options.nonfinite == "propagate"
    _set_grads(params, [[bad, 1.0, 1.0], [1.0, 1.0]])
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
    _set_grads(params, [np.ones((2, 3)), [1.0, 2.0]])
    opt.step()
    before = _snapshot(params, opt)
    _set_grads(params, [np.ones((2, 3)), [np.nan, np.inf]])
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
        params = _params(device, np.float32)
        opt = ALGORITHMS[algorithm](params, lr=optim.schedules.ExponentialDecay(0.05, 2, 0.5), nonfinite="skip",
                                    use_ema=True, gradient_accumulation_steps=accumulation)
        for grads in sequence:
            before = _snapshot(params, opt)
            _set_grads(params, grads)
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
    params = _params(device, np.float32, values=((1.0,),))
    opt = optim.Adam(params, lr=0.01, nonfinite="skip", gradient_accumulation_steps=3)
    _set_grads(params, [[3e38]])
    opt.step()
    _set_grads(params, [[3e38]])
    opt.step()
    assert opt.skipped_steps == 1 and opt.calls == 1
    assert float(mg.backend.to_numpy(opt.accumulators[params[0]])[0]) == np.float32(3e38)
    scaled = _params(device, np.float32, values=((1.0,),))
    opt = optim.Adam(scaled, lr=0.01, nonfinite="skip", loss_scale_factor=1024.0)
    _set_grads(scaled, [[np.inf]])
    opt.step()
    assert opt.skipped_steps == 1 and opt.iterations == 0 and float(scaled[0].numpy()[0]) == 1.0


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_raise_on_an_accumulated_sum_names_it(device):
    """nonfinite="raise" on a call that only accumulates: the message says 'accumulated gradient'."""
    params = _params(device, np.float32, values=((1.0,),))
    opt = optim.Adamax(params, lr=0.01, nonfinite="raise", gradient_accumulation_steps=3)
    _set_grads(params, [[3e38]])
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
    params = _params(device, np.float32)
    with pytest.raises(ValueError, match=r"nonfinite: unknown value 'ignore'"):
        optim.Adam(params, nonfinite="ignore")
    opt = optim.Adam(params, lr=0.1, nonfinite="skip")
    assert opt.get_config()["nonfinite"] == "skip"
    _set_grads(params, [[np.nan, 0, 0], [0, 0]])
    opt.step()
    other = optim.Adam(params, lr=0.1, nonfinite="skip")
    other.load_state_dict(opt.state_dict())
    assert other.skipped_steps == 1


# --------------------------------------------------------------------------- near float32 overflow
@pytest.mark.parametrize("epsilon_mode", ["algorithm1", "epsilon_hat"])
@pytest.mark.parametrize("cls", [optim.Adam, optim.AMSGrad], ids=["adam", "amsgrad"])
def test_adam_v_overflows_in_float32_and_the_coordinate_freezes(device, epsilon_mode, cls):
    """g = 1e20 is still fine: v = ((1 - b2) g) g = 1e37 < 3.4e38 and the first step is finite (lr for
    Adam; AMSGrad's paper mode, without bias correction, steps lr * 0.1 / sqrt(0.001)).
    g = 6e20 > 5.8333722e20: v = inf, the update is exactly 0 (m / inf) and the coordinate stays
    frozen under later, normal gradients, while a neighbour coordinate keeps training."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fine = _params(device, np.float32, values=((1.0,),))
        opt = cls(fine, lr=0.01, epsilon_mode=epsilon_mode)
        _set_grads(fine, [[1e20]])
        opt.step()
        v = float(mg.backend.to_numpy(opt.state[fine[0]]["v"])[0])
        assert np.isfinite(v) and v == pytest.approx(1e37, rel=1e-6)
        assert float(fine[0].numpy()[0]) < 1.0

        frozen = _params(device, np.float32, values=((1.0, 1.0),))
        opt = cls(frozen, lr=0.01, epsilon_mode=epsilon_mode)
        _set_grads(frozen, [[6e20, 1.0]])
        opt.step()
        assert float(mg.backend.to_numpy(opt.state[frozen[0]]["v"])[0]) == np.inf
        assert float(frozen[0].numpy()[0]) == 1.0  # the update was exactly 0
        for _ in range(5):
            _set_grads(frozen, [[1.0, 1.0]])
            opt.step()
        values = frozen[0].numpy()
        assert values[0] == 1.0 and values[1] < 0.96  # frozen for good, the neighbour trained
        assert np.isfinite(mg.backend.to_numpy(opt.state[frozen[0]]["m"])).all()


def test_adam_overflow_threshold_is_where_the_left_to_right_product_overflows():
    """The measured threshold: float32 g = 5.8333722e20 keeps v finite, 5.8333726e20 overflows
    (sqrt(float32 max / (1 - b2)) with b2 = 0.999); g^2 alone would overflow from 1.85e19."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for g, finite in ((5.8333722e20, True), (5.8333726e20, False), (1.9e19, True)):
            x = mg.tensor(np.array([1.0], np.float32), requires_grad=True)
            opt = optim.Adam([x], lr=0.01)
            _set_grads([x], [[g]])
            opt.step()
            assert np.isfinite(opt.state[x]["v"][0]) == finite, g
        assert np.float32(1.9e19) ** 2 == np.inf


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("g", [1e20, 6e20, 1e30, 3e38])
def test_adamax_u_stays_finite_and_the_first_step_is_lr(device, convention, g):
    """Adamax never squares g: u = max(b2 u, |g|) = |g| stays finite up to float32's maximum and
    the first step is lr (m_hat / u = 1); the nonfinite policy has nothing to catch."""
    x = _params(device, np.float32, values=((1.0,),))
    opt = optim.Adamax(x, lr=0.01, convention=convention, nonfinite="raise")
    _set_grads(x, [[g]])
    opt.step()
    u = float(mg.backend.to_numpy(opt.state[x[0]]["u"])[0])
    assert np.isfinite(u) and u == pytest.approx(g, rel=1e-6)
    assert float(x[0].numpy()[0]) == pytest.approx(1.0 - 0.01, abs=1e-6)

"""Numerics: parameter dtypes and gradients near float32 overflow.

State dtype
    Every state array (Adam's ``m``, ``v``, ``v_max``; Adamax's ``m``, ``u``), the
    EMA averages and the accumulated gradients have the parameter's dtype; ``step``
    is a Python int; bias corrections are Python floats (double) unless
    ``power_dtype`` asks otherwise. So float16 parameters get float16 moments.

Near float32 overflow (measured, see docs/numerics.md)
    Adam computes ``v += (1 - b2) * g * g`` left to right, ``((1 - b2) g) g``, so
    with b2 = 0.999 it overflows only for |g| > 5.8333722e20 (not at g^2 > 3.4e38,
    i.e. |g| > 1.8e19). Then v = inf, sqrt(v) = inf and m / inf = 0: the update is
    exactly 0, in both epsilon modes and for AMSGrad, and v stays inf, so the
    coordinate is frozen for good, silently (the gradient itself is finite, so the
    nonfinite policy does not fire). Adamax keeps u = max(b2 u, |g|) = |g| finite
    and its first step is lr, as always.

The non-finite gradient policy (``nonfinite=``) is in tests/test_numerics_nonfinite.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numerics_helpers import ALGORITHMS, CONVENTIONS, make_params, set_grads

import minigrad as mg
import optim

DTYPES = [np.float16, np.float32, np.float64]
FLOAT32_MAX = float(np.finfo(np.float32).max)


# --------------------------------------------------------------------------- dtypes
ALGORITHM_CONVENTIONS = [(algorithm, convention) for convention in CONVENTIONS for algorithm in sorted(ALGORITHMS)
                         if ALGORITHMS[algorithm].algorithm in optim.CONVENTIONS[convention].algorithms]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("algorithm, convention", ALGORITHM_CONVENTIONS, ids=[f"{c}-{a}" for a, c in
                                                                              ALGORITHM_CONVENTIONS])
def test_state_has_the_parameter_dtype(device, dtype, algorithm, convention):
    """float16, float32 and float64 parameters: after steps with EMA and accumulation, the
    parameters keep their dtype and every state array (moments, EMA averages, accumulated
    gradients) has it too; the values follow a float64 run to the dtype's resolution."""
    results = {}
    for run_dtype in (dtype, np.float64):
        params = make_params(device, run_dtype)
        opt = ALGORITHMS[algorithm](params, lr=0.01, eps=1e-3, convention=convention, use_ema=True,
                                    gradient_accumulation_steps=2)
        for k in range(5):
            set_grads(params, [[0.5, -0.25 * k, 1.0], [0.125, -1.0]])
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
    params = make_params(device, dtype)
    opt = optim.SGD(params, lr=0.1, use_ema=True, gradient_accumulation_steps=2)
    for _ in range(3):
        set_grads(params, [[0.5, -0.25, 1.0], [0.125, -1.0]])
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
            params = make_params(device, np.float16, values=((1.0, 1.0),))
            opt = make(params)
            set_grads(params, [[1e-3, 1e-5]])
            opt.step()
            outcomes[name] = params[0].numpy().astype(np.float64)
    assert np.float16(1e-8) == 0
    assert outcomes["adam"][0] == -np.inf and np.isnan(outcomes["adam"][1])
    assert np.all(np.isfinite(outcomes["adam_eps_1e-4"])) and outcomes["adam_eps_1e-4"][0] < 1.0
    np.testing.assert_allclose(outcomes["adamax"], [1.0 - 1e-3, 1.0], atol=1e-3)


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
        fine = make_params(device, np.float32, values=((1.0,),))
        opt = cls(fine, lr=0.01, epsilon_mode=epsilon_mode)
        set_grads(fine, [[1e20]])
        opt.step()
        v = float(mg.backend.to_numpy(opt.state[fine[0]]["v"])[0])
        assert np.isfinite(v) and v == pytest.approx(1e37, rel=1e-6)
        assert float(fine[0].numpy()[0]) < 1.0

        frozen = make_params(device, np.float32, values=((1.0, 1.0),))
        opt = cls(frozen, lr=0.01, epsilon_mode=epsilon_mode)
        set_grads(frozen, [[6e20, 1.0]])
        opt.step()
        assert float(mg.backend.to_numpy(opt.state[frozen[0]]["v"])[0]) == np.inf
        assert float(frozen[0].numpy()[0]) == 1.0  # the update was exactly 0
        for _ in range(5):
            set_grads(frozen, [[1.0, 1.0]])
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
            set_grads([x], [[g]])
            opt.step()
            assert np.isfinite(opt.state[x]["v"][0]) == finite, g
        assert np.multiply(np.float32(1.9e19), np.float32(1.9e19)) == np.inf


@pytest.mark.parametrize("convention", [name for name in CONVENTIONS if "adamax" in optim.CONVENTIONS[name].algorithms])
@pytest.mark.parametrize("g", [1e20, 6e20, 1e30, 3e38])
def test_adamax_u_stays_finite_and_the_first_step_is_lr(device, convention, g):
    """Adamax never squares g: u = max(b2 u, |g|) = |g| stays finite up to float32's maximum and
    the first step is lr (m_hat / u = 1); the nonfinite policy has nothing to catch."""
    x = make_params(device, np.float32, values=((1.0,),))
    opt = optim.Adamax(x, lr=0.01, convention=convention, nonfinite="raise")
    set_grads(x, [[g]])
    opt.step()
    u = float(mg.backend.to_numpy(opt.state[x[0]]["u"])[0])
    assert np.isfinite(u) and u == pytest.approx(g, rel=1e-6)
    assert float(x[0].numpy()[0]) == pytest.approx(1.0 - 0.01, abs=1e-6)

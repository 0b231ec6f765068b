"""NumPy values as hyperparameters: wherever a Python number or bool is accepted, so are NumPy scalars, 0-d arrays
and NumPy bools; they are stored as Python numbers (configs stay JSON-serialisable) and the arithmetic is the
Python value's, bit for bit. An array with one element but one or more dimensions is not a number: refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
from optim_api_helpers import param

import minigrad as mg
import optim
from optim import functional, schedules

PYTHON = dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01, maximize=False, clipnorm=1.5, use_ema=True,
              ema_momentum=0.9, ema_overwrite_frequency=3, gradient_accumulation_steps=2, loss_scale_factor=4.0,
              decay=0.01, lazy=False)
NUMPY = dict(lr=np.array(0.05), betas=np.array([0.8, 0.99]), eps=np.float64(1e-6), weight_decay=np.array(0.01),
             maximize=np.False_, clipnorm=np.array(1.5), use_ema=np.array(True), ema_momentum=np.float64(0.9),
             ema_overwrite_frequency=np.int64(3), gradient_accumulation_steps=np.array(2, np.int32),
             loss_scale_factor=np.float32(4.0), decay=np.array(0.01), lazy=np.bool_(False))
ADAPTIVE = {"Adam": (optim.Adam, dict(amsgrad=np.True_, decoupled_weight_decay=np.array(True))),
            "AMSGrad": (optim.AMSGrad, dict(decoupled_weight_decay=np.True_)),
            "Adamax": (optim.Adamax, dict(decoupled_weight_decay=np.False_))}
GRADS = np.random.default_rng(3).standard_normal((6, 3))


def _plain(extra):
    return {key: bool(value) for key, value in extra.items()}


def _trajectory(opt, x, device):
    for g in GRADS:
        opt.apply_gradients([(mg.tensor(g, device=device), x)])
    return x.numpy().copy()


@pytest.mark.parametrize("name", list(ADAPTIVE))
def test_numpy_hyperparameters_behave_and_serialise_as_python_ones(device, name):
    """Every hyperparameter and option given as a NumPy scalar, 0-d array or NumPy bool (fused=None too): stored as
    Python float/int/bool, get_config equals the Python-valued optimizer's and survives json, from_config round
    trips, and the trajectory is bit for bit the Python-valued one."""
    cls, extra = ADAPTIVE[name]
    x, y, z = (param([1.0, -2.0, 0.5], device) for _ in range(3))
    with_numpy = cls([("w", x)], **NUMPY, **extra, fused=None,
                     pattern_lrs=[{"patterns": ["w"], "lr": np.float32(0.25)}])
    with_python = cls([("w", y)], **PYTHON, **_plain(extra), pattern_lrs=[{"patterns": ["w"], "lr": 0.25}])
    config = with_numpy.get_config()
    assert json.loads(json.dumps(config)) == config == with_python.get_config()
    assert with_numpy.fused is False
    for key, value in with_numpy.defaults.items():
        assert type(value) is type(with_python.defaults[key]), key
    for key, value in vars(with_numpy.options).items():
        assert type(value) is type(vars(with_python.options)[key]), key
    clone = cls.from_config(json.loads(json.dumps(config)), params=[("w", z)])
    np.testing.assert_array_equal(_trajectory(with_numpy, x, device), _trajectory(with_python, y, device))
    np.testing.assert_array_equal(_trajectory(clone, z, device), x.numpy())


def test_sgd_and_param_groups_take_numpy_values(device):
    """SGD's lr and maximize, and the hyperparameters of a param group, accept NumPy values and store Python ones;
    fused=np.True_ turns the fused path on."""
    x, y = param([1.0], device), param([2.0], device)
    opt = optim.SGD([{"params": [x], "lr": np.float32(0.5)}, {"params": [y], "maximize": np.True_}],
                    lr=np.array(0.1), maximize=np.array(False))
    assert [type(g["lr"]) for g in opt.param_groups] == [float, float]
    assert [g["maximize"] for g in opt.param_groups] == [False, True]
    assert type(opt.param_groups[1]["maximize"]) is bool
    assert optim.Adam([param([1.0], device)], fused=np.True_).fused is True


@pytest.mark.parametrize("cls", [optim.Adam, optim.Adamax, optim.SGD])
@pytest.mark.parametrize("keyword, value, shown", [
    ("lr", np.array([0.1]), "shape (1,)"), ("clipnorm", np.array([[1.0]]), "shape (1, 1)"),
    ("use_ema", np.array([True]), "shape (1,)"), ("decay", np.ones(1), "shape (1,)"),
    ("ema_overwrite_frequency", np.array([3]), "array([3])"), ("maximize", np.array([False]), "shape (1,)"),
    ("lr", np.complex64(0.1), "0.1"), ("use_ema", np.float64(1.0), "1.0"),
])
def test_arrays_with_dimensions_and_other_kinds_are_refused(device, cls, keyword, value, shown):
    """A one-element array of shape (1,) or (1, 1) is an array, not a number: refused naming the keyword and the
    shape; so are complex numbers, and a float where a bool is expected."""
    with pytest.raises((TypeError, ValueError)) as caught:
        cls([param([1.0], device)], **{keyword: value})
    assert str(caught.value).startswith(f"{keyword}: ") and shown in str(caught.value)


def test_betas_must_be_a_pair(device):
    """betas: a sequence of two numbers or an array of shape (2,); shape (1, 2) is refused naming betas."""
    optim.Adam([param([1.0], device)], betas=[np.array(0.5), np.float32(0.75)])
    with pytest.raises(TypeError, match=r"^betas: .*\[\[0\.9"):
        optim.Adam([param([1.0], device)], betas=np.array([[0.9, 0.999]]))


NUMPY_RULE_ARGUMENTS = [
    dict(step=np.int64(3), lr=np.float32(0.01), beta1=np.float64(0.9), beta2=np.float64(0.999),
         eps=np.float32(1e-7), weight_decay=np.float64(0.1)),
    dict(step=np.array(3), lr=np.array(0.01, np.float32), beta1=np.array(0.9), beta2=0.999, eps=1e-7,
         weight_decay=np.array(0.1)),
]


@pytest.mark.parametrize("numpy_args", NUMPY_RULE_ARGUMENTS, ids=["scalars", "0-d arrays"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_rules_compute_numpy_scalars_as_python_numbers(device, dtype, numpy_args):
    """functional.adam_update / adamax_update / sgd_update with NumPy hyperparameters (a float32 lr, a NumPy int
    step; NumPy scalars or 0-d arrays) give bit for bit the result of the same values as Python numbers: a NumPy
    scalar would otherwise set the precision of the arithmetic (NEP 50)."""
    xp = mg.tensor(np.zeros(1), device=device).xp
    rng = np.random.default_rng(0)
    start = {key: xp.asarray(rng.standard_normal(64).astype(dtype) ** (2 if key in ("v", "u") else 1))
             for key in ("param", "grad", "m", "v", "u")}
    python_args = {key: np.asarray(value).item() for key, value in numpy_args.items()}
    results = []
    for args in (numpy_args, python_args):
        a = {key: value.copy() for key, value in start.items()}
        functional.adam_update(a["param"], a["grad"], a["m"], a["v"], None, **args, epsilon_mode="epsilon_hat")
        b = {key: value.copy() for key, value in start.items()}
        functional.adamax_update(b["param"], b["grad"], b["m"], b["u"], **args)
        c = start["param"].copy()
        functional.sgd_update(c, start["grad"], lr=args["lr"])
        results.append([mg.backend.to_numpy(r) for r in (a["param"], a["m"], a["v"], b["param"], b["u"], c)])
    for with_numpy, with_python in zip(*results):
        np.testing.assert_array_equal(with_numpy, with_python)


def test_load_state_dict_accepts_numpy_integer_counters(device):
    """A state dict whose step and counters are NumPy integers (read back from an array file, say) loads, and the
    counters become Python ints."""
    x = param([1.0, 2.0], device)
    opt = optim.Adam([x], lr=0.1)
    opt.apply_gradients([(mg.tensor(np.ones(2), device=device), x)])
    state = opt.state_dict()
    state["iterations"], state["calls"] = np.int64(1), np.array(1)
    state["state"][0]["step"] = np.int32(1)
    opt.load_state_dict(state)
    assert (type(opt.iterations), type(opt.calls), type(opt.state[x]["step"])) == (int, int, int)


def test_schedules_take_numpy_values_and_keep_python_ones():
    """Schedule arguments may be NumPy scalars, 0-d arrays, NumPy bools, or 1-d arrays for the piecewise lists;
    the config holds Python values (json round trip) and the schedule equals the Python-valued one."""
    built = [
        (schedules.ExponentialDecay(np.array(0.1), np.int64(10), np.float32(0.5), staircase=np.True_),
         schedules.ExponentialDecay(0.1, 10, float(np.float32(0.5)), staircase=True)),
        (schedules.PiecewiseConstantDecay(np.array([10, 20]), np.array([0.1, 0.05, 0.01])),
         schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.05, 0.01])),
        (schedules.PolynomialDecay(np.float64(0.1), np.array(100), cycle=np.array(True)),
         schedules.PolynomialDecay(0.1, 100, cycle=True)),
    ]
    for with_numpy, with_python in built:
        config = with_numpy.get_config()
        assert json.loads(json.dumps(config)) == config == with_python.get_config()
        assert [with_numpy(k) for k in range(0, 250, 7)] == [with_python(k) for k in range(0, 250, 7)]

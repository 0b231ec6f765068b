"""optim.SGD: the paper's plain step kept bit for bit, Keras's velocity formula operation by operation, the two
momentum formulas against each other, the state and its saving, and the Keras options with momentum.

The comparison with torch.optim.SGD is in tests/test_sgd_vs_torch.py, the kernels in tests/test_sgd_kernels.py and
the refusals in the bad-input catalogue (tests/bad_input_rows_*.py)."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from kernel_helpers import assert_same_bits

import minigrad as mg
import optim
from optim import schedules


def tensors(arrays):
    return [mg.tensor(np.array(array, copy=True), requires_grad=True) for array in arrays]


def run(opt, params, grads):
    """apply_gradients with each step's gradients; the parameters after every step."""
    trajectory = []
    for step_grads in grads:
        opt.apply_gradients([(np.array(g, copy=True), p) for g, p in zip(step_grads, params)])
        trajectory.append([p.numpy().copy() for p in params])
    return trajectory


@st.composite
def problems(draw, steps=4):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    values = st.floats(-1e3, 1e3, width=np.dtype(dtype).itemsize * 8)
    param = draw(hnp.arrays(dtype, 6, elements=values))
    grads = [[draw(hnp.arrays(dtype, 6, elements=values))] for _ in range(steps)]
    return param, grads


# --------------------------------------------------------------------------- the paper's plain step, unchanged
@settings(max_examples=40, deadline=None)
@given(problem=problems(), lr=st.floats(0.0, 1.0), maximize=st.booleans())
def test_paper_convention_is_the_plain_step_rounded_as_before(problem, lr, maximize):
    """SGD(params, lr) without a convention: theta - lr * g (theta + lr * g when maximizing), the product rounded
    first, as the library computed it before SGD took a convention."""
    param, grads = problem
    expected = param.copy()
    for (grad,) in grads:
        step = param.dtype.type(lr) * grad
        expected = expected + step if maximize else expected - step
    (x,) = tensors([param])
    trajectory = run(optim.SGD([x], lr=lr, maximize=maximize), [x], grads)
    assert_same_bits(trajectory[-1][0], expected, "theta after the last step")


# --------------------------------------------------------------------------- Keras's formula
def keras_model(param, grads, lr, momentum, nesterov, weight_decay):
    """keras.optimizers.SGD 3.15.1 (keras/src/optimizers/sgd.py update_step, base_optimizer._apply_weight_decay)
    in NumPy, operation by operation, every number cast to the variable's dtype; the branches on the Python values
    (``if self.momentum != 0``), a weight decay of 0 as Keras's None."""
    dtype = param.dtype.type
    lr_, momentum_, weight_decay_ = dtype(lr), dtype(momentum), dtype(weight_decay)
    w, m, trajectory = param.copy(), np.zeros_like(param), []
    for (g,) in grads:
        if weight_decay != 0:
            w = w - w * weight_decay_ * lr_
        if momentum != 0:
            m = m * momentum_ - g * lr_
            w = w + (m * momentum_ - g * lr_) if nesterov else w + m
        else:
            w = w - g * lr_
        trajectory.append(w)
    return trajectory


@settings(max_examples=60, deadline=None)
@given(problem=problems(), lr=st.floats(0.0, 1.0), momentum=st.floats(0.0, 1.0), nesterov=st.booleans(),
       weight_decay=st.one_of(st.just(0.0), st.floats(0.0, 0.5)))
def test_keras_convention_is_keras_update_step_operation_by_operation(problem, lr, momentum, nesterov,
                                                                      weight_decay):
    """convention="keras": decoupled decay, v = v * mu - g * lr, w += v (Nesterov: w += v * mu - g * lr), bit for
    bit against the model of Keras's code (the recorded Keras runs of `python -m optim verify` check the real one)."""
    param, grads = problem
    nesterov = nesterov and momentum > 0
    (x,) = tensors([param])
    opt = optim.SGD([x], lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay, convention="keras")
    with np.errstate(all="ignore"):
        ours = run(opt, [x], grads)
        # Keras keeps the learning rate in a floatx (float32) variable: float64 variables see float32(lr)
        keras_lr = float(np.float32(lr)) if param.dtype == np.float64 else lr
        expected = keras_model(param, grads, keras_lr, momentum, nesterov, weight_decay)
    for step, (theta, reference) in enumerate(zip(ours, expected), start=1):
        assert_same_bits(theta[0], reference, f"theta after step {step}")


# --------------------------------------------------------------------------- the two momentum formulas
@settings(max_examples=40, deadline=None)
@given(problem=problems(steps=6), lr=st.floats(1e-3, 1.0), momentum=st.floats(0.0, 0.99), nesterov=st.booleans())
def test_the_two_formulas_agree_up_to_rounding_when_lr_is_constant(problem, lr, momentum, nesterov):
    """With a constant lr and no dampening, Keras's v_t = -lr b_t exactly in real arithmetic: the trajectories of
    the two conventions differ by rounding only (float64)."""
    param, grads = problem
    param, grads = param.astype(np.float64), [[g.astype(np.float64)] for (g,) in grads]
    nesterov = nesterov and momentum > 0
    runs = []
    for convention in ("pytorch", "keras"):
        (x,) = tensors([param])
        # lr_dtype=None: the formulas alone, without Keras's float32 learning rate for float64 variables
        opt = optim.SGD([x], lr=lr, momentum=momentum, nesterov=nesterov, convention=convention, lr_dtype=None)
        runs.append(run(opt, [x], grads)[-1][0])
    scale = 1.0 + np.abs(param) + lr * sum(np.abs(g) for (g,) in grads) / (1.0 - momentum)
    assert np.all(np.abs(runs[0] - runs[1]) <= 1e-12 * scale)


def test_the_two_formulas_differ_when_lr_changes():
    """Gradient 1 for three steps, mu = 0.9, lr 0.1 then 0.05 at the third step: PyTorch applies the new lr to the
    whole buffer, -(0.1 * 1 + 0.1 * 1.9 + 0.05 * 2.71); Keras's velocity keeps the old steps at the old lr,
    -(0.1 + 0.19 + (0.9 * 0.19 + 0.05))."""
    lr = schedules.PiecewiseConstantDecay([1], [0.1, 0.05])  # the number of updates applied so far: 0, 1, 2
    buffers = [1.0, 0.9 * 1.0 + 1.0, 0.9 * 1.9 + 1.0]
    pytorch_moves = [0.1 * buffers[0], 0.1 * buffers[1], 0.05 * buffers[2]]
    velocities = [-0.1, 0.9 * -0.1 - 0.1]
    velocities.append(0.9 * velocities[1] - 0.05)
    expected = {"pytorch": -sum(pytorch_moves), "keras": sum(velocities)}
    for convention, total in expected.items():
        (x,) = tensors([np.zeros(1)])
        run(optim.SGD([x], lr=lr, momentum=0.9, convention=convention, lr_dtype=None), [x], [[np.ones(1)]] * 3)
        np.testing.assert_allclose(x.numpy(), [total], rtol=1e-14, err_msg=convention)
    assert abs(expected["keras"] - expected["pytorch"]) > 0.08


# --------------------------------------------------------------------------- state and saving
@pytest.mark.parametrize("convention,name", [("pytorch", "momentum_buffer"), ("keras", "momentum"),
                                             ("tensorflow", "momentum")])
def test_state_holds_the_momentum_buffer_under_the_frameworks_name(convention, name):
    """torch.optim.SGD's state calls it momentum_buffer, Keras's variable momentum; plain SGD keeps none."""
    x, y = tensors([np.ones(3), np.ones(2)])
    opt = optim.SGD([{"params": [x], "momentum": 0.9}, {"params": [y]}], lr=0.1, convention=convention)
    run(opt, [x, y], [[np.ones(3), np.ones(2)]])
    assert sorted(opt.state[x]) == sorted(["step", name]) and sorted(opt.state[y]) == ["step"]
    assert sorted(opt.state_dict()["state"][0]) == sorted(["step", name])


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("convention", ["pytorch", "keras"])
def test_state_dict_and_checkpoint_resume_the_same_trajectory(tmp_path, convention, fused):
    """Three steps, save (state_dict, and a checkpoint file), load into new optimizers, three more steps: the bits
    of the uninterrupted run, momentum buffer included."""
    rng = np.random.default_rng(7)
    start = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    grads = [[rng.standard_normal((3, 2)), rng.standard_normal(4)] for _ in range(6)]
    kwargs = {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01, "convention": convention,
              "fused": fused}
    straight = tensors(start)
    expected = run(optim.SGD(straight, **kwargs), straight, grads)[-1]
    first = tensors(start)
    first_opt = optim.SGD(first, **kwargs)
    run(first_opt, first, grads[:3])
    model = mg.nn.Module()
    model.a, model.b = first
    optim.save_checkpoint(tmp_path / "run.npz", model, first_opt)
    saved = first_opt.state_dict()
    for how in ("state_dict", "checkpoint"):
        resumed = tensors([p.numpy() for p in first])
        resumed_opt = optim.SGD(resumed, **kwargs)
        if how == "state_dict":
            resumed_opt.load_state_dict(saved)
        else:
            target = mg.nn.Module()
            target.a, target.b = resumed
            optim.load_checkpoint(tmp_path / "run.npz", target, resumed_opt)
        final = run(resumed_opt, resumed, grads[3:])[-1]
        for index, (actual, reference) in enumerate(zip(final, expected)):
            assert_same_bits(actual, reference, f"parameter {index} after resuming from the {how}")


def test_get_config_rebuilds_the_optimizer():
    """get_config holds momentum, dampening, Nesterov, weight decay, form and convention (JSON); from_config
    rebuilds an optimizer with the same trajectory."""
    kwargs = {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01, "convention": "pytorch"}
    x, y = tensors([np.ones(2)]), tensors([np.ones(2)])
    opt = optim.SGD(x, **kwargs)
    config = json.loads(json.dumps(opt.get_config()))
    assert {key: config[key] for key in kwargs} == kwargs and config["form"] == "dampened"
    clone = optim.SGD.from_config(config, params=y)
    grads = [[np.array([0.5, -2.0])]] * 3
    assert_same_bits(run(opt, x, grads)[-1][0], run(clone, y, grads)[-1][0], "theta")


# --------------------------------------------------------------------------- Keras's options with momentum
def test_keras_clipnorm_acts_before_the_velocity():
    """clipnorm=1 on a gradient of norm 5 (3, 4): the velocity is -lr * g / 5, as Keras clips before update_step."""
    (x,) = tensors([np.zeros(2)])
    opt = optim.SGD([x], lr=0.1, momentum=0.9, convention="keras", clipnorm=1.0, lr_dtype=None)
    run(opt, [x], [[np.array([3.0, 4.0])]])
    np.testing.assert_allclose(opt.state[x]["momentum"], [-0.1 * 0.6, -0.1 * 0.8], rtol=1e-15)


@pytest.mark.parametrize("fused", [False, True])
def test_keras_options_with_momentum(fused):
    """use_ema, gradient accumulation, exclude_from_weight_decay and a schedule together with momentum under
    convention="keras": the moving average leaves the trajectory alone (the same bits as without use_ema), the
    parameter excluded from weight decay moves as without decay, the other one does not, and the averages are
    finite and lag behind the parameters."""
    rng = np.random.default_rng(11)
    start = [rng.standard_normal(3), rng.standard_normal(3)]
    grads = [[rng.standard_normal(3), rng.standard_normal(3)] for _ in range(6)]
    kwargs = {"lr": schedules.ExponentialDecay(0.1, 1, 0.5), "momentum": 0.9, "convention": "keras",
              "gradient_accumulation_steps": 2, "fused": fused}
    runs = {}
    for name, extra in (("ema", {"weight_decay": 0.1, "use_ema": True, "ema_momentum": 0.5}),
                        ("decay", {"weight_decay": 0.1}), ("plain", {})):
        params = tensors(start)
        opt = optim.SGD(list(zip(["w", "bias"], params)), **extra, **kwargs)
        opt.exclude_from_weight_decay(var_names=["bias"])
        run(opt, params, grads)
        runs[name] = (opt, [p.numpy() for p in params])
    for index in range(2):
        assert_same_bits(runs["ema"][1][index], runs["decay"][1][index], f"parameter {index} with use_ema")
    assert_same_bits(runs["decay"][1][1], runs["plain"][1][1], "the parameter excluded from weight decay")
    assert not np.array_equal(runs["decay"][1][0], runs["plain"][1][0])
    averages = list(runs["ema"][0].averages.values())
    assert len(averages) == 2 and all(np.isfinite(a).all() for a in averages)
    assert not any(np.array_equal(a, p) for a, p in zip(averages, runs["ema"][1]))


# --------------------------------------------------------------------------- the examples
def test_the_examples_of_the_class_and_of_the_api_page_run():
    """The >>> examples of optim.SGD's docstring and of docs/api-optim.md give the output they show."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "api-optim.md").read_text()
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for name, text, globs in (("optim.SGD", optim.SGD.__doc__, {"SGD": optim.SGD}),
                              ("docs/api-optim.md", page, {})):
        test = parser.get_doctest(text, globs, name, name, 0)
        assert test.examples, name
        runner.run(test)
    assert runner.failures == 0

"""Optimizer-wide options, learning rates and weight decay: pattern_lrs, legacy ``decay``, weight decay with
a scheduled lr, and exclusions from weight decay.

Semantics follow keras/src/optimizers/base_optimizer.py (Keras 3.15.1 base optimizer: loss
scaling, gradient accumulation, clipping, decoupled weight decay, EMA of the weights),
tf_keras/optimizers/legacy/optimizer_v2.py (tf_keras 2.21.0 legacy ``decay`` and clipping order) and
capreolus/utils/keras_support.py (AdamMultilr ``pattern_lrs``).
Expected values are computed in each test from the formula its docstring names.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from optimizer_features_helpers import dev, host, param

import optim
from optim import schedules


def test_pattern_lrs_first_match_wins_and_default_elsewhere(device):
    """capreolus AdamMultilr pattern_lrs (capreolus/utils/keras_support.py): groups are tried in order, re.search on
    the parameter's
    name; the first matching group gives the lr, a parameter no group matches uses the default lr; a group's
    lr may be a schedule (evaluated at the 0-based step). SGD makes the lr visible: x -= lr g."""
    names = ["encoder.bert.w", "classifier.w", "head.bias"]
    xs = [param([1.0, 1.0], device) for _ in names]
    sched = schedules.ExponentialDecay(0.2, decay_steps=1.0, decay_rate=0.5)
    opt = optim.SGD(list(zip(names, xs)), lr=0.1, pattern_lrs=[
        {"patterns": ["electra", "bert"], "lr": 0.01},
        {"patterns": ["^classifier", "bert"], "lr": sched},
    ])
    g = np.array([1.0, -2.0])
    expected = [np.ones(2) for _ in names]
    for k in range(3):
        opt.apply_gradients([(dev(g, device), x) for x in xs])
        for i, lr in enumerate((0.01, 0.2 * 0.5**k, 0.1)):
            expected[i] = expected[i] - lr * g
            np.testing.assert_allclose(host(xs[i].data), expected[i], rtol=1e-14, err_msg=names[i])


def test_pattern_lrs_with_legacy_decay(device):
    """capreolus AdamMultilr (capreolus/utils/keras_support.py): each group's lr is divided by (1 + decay *
    iterations) as the default one."""
    xs = [param([0.0], device), param([0.0], device)]
    opt = optim.SGD([("bert.w", xs[0]), ("other", xs[1])], lr=0.1, decay=0.5,
                    pattern_lrs=[{"patterns": ["bert"], "lr": 0.01}])
    for _ in range(3):
        opt.apply_gradients([(dev([1.0], device), x) for x in xs])
    assert host(xs[0].data)[0] == pytest.approx(-0.01 * sum(1 / (1 + 0.5 * k) for k in range(3)), rel=1e-14)
    assert host(xs[1].data)[0] == pytest.approx(-0.1 * sum(1 / (1 + 0.5 * k) for k in range(3)), rel=1e-14)


def test_legacy_decay(device):
    """tf_keras 2.21.0 optimizer_v2 _decayed_lr (tf_keras/optimizers/legacy/optimizer_v2.py): lr_t = lr / (1 + decay
    * iterations), iterations = 0
    at the first update; with a schedule, schedule(iterations) / (1 + decay * iterations)."""
    x, y = param([0.0], device), param([0.0], device)
    opt = optim.SGD([x], lr=0.1, decay=0.5)
    sched = schedules.ExponentialDecay(0.1, decay_steps=2.0, decay_rate=0.25)
    opt2 = optim.SGD([y], lr=sched, decay=0.5)
    want_x = want_y = 0.0
    for k in range(4):
        opt.apply_gradients([(dev([1.0], device), x)])
        opt2.apply_gradients([(dev([1.0], device), y)])
        want_x -= 0.1 / (1 + 0.5 * k)
        want_y -= 0.1 * 0.25 ** (k / 2) / (1 + 0.5 * k)
        assert host(x.data)[0] == pytest.approx(want_x, rel=1e-14)
        assert host(y.data)[0] == pytest.approx(want_y, rel=1e-14)


def test_keras_weight_decay_uses_the_current_scheduled_lr(device):
    """Keras 3.15.1 _apply_weight_decay (keras/src/optimizers/base_optimizer.py): var -= var * weight_decay * lr with
    lr the current
    (scheduled) learning rate; with zero gradients Adam's step is 0, so x_k = x0 prod_j (1 - wd lr(j))."""
    sched = schedules.PiecewiseConstantDecay([0, 2], [0.5, 0.25, 0.125])
    x = param([3.0, -1.0], device)
    opt = optim.Adam([x], lr=sched, weight_decay=0.1, convention="keras")
    want = np.array([3.0, -1.0])
    for k in range(5):
        opt.apply_gradients([(dev([0.0, 0.0], device), x)])
        want = want * (1 - 0.1 * sched(k))
        np.testing.assert_allclose(host(x.data), want, rtol=1e-15)


def test_exclude_from_weight_decay_by_regex(device):
    """Keras 3.15.1 exclude_from_weight_decay(var_names=...) matches names (given here by named params) with
    regex search: "bias$" excludes "dense.bias" but not "bias_scale.w"; excluded parameters are not decayed."""
    xs = [param([2.0], device) for _ in range(3)]
    names = ["dense.bias", "bias_scale.w", "dense.kernel"]
    opt = optim.Adam(list(zip(names, xs)), lr=0.5, weight_decay=0.1, convention="keras")
    opt.exclude_from_weight_decay(var_names=["bias$"])
    opt.apply_gradients([(dev([0.0], device), x) for x in xs])
    got = [float(host(x.data)[0]) for x in xs]
    assert got == [2.0, pytest.approx(2.0 * 0.95, rel=1e-15), pytest.approx(2.0 * 0.95, rel=1e-15)]
    assert re.search("bias$", names[1]) is None


def test_exclude_patterns_also_apply_to_parameters_added_later(device):
    """Keras 3.15.1 keeps the var_names patterns and tests each variable's name when it decays it
    (BaseOptimizer._use_weight_decay: re.search(pattern, variable.name)), so a matching parameter is
    excluded whenever it joins the optimizer: here through add_param_group after the call. Zero gradients,
    lr 0.5, weight_decay 0.1: a decayed parameter becomes 2 (1 - 0.05) = 1.9, an excluded one stays 2."""
    w, b = param([2.0], device), param([2.0], device)
    opt = optim.Adam([("dense.kernel", w)], lr=0.5, weight_decay=0.1, convention="keras")
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.add_param_group({"params": [("head.bias", b)]})
    opt.apply_gradients([(dev([0.0], device), w), (dev([0.0], device), b)])
    assert host(w.data)[0] == pytest.approx(1.9, rel=1e-15)
    assert host(b.data)[0] == 2.0


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam])
def test_pattern_lrs_warn_once_about_parameters_without_names(device, cls):
    """pattern_lrs match names; with model.parameters() (no names) no pattern can match: the first step warns once,
    naming the option and how to give names, and every parameter keeps its group's lr."""
    xs = [param([1.0], device), param([1.0], device)]
    opt = cls(xs, lr=0.1, pattern_lrs=[{"patterns": [".*"], "lr": 0.5}])
    with pytest.warns(UserWarning, match=r"^pattern_lrs: .*no name.*named_parameters") as caught:
        opt.apply_gradients([(dev([1.0], device), x) for x in xs])
    assert len(caught) == 1
    reference = param([1.0], device)
    cls([reference], lr=0.1).apply_gradients([(dev([1.0], device), reference)])
    assert all(host(x.data)[0] == host(reference.data)[0] for x in xs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.apply_gradients([(dev([1.0], device), x) for x in xs])


def test_named_parameters_with_pattern_lrs_do_not_warn(device):
    """Named parameters (one matching, one not) raise no warning: names were given."""
    xs = [param([1.0], device), param([1.0], device)]
    opt = optim.SGD([("a.w", xs[0]), ("b.w", xs[1])], lr=0.1, pattern_lrs=[{"patterns": ["^a"], "lr": 0.5}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.apply_gradients([(dev([1.0], device), x) for x in xs])
    assert [host(x.data)[0] for x in xs] == [0.5, 0.9]


BAD_SCHEDULE_RESULTS = [("x", TypeError, "'x'"), (None, TypeError, "None"), (True, TypeError, "True"),
                        (np.array([0.1]), TypeError, "shape (1,)"), (-0.5, ValueError, "-0.5"),
                        (float("nan"), ValueError, "nan"), (float("inf"), ValueError, "inf")]


@pytest.mark.parametrize("result, error, shown", BAD_SCHEDULE_RESULTS,
                         ids=[repr(r) for r, _, _ in BAD_SCHEDULE_RESULTS])
@pytest.mark.parametrize("where", ["lr", "pattern"])
def test_a_bad_schedule_result_is_refused_by_name_before_anything_changes(device, result, error, shown, where):
    """A schedule (a group's lr or a pattern's) that returns something other than a finite number >= 0 is refused
    at the step, naming the schedule and the step ("lr(0)", "pattern_lrs[0]['lr'](0)") and the value; the
    parameter, the state and the counters are unchanged. NumPy scalars and 0-d arrays are numbers."""
    x = param([1.0], device)

    def bad(step):
        return result

    if where == "lr":
        opt, name = optim.Adam([("w", x)], lr=bad), "lr(0)"
    else:
        opt = optim.Adam([("w", x)], lr=0.1, pattern_lrs=[{"patterns": ["w"], "lr": bad}])
        name = "pattern_lrs[0]['lr'](0)"
    with pytest.raises(error) as caught:
        opt.apply_gradients([(dev([1.0], device), x)])
    assert str(caught.value).startswith(f"{name}: ") and shown in str(caught.value)
    assert host(x.data)[0] == 1.0 and opt.iterations == 0 and opt.calls == 0 and not opt.state


def test_a_schedule_may_return_numpy_numbers(device):
    """np.float32 and 0-d arrays returned by a schedule are used as the Python number (the same step)."""
    x, y = param([1.0], device), param([1.0], device)
    optim.SGD([x], lr=lambda k: np.array(0.25, np.float32)).apply_gradients([(dev([1.0], device), x)])
    optim.SGD([y], lr=float(np.float32(0.25))).apply_gradients([(dev([1.0], device), y)])
    assert host(x.data)[0] == host(y.data)[0] == 0.75

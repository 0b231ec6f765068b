"""Optimizer-wide options (the Keras / tf.keras optimizer features), checked against their formulas.

Semantics follow /work/shared/reference/optim-conventions.md §4.3 (Keras 3.15.1 base optimizer: loss
scaling, gradient accumulation, clipping, decoupled weight decay, EMA of the weights), §5.3-5.4
(tf_keras 2.21.0 legacy ``decay`` and clipping order) and §8 (capreolus AdamMultilr ``pattern_lrs``).
Expected values are computed in each test from the formula its docstring names.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

import minigrad as mg
import optim
from minigrad import backend
from optim import schedules

CLASSES = [optim.Adam, optim.AMSGrad, optim.Adamax]


def dev(array, device):
    return backend.to_device(np.asarray(array), device)


def host(array):
    return backend.to_numpy(array).copy()


def param(values, device, dtype=np.float64):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=True, device=device)


def grad_rows(seed, steps, shape):
    return np.random.default_rng(seed).standard_normal((steps, *shape))


# --------------------------------------------------------------------------- validation
def _raises(device, exc, pattern, cls=optim.Adam, **kwargs):
    x = param([1.0, 2.0], device)
    with pytest.raises(exc, match=pattern):
        cls([x], lr=0.1, **kwargs)


@pytest.mark.parametrize("convention", ["keras", "paper", "pytorch"])
@pytest.mark.parametrize("pair", [("clipnorm", "clipvalue"), ("clipvalue", "global_clipnorm")])
def test_clip_options_are_exclusive_outside_tensorflow(device, convention, pair):
    """Keras 3.15.1 _clip_gradients: at most one of clipnorm / clipvalue / global_clipnorm (ValueError naming
    them and their values)."""
    kwargs = {pair[0]: 1.5, pair[1]: 2.5}
    pattern = rf"(?s)(?=.*{pair[0]})(?=.*{pair[1]})(?=.*1\.5)(?=.*2\.5)"
    for cls in CLASSES:
        _raises(device, ValueError, pattern, cls=cls, convention=convention, **kwargs)


@pytest.mark.parametrize("cls", CLASSES)
def test_tensorflow_allows_clipvalue_with_a_norm_clip(device, cls):
    """tf_keras 2.21.0 optimizer_v2 (ref. §5.4): clipvalue may be combined with clipnorm or global_clipnorm."""
    x = param([1.0], device)
    cls([x], lr=0.1, convention="tensorflow", clipvalue=1.0, clipnorm=2.0)
    cls([x], lr=0.1, convention="tensorflow", clipvalue=1.0, global_clipnorm=2.0)


@pytest.mark.parametrize("convention", sorted(optim.CONVENTIONS))
def test_clipnorm_with_global_clipnorm_raises_everywhere(device, convention):
    """clipnorm and global_clipnorm are mutually exclusive in Keras 3.15.1 and in tf_keras 2.21.0 legacy too."""
    _raises(device, ValueError, r"(?s)(?=.*clipnorm)(?=.*global_clipnorm)(?=.*0\.75)",
            convention=convention, clipnorm=0.75, global_clipnorm=3.0)


BAD_OPTIONS = [
    ({"clipnorm": -1.0}, ValueError, r"clipnorm.*-1\.0"),
    ({"clipvalue": -0.5}, ValueError, r"clipvalue.*-0\.5"),
    ({"global_clipnorm": -2.0}, ValueError, r"global_clipnorm.*-2\.0"),
    ({"clipnorm": float("nan")}, ValueError, r"clipnorm.*nan"),
    ({"ema_momentum": 1.5}, ValueError, r"ema_momentum.*1\.5"),
    ({"ema_momentum": -0.1}, ValueError, r"ema_momentum.*-0\.1"),
    ({"use_ema": True, "ema_overwrite_frequency": 0}, ValueError, r"ema_overwrite_frequency.*0"),
    ({"use_ema": "yes"}, TypeError, r"use_ema.*yes"),
    ({"gradient_accumulation_steps": 1}, ValueError, r"gradient_accumulation_steps.*1"),
    ({"gradient_accumulation_steps": 2.5}, ValueError, r"gradient_accumulation_steps.*2\.5"),
    ({"gradient_accumulation_steps": 0}, ValueError, r"gradient_accumulation_steps.*0"),
    ({"loss_scale_factor": 0}, ValueError, r"loss_scale_factor.*0"),
    ({"loss_scale_factor": -4.0}, ValueError, r"loss_scale_factor.*-4\.0"),
    ({"decay": -0.5}, ValueError, r"decay.*-0\.5"),
    ({"power_dtype": "float16"}, ValueError, r"power_dtype.*float16"),
    ({"lazy": "yes"}, TypeError, r"lazy.*yes"),
    ({"clip_norm": 1.0}, TypeError, r"clip_norm"),
    ({"pattern_lrs": [{"patterns": ["(bert"], "lr": 0.1}]}, ValueError, r"pattern_lrs.*\(bert"),
    ({"pattern_lrs": [{"pattern": ["bert"], "lr": 0.1}]}, ValueError, r"pattern_lrs\[0\].*pattern"),
    ({"pattern_lrs": [{"patterns": ["a"], "lr": 0.1}, ["b", 0.2]]}, ValueError, r"pattern_lrs\[1\].*'b'"),
    ({"pattern_lrs": [{"patterns": "bert", "lr": 0.1}]}, ValueError, r"pattern_lrs\[0\].*patterns.*bert"),
    ({"pattern_lrs": [{"patterns": ["bert"], "lr": -0.1}]}, ValueError, r"pattern_lrs\[0\].*lr.*-0\.1"),
]


@pytest.mark.parametrize("kwargs, exc, pattern", BAD_OPTIONS, ids=[next(iter(k)) + str(i) for i, (k, _, _) in
                                                                   enumerate(BAD_OPTIONS)])
@pytest.mark.parametrize("cls", [optim.Adam, optim.Adamax, optim.SGD])
def test_bad_options_name_the_argument_and_value(device, cls, kwargs, exc, pattern):
    """Keras 3.15.1 base-optimizer validation (ref. §4.3: 0 <= ema_momentum <= 1, ema_overwrite_frequency int >= 1,
    gradient_accumulation_steps int >= 2, unknown kwargs rejected), tf_keras legacy (clip args >= 0, decay >= 0),
    and the library's pattern_lrs / power_dtype / lazy: the message names the argument and the value."""
    _raises(device, exc, pattern, cls=cls, **kwargs)


def test_valid_edge_values_are_accepted(device):
    """The bounds themselves are legal: ema_momentum 0 and 1 (Keras: 0 <= mu <= 1), clip values 0,
    gradient_accumulation_steps 2, ema_overwrite_frequency 1."""
    x = param([1.0], device)
    optim.Adam([x], use_ema=True, ema_momentum=1.0, ema_overwrite_frequency=1)
    optim.Adam([x], use_ema=True, ema_momentum=0.0)
    optim.Adam([x], gradient_accumulation_steps=2, clipnorm=0.0)


# --------------------------------------------------------------------------- clipping formulas
def test_clipnorm_is_per_tensor_and_global_clipnorm_is_joint(device):
    """Keras 3.15.1 (ref. §4.3): clipnorm c per tensor g c / max(||g||, c); global_clipnorm c over all
    tensors g_i c min(1/N, 1/c) with N = sqrt(sum ||g_i||^2); clipvalue min(max(g, -c), c). Read through
    SGD(lr=1) on zero parameters: x = -g_clipped."""
    grads = [np.array([3.0, 4.0]), np.array([0.3, -0.4]), np.array([12.0])]

    def clipped(**kwargs):
        xs = [param(np.zeros(g.shape), device) for g in grads]
        optim.SGD(xs, lr=1.0, **kwargs).apply_gradients([(dev(g, device), x) for g, x in zip(grads, xs)])
        return [-host(x.data) for x in xs]

    c = 1.0
    for got, g in zip(clipped(clipnorm=c), grads):
        np.testing.assert_allclose(got, g * c / max(np.linalg.norm(g), c), rtol=1e-14)
    np.testing.assert_array_equal(clipped(clipnorm=c)[1], grads[1])  # norm 0.5 < 1: unchanged
    total = math.sqrt(sum(float((g**2).sum()) for g in grads))
    for got, g in zip(clipped(global_clipnorm=c), grads):
        np.testing.assert_allclose(got, g * c * min(1 / total, 1 / c), rtol=1e-14)
    for got, g in zip(clipped(global_clipnorm=100.0), grads):  # N < c: unchanged
        np.testing.assert_allclose(got, g, rtol=1e-14)
    for got, g in zip(clipped(clipvalue=0.35), grads):
        np.testing.assert_array_equal(got, np.clip(g, -0.35, 0.35))


def test_global_clipnorm_with_a_non_finite_norm_gives_nan(device):
    """Keras 3.15.1 global_clipnorm: when the global norm is inf or NaN every clipped gradient is NaN (ref. §4.3)."""
    xs = [param([0.0, 0.0], device), param([0.0], device)]
    opt = optim.SGD(xs, lr=1.0, global_clipnorm=1.0)
    with np.errstate(invalid="ignore"):
        opt.apply_gradients([(dev([np.inf, 1.0], device), xs[0]), (dev([2.0], device), xs[1])])
    assert np.isnan(host(xs[0].data)).all() and np.isnan(host(xs[1].data)).all()


def test_tensorflow_clips_value_then_norm(device):
    """tf_keras 2.21.0 optimizer_v2 _transform_gradients (ref. §5.4): clipvalue, then clipnorm. g = [3, -0.5]
    with clipvalue 1 -> [1, -0.5], then clipnorm 1 -> [1, -0.5]/sqrt(1.25). Adam's first moment after one
    step is m = (1 - b1) g_clipped (state entry "m")."""
    x = param([0.0, 0.0], device)
    opt = optim.Adam([x], lr=0.1, convention="tensorflow", clipvalue=1.0, clipnorm=1.0)
    opt.apply_gradients([(dev([3.0, -0.5], device), x)])
    expected = (1 - 0.9) * np.array([1.0, -0.5]) / math.sqrt(1.25)
    np.testing.assert_allclose(host(opt.state[x]["m"]), expected, rtol=1e-14)


# --------------------------------------------------------------------------- gradient accumulation
@pytest.mark.parametrize("cls, kwargs", [
    (optim.Adam, {"convention": "keras"}),
    (optim.Adamax, {"convention": "pytorch"}),
    (optim.AMSGrad, {"convention": "optax"}),
    (optim.SGD, {}),
], ids=["keras-adam", "pytorch-adamax", "optax-amsgrad", "sgd"])
def test_gradient_accumulation_is_one_mean_update_every_kth_call(device, cls, kwargs):
    """Keras 3.15.1 gradient_accumulation_steps k = 3 (ref. §4.3): calls 1, 2 only accumulate (nothing moves);
    every 3rd call applies one update with the mean (g1 + g2 + g3)/3; ``iterations`` counts real updates
    (Adam's t = 1, 2, ...), while the learning-rate schedule is evaluated on the raw call count
    (0-based), so update j uses lr(3j + 2). Reference: the same optimizer without accumulation fed the
    means, with the schedule j -> lr(3j + 2)."""
    k, calls = 3, 10
    grads = grad_rows(0, calls, (2, 3))
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 / (1 + step)

    x, y = param(np.ones((2, 3)), device), param(np.ones((2, 3)), device)
    acc = cls([x], lr=schedule, gradient_accumulation_steps=k, **kwargs)
    plain = cls([y], lr=lambda j: 0.1 / (1 + 3 * j + 2), **kwargs)
    for n in range(calls):
        before = host(x.data)
        acc.apply_gradients([(dev(grads[n], device), x)])
        assert acc.iterations == (n + 1) // k
        if (n + 1) % k:
            np.testing.assert_array_equal(host(x.data), before)
        else:
            mean = grads[n + 1 - k:n + 1].sum(axis=0) / k
            plain.apply_gradients([(dev(mean, device), y)])
            np.testing.assert_allclose(host(x.data), host(y.data), rtol=1e-13, atol=1e-15)
    assert max(seen) <= calls - 1 and {2, 5, 8} <= set(seen)


def test_accumulation_clips_the_mean_and_decays_only_on_updates(device):
    """Keras 3.15.1 (ref. §4.3): with accumulation, clipping and weight decay act only on the k-th call, on the
    averaged gradient. SGD(lr 1, clipnorm 1, k 2): x -= clip((g1 + g2)/2); Keras Adam with weight_decay and
    zero gradients: x = x0 (1 - lr wd)^(number of updates)."""
    x = param([0.0, 0.0], device)
    opt = optim.SGD([x], lr=1.0, clipnorm=1.0, gradient_accumulation_steps=2)
    opt.apply_gradients([(dev([3.0, 0.0], device), x)])
    opt.apply_gradients([(dev([1.0, 4.0], device), x)])
    mean = np.array([2.0, 2.0])
    np.testing.assert_allclose(host(x.data), -mean / np.linalg.norm(mean), rtol=1e-14)

    w = param([2.0], device)
    opt = optim.Adam([w], lr=0.1, weight_decay=0.2, convention="keras", gradient_accumulation_steps=2)
    for _ in range(5):
        opt.apply_gradients([(dev([0.0], device), w)])
    assert host(w.data)[0] == pytest.approx(2.0 * (1 - 0.1 * 0.2) ** 2, rel=1e-14)


# --------------------------------------------------------------------------- loss scaling
def test_scale_loss_multiplies_and_gradients_are_divided(device):
    """Keras 3.15.1 loss_scale_factor (ref. §4.3): scale_loss(loss) = loss * factor and the gradients are
    divided by the factor before the update, so training on the scaled loss equals training on the
    loss itself (factor 4 is a power of two: exact). Without a factor scale_loss returns the loss."""
    x0 = np.array([0.5, -1.5, 2.0])
    a, b = param(x0, device), param(x0, device)
    scaled = optim.Adam([a], lr=0.1, convention="keras", loss_scale_factor=4.0)
    plain = optim.Adam([b], lr=0.1, convention="keras")
    for _ in range(4):
        loss_a = (a * a * a).sum()
        big = scaled.scale_loss(loss_a)
        assert float(host(big.data)) == pytest.approx(4.0 * float(host(loss_a.data)), rel=1e-15)
        a.grad = None
        big.backward()
        np.testing.assert_allclose(host(a.grad.data), 4.0 * 3 * host(a.data) ** 2, rtol=1e-14)
        scaled.step()
        b.grad = None
        loss_b = (b * b * b).sum()
        assert plain.scale_loss(loss_b) is loss_b
        loss_b.backward()
        plain.step()
        np.testing.assert_array_equal(host(a.data), host(b.data))


def test_loss_scale_factor_divides_the_gradient(device):
    """SGD(lr 1, loss_scale_factor 4) with gradient 8 moves by 8/4 = 2 (Keras 3.15.1: g / loss_scale_factor)."""
    x = param([0.0], device)
    optim.SGD([x], lr=1.0, loss_scale_factor=4.0).apply_gradients([(dev([8.0], device), x)])
    assert host(x.data)[0] == -2.0


# --------------------------------------------------------------------------- moving average of the weights
def test_ema_average_and_finalize(device):
    """Keras 3.15.1 adam_test EMA test (ref. §10.1): Adam(lr 1, use_ema, ema_momentum 0.9), var [1, 2],
    grads [0.1, 0.2]; after step 1 the average is v1 (the updated weights), after step 2 it is
    0.9 v1 + 0.1 v2 (v1, v2 from an optimizer without EMA); finalize_variable_values copies it into var."""
    grads = dev([0.1, 0.2], device)
    ref = param([1.0, 2.0], device)
    ref_opt = optim.Adam([ref], lr=1.0, convention="keras")
    v = []
    for _ in range(3):
        ref_opt.apply_gradients([(grads, ref)])
        v.append(host(ref.data))
    x = param([1.0, 2.0], device)
    opt = optim.Adam([x], lr=1.0, convention="keras", use_ema=True, ema_momentum=0.9)
    opt.apply_gradients([(grads, x)])
    np.testing.assert_array_equal(host(x.data), v[0])  # EMA never changes the weights themselves
    with opt.swap_ema_weights():
        np.testing.assert_array_equal(host(x.data), v[0])
    opt.apply_gradients([(grads, x)])
    np.testing.assert_array_equal(host(x.data), v[1])
    average = 0.9 * v[0] + 0.1 * v[1]
    with opt.swap_ema_weights():
        np.testing.assert_allclose(host(x.data), average, rtol=1e-15)
    np.testing.assert_array_equal(host(x.data), v[1])  # restored after the block
    opt.apply_gradients([(grads, x)])
    average = 0.9 * average + 0.1 * v[2]
    opt.finalize_variable_values()
    np.testing.assert_allclose(host(x.data), average, rtol=1e-15)


def test_ema_overwrite_frequency(device):
    """Keras 3.15.1 EMA test with ema_overwrite_frequency=2 (ref. §10.1): after step 1 var == v1; after step 2
    var is overwritten by 0.9 v1 + 0.1 v2; after step 3 var is the Adam step from there and the average is
    0.9 (0.9 v1 + 0.1 v2) + 0.1 var."""
    grads = dev([0.1, 0.2], device)
    ref = param([1.0, 2.0], device)
    ref_opt = optim.Adam([ref], lr=1.0, convention="keras")
    v = []
    for _ in range(2):
        ref_opt.apply_gradients([(grads, ref)])
        v.append(host(ref.data))
    x = param([1.0, 2.0], device)
    opt = optim.Adam([x], lr=1.0, convention="keras", use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=2)
    opt.apply_gradients([(grads, x)])
    np.testing.assert_array_equal(host(x.data), v[0])
    opt.apply_gradients([(grads, x)])
    overwritten = 0.9 * v[0] + 0.1 * v[1]
    np.testing.assert_allclose(host(x.data), overwritten, rtol=1e-15)
    opt.apply_gradients([(grads, x)])
    w3 = host(x.data)
    assert not np.allclose(w3, overwritten)
    with opt.swap_ema_weights():
        np.testing.assert_allclose(host(x.data), 0.9 * overwritten + 0.1 * w3, rtol=1e-15)
    np.testing.assert_array_equal(host(x.data), w3)


def test_ema_averages_every_parameter_at_every_call(device):
    """Keras 3.15.1 base_optimizer._backend_apply_gradients calls
    _update_model_variables_moving_average(self._trainable_variables) and
    _overwrite_model_variables_with_average_value(self._trainable_variables): every variable of the optimizer
    is averaged (and overwritten) at every call, also one whose gradient is None at that call (ref. §4.3: "for
    every trainable variable", mu = 0 only while iterations == 0). Parameter b has no gradient at calls 0
    and 2, so its average is b0 after call 0, 0.9 b0 + 0.1 b1 after call 1, and 0.9 (0.9 b0 + 0.1 b1) + 0.1 b1
    after call 2, where ema_overwrite_frequency=3 also copies it into b."""
    a, b = param([1.0], device), param([2.0], device)
    opt = optim.Adam([a, b], lr=0.1, convention="keras", use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=3)
    g = dev([0.5], device)
    opt.apply_gradients([(g, a)])
    with opt.swap_ema_weights():
        assert host(b.data)[0] == 2.0
    opt.apply_gradients([(g, a), (g, b)])
    b1 = host(b.data)[0]
    with opt.swap_ema_weights():
        assert host(b.data)[0] == pytest.approx(0.9 * 2.0 + 0.1 * b1, rel=1e-14)
    opt.apply_gradients([(g, a)])
    assert host(b.data)[0] == pytest.approx(0.9 * (0.9 * 2.0 + 0.1 * b1) + 0.1 * b1, rel=1e-14)


def test_swap_ema_weights_restores_after_an_exception(device):
    """swap_ema_weights: the averaged weights inside the block, the trained ones again after it, even when
    the block raises."""
    x = param([1.0, 2.0], device)
    opt = optim.Adam([x], lr=0.5, use_ema=True, ema_momentum=0.5)
    for g in ([1.0, -1.0], [0.5, 0.5]):
        opt.apply_gradients([(dev(g, device), x)])
    trained = host(x.data)
    with pytest.raises(RuntimeError), opt.swap_ema_weights():
        assert not np.array_equal(host(x.data), trained)
        raise RuntimeError("evaluation failed")
    np.testing.assert_array_equal(host(x.data), trained)


# --------------------------------------------------------------------------- learning rates
def test_pattern_lrs_first_match_wins_and_default_elsewhere(device):
    """capreolus AdamMultilr pattern_lrs (ref. §8): groups are tried in order, re.search on the parameter's
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
    """capreolus AdamMultilr (ref. §8): each group's lr is divided by (1 + decay * iterations) as the default one."""
    xs = [param([0.0], device), param([0.0], device)]
    opt = optim.SGD([("bert.w", xs[0]), ("other", xs[1])], lr=0.1, decay=0.5,
                    pattern_lrs=[{"patterns": ["bert"], "lr": 0.01}])
    for _ in range(3):
        opt.apply_gradients([(dev([1.0], device), x) for x in xs])
    assert host(xs[0].data)[0] == pytest.approx(-0.01 * sum(1 / (1 + 0.5 * k) for k in range(3)), rel=1e-14)
    assert host(xs[1].data)[0] == pytest.approx(-0.1 * sum(1 / (1 + 0.5 * k) for k in range(3)), rel=1e-14)


def test_legacy_decay(device):
    """tf_keras 2.21.0 optimizer_v2 _decayed_lr (ref. §5.3): lr_t = lr / (1 + decay * iterations), iterations = 0
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
    """Keras 3.15.1 _apply_weight_decay (ref. §4.3): var -= var * weight_decay * lr with lr the current
    (scheduled) learning rate; with zero gradients Adam's step is 0, so x_k = x0 prod_j (1 - wd lr(j))."""
    sched = schedules.PiecewiseConstantDecay([0, 2], [0.5, 0.25, 0.125])
    x = param([3.0, -1.0], device)
    opt = optim.Adam([x], lr=sched, weight_decay=0.1, convention="keras")
    want = np.array([3.0, -1.0])
    for k in range(5):
        opt.apply_gradients([(dev([0.0, 0.0], device), x)])
        want = want * (1 - 0.1 * sched(k))
        np.testing.assert_allclose(host(x.data), want, rtol=1e-15)


# --------------------------------------------------------------------------- config and state
def _options_set(opt_options):
    return {"clipnorm", "clipvalue", "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
            "gradient_accumulation_steps", "decay", "pattern_lrs", "lazy", "power_dtype"} <= set(opt_options)


@pytest.mark.parametrize("cls", CLASSES)
def test_get_config_is_json_and_round_trips(device, cls):
    """get_config (Keras 3.15.1 style, ref. §4.3) holds every option, schedules serialised, and survives
    json.dumps / json.loads; from_config(config, params) rebuilds an optimizer with an identical
    trajectory (bitwise) and an identical config."""
    names = ["emb.bert.w", "head.w"]
    lr = schedules.CosineDecay(0.05, decay_steps=10, alpha=0.1, warmup_target=0.1, warmup_steps=2)
    kwargs = dict(
        lr=lr, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01, convention="tensorflow", clipnorm=2.0,
        clipvalue=0.5, use_ema=True, ema_momentum=0.7, ema_overwrite_frequency=3, loss_scale_factor=2.0,
        gradient_accumulation_steps=2, decay=0.1, lazy=True, power_dtype="float32",
        pattern_lrs=[{"patterns": ["bert"], "lr": schedules.ExponentialDecay(0.01, 3.0, 0.5, staircase=True)},
                     {"patterns": ["head"], "lr": 0.02}],
    )
    x0 = [np.linspace(-1, 1, 6).reshape(2, 3), np.array([0.5, -0.25])]
    xs = [param(v, device) for v in x0]
    opt = cls(list(zip(names, xs)), **kwargs)
    config = opt.get_config()
    text = json.dumps(config)
    assert _options_set(config)
    for key in ("clipnorm", "clipvalue", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                "gradient_accumulation_steps", "decay", "power_dtype"):
        assert config[key] == kwargs[key], key
    assert config["use_ema"] is True and config["lazy"] is True and config["convention"] == "tensorflow"
    assert config["lr"] == schedules.serialize(lr)
    assert config["pattern_lrs"][0]["patterns"] == ["bert"] and config["pattern_lrs"][1]["lr"] == 0.02
    assert config["pattern_lrs"][0]["lr"] == schedules.serialize(kwargs["pattern_lrs"][0]["lr"])

    ys = [param(v, device) for v in x0]
    clone = cls.from_config(json.loads(text), params=list(zip(names, ys)))
    assert clone.get_config() == config
    grads = [grad_rows(7, 9, v.shape) for v in x0]
    for k in range(9):
        opt.apply_gradients([(dev(g[k], device), x) for g, x in zip(grads, xs)])
        clone.apply_gradients([(dev(g[k], device), y) for g, y in zip(grads, ys)])
        for x, y in zip(xs, ys):
            np.testing.assert_array_equal(host(x.data), host(y.data))


def test_sgd_get_config_keeps_the_options(device):
    """get_config holds every optimizer-wide option for SGD too (the Keras 3.15.1 base config keys, ref. §4.3,
    plus decay and pattern_lrs), so from_config rebuilds an optimizer with the same trajectory."""
    kwargs = dict(lr=0.1, clipnorm=1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2,
                  loss_scale_factor=2.0, gradient_accumulation_steps=2, decay=0.5,
                  pattern_lrs=[{"patterns": ["^b"], "lr": schedules.ExponentialDecay(0.3, 1.0, 0.5)}])
    xs = [param([1.0, -1.0], device), param([0.5], device)]
    opt = optim.SGD([("a", xs[0]), ("b", xs[1])], **kwargs)
    config = json.loads(json.dumps(opt.get_config()))
    for key in ("clipnorm", "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                "gradient_accumulation_steps", "decay"):
        assert config.get(key) == kwargs[key], key
    assert config["pattern_lrs"][0]["patterns"] == ["^b"]
    ys = [param([1.0, -1.0], device), param([0.5], device)]
    clone = optim.SGD.from_config(config, params=[("a", ys[0]), ("b", ys[1])])
    for g in ([3.0, 4.0], [1.0, 1.0], [-2.0, 0.5], [0.1, 0.2]):
        opt.apply_gradients([(dev(g[:2], device), xs[0]), (dev(g[:1], device), xs[1])])
        clone.apply_gradients([(dev(g[:2], device), ys[0]), (dev(g[:1], device), ys[1])])
    for x, y in zip(xs, ys):
        np.testing.assert_array_equal(host(x.data), host(y.data))


def test_get_config_refuses_a_plain_callable_in_pattern_lrs(device):
    """A plain function cannot be serialised: get_config raises TypeError naming the entry, as it does for a
    plain callable ``lr`` (only optim.schedules objects have a config)."""
    x = param([1.0], device)
    opt = optim.Adam([("w", x)], lr=0.1, pattern_lrs=[{"patterns": ["w"], "lr": lambda k: 0.1}])
    with pytest.raises(TypeError, match="pattern_lrs"):
        opt.get_config()


def test_get_config_global_clipnorm_round_trip(device):
    """global_clipnorm is kept by get_config and restored by from_config (Keras 3.15.1 config keys, ref. §4.3)."""
    x = param([3.0, 4.0], device)
    opt = optim.Adamax([x], lr=0.1, convention="keras", global_clipnorm=1.0)
    config = json.loads(json.dumps(opt.get_config()))
    assert config["global_clipnorm"] == 1.0
    y = param([3.0, 4.0], device)
    clone = optim.Adamax.from_config(config, params=[y])
    for g in ([30.0, -4.0], [1.0, 0.1]):
        opt.apply_gradients([(dev(g, device), x)])
        clone.apply_gradients([(dev(g, device), y)])
    np.testing.assert_array_equal(host(x.data), host(y.data))


@pytest.mark.parametrize("split", [4, 5, 6])
@pytest.mark.parametrize("cls", CLASSES)
def test_state_dict_resumes_bitwise_with_ema_and_accumulation(device, cls, split):
    """state_dict / load_state_dict restore everything needed to resume: moments, counters, the EMA averages
    and the gradients accumulated so far. Saving after call 4, 5 or 6 of a k = 3 run (mid-way through an
    accumulation, or right after an update) and resuming in a fresh optimizer on fresh parameters gives the
    same weights and averages, bit for bit, as the uninterrupted run."""
    kwargs = dict(lr=schedules.InverseTimeDecay(0.1, 2.0, 0.5), convention="keras", weight_decay=0.01,
                  use_ema=True, ema_momentum=0.6, ema_overwrite_frequency=2, gradient_accumulation_steps=3)
    calls = 11
    grads = grad_rows(11, calls, (3, 2))
    x = param(np.ones((3, 2)), device)
    opt = cls([x], **kwargs)
    saved = None
    for n in range(calls):
        if n == split:
            saved, saved_x = opt.state_dict(), host(x.data)
        opt.apply_gradients([(dev(grads[n], device), x)])
    y = mg.tensor(saved_x, requires_grad=True, device=device)
    resumed = cls([y], **kwargs)
    resumed.load_state_dict(saved)
    assert resumed.iterations == split // 3
    for n in range(split, calls):
        resumed.apply_gradients([(dev(grads[n], device), y)])
    assert resumed.iterations == opt.iterations == calls // 3
    np.testing.assert_array_equal(host(y.data), host(x.data))
    with opt.swap_ema_weights(), resumed.swap_ema_weights():
        np.testing.assert_array_equal(host(y.data), host(x.data))


def test_state_dict_is_a_snapshot(device):
    """A saved state dict is a copy: later steps do not change it (loading it twice gives the same result)."""
    x = param([1.0, -1.0], device)
    opt = optim.Adam([x], lr=0.1, use_ema=True, gradient_accumulation_steps=2)
    opt.apply_gradients([(dev([0.5, 0.5], device), x)])
    saved = opt.state_dict()
    accumulated = {k: host(v) for k, v in saved["accumulators"].items()} if "accumulators" in saved else None
    for _ in range(3):
        opt.apply_gradients([(dev([1.0, -2.0], device), x)])
    if accumulated is not None:
        for k, v in saved["accumulators"].items():
            np.testing.assert_array_equal(host(v), accumulated[k])
    assert saved["iterations"] == 0


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

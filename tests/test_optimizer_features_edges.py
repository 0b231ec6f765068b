"""Optimizer-wide options at their edge values (0, 1, negative, NaN, inf, huge): each behaves as the convention's
framework does, or is refused at construction naming the option and the value; never a NaN.

What 0 means comes from keras/src/optimizers/base_optimizer.py of Keras 3.15.1: ``_clip_gradients`` clips only
``if self.clipnorm and self.clipnorm > 0`` (likewise ``global_clipnorm`` and ``clipvalue``), the constructor
checks ``gradient_accumulation_steps`` only ``if gradient_accumulation_steps:`` and ``ema_overwrite_frequency``
only when truthy, and ``_backend_apply_gradients`` overwrites only ``if self.ema_overwrite_frequency:``; so a 0
turns each of them off. ``loss_scale_factor`` is used whenever it ``is not None`` (0 would divide by 0), and
``clip_args_sum`` counts the clipping thresholds that are ``not None``, 0 included. Under the other conventions
(tf_keras 2.21.0's legacy ``tf.clip_by_norm`` divides 0 by 0 for a zero gradient) 0 is refused.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from optimizer_features_helpers import CLASSES, dev, host, param

import optim

NAN, INF = math.nan, math.inf
OTHER_CONVENTIONS = sorted(set(optim.CONVENTIONS) - {"keras"})
GRADS = ([0.0, 0.0], [1.0, -1.0], [30.0, 40.0], [0.0, 0.0], [-0.5, 2.0])


def _run(opt, x, device, grads=GRADS):
    trajectory = []
    for g in grads:
        opt.apply_gradients([(dev(g, device), x)])
        trajectory.append(host(x.data))
    return np.array(trajectory)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("option", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_keras_reads_a_zero_clip_threshold_as_no_clipping(device, cls, option):
    """Keras 3.15.1 base_optimizer.py _clip_gradients: ``if self.clipnorm and self.clipnorm > 0`` (and the same
    for global_clipnorm, clipvalue), so a threshold of 0 clips nothing: the trajectory, zero gradients included,
    is bit for bit the unclipped one, and finite."""
    clipped, plain = param([1.0, 2.0], device), param([1.0, 2.0], device)
    with_zero = _run(cls([clipped], lr=0.1, convention="keras", **{option: 0.0}), clipped, device)
    without = _run(cls([plain], lr=0.1, convention="keras"), plain, device)
    np.testing.assert_array_equal(with_zero, without)
    assert np.isfinite(with_zero).all()


@pytest.mark.parametrize("option", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_keras_zero_clip_threshold_is_kept_out_of_the_config(device, option):
    """A threshold of 0 under keras is stored as no clipping (None), so get_config / from_config keep the
    behaviour; an integer 0 (Keras's falsy test) is read the same way."""
    opt = optim.Adam([param([1.0], device)], lr=0.1, convention="keras", **{option: 0})
    assert getattr(opt.options, option) is None
    assert option not in opt.get_config()


@pytest.mark.parametrize("convention", OTHER_CONVENTIONS)
@pytest.mark.parametrize("option", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_zero_clip_threshold_is_refused_outside_keras(device, convention, option):
    """Outside convention="keras" a threshold of 0 is refused at construction (tf_keras 2.21.0 would divide 0 by 0
    for a zero gradient): ValueError naming the option and the value and saying what keras reads it as."""
    x = param([1.0, 2.0], device)
    for cls in CLASSES:
        if cls.algorithm not in optim.CONVENTIONS[convention].algorithms:
            continue  # capreolus has no AdaMax
        with pytest.raises(ValueError, match=rf"(?s)^{option}: .*got 0\.0.*convention='keras'.*no clipping"):
            cls([x], lr=0.1, convention=convention, **{option: 0.0})
    with pytest.raises(ValueError, match=rf"^{option}: .*got 0\.0.*convention='keras'"):
        optim.SGD([x], lr=0.1, **{option: 0.0})
    np.testing.assert_array_equal(host(x.data), [1.0, 2.0])


def test_sgd_with_a_zero_clipnorm_is_refused_not_nan(device):
    """SGD([p], lr=0.1, clipnorm=0.0) would divide 0 by 0 for a zero gradient; SGD follows the paper convention,
    so the threshold is refused; without it the step is the plain one ([1, 2] - 0.1 [1, 1] = [0.9, 1.9])."""
    x = param([1.0, 2.0], device)
    with pytest.raises(ValueError, match="clipnorm"):
        optim.SGD([x], lr=0.1, clipnorm=0.0)
    optim.SGD([x], lr=0.1).apply_gradients([(dev([1.0, 1.0], device), x)])
    np.testing.assert_allclose(host(x.data), [0.9, 1.9], rtol=1e-15)


def test_keras_counts_a_zero_threshold_as_set(device):
    """Keras 3.15.1 base_optimizer.py: ``clip_args_sum = sum(a is not None for a in [clipnorm, clipvalue,
    global_clipnorm])``, so clipnorm=0 with clipvalue=1 is still two clipping options: ValueError."""
    with pytest.raises(ValueError, match=r"(?s)clipnorm.*clipvalue.*at most one"):
        optim.Adam([param([1.0], device)], convention="keras", clipnorm=0.0, clipvalue=1.0)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("option", ["gradient_accumulation_steps", "ema_overwrite_frequency"])
def test_keras_reads_a_zero_count_as_off(device, cls, option):
    """Keras 3.15.1 base_optimizer.py: ``if gradient_accumulation_steps:`` and ``if self.ema_overwrite_frequency:``
    treat 0 (and 0.0) as not set; under keras the trajectory and the averages equal those without the option, bit
    for bit."""
    kwargs = {"lr": 0.1, "convention": "keras", "use_ema": True}
    x, y = param([1.0, 2.0], device), param([1.0, 2.0], device)
    zero = cls([x], **kwargs, **{option: 0.0 if option == "ema_overwrite_frequency" else 0})
    unset = cls([y], **kwargs)
    np.testing.assert_array_equal(_run(zero, x, device), _run(unset, y, device))
    np.testing.assert_array_equal(host(zero.averages[x]), host(unset.averages[y]))
    assert zero.get_config() == unset.get_config()


@pytest.mark.parametrize("convention", OTHER_CONVENTIONS)
@pytest.mark.parametrize("option, minimum", [("gradient_accumulation_steps", 2), ("ema_overwrite_frequency", 1)])
def test_zero_count_is_refused_outside_keras(device, convention, option, minimum):
    """Outside keras a count of 0 is refused, naming the option, the value, the minimum and the keras reading."""
    with pytest.raises(ValueError, match=rf"^{option}: expected an integer >= {minimum} or None, got 0; .*keras"):
        optim.Adam([param([1.0], device)], lr=0.1, convention=convention, use_ema=True, **{option: 0})


EDGE_REFUSALS = [
    # option, value, exception, what the message shows
    ("clipnorm", -1.0, ValueError, "-1.0"), ("clipnorm", NAN, ValueError, "nan"), ("clipnorm", INF, ValueError, "inf"),
    ("clipvalue", -INF, ValueError, "-inf"), ("global_clipnorm", INF, ValueError, "inf"),
    ("global_clipnorm", 10**400, ValueError, "1000"),
    ("loss_scale_factor", 0.0, ValueError, "0.0"), ("loss_scale_factor", -2.0, ValueError, "-2.0"),
    ("loss_scale_factor", NAN, ValueError, "nan"), ("loss_scale_factor", INF, ValueError, "inf"),
    ("ema_momentum", -0.5, ValueError, "-0.5"), ("ema_momentum", 1.5, ValueError, "1.5"),
    ("ema_momentum", NAN, ValueError, "nan"), ("ema_momentum", INF, ValueError, "inf"),
    ("ema_overwrite_frequency", -1, ValueError, "-1"), ("ema_overwrite_frequency", 1.0, ValueError, "1.0"),
    ("ema_overwrite_frequency", NAN, ValueError, "nan"), ("ema_overwrite_frequency", INF, ValueError, "inf"),
    ("gradient_accumulation_steps", 1, ValueError, "1"), ("gradient_accumulation_steps", -2, ValueError, "-2"),
    ("gradient_accumulation_steps", INF, ValueError, "inf"), ("gradient_accumulation_steps", NAN, ValueError, "nan"),
    ("decay", -0.1, ValueError, "-0.1"), ("decay", NAN, ValueError, "nan"), ("decay", INF, ValueError, "inf"),
]


@pytest.mark.parametrize("convention", ["keras", "paper", "tensorflow"])
@pytest.mark.parametrize("option, value, error, shown", EDGE_REFUSALS,
                         ids=[f"{o}={v!r}"[:40] for o, v, _, _ in EDGE_REFUSALS])
def test_edge_values_refused_at_construction(device, convention, option, value, error, shown):
    """Negative, NaN, infinite (and, for a float, beyond the float range) values are refused under every convention,
    as are loss_scale_factor 0 (gradients / 0), ema_momentum outside [0, 1] (Keras 3.15.1's range) and
    gradient_accumulation_steps 1 (Keras 3.15.1: "must be an integer >= 2")."""
    with pytest.raises(error) as caught:
        optim.Adam([param([1.0], device)], lr=0.1, convention=convention, use_ema=True, **{option: value})
    assert str(caught.value).startswith(f"{option}: ") and shown in str(caught.value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("option", ["clipnorm", "clipvalue", "global_clipnorm"])
@pytest.mark.parametrize("threshold", [1e-320, 1e-50, 1e39, 1e300, 1.7e308])
def test_tiny_and_huge_thresholds_never_give_nan(device, dtype, option, threshold):
    """A positive finite threshold is accepted however small or large, even where it rounds to 0 or to infinity in
    the parameter's dtype: zero and ordinary gradients give finite parameters. A huge threshold clips nothing (the
    trajectory is the unclipped one: bit for bit, except that global_clipnorm keeps Keras's factor
    c min(1/N, 1/c), whose c (1/c) may round to 1 + 2**-52); a tiny one leaves a step of at most lr * threshold
    per coordinate for SGD, which rounds away."""
    x, y = param([1.0, 2.0], device, dtype), param([1.0, 2.0], device, dtype)
    grads = [np.asarray(g, dtype) for g in GRADS]
    clipped = _run(optim.SGD([x], lr=0.1, **{option: threshold}), x, device, grads)
    assert np.isfinite(clipped).all()
    plain = _run(optim.SGD([y], lr=0.1), y, device, grads)
    if threshold >= 1e39:
        np.testing.assert_allclose(clipped, plain, rtol=1e-15 if option == "global_clipnorm" else 0, atol=0)
    else:
        np.testing.assert_array_equal(clipped, np.ones((len(GRADS), 1)) * np.asarray([1.0, 2.0], dtype))


def test_ema_momentum_at_its_bounds(device):
    """Keras 3.15.1 _update_model_variables_moving_average: average = mu average + (1 - mu) var, with mu = 0 at the
    first update. mu = 0: the average is the weights after every update; mu = 1: it stays the first updated
    weights."""
    x, y = param([1.0, 2.0], device), param([1.0, 2.0], device)
    follow = optim.Adam([x], lr=0.1, use_ema=True, ema_momentum=0.0)
    frozen = optim.Adam([y], lr=0.1, use_ema=True, ema_momentum=1)
    first = None
    for g in GRADS[1:]:
        follow.apply_gradients([(dev(g, device), x)])
        frozen.apply_gradients([(dev(g, device), y)])
        first = host(y.data) if first is None else first
        np.testing.assert_array_equal(host(follow.averages[x]), host(x.data))
        np.testing.assert_array_equal(host(frozen.averages[y]), first)


def test_ema_overwrite_frequency_one_overwrites_every_update(device):
    """ema_overwrite_frequency=1 (the smallest Keras accepts) copies the average into the weights after every
    update: the weights then equal their average."""
    x = param([1.0, 2.0], device)
    opt = optim.Adam([x], lr=0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=1)
    for g in GRADS:
        opt.apply_gradients([(dev(g, device), x)])
        np.testing.assert_array_equal(host(x.data), host(opt.averages[x]))


def test_huge_counts_are_accepted_and_never_reached(device):
    """An accumulation window or an overwrite period of 2**70 calls (a Python int beyond int64) is valid: the
    window never completes, so the parameter never moves, and the weights are never overwritten."""
    x, y = param([1.0, 2.0], device), param([1.0, 2.0], device)
    _run(optim.Adam([x], lr=0.1, gradient_accumulation_steps=2**70), x, device)
    np.testing.assert_array_equal(host(x.data), [1.0, 2.0])
    opt = optim.Adam([y], lr=0.1, use_ema=True, ema_overwrite_frequency=np.int64(2**62))
    _run(opt, y, device)
    assert opt.options.ema_overwrite_frequency == 2**62 and type(opt.options.ema_overwrite_frequency) is int
    assert not np.array_equal(host(y.data), host(opt.averages[y]))


@pytest.mark.parametrize("factor", [1, 2.0**100])
def test_loss_scale_factor_one_and_huge_powers_of_two_change_nothing(device, factor):
    """Dividing by a power of two is exact, so training on scale_loss(loss) with factor 1 or 2**100 (float64)
    follows the unscaled run bit for bit (Keras 3.15.1: g / loss_scale_factor)."""
    a, b = param([0.5, -1.5], device), param([0.5, -1.5], device)
    scaled = optim.Adam([a], lr=0.1, loss_scale_factor=factor)
    plain = optim.Adam([b], lr=0.1)
    for _ in range(3):
        for x, opt in ((a, scaled), (b, plain)):
            x.grad = None
            opt.scale_loss((x * x * x).sum()).backward()
            opt.step()
    np.testing.assert_array_equal(host(a.data), host(b.data))


def test_huge_legacy_decay_shrinks_the_rate_to_zero(device):
    """tf_keras 2.21.0 legacy decay: lr / (1 + decay * iterations). decay=1e300 keeps the first step (iterations 0)
    and makes every later one 0 or a subnormal fraction of it, never NaN (1 + 1e300 k overflows to inf: lr / inf)."""
    x = param([0.0], device)
    opt = optim.SGD([x], lr=0.1, decay=1e300)
    opt.apply_gradients([(dev([1.0], device), x)])
    assert host(x.data)[0] == -0.1
    for _ in range(3):
        opt.apply_gradients([(dev([1.0], device), x)])
    assert host(x.data)[0] == pytest.approx(-0.1, abs=1e-290)


def test_pattern_lr_zero_freezes_and_huge_is_used(device):
    """A pattern's lr follows the lr's rules: 0 freezes the matching parameters, a huge finite value is used as it
    is (SGD: x - lr g)."""
    x, y = param([1.0], device), param([1.0], device)
    opt = optim.SGD([("frozen.w", x), ("fast.w", y)], lr=0.1, pattern_lrs=[
        {"patterns": ["^frozen"], "lr": 0}, {"patterns": ["^fast"], "lr": 1e300}])
    opt.apply_gradients([(dev([2.0], device), x), (dev([2.0], device), y)])
    assert host(x.data)[0] == 1.0 and host(y.data)[0] == 1.0 - 1e300 * 2.0

"""Learning-rate schedules with Keras's names and formulas (Keras 3.15.1
keras/src/optimizers/schedules/learning_rate_schedule.py, and
tf_keras/optimizers/legacy/optimizer_v2.py for the legacy decay): each schedule is a function of the 0-based step k,
checked against the hand formula."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import minigrad as mg
import optim
from minigrad import backend
from optim import schedules

STEPS = [0, 1, 2, 3, 5, 7, 10, 11, 15, 20, 33, 100]


def test_exponential_decay():
    """ExponentialDecay: lr0 * rate^(k / s), and with staircase lr0 * rate^floor(k / s)."""
    s = schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5)
    st = schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5, staircase=True)
    for k in STEPS:
        assert s(k) == pytest.approx(0.1 * 0.5 ** (k / 4), rel=1e-14)
        assert st(k) == pytest.approx(0.1 * 0.5 ** (k // 4), rel=1e-14)
    assert st(3) == st(0) == 0.1 and st(4) == pytest.approx(0.05)
    assert s(3) < 0.1


def test_inverse_time_decay():
    """InverseTimeDecay: lr0 / (1 + rate k / s), with staircase lr0 / (1 + rate floor(k / s)); decay_steps=1
    is tf_keras 2.21.0's legacy decay=rate, lr / (1 + decay * iterations) (identical in runs of both)."""
    s = schedules.InverseTimeDecay(0.2, decay_steps=3, decay_rate=0.5)
    st = schedules.InverseTimeDecay(0.2, decay_steps=3, decay_rate=0.5, staircase=True)
    legacy = schedules.InverseTimeDecay(0.001, decay_steps=1.0, decay_rate=0.5)
    for k in STEPS:
        assert s(k) == pytest.approx(0.2 / (1 + 0.5 * k / 3), rel=1e-14)
        assert st(k) == pytest.approx(0.2 / (1 + 0.5 * (k // 3)), rel=1e-14)
        assert legacy(k) == pytest.approx(0.001 / (1 + 0.5 * k), rel=1e-14)


def test_piecewise_constant_decay_boundaries():
    """PiecewiseConstantDecay: values[0] for k <= b0, values[i] for b(i-1) < k <= b(i), values[-1] for k > b(-1)
    (Keras 3.15.1: the boundary itself belongs to the piece before it)."""
    s = schedules.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1])
    expected = {0: 1.0, 1: 1.0, 2: 1.0, 3: 0.5, 4: 0.5, 5: 0.5, 6: 0.1, 100: 0.1}
    for k, value in expected.items():
        assert s(k) == value, k
    single = schedules.PiecewiseConstantDecay([10], [0.3, 0.03])
    assert single(10) == 0.3 and single(11) == 0.03


def test_polynomial_decay():
    """PolynomialDecay: (lr0 - end) (1 - min(k, s)/s)^p + end; it stays at end after s steps."""
    s = schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.01, power=2.0)
    for k in STEPS:
        assert s(k) == pytest.approx((0.1 - 0.01) * (1 - min(k, 10) / 10) ** 2 + 0.01, rel=1e-14)
    assert s(10) == pytest.approx(0.01) and s(50) == pytest.approx(0.01)
    linear = schedules.PolynomialDecay(1.0, decay_steps=4)  # end 1e-4, power 1 (Keras defaults)
    assert linear(1) == pytest.approx((1.0 - 1e-4) * 0.75 + 1e-4, rel=1e-14)


def test_polynomial_decay_cycle():
    """PolynomialDecay with cycle: s is replaced by s * ceil(k / s) (1 at k = 0), so the decay restarts from a
    lower point in each cycle: at k = s the rate is end, at k = s + 1 it is (lr0 - end)(1 - (s+1)/(2s))^p + end."""
    s = schedules.PolynomialDecay(0.1, decay_steps=4, end_learning_rate=0.0, power=1.0, cycle=True)
    for k in STEPS:
        span = 4 * max(math.ceil(k / 4), 1)
        assert s(k) == pytest.approx(0.1 * (1 - k / span), rel=1e-14, abs=1e-15), k
    assert s(0) == pytest.approx(0.1)
    assert s(4) == pytest.approx(0.0, abs=1e-15)
    assert s(5) == pytest.approx(0.1 * (1 - 5 / 8))
    assert s(8) == pytest.approx(0.0, abs=1e-15) and s(9) == pytest.approx(0.1 * (1 - 9 / 12))


def test_cosine_decay_without_warmup():
    """CosineDecay: lr0 ((1 - a) (1 + cos(pi min(k, s) / s)) / 2 + a) (Loshchilov & Hutter, as in Keras 3.15.1)."""
    s = schedules.CosineDecay(0.2, decay_steps=10, alpha=0.1)
    for k in STEPS:
        kk = min(k, 10)
        assert s(k) == pytest.approx(0.2 * (0.9 * 0.5 * (1 + math.cos(math.pi * kk / 10)) + 0.1), rel=1e-14)
    assert s(0) == pytest.approx(0.2) and s(5) == pytest.approx(0.2 * (0.45 + 0.1))
    assert s(10) == pytest.approx(0.02) and s(1000) == pytest.approx(0.02)


def test_cosine_decay_with_warmup():
    """CosineDecay with warmup_target lw and warmup_steps w (Keras 3.15.1): for k < w the rate rises linearly
    lr0 + (lw - lr0) k / w; then it decays from lw over k - w, with k capped at s + w."""
    s = schedules.CosineDecay(0.0, decay_steps=8, alpha=0.0, warmup_target=0.4, warmup_steps=4)
    for k in STEPS:
        if k < 4:
            want = 0.0 + (0.4 - 0.0) * k / 4
        else:
            want = 0.4 * 0.5 * (1 + math.cos(math.pi * min(k - 4, 8) / 8))
        assert s(k) == pytest.approx(want, rel=1e-14, abs=1e-16), k
    assert s(2) == pytest.approx(0.2) and s(4) == pytest.approx(0.4) and s(8) == pytest.approx(0.2)
    assert s(12) == pytest.approx(0.0, abs=1e-16) and s(50) == pytest.approx(0.0, abs=1e-16)
    mixed = schedules.CosineDecay(0.1, decay_steps=10, alpha=0.5, warmup_target=0.3, warmup_steps=5)
    assert mixed(1) == pytest.approx(0.1 + 0.2 * 1 / 5)
    assert mixed(10) == pytest.approx(0.3 * (0.5 * 0.5 * (1 + math.cos(math.pi * 5 / 10)) + 0.5))


ALL = [
    schedules.ExponentialDecay(0.1, decay_steps=3.0, decay_rate=0.9, staircase=True),
    schedules.InverseTimeDecay(0.05, decay_steps=2.0, decay_rate=0.3),
    schedules.PiecewiseConstantDecay([3, 7], [0.3, 0.2, 0.1]),
    schedules.PolynomialDecay(0.1, decay_steps=5, end_learning_rate=0.001, power=0.5, cycle=True),
    schedules.CosineDecay(0.01, decay_steps=20, alpha=0.05, warmup_target=0.1, warmup_steps=3),
    schedules.CosineDecay(0.01, decay_steps=20),
    schedules.CosineDecayRestarts(0.01, first_decay_steps=3, t_mul=1.5, m_mul=0.8, alpha=0.1),
]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_serialize_deserialize_round_trip(schedule):
    """serialize gives {"class_name", "config"} (JSON-able, the Keras serialisation layout); deserialize
    rebuilds an equal schedule: same config and the same value at every step."""
    data = json.loads(json.dumps(schedules.serialize(schedule)))
    assert data["class_name"] == type(schedule).__name__
    rebuilt = schedules.deserialize(data)
    assert type(rebuilt) is type(schedule)
    assert rebuilt.get_config() == schedule.get_config()
    for k in STEPS:
        assert rebuilt(k) == schedule(k)


BAD = [
    (lambda: schedules.ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5), ValueError, r"decay_steps.*0"),
    (lambda: schedules.ExponentialDecay(-0.1, decay_steps=1, decay_rate=0.5), ValueError,
     r"initial_learning_rate.*-0\.1"),
    (lambda: schedules.InverseTimeDecay(0.1, decay_steps=-2, decay_rate=0.5), ValueError, r"decay_steps.*-2"),
    (lambda: schedules.InverseTimeDecay(0.1, decay_steps=1, decay_rate=-1.0), ValueError, r"decay_rate.*-1\.0"),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2]), ValueError, r"values.*3.*2"),
    (lambda: schedules.PiecewiseConstantDecay([5, 2], [0.1, 0.2, 0.3]), ValueError, r"boundaries.*\[5, 2\]"),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1, -0.2, 0.3]), ValueError, r"values.*-0\.2"),
    (lambda: schedules.PolynomialDecay(0.1, decay_steps=0), ValueError, r"decay_steps.*0"),
    (lambda: schedules.PolynomialDecay(0.1, decay_steps=5, power=float("nan")), ValueError, r"power.*nan"),
    (lambda: schedules.CosineDecay(0.1, decay_steps=0), ValueError, r"decay_steps.*0"),
    (lambda: schedules.CosineDecay(0.1, decay_steps=5, alpha=-0.5), ValueError, r"alpha.*-0\.5"),
    (lambda: schedules.CosineDecay(0.1, decay_steps=5, warmup_target=-1.0, warmup_steps=2), ValueError,
     r"warmup_target.*-1\.0"),
    (lambda: schedules.ExponentialDecay("0.1", decay_steps=1, decay_rate=0.5), TypeError,
     r"initial_learning_rate.*'0\.1'"),
    (lambda: schedules.deserialize({"class_name": "StepDecay", "config": {}}), ValueError, r"StepDecay"),
    (lambda: schedules.deserialize({"name": "ExponentialDecay"}), ValueError, r"config"),
]


@pytest.mark.parametrize("build, exc, pattern", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_arguments_raise(build, exc, pattern):
    """Bad schedule arguments raise, naming the argument and the value."""
    with pytest.raises(exc, match=pattern):
        build()


def test_optimizer_calls_the_schedule_with_the_zero_based_step(device):
    """Keras 3.15.1 / Optax 0.2.8: the schedule is evaluated at the number of updates already applied (0 at the
    first). SGD(lr=ExponentialDecay(0.1, 1, 0.5)) on gradient 1 moves by 0.1, 0.05, 0.025."""
    x = mg.tensor(np.zeros(1), requires_grad=True, device=device)
    opt = optim.SGD([x], lr=schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5))
    moved = []
    for _ in range(3):
        before = float(backend.to_numpy(x.data)[0])
        opt.apply_gradients([(backend.to_device(np.ones(1), device), x)])
        moved.append(before - float(backend.to_numpy(x.data)[0]))
    np.testing.assert_allclose(moved, [0.1, 0.05, 0.025], rtol=1e-13)


EXTREME = [
    ("exponential-huge-rate", lambda: schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=1e300)),
    ("exponential-tiny-steps-staircase", lambda: schedules.ExponentialDecay(0.1, 1e-320, 0.5, staircase=True)),
    ("inverse-time-tiny-steps-staircase", lambda: schedules.InverseTimeDecay(0.1, 1e-320, 0.5, staircase=True)),
    ("polynomial-tiny-steps-cycle", lambda: schedules.PolynomialDecay(0.1, 1e-320, cycle=True)),
]


@pytest.mark.parametrize("build", [b for _, b in EXTREME], ids=[name for name, _ in EXTREME])
def test_extreme_arguments_give_a_number_not_an_overflow_error(build):
    """Valid but extreme arguments (a rate of 1e300, decay_steps of 1e-320 with staircase or cycle) make k / s or
    r^(k/s) leave the float range; the schedule then returns a number (0 or infinity) instead of raising
    Python's OverflowError, at every step."""
    schedule = build()
    for k in STEPS:
        assert isinstance(schedule(k), float)


def test_an_infinite_scheduled_rate_is_refused_by_name(device):
    """A rate that overflowed to infinity is refused at the step that meets it, naming the schedule and the step
    (lr(2)) before anything changes, rather than Python's OverflowError from inside the schedule."""
    x = mg.tensor(np.zeros(1), requires_grad=True, device=device)
    opt = optim.SGD([x], lr=schedules.ExponentialDecay(1e-300, decay_steps=1, decay_rate=1e300))
    for _ in range(2):
        opt.apply_gradients([(backend.to_device(np.ones(1), device), x)])
    before = backend.to_numpy(x.data).copy()
    with pytest.raises(ValueError, match=r"^lr\(2\): expected a finite value >= 0, got inf"):
        opt.apply_gradients([(backend.to_device(np.ones(1), device), x)])
    np.testing.assert_array_equal(backend.to_numpy(x.data), before)
    assert opt.iterations == 2

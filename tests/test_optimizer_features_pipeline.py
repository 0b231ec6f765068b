"""Optimizer-wide options, the gradient pipeline before the update rule: clipping, gradient accumulation
and loss scaling.

Semantics follow keras/src/optimizers/base_optimizer.py (Keras 3.15.1 base optimizer: loss
scaling, gradient accumulation, clipping, decoupled weight decay, EMA of the weights),
tf_keras/optimizers/legacy/optimizer_v2.py (tf_keras 2.21.0 legacy ``decay`` and clipping order) and
capreolus/utils/keras_support.py (AdamMultilr ``pattern_lrs``).
Expected values are computed in each test from the formula its docstring names.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from optimizer_features_helpers import dev, grad_rows, host, param

import optim


# --------------------------------------------------------------------------- clipping formulas
def test_clipnorm_is_per_tensor_and_global_clipnorm_is_joint(device):
    """Keras 3.15.1 (keras/src/optimizers/base_optimizer.py): clipnorm c per tensor g c / max(||g||, c);
    global_clipnorm c over all
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
    """Keras 3.15.1 global_clipnorm: when the global norm is inf or NaN every clipped gradient is NaN
    (keras/src/optimizers/base_optimizer.py)."""
    xs = [param([0.0, 0.0], device), param([0.0], device)]
    opt = optim.SGD(xs, lr=1.0, global_clipnorm=1.0)
    with np.errstate(invalid="ignore"):
        opt.apply_gradients([(dev([np.inf, 1.0], device), xs[0]), (dev([2.0], device), xs[1])])
    assert np.isnan(host(xs[0].data)).all() and np.isnan(host(xs[1].data)).all()


def test_tensorflow_clips_value_then_norm(device):
    """tf_keras 2.21.0 optimizer_v2 _transform_gradients (tf_keras/optimizers/legacy/optimizer_v2.py): clipvalue,
    then clipnorm. g = [3, -0.5]
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
    """Keras 3.15.1 gradient_accumulation_steps k = 3 (keras/src/optimizers/base_optimizer.py): calls 1, 2 only
    accumulate (nothing moves);
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
    """Keras 3.15.1 (keras/src/optimizers/base_optimizer.py): with accumulation, clipping and weight decay act only
    on the k-th call, on the
    averaged gradient. SGD(lr 1, clipnorm 1, k 2): x -= clip((g1 + g2)/2); Keras Adam with weight_decay and
    zero gradients: x = x0 (1 - lr wd)^(number of updates), with Keras's lr float32(0.1) (floatx)."""
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
    lr = float(np.float32(0.1)) if w.dtype == np.float64 else 0.1
    assert host(w.data)[0] == pytest.approx(2.0 * (1 - lr * 0.2) ** 2, rel=1e-14)


# --------------------------------------------------------------------------- loss scaling
def test_scale_loss_multiplies_and_gradients_are_divided(device):
    """Keras 3.15.1 loss_scale_factor (keras/src/optimizers/base_optimizer.py): scale_loss(loss) = loss * factor and
    the gradients are
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

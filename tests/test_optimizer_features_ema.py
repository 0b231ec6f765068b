"""Optimizer-wide options, the moving average of the weights (use_ema, ema_momentum, ema_overwrite_frequency).

Semantics follow keras/src/optimizers/base_optimizer.py (Keras 3.15.1 base optimizer: loss
scaling, gradient accumulation, clipping, decoupled weight decay, EMA of the weights),
tf_keras/optimizers/legacy/optimizer_v2.py (tf_keras 2.21.0 legacy ``decay`` and clipping order) and
capreolus/utils/keras_support.py (AdamMultilr ``pattern_lrs``).
Expected values are computed in each test from the formula its docstring names.
"""

from __future__ import annotations

import numpy as np
import pytest
from optimizer_features_helpers import dev, host, param

import optim


def test_ema_average_and_finalize(device):
    """Keras 3.15.1 adam_test EMA test (keras/src/optimizers/adam_test.py): Adam(lr 1, use_ema, ema_momentum 0.9),
    var [1, 2],
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
    """Keras 3.15.1 EMA test with ema_overwrite_frequency=2 (keras/src/optimizers/adam_test.py): after step 1 var ==
    v1; after step 2
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
    is averaged (and overwritten) at every call, also one whose gradient is None at that call (base_optimizer.py: "for
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

"""convention="capreolus": capreolus's AdamMultilr (capreolus-ir/capreolus, capreolus/utils/keras_support.py).

Dense gradients: tf.keras legacy Adam (convention="tensorflow") with per-name learning rates, the first entry of
``pattern_lrs`` one of whose patterns ``re.search``es the name winning. Sparse gradients (its
``_resource_apply_sparse``): every row of m and v decays, the rows are added (beta m + (1 - beta) g with 1 - beta
in float32), AMSGrad takes the maximum, and the whole parameter moves by ``lr * m / (sqrt(v) + eps)`` with the raw
learning rate: no bias correction, a step (1 - beta1^t) / sqrt(1 - beta2^t) = 3.16 times larger at t = 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import optim

F = np.float32
PATTERNS = [{"patterns": ["^embedding"], "lr": 0.05}, {"patterns": ["bias$", "^embedding"], "lr": 0.5}]


def _named(shape=(4, 2)):
    return [(name, mg.tensor(np.linspace(-1, 1, math.prod(shape), dtype=F).reshape(shape), requires_grad=True))
            for name in ("embedding.weight", "dense.bias")]


@pytest.mark.parametrize("amsgrad", [False, True])
def test_dense_gradients_are_tensorflow_with_pattern_rates(amsgrad):
    """On dense gradients capreolus is tf.keras legacy Adam with each parameter's pattern rate, bit for bit; the
    first matching entry wins (embedding.weight takes 0.05, not the second entry's 0.5)."""
    grads = np.random.default_rng(5).standard_normal((6, 4, 2)).astype(F)
    ours, theirs = _named(), _named()
    capreolus = optim.Adam(ours, lr=0.1, amsgrad=amsgrad, convention="capreolus", pattern_lrs=PATTERNS)
    tensorflow = optim.Adam([{"params": [theirs[0][1]], "lr": 0.05}, {"params": [theirs[1][1]], "lr": 0.5}],
                            amsgrad=amsgrad, convention="tensorflow")
    for g in grads:
        capreolus.apply_gradients([(g, p) for _, p in ours])
        tensorflow.apply_gradients([(g, p) for _, p in theirs])
    for (_, a), (_, b) in zip(ours, theirs):
        np.testing.assert_array_equal(a.data, b.data)


def test_the_sparse_step_is_uncorrected():
    """One sparse step on row 0 with g = (0.5, -2): every row's m and v decay (from 0: stay 0), row 0 gets
    m = (1 - b1) g and v = (1 - b2) g^2 in float32, and the step is lr m / (sqrt(v) + eps), 3.16 times the
    bias-corrected lr sign(g) of tf.keras legacy's own sparse path."""
    (name, x), = _named((3, 2))[:1]
    before = x.data.copy()
    opt = optim.Adam([(name, x)], lr=0.1, convention="capreolus")
    g = np.array([[0.5, -2.0]], F)
    opt.apply_gradients([(mg.RowSparseGrad(np.array([0]), g, (3, 2)), x)])
    m, v = g[0] * (F(1) - F(0.9)), g[0] * g[0] * (F(1) - F(0.999))
    np.testing.assert_array_equal(opt.state[x]["m"][0], m)
    np.testing.assert_array_equal(opt.state[x]["v"][0], v)
    np.testing.assert_array_equal(x.data[0], before[0] - F(0.1) * m / (np.sqrt(v) + F(1e-7)))
    np.testing.assert_array_equal(x.data[1:], before[1:])  # m = 0 there: the rows move by 0
    step = before[0] - x.data[0]
    assert step == pytest.approx(0.1 * np.sign(g[0]) * 0.1 / math.sqrt(0.001), rel=1e-5)  # 3.16 lr


def test_untouched_rows_keep_moving_with_the_decayed_moments():
    """Not lazy: a row absent from the second step still moves by lr m / (sqrt(v) + eps) with its decayed m and
    v, and AMSGrad's maximum keeps the larger v."""
    (name, x), = _named((3, 2))[:1]
    opt = optim.AMSGrad([(name, x)], lr=0.1, convention="capreolus")
    opt.apply_gradients([(mg.RowSparseGrad(np.array([0]), np.array([[1.0, 1.0]], F), (3, 2)), x)])
    row0 = x.data[0].copy()
    m0, v_max0 = opt.state[x]["m"][0].copy(), opt.state[x]["v_max"][0].copy()
    opt.apply_gradients([(mg.RowSparseGrad(np.array([2]), np.array([[1.0, 1.0]], F), (3, 2)), x)])
    m1 = m0 * F(0.9)
    np.testing.assert_array_equal(opt.state[x]["m"][0], m1)
    np.testing.assert_array_equal(opt.state[x]["v_max"][0], v_max0)  # the decayed v is smaller
    np.testing.assert_array_equal(x.data[0], row0 - F(0.1) * m1 / (np.sqrt(v_max0) + F(1e-7)))


def test_pattern_rates_apply_to_the_sparse_step_with_the_legacy_decay():
    """The sparse step uses the parameter's pattern rate through the legacy decay: lr / (1 + decay k)."""
    (name, x), = _named((3, 2))[:1]
    opt = optim.Adam([(name, x)], lr=0.1, convention="capreolus", pattern_lrs=PATTERNS, decay=0.5)
    opt.apply_gradients([(mg.RowSparseGrad(np.array([1]), np.array([[1.0, -1.0]], F), (3, 2)), x)])
    before = x.data[1].copy()
    opt.apply_gradients([(mg.RowSparseGrad(np.array([1]), np.array([[1.0, -1.0]], F), (3, 2)), x)])
    m, v = opt.state[x]["m"][1], opt.state[x]["v"][1]
    lr = F(0.05 / (1 + 0.5 * 1))
    np.testing.assert_array_equal(x.data[1], before - lr * m / (np.sqrt(v) + F(1e-7)))


def test_sparse_update_is_a_keyword_of_any_convention():
    """sparse_update="uncorrected" gives tensorflow capreolus's sparse step; "as_dense" gives capreolus the
    dense-equivalent one."""
    results = {}
    for convention, sparse_update in (("capreolus", "uncorrected"), ("tensorflow", "uncorrected"),
                                      ("capreolus", "as_dense"), ("tensorflow", None)):
        (name, x), = _named((3, 2))[:1]
        kwargs = {} if sparse_update is None else {"sparse_update": sparse_update}
        opt = optim.Adam([(name, x)], lr=0.1, convention=convention, **kwargs)
        opt.apply_gradients([(mg.RowSparseGrad(np.array([0, 0]), np.array([[1.0, 2.0], [0.5, -1.0]], F), (3, 2)), x)])
        results[convention, sparse_update] = x.data.copy()
    np.testing.assert_array_equal(results["capreolus", "uncorrected"], results["tensorflow", "uncorrected"])
    np.testing.assert_array_equal(results["capreolus", "as_dense"], results["tensorflow", None])
    assert not np.array_equal(results["capreolus", "uncorrected"], results["capreolus", "as_dense"])


def test_lazy_takes_precedence_over_the_sparse_update():
    """lazy=True updates only the listed rows, with the rule of dense gradients (bias-corrected), as it does under
    every convention."""
    (name, x), = _named((3, 2))[:1]
    (_, y), = _named((3, 2))[:1]
    optim.Adam([(name, x)], lr=0.1, convention="capreolus", lazy=True).apply_gradients(
        [(mg.RowSparseGrad(np.array([0]), np.array([[1.0, 2.0]], F), (3, 2)), x)])
    optim.Adam([(name, y)], lr=0.1, convention="tensorflow", lazy=True).apply_gradients(
        [(mg.RowSparseGrad(np.array([0]), np.array([[1.0, 2.0]], F), (3, 2)), y)])
    np.testing.assert_array_equal(x.data, y.data)


def test_capreolus_has_no_adamax_and_fused_runs_only_its_dense_rule():
    """Adamax(convention="capreolus") is refused (AdamMultilr is Adam); fused=True runs dense gradients as the
    reference path does and refuses a sparse one, naming the option, before anything changes."""
    with pytest.raises(ValueError, match=r"capreolus.*adamax"):
        optim.Adamax([_named()[0][1]], convention="capreolus")
    (name, x), = _named((3, 2))[:1]
    (_, y), = _named((3, 2))[:1]
    fused = optim.Adam([(name, x)], lr=0.1, convention="capreolus", fused=True)
    plain = optim.Adam([(name, y)], lr=0.1, convention="capreolus")
    g = np.ones((3, 2), F)
    fused.apply_gradients([(g, x)])
    plain.apply_gradients([(g, y)])
    np.testing.assert_array_equal(x.data, y.data)
    before = x.data.copy()
    with pytest.raises(ValueError, match=r"sparse_update.*\(3, 2\).*fused=False"):
        fused.apply_gradients([(mg.RowSparseGrad(np.array([0]), np.ones((1, 2), F), (3, 2)), x)])
    np.testing.assert_array_equal(x.data, before)

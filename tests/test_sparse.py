"""Row-sparse gradients: the sparse Embedding gradient, RowSparseGrad, and how the optimizers apply it.

Sparse semantics follow the frameworks' source: Keras 3.15.1 densifies sparse
gradients (keras/src/backend/tensorflow/optimizer.py), tf_keras 2.21.0 legacy Adam is dense-equivalent on
IndexedSlices while legacy Adamax
is lazy (tf_keras/optimizers/legacy/adam.py, adamax.py: only the touched rows of m, u and the variable change; the
bias correction keeps the
global step). Expected lazy values are computed by hand from those formulas.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import optim
from minigrad import backend
from minigrad.sparse import RowSparseGrad


def dev(array, device):
    return backend.to_device(np.asarray(array), device)


def host(array):
    return backend.to_numpy(array).copy()


def sparse(indices, values, shape, device, dtype=np.float64):
    return RowSparseGrad(dev(np.asarray(indices, dtype=np.int64), device),
                         dev(np.asarray(values, dtype=dtype).reshape(len(indices), *shape[1:]), device), shape)


def dense_of(indices, values, shape):
    out = np.zeros(shape)
    np.add.at(out, np.asarray(indices, dtype=np.int64), np.asarray(values, dtype=float).reshape(len(indices),
                                                                                                *shape[1:]))
    return out


# --------------------------------------------------------------------------- the sparse Embedding gradient
def _lookup_grad(device, sparse_flag, indices, upstream, seed=3):
    emb = mg.nn.Embedding(6, 3, rng=seed, dtype=np.float64, device=device, sparse=sparse_flag)
    out = emb(indices)
    (out * mg.tensor(upstream, device=device)).sum().backward()
    return emb.weight


def test_embedding_sparse_gradient_equals_the_dense_one(device):
    """y = W[i], dW = 0 with dW[i_k] += dy_k (repeated indices add up): with sparse=True the gradient is a
    RowSparseGrad whose rows are the flattened indices and whose values are dy row by row; to_dense() equals
    the dense Embedding gradient and the hand scatter-add."""
    indices = np.array([[1, 3, 1], [5, 1, 0]])
    upstream = np.random.default_rng(0).standard_normal((2, 3, 3))
    w_sparse = _lookup_grad(device, True, indices, upstream)
    w_dense = _lookup_grad(device, False, indices, upstream)
    g = w_sparse.grad
    assert isinstance(g, RowSparseGrad)
    assert g.dense_shape == (6, 3) and g.shape == (6, 3) and g.dtype == np.float64
    np.testing.assert_array_equal(host(g.indices), indices.reshape(-1))
    np.testing.assert_array_equal(host(g.values), upstream.reshape(6, 3))
    expected = dense_of(indices.reshape(-1), upstream, (6, 3))
    np.testing.assert_allclose(host(g.to_dense()), expected, rtol=1e-15)
    np.testing.assert_allclose(host(g.to_dense()), host(w_dense.grad.data), rtol=1e-15)
    assert np.all(host(g.to_dense())[[2, 4]] == 0)
    assert host(g.to_dense())[1] == pytest.approx(upstream[0, 0] + upstream[0, 2] + upstream[1, 1])


def test_two_backward_calls_accumulate(device):
    """Two backward passes add their gradients: sparse + sparse stays a RowSparseGrad (the rows of both) whose
    to_dense() is the sum of the two dense gradients; a dense gradient added to a sparse one gives a dense
    Tensor equal to the sum."""
    emb = mg.nn.Embedding(5, 2, rng=1, dtype=np.float64, device=device, sparse=True)
    up1, up2 = np.arange(6.0).reshape(3, 2), -np.arange(4.0).reshape(2, 2) / 3
    (emb([0, 2, 0]) * mg.tensor(up1, device=device)).sum().backward()
    (emb([2, 4]) * mg.tensor(up2, device=device)).sum().backward()
    g = emb.weight.grad
    assert isinstance(g, RowSparseGrad)
    assert sorted(host(g.indices).tolist()) == [0, 0, 2, 2, 4]
    expected = dense_of([0, 2, 0], up1, (5, 2)) + dense_of([2, 4], up2, (5, 2))
    np.testing.assert_allclose(host(g.to_dense()), expected, rtol=1e-15)
    (emb.weight * 2.0).sum().backward()  # a dense use of the table
    g = emb.weight.grad
    assert isinstance(g, mg.Tensor)
    np.testing.assert_allclose(host(g.data), expected + 2.0, rtol=1e-15)


def test_coalesce_sums_repeated_rows(device):
    """coalesce(): each row once, sorted, repeated rows summed; the dense gradient is unchanged."""
    g = sparse([3, 0, 3, 1], [[1.0, 2.0], [3.0, 4.0], [10.0, 20.0], [0.5, 0.5]], (4, 2), device)
    c = g.coalesce()
    np.testing.assert_array_equal(host(c.indices), [0, 1, 3])
    np.testing.assert_allclose(host(c.values), [[3.0, 4.0], [0.5, 0.5], [11.0, 22.0]])
    np.testing.assert_array_equal(host(c.to_dense()), host(g.to_dense()))


BAD_SPARSE = [  # (indices, values shape, message pattern) for dense_shape (4, 3)
    (np.array([[0, 1]]), (2, 3), r"indices.*1-D"),
    (np.array([0.0, 1.0]), (2, 3), r"indices.*integer"),
    (np.array([0, 1]), (2, 4), r"values.*\(2, 3\).*\(2, 4\)"),
    (np.array([0, 1]), (3, 3), r"values.*\(2, 3\).*\(3, 3\)"),
    (np.array([0, 4]), (2, 3), r"indices.*\[0, 4\)"),
    (np.array([-1, 2]), (2, 3), r"indices.*\[0, 4\)"),
    ([0, 1], (2, 3), r"indices"),
]


@pytest.mark.parametrize("indices, shape, pattern", BAD_SPARSE, ids=[f"bad{i}" for i in range(len(BAD_SPARSE))])
def test_row_sparse_grad_validation(device, indices, shape, pattern):
    """RowSparseGrad(indices, values, dense_shape): 1-D integer indices in [0, dense_shape[0]), values of shape
    (n, *dense_shape[1:]); anything else is a ValueError naming what is wrong."""
    indices = dev(indices, device) if isinstance(indices, np.ndarray) else indices
    with pytest.raises(ValueError, match=pattern):
        RowSparseGrad(indices, dev(np.zeros(shape), device), (4, 3))


def test_row_sparse_grad_device_mismatch(device):
    """indices and values on different devices are refused (only checkable with a GPU)."""
    if device == "cpu":
        pytest.skip("needs a GPU to put indices and values on different devices")
    with pytest.raises(ValueError, match="indices"):
        RowSparseGrad(np.array([0, 1]), dev(np.zeros((2, 3)), device), (4, 3))


def test_optimizer_checks_the_sparse_gradient_against_the_parameter(device):
    """A sparse gradient must have the parameter's shape and dtype (ValueError naming them); nothing changes."""
    x = mg.tensor(np.ones((4, 3)), requires_grad=True, device=device)
    opt = optim.Adam([x], lr=0.1)
    with pytest.raises(ValueError, match=r"\(5, 3\)"):
        opt.apply_gradients([(sparse([0], [[1.0, 1.0, 1.0]], (5, 3), device), x)])
    with pytest.raises(ValueError, match="float32"):
        opt.apply_gradients([(sparse([0], [[1.0, 1.0, 1.0]], (4, 3), device, np.float32), x)])
    np.testing.assert_array_equal(host(x.data), np.ones((4, 3)))
    assert opt.iterations == 0


# --------------------------------------------------------------------------- optimizers with sparse gradients
# One sparse gradient per call on a (5, 2) table: row 0 every call, row 2 at calls 0 and 3 (a gap), row 1 twice
# in one call (repeated index), row 4 never.
SPARSE_CALLS = [
    ([0, 2, 1, 1], [[0.5, -1.0], [0.3, 0.2], [1.0, 0.1], [-0.4, 0.3]]),
    ([0], [[0.01, 0.2]]),
    ([0, 3, 1], [[-0.7, 0.05], [2.0, -2.0], [0.02, 0.02]]),
    ([2, 0], [[-0.1, 0.25], [0.3, 0.3]]),
    ([3, 0], [[0.0, 1.0], [0.1, -0.2]]),
]
SHAPE = (5, 2)
X0 = np.linspace(-1.0, 1.0, 10).reshape(SHAPE)


def run_table(device, make, use_sparse, dtype=np.float64):
    x = mg.tensor(X0.astype(dtype), requires_grad=True, device=device)
    opt = make([x])
    rows = []
    for indices, values in SPARSE_CALLS:
        if use_sparse:
            g = sparse(indices, values, SHAPE, device, dtype)
        else:
            g = dev(dense_of(indices, values, SHAPE).astype(dtype), device)
        opt.apply_gradients([(g, x)])
        rows.append(host(x.data))
    return np.array(rows), opt, x


DENSE_EQUIVALENT = [
    (name, convention)
    for convention in sorted(optim.CONVENTIONS)
    for name in ("Adam", "AMSGrad", "Adamax")
    if (name, convention) != ("Adamax", "tensorflow")
    and convention != "capreolus"  # its own sparse rule: tests/test_capreolus.py
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, convention", DENSE_EQUIVALENT, ids=[f"{n}-{c}" for n, c in DENSE_EQUIVALENT])
def test_sparse_is_dense_equivalent_by_default(device, name, convention, dtype):
    """By default a RowSparseGrad acts as its dense gradient (Keras 3.15.1 densifies; tf_keras 2.21.0 legacy
    Adam's sparse path decays every row, keras/src/optimizers/adam.py, tf_keras/optimizers/legacy/adam.py): the
    trajectory is the dense one, bit for bit,
    including rows with no gradient (their m and v decay and they keep moving)."""
    cls = getattr(optim, name)

    def make(p):
        return cls(p, lr=0.1, convention=convention)

    sparse_rows, _, _ = run_table(device, make, True, dtype)
    dense_rows, _, _ = run_table(device, make, False, dtype)
    np.testing.assert_array_equal(sparse_rows, dense_rows)


@pytest.mark.parametrize("name, kwargs", [
    ("Adam", {"convention": "pytorch", "lazy": True}),
    ("Adam", {"convention": "keras", "lazy": True, "weight_decay": 0.0}),
    ("AMSGrad", {"convention": "optax", "lazy": True}),
    ("Adamax", {"convention": "tensorflow"}),
    ("Adamax", {"convention": "pytorch", "lazy": True}),
    ("Adamax", {"convention": "tensorflow", "lazy": True}),
], ids=["adam-pytorch", "adam-keras", "amsgrad-optax", "adamax-tf-default", "adamax-pytorch", "adamax-tf-explicit"])
def test_lazy_rows(device, name, kwargs):
    """Lazy updates (lazy=True; tf_keras 2.21.0 legacy Adamax by default, tf_keras/optimizers/legacy/adamax.py): row
    0, touched at every
    call, follows the dense run exactly; row 4, never touched, keeps its value bit for bit and its state stays
    zero; the others differ from the dense run, since their state does not decay while untouched."""
    cls = getattr(optim, name)

    def make(p):
        return cls(p, lr=0.1, **kwargs)

    lazy_rows, opt, x = run_table(device, make, True)
    dense_rows, _, _ = run_table(device, lambda p: cls(p, lr=0.1, **{**kwargs, "lazy": False}), False)
    np.testing.assert_array_equal(lazy_rows[:, 0], dense_rows[:, 0])
    np.testing.assert_array_equal(lazy_rows[:, 4], np.broadcast_to(X0[4], (len(SPARSE_CALLS), 2)))
    for key, value in opt.state[x].items():
        if key != "step":
            np.testing.assert_array_equal(host(value)[4], 0.0, err_msg=key)
    assert not np.array_equal(lazy_rows[:, 2], dense_rows[:, 2])
    assert not np.array_equal(lazy_rows[:, 3], dense_rows[:, 3])


def test_lazy_adam_row_after_a_gap_by_hand(device):
    """Lazy Adam (pytorch convention, Algorithm 1, lazy=True): row 2 gets g1 at call 1 and g4 at call 4 only.
    Its m and v are not decayed at calls 2, 3: m = b1 (1-b1) g1 + (1-b1) g4, v = b2 (1-b2) g1^2 + (1-b2) g4^2,
    and the bias correction uses the step t = 4: x4 = x1 - lr (m/(1-b1^4)) / (sqrt(v/(1-b2^4)) + eps), with
    x1 = x0 - lr g1/(|g1| + eps). Rows 1 and 0 in the same call are coalesced (summed) first."""
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    rows, opt, x = run_table(device, lambda p: optim.Adam(p, lr=lr, convention="pytorch", lazy=True), True)
    g1, g4 = np.array([0.3, 0.2]), np.array([-0.1, 0.25])
    x1 = X0[2] - lr * g1 / (np.abs(g1) + eps)
    m = b1 * (1 - b1) * g1 + (1 - b1) * g4
    v = b2 * (1 - b2) * g1**2 + (1 - b2) * g4**2
    x4 = x1 - lr * (m / (1 - b1**4)) / (np.sqrt(v / (1 - b2**4)) + eps)
    np.testing.assert_allclose(rows[0, 2], x1, rtol=1e-13)
    np.testing.assert_array_equal(rows[1, 2], rows[0, 2])
    np.testing.assert_array_equal(rows[2, 2], rows[0, 2])
    np.testing.assert_allclose(rows[3, 2], x4, rtol=1e-13)
    np.testing.assert_allclose(host(opt.state[x]["m"])[2], m, rtol=1e-13)
    np.testing.assert_allclose(host(opt.state[x]["v"])[2], v, rtol=1e-13)
    # the dense run decays m and v at calls 2 and 3
    dense = b1**3 * (1 - b1) * g1 + (1 - b1) * g4
    assert not np.allclose(m, dense)
    # row 1 at call 1: indices [1, 1] summed -> g = [0.6, 0.4], a plain first step
    g = np.array([1.0 - 0.4, 0.1 + 0.3])
    np.testing.assert_allclose(rows[0, 1], X0[1] - lr * g / (np.abs(g) + eps), rtol=1e-13)


def test_lazy_tf_adamax_row_after_a_gap_by_hand(device):
    """tf_keras 2.21.0 legacy sparse Adamax (tf_keras/optimizers/legacy/adamax.py): m[i] = b1 m[i] + (1-b1) g, u[i] =
    max(b2 u[i], |g|),
    x[i] -= lr/(1-b1^t) m[i]/(u[i] + eps) with the global t, only for the touched rows. Row 3 gets a gradient
    at calls 3 and 5: m = b1 (1-b1) g3 + (1-b1) g5, u = max(b2 |g3|, |g5|), t = 5."""
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-7
    rows, opt, x = run_table(device, lambda p: optim.Adamax(p, lr=lr, convention="tensorflow"), True)
    g3, g5 = np.array([2.0, -2.0]), np.array([0.0, 1.0])
    m3, u3 = (1 - b1) * g3, np.abs(g3)
    x3 = X0[3] - lr / (1 - b1**3) * m3 / (u3 + eps)
    m5 = b1 * m3 + (1 - b1) * g5
    u5 = np.maximum(b2 * u3, np.abs(g5))
    x5 = x3 - lr / (1 - b1**5) * m5 / (u5 + eps)
    np.testing.assert_array_equal(rows[1, 3], X0[3])
    np.testing.assert_allclose(rows[2, 3], x3, rtol=1e-13)
    np.testing.assert_array_equal(rows[3, 3], rows[2, 3])
    np.testing.assert_allclose(rows[4, 3], x5, rtol=1e-13)
    np.testing.assert_allclose(host(opt.state[x]["u"])[3], u5, rtol=1e-13)
    assert math.isclose(float(u5[0]), b2 * 2.0)  # u not decayed during the gap: one factor b2, not three


@pytest.mark.parametrize("name", ["Adam", "Adamax"])
def test_lazy_false_under_tensorflow_forces_dense(device, name):
    """lazy=False overrides tf_keras legacy Adamax's lazy default (and keeps Adam dense): the sparse run equals
    the dense run bit for bit."""
    cls = getattr(optim, name)

    def make(p):
        return cls(p, lr=0.1, convention="tensorflow", lazy=False)

    np.testing.assert_array_equal(run_table(device, make, True)[0], run_table(device, make, False)[0])


def test_embedding_training_step_with_sparse_gradients(device):
    """End to end: Embedding(sparse=True) + opt.step() equals Embedding(sparse=False) + opt.step() for
    dense-equivalent Adam (Keras 3.15.1 semantics); with tensorflow Adamax the untouched rows stay put."""
    batches = [np.array([[0, 3], [3, 5]]), np.array([[1, 1], [0, 2]]), np.array([[3, 3], [3, 0]])]
    results = {}
    for flag in (True, False):
        emb = mg.nn.Embedding(7, 4, rng=5, dtype=np.float64, device=device, sparse=flag)
        opt = optim.Adam(emb.parameters(), lr=0.05, convention="keras")
        for idx in batches:
            opt.zero_grad()
            (emb(idx) ** 2).sum().backward()
            opt.step()
        results[flag] = host(emb.weight.data)
    np.testing.assert_array_equal(results[True], results[False])

    emb = mg.nn.Embedding(7, 4, rng=5, dtype=np.float64, device=device, sparse=True)
    start = host(emb.weight.data)
    opt = optim.Adamax(emb.parameters(), lr=0.05, convention="tensorflow")
    for idx in batches:
        opt.zero_grad()
        (emb(idx) ** 2).sum().backward()
        opt.step()
    final = host(emb.weight.data)
    np.testing.assert_array_equal(final[[4, 6]], start[[4, 6]])
    assert not np.array_equal(final[[0, 1, 2, 3, 5]], start[[0, 1, 2, 3, 5]])

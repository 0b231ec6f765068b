"""A row-sparse gradient as a dense NumPy array: ``np.asarray(grad)`` and ``grad.numpy()``.

Both give the full gradient :math:`G` with :math:`G[\\text{indices}_k] \\mathrel{+}= \\text{values}_k`, zeros
elsewhere, as ``to_dense()`` does (not a 0-d object array holding the RowSparseGrad).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import backend


def row_sparse(device, indices=(0, 2, 0), dense_shape=(4, 2), dtype=np.float64):
    values = np.arange(1.0, 1.0 + len(indices) * dense_shape[1]).reshape(len(indices), dense_shape[1])
    return mg.RowSparseGrad(backend.to_device(np.asarray(indices, dtype=np.int64), device),
                            backend.to_device(values.astype(dtype), device), dense_shape)


EXPECTED = np.array([[6.0, 8.0], [0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])  # rows 0 and 2; row 0 twice: summed


def test_numpy_gives_the_dense_gradient(device):
    """``grad.numpy()`` is the dense NumPy array on every device, in the values' dtype, a new array each call."""
    grad = row_sparse(device, dtype=np.float32)
    dense = grad.numpy()
    assert type(dense) is np.ndarray and dense.dtype == np.float32
    np.testing.assert_array_equal(dense, EXPECTED)
    dense[...] = -1.0
    np.testing.assert_array_equal(grad.numpy(), EXPECTED)


def test_asarray_gives_the_dense_gradient():
    """``np.asarray(grad)`` and ``np.array(grad)`` give the dense array (not a 0-d object array); a ``dtype``
    casts it; writing the result leaves the gradient as it was."""
    grad = row_sparse("cpu")
    dense = np.asarray(grad)
    assert dense.shape == (4, 2) and dense.dtype == np.float64
    np.testing.assert_array_equal(dense, EXPECTED)
    np.testing.assert_array_equal(np.array(grad), EXPECTED)
    assert np.asarray(grad, dtype=np.float32).dtype == np.float32
    dense[...] = -1.0
    np.testing.assert_array_equal(grad.values, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(np.asarray(grad), EXPECTED)


def test_asarray_without_a_copy_is_refused():
    """NumPy 2's ``copy=False`` asks for the gradient's own dense array, which does not exist: a ValueError."""
    with pytest.raises(ValueError, match=r"RowSparseGrad stores only its rows.*copy=False"):
        np.asarray(row_sparse("cpu"), copy=False)


def test_asarray_of_a_gpu_gradient_is_refused_like_a_gpu_tensor(device):
    """``np.asarray`` of a gradient on a GPU is a TypeError pointing to ``.numpy()``, as for a Tensor there;
    on the CPU it is the dense array."""
    grad = row_sparse(device)
    if device == "cpu":
        np.testing.assert_array_equal(np.asarray(grad), EXPECTED)
        return
    with pytest.raises(TypeError, match=r"cuda.*\.numpy\(\)"):
        np.asarray(grad)


@given(st.lists(st.integers(0, 5), max_size=8), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_asarray_equals_the_scatter_of_the_rows(rows, width, seed):
    """For any rows (repeated or none) and values, ``np.asarray(grad)`` equals ``np.add.at(zeros, rows, values)``
    and ``grad.numpy()``."""
    values = np.random.default_rng(seed).standard_normal((len(rows), width))
    grad = mg.RowSparseGrad(np.asarray(rows, dtype=np.int64), values, (6, width))
    expected = np.zeros((6, width))
    np.add.at(expected, np.asarray(rows, dtype=np.int64), values)
    np.testing.assert_array_equal(np.asarray(grad), expected)
    np.testing.assert_array_equal(grad.numpy(), expected)

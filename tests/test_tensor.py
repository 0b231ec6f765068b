"""The Tensor: construction, dtype rules and conversions.

The dtype rule is NumPy's: a Python number adapts to the tensor
(:math:`\\text{float32} \\cdot 2.0 \\to \\text{float32}`), while arrays keep their
own dtype and promote (:math:`\\text{float32} \\cdot \\text{float64} \\to \\text{float64}`).
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


# ----------------------------------------------------------------- dtype rules
@pytest.mark.parametrize(
    "op",
    [lambda x: x * 2.0, lambda x: 2.0 * x, lambda x: x + 1, lambda x: x / 3, lambda x: 2.0 - x, lambda x: x**2,
     lambda x: x**0.5, lambda x: 2.0**x, lambda x: -x, lambda x: mg.exp(x), lambda x: mg.sigmoid(x),
     lambda x: x.mean(), lambda x: mg.softmax(x), lambda x: mg.maximum(x, 0.5), lambda x: x.T @ x,
     lambda x: mg.cross_entropy(x.reshape(1, 3), [2]), lambda x: mg.mse_loss(x, np.zeros(3))],
    ids=["x*2.0", "2.0*x", "x+1", "x/3", "2.0-x", "x**2", "x**0.5", "2.0**x", "-x", "exp", "sigmoid", "mean",
         "softmax", "maximum", "matmul", "cross_entropy", "mse_loss"],
)
def test_float32_stays_float32_with_python_numbers(device, op):
    """:math:`\\text{float32} \\circ \\text{Python number} \\to \\text{float32}` (values and gradients)."""
    x = mg.tensor(np.array([0.5, 1.0, 2.0], dtype=np.float32), requires_grad=True, device=device)
    y = op(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_arrays_promote_as_numpy(device, xp):
    """float32 with a float64 array gives float64; int with a float number gives float64; int with int stays int."""
    x = mg.tensor(np.ones(3, dtype=np.float32), device=device)
    assert (x * xp.ones(3)).dtype == np.float64
    n = mg.tensor(np.array([1, 2, 3]), device=device)
    assert (n * 2.5).dtype == np.float64
    assert (n + 1).dtype == n.dtype
    assert (n + 1).requires_grad is False


# ----------------------------------------------------------------- construction
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_tensor_from_ndarray_keeps_dtype_and_copies(device, dtype):
    """``mg.tensor(array)`` keeps the dtype and copies: later writes to the array do not reach the tensor."""
    source = np.array([1, 0, 1]).astype(dtype)
    t = mg.tensor(source, device=device)
    assert t.dtype == dtype and t.shape == (3,) and t.device == device
    source[0] = 0
    assert t.numpy()[0] == 1


def test_tensor_from_tensor_lists_and_scalars(device):
    """A Tensor is copied; lists and scalars take NumPy's dtype (float64, int64); ``dtype=`` casts."""
    a = mg.tensor(np.arange(3.0), device=device)
    b = mg.tensor(a)
    b.data[0] = 9.0
    assert float(a.data[0]) == 0.0 and b.device == device
    assert mg.tensor([[1.0, 2.0]], device=device).dtype == np.float64
    assert mg.tensor([1, 2], device=device).dtype == np.int64
    s = mg.tensor(2.5, device=device)
    assert s.shape == () and s.ndim == 0 and s.item() == 2.5
    c = mg.tensor([1, 2], dtype=np.float32, device=device)
    assert c.dtype == np.float32 and c.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_requires_grad_on_non_float_raises(device, dtype):
    """Only floating-point tensors can require gradients: integer and boolean ones raise TypeError naming the dtype."""
    values = np.array([1, 0, 1]).astype(dtype)
    with pytest.raises(TypeError, match=np.dtype(dtype).name):
        mg.tensor(values, requires_grad=True, device=device)
    t = mg.tensor(values, device=device)
    with pytest.raises(TypeError, match="requires_grad"):
        t.requires_grad_()
    with pytest.raises(TypeError, match="requires_grad"):
        mg.Tensor(t.data, requires_grad=True)


def test_tensor_constructor_wants_arrays(device):
    """``Tensor(data)`` takes backend arrays only (no copy); lists are pointed to ``mg.tensor``."""
    with pytest.raises(TypeError, match=r"minigrad\.tensor"):
        mg.Tensor([1.0, 2.0])
    array = mg.Device(device).xp.ones(2)
    assert mg.Tensor(array).data is array


def test_cast_to_integer_is_not_differentiable(device):
    """``x.astype(int)`` of a tensor that requires gradients gives an integer tensor outside the graph."""
    x = mg.tensor(np.array([1.7, -2.2]), requires_grad=True, device=device)
    n = x.astype(np.int64)
    assert n.dtype == np.int64 and n.requires_grad is False and n.creator is None
    assert n.tolist() == [1, -2]
    assert x.astype(np.float64) is x
    y = x.astype(np.float32)
    assert y.dtype == np.float32 and y.requires_grad


# ----------------------------------------------------------------- properties and conversions
def test_properties(device):
    """shape, ndim, size, dtype, device, len and is_leaf describe the array and the graph position."""
    x = mg.tensor(np.zeros((2, 3)), requires_grad=True, device=device)
    assert (x.shape, x.ndim, x.size, x.dtype, len(x)) == ((2, 3), 2, 6, np.float64, 2)
    assert x.device == device and x.is_leaf and x.creator is None and x.grad is None
    y = x * 2
    assert not y.is_leaf and y.creator is not None
    with pytest.raises(TypeError, match="0-d"):
        len(mg.tensor(1.0, device=device))


def test_item_tolist_numpy(device):
    """``item`` needs one element; ``tolist`` nests; ``numpy`` is a view on the CPU and a copy from a GPU."""
    x = mg.tensor(np.array([[1.0, 2.0]]), device=device)
    assert x.tolist() == [[1.0, 2.0]]
    assert x[0, 1].item() == 2.0
    with pytest.raises(ValueError, match=r"\(1, 2\)"):
        x.item()
    array = x.numpy()
    assert isinstance(array, np.ndarray)
    assert np.shares_memory(array, x.data) == (device == "cpu")


def test_reshape_and_transpose_spellings(device):
    """``reshape(2, 3)`` equals ``reshape((2, 3))``; ``transpose()`` and ``.T`` reverse the axes."""
    x = mg.tensor(np.arange(6.0), device=device)
    assert x.reshape(2, 3).shape == x.reshape((2, 3)).shape == (2, 3)
    assert x.reshape(-1, 2).shape == (3, 2)
    m = x.reshape(2, 3)
    assert m.T.shape == m.transpose().shape == (3, 2)
    assert m.transpose(1, 0).shape == m.transpose((1, 0)).shape == (3, 2)
    assert +m is m


def test_detach_and_requires_grad_(device):
    """``detach`` gives a leaf sharing the data; ``requires_grad_`` works on leaves only."""
    x = mg.tensor(np.ones(2), requires_grad=True, device=device)
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.data is y.data
    assert d.requires_grad_() is d and d.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="does not require"):
        mg.tensor(np.ones(2), device=device).retain_grad()


def test_repr(device):
    """``repr`` shows the values, the dtype, a non-CPU device and ``requires_grad``."""
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True, device=device)
    text = repr(x)
    assert text.startswith("tensor([1., 2.]") and "dtype=float64" in text and "requires_grad=True" in text
    assert ("device=" in text) == (device != "cpu")
    assert "requires_grad" not in repr(mg.tensor(np.array([1.0]), device=device))

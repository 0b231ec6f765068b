"""An unrecorded backward pass (``create_graph=False``) runs each function's ``backward_arrays`` on plain arrays
(:meth:`minigrad.Function.backward_arrays`): the default wraps the arrays in Tensors around ``backward``; Linear,
ReLU and CrossEntropy give their formulas on arrays directly. Differential tests: each override against the
function's own ``backward`` (the Tensor formulas), bit for bit; the engine's two modes against each other."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.functions.elementwise import ReLU
from minigrad.functions.linalg import Linear
from minigrad.functions.loss import CrossEntropy

FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=32)


def tensor_backward(function, *grads):
    """``function.backward`` on Tensors, unrecorded, as arrays (``None`` kept)."""
    with mg.no_grad():
        results = function.backward(*[mg.Tensor(g) for g in grads])
    results = results if isinstance(results, tuple) else (results,)
    return [None if r is None else r.data for r in results]


def array_backward(function, *grads):
    results = function.backward_arrays(*grads)
    return list(results) if isinstance(results, tuple) else [results]


def assert_same_bits(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        if e is None:
            assert a is None
            continue
        a = np.asarray(a)
        assert a.dtype == e.dtype and a.shape == e.shape
        assert np.array_equal(a.reshape(-1).view(np.uint8), e.reshape(-1).view(np.uint8)), (a, e)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), batch=st.sampled_from([(), (3,), (2, 3)]), n_in=st.integers(1, 5), n_out=st.integers(1, 4),
       dtype=st.sampled_from([np.float32, np.float64]), with_bias=st.booleans(), x_grad=st.booleans())
def test_linear_backward_arrays_is_its_tensor_backward(data, batch, n_in, n_out, dtype, with_bias, x_grad):
    """Eq. of :class:`Linear`: the gradients of x, W and b, on arrays and on Tensors, give the same bits."""
    def draw(shape):
        return data.draw(hnp.arrays(dtype, shape, elements=st.floats(-4, 4, width=32)))

    x = mg.Tensor(draw((*batch, n_in)), requires_grad=x_grad)
    w = mg.Tensor(draw((n_out, n_in)), requires_grad=True)
    operands = (x, w, mg.Tensor(draw((n_out,)), requires_grad=True)) if with_bias else (x, w)
    function = Linear()
    function(*operands)
    gy = draw((*batch, n_out))
    assert_same_bits(array_backward(function, gy), tensor_backward(function, gy))


@settings(max_examples=60, deadline=None)
@given(values=hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=3), elements=FLOATS),
       data=st.data())
def test_relu_backward_arrays_is_its_tensor_backward(values, data):
    """ReLU's mask on arrays and on Tensors: the same bits, NaN, infinities and signed zeros included; a 0-d
    operand gives a 0-d array, not a NumPy scalar, through the engine."""
    gy = data.draw(hnp.arrays(np.float32, values.shape, elements=FLOATS))
    function = ReLU()
    function(mg.Tensor(values, requires_grad=True))
    with np.errstate(invalid="ignore"):  # inf * 0 at a masked entry: NaN in both
        assert_same_bits(array_backward(function, gy), tensor_backward(function, gy))


def test_a_zero_dimensional_relu_gradient_is_an_array():
    x = mg.tensor(np.float32(2.0), requires_grad=True)
    (mg.relu(x) * 3.0).backward()
    assert isinstance(x.grad.data, np.ndarray) and x.grad.item() == 3.0


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n=st.integers(1, 6), classes=st.integers(1, 5), dtype=st.sampled_from([np.float32, np.float64]))
def test_cross_entropy_backward_arrays_uses_the_forward_probabilities(data, n, classes, dtype):
    """:math:`\\bar L / N (p - \\operatorname{onehot}(t))` with the forward's :math:`p`, as the Tensor expression
    computes it, to the bit."""
    logits = data.draw(hnp.arrays(dtype, (n, classes), elements=st.floats(-30, 30, width=32)))
    targets = np.asarray(data.draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)))
    gl = np.asarray(data.draw(st.floats(-3, 3, width=32)), dtype=dtype)
    function = CrossEntropy(targets)
    function(mg.Tensor(logits, requires_grad=True))
    onehot = np.zeros((n, classes), dtype)
    onehot[np.arange(n), targets] = 1
    with mg.no_grad():
        expected = ((mg.Tensor(function.probabilities) - onehot) * (mg.Tensor(gl) / n)).data
    assert_same_bits(array_backward(function, gl), [expected])


def test_the_default_wraps_backward_and_refuses_other_results():
    class Twice(mg.Function):
        def forward(self, x):
            return 2 * x

        def backward(self, gy):
            return 2 * gy.data  # an array: accepted

    class Broken(mg.Function):
        def forward(self, x):
            return 2 * x

        def backward(self, gy):
            return 2.0  # a number: refused

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    Twice()(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    message = r"Broken\.backward: gradient 0 is a float; expected a Tensor, an array or None"
    with pytest.raises(TypeError, match=message):
        Broken()(x).sum().backward()


def test_the_two_modes_of_the_engine_agree_on_a_network():
    """An MLP's gradients with the backward pass recorded (Tensors) and not (arrays): equal to float64
    rounding (the recorded cross-entropy takes the softmax again, the arrays the forward's probabilities)."""
    model = mg.nn.MLP((5, 7, 3), rng=0)
    x = mg.tensor(np.random.default_rng(1).standard_normal((4, 5)))
    targets = np.array([0, 2, 1, 2])
    mg.cross_entropy(model(x), targets).backward()
    arrays = [p.grad.data.copy() for p in model.parameters()]
    model.zero_grad()
    mg.cross_entropy(model(x), targets).backward(create_graph=True)
    for grad, param in zip(arrays, model.parameters()):
        np.testing.assert_allclose(grad, param.grad.data, rtol=1e-12, atol=1e-15)

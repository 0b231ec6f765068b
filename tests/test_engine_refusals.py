"""What the engine makes of odd input: ``bool`` of a tensor, a ``grad`` for backward that is not numbers, and a
``load_state_dict`` whose names do not match the model.
"""

from __future__ import annotations

import reprlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import nn


# ----------------------------------------------------------------- bool of a tensor
@pytest.mark.parametrize(
    ("values", "expected"),
    [(0.0, False), (-0.0, False), (2.5, True), (np.nan, True), ([0.0], False), ([[3]], True), (0, False),
     ([False], False), (True, True), (1e-300, True)],
    ids=repr,
)
def test_bool_of_a_one_element_tensor_is_the_truth_of_its_value(device, values, expected):
    """``bool(mg.tensor(0.0))`` is False and ``bool(mg.tensor([[3]]))`` True, as in PyTorch, whatever the shape
    and dtype of the one element (NaN is true, as a Python float)."""
    assert bool(mg.tensor(values, device=device)) is expected


@given(hnp.arrays(hnp.scalar_dtypes().filter(lambda d: d.kind in "biufc"), hnp.array_shapes(max_dims=3, max_side=1)))
def test_bool_of_a_one_element_tensor_equals_bool_of_the_item(array):
    """For any one-element array of any numeric dtype and shape, ``bool(tensor) == bool(array.item())``."""
    assert bool(mg.tensor(array)) is bool(array.item())


@pytest.mark.parametrize(("shape", "count"), [((2,), "more than one value"), ((2, 3), "more than one value"),
                                              ((0,), "no values"), ((3, 0), "no values")], ids=str)
def test_bool_of_any_other_size_is_ambiguous(device, shape, count):
    """``bool(mg.tensor([0.0, 0.0]))`` and ``bool`` of an empty tensor raise a ValueError that says why and names
    the shape (PyTorch refuses both too), instead of being read as a length."""
    x = mg.tensor(np.zeros(shape), device=device)
    with pytest.raises(ValueError, match=rf"Boolean value of a tensor with {count} is ambiguous, got shape"):
        bool(x)
    with pytest.raises(ValueError, match="ambiguous"):
        _ = x if x else None


def test_bool_of_a_recorded_result_does_not_record(device):
    """``if loss:`` on a one-element result reads its value and leaves the graph usable."""
    x = mg.tensor([2.0], requires_grad=True, device=device)
    y = (x * x).sum()
    assert y and not (y - 4.0)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0])


# ----------------------------------------------------------------- the grad of backward
NOT_NUMBERS = ["a", [1.0, "x"], [None, None], np.array(["a", "b"]), {"a": 1}, object()]


@pytest.mark.parametrize("grad", NOT_NUMBERS, ids=lambda g: type(g).__name__)
def test_a_grad_that_is_not_numbers_is_refused_naming_grad(device, grad):
    """``y.backward("a")`` raises ``TypeError: grad: ... got 'a'`` (not NumPy's *could not convert string to
    float*), and nothing is accumulated or freed."""
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * 3.0
    with pytest.raises(TypeError, match=r"grad: expected a Tensor, an array or numbers, got ") as caught:
        y.backward(grad)
    assert str(caught.value).endswith(reprlib.repr(grad))
    assert x.grad is None
    y.backward(np.ones(2))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


@pytest.mark.parametrize("grad", [np.array([1.0 + 2.0j, 0.0]), [1j, 1j], mg.tensor(np.array([1j, 2.0]))],
                         ids=["array", "list", "tensor"])
def test_a_complex_grad_for_a_real_result_is_refused(grad):
    """A complex ``grad`` for a float result would lose its imaginary part in the cast: refused, naming grad."""
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="grad: complex dtype complex128 for a real result of dtype float64"):
        (x * 3.0).backward(grad)
    assert x.grad is None


@pytest.mark.parametrize("grad", [[1, 2], np.array([1, 2], dtype=np.int32), [True, False], (0.5, 0.25)],
                         ids=["ints", "int32 array", "bools", "tuple"])
def test_a_grad_of_numbers_of_another_type_is_cast_to_the_result_dtype(grad):
    """Numbers that are not floats still seed backward, cast to the result's dtype, as before."""
    x = mg.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    (x * 3.0).backward(grad)
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), 3.0 * np.asarray(grad, dtype=np.float32))


# ----------------------------------------------------------------- load_state_dict with other names
def test_missing_and_unexpected_names_are_listed_in_a_clean_message():
    """A strict ``load_state_dict`` with names missing and names unknown raises a :class:`StateDictKeyError`:
    a KeyError whose message prints without quotes and lists every missing and every unexpected name, also
    when the unexpected names are not all strings; no parameter changes."""
    model = nn.MLP([3, 4, 2], rng=0)
    before = model.state_dict()
    state = {name: np.full_like(value, 7.0) for name, value in before.items()}
    del state["0.bias"], state["2.weight"]
    state.update({"9.weight": np.zeros(1), 5: np.zeros(1), ("a", 1): np.zeros(1)})
    with pytest.raises(KeyError) as caught:
        model.load_state_dict(state)
    error = caught.value
    assert isinstance(error, nn.StateDictKeyError)
    assert str(error) == (
        "state: missing keys ['0.bias', '2.weight'], unexpected keys ['9.weight', ('a', 1), 5]; nothing was loaded "
        "(strict=False loads the names that match)"
    )
    assert error.missing_keys == ["0.bias", "2.weight"]
    assert error.unexpected_keys == ["9.weight", ("a", 1), 5]
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    model.load_state_dict(state, strict=False)  # the names that match are loaded
    np.testing.assert_array_equal(model[0].weight.numpy(), np.full((4, 3), 7.0, np.float32))


# ----------------------------------------------------------------- the axis of softmax, log_softmax, concatenate, stack
AXIS_CALLS = {
    "softmax": lambda x, axis: mg.softmax(x, axis=axis),
    "log_softmax": lambda x, axis: mg.log_softmax(x, axis=axis),
    "concatenate": lambda x, axis: mg.concatenate([x, x], axis=axis),
    "stack": lambda x, axis: mg.stack([x, x], axis=axis),
}


@pytest.mark.parametrize("axis", ["a", 1.0, True, None, (0,)], ids=repr)
@pytest.mark.parametrize("name", list(AXIS_CALLS))
def test_an_axis_that_is_not_an_integer_is_refused_naming_axis(name, axis):
    """``softmax(x, axis="a")`` raises ``ValueError: axis: expected an integer, got 'a'`` (as the reductions
    do), not NumPy's *'str' object cannot be interpreted as an integer*."""
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError) as caught:
        AXIS_CALLS[name](x, axis)
    assert str(caught.value) == f"axis: expected an integer, got {axis!r}"


@pytest.mark.parametrize(("name", "axis", "message"), [
    ("softmax", 2, "axis: 2 is out of range for a tensor with 2 dimension(s)"),
    ("log_softmax", -3, "axis: -3 is out of range for a tensor with 2 dimension(s)"),
    ("concatenate", 2, "axis: 2 is out of range for a tensor with 2 dimension(s)"),
    ("stack", 3, "axis: 3 is out of range for the stacked result with 3 dimension(s)"),
    ("stack", -4, "axis: -4 is out of range for the stacked result with 3 dimension(s)"),
])
def test_an_axis_out_of_range_is_refused_naming_axis(name, axis, message):
    """An axis outside ``[-ndim, ndim)`` is a ValueError naming it and the number of axes (for ``stack``, those
    of the result, which has one more)."""
    with pytest.raises(ValueError) as caught:
        AXIS_CALLS[name](mg.tensor(np.ones((2, 3))), axis)
    assert str(caught.value) == message


@pytest.mark.parametrize("name", list(AXIS_CALLS))
def test_every_valid_axis_still_works(name):
    """Each axis in range, negative or a NumPy integer, gives what NumPy gives (``stack`` also at the end)."""
    values = np.arange(6.0).reshape(2, 3)
    count = 3 if name == "stack" else 2
    for axis in [*range(-count, count), np.int64(1)]:
        result = AXIS_CALLS[name](mg.tensor(values), axis).numpy()
        if name == "concatenate":
            np.testing.assert_array_equal(result, np.concatenate([values, values], axis=axis))
        elif name == "stack":
            np.testing.assert_array_equal(result, np.stack([values, values], axis=axis))
        else:
            assert result.shape == values.shape

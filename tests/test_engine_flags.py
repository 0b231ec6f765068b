"""Boolean flags of the engine: each one is a Python or NumPy bool, anything else a TypeError naming it.

One helper (``minigrad.checks.check_flag``) reads every flag, so all of them refuse the same values with the
same message, ``<name>: expected True or False, got <value>``, before anything changes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.checks import check_flag
from minigrad.datasets import batches, load_digits


@pytest.fixture(autouse=True)
def recording_back_on():
    """``set_grad_enabled`` with a NumPy bool below switches recording: switch it back on after each test."""
    yield
    mg.set_grad_enabled(True)


def leaf():
    return mg.tensor(np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]), requires_grad=True)


def backward_with(**flags):
    x = leaf()
    (x * x).sum().backward(**flags)
    return x


# name -> call taking the flag's value; each call is complete and valid when the value is a bool.
FLAGS = {
    "keepdims (Tensor.sum)": lambda v: leaf().sum(axis=0, keepdims=v),
    "keepdims (Tensor.mean)": lambda v: leaf().mean(keepdims=v),
    "keepdims (Tensor.max)": lambda v: leaf().max(axis=1, keepdims=v),
    "keepdims (mg.sum)": lambda v: mg.sum(leaf(), keepdims=v),
    "keepdims (mg.mean)": lambda v: mg.mean(leaf(), axis=1, keepdims=v),
    "keepdims (mg.max)": lambda v: mg.max(leaf(), keepdims=v),
    "keepdims (Tensor.min)": lambda v: leaf().min(axis=(0, 1), keepdims=v),
    "keepdims (mg.min)": lambda v: mg.min(leaf(), axis=0, keepdims=v),
    "retain_graph": lambda v: backward_with(retain_graph=v),
    "create_graph": lambda v: backward_with(create_graph=v),
    "retain_graph (autograd.run_backward)": lambda v: mg.autograd.run_backward((leaf() * 2).sum(), None, v, False),
    "create_graph (autograd.run_backward)": lambda v: mg.autograd.run_backward((leaf() * 2).sum(), None, False, v),
    "requires_grad (mg.tensor)": lambda v: mg.tensor([1.0], requires_grad=v),
    "requires_grad (Tensor)": lambda v: mg.Tensor(np.ones(2), requires_grad=v),
    "requires_grad (requires_grad_)": lambda v: mg.tensor([1.0]).requires_grad_(v),
    "requires_grad (Parameter)": lambda v: nn.Parameter(np.ones(2), requires_grad=v),
    "requires_grad (from_dlpack)": lambda v: mg.from_dlpack(np.ones(2), requires_grad=v),
    "sparse (mg.embedding)": lambda v: mg.embedding(leaf(), [0, 1], sparse=v),
    "sparse (nn.Embedding)": lambda v: nn.Embedding(3, 2, rng=0, sparse=v),
    "bias (nn.Linear)": lambda v: nn.Linear(2, 3, rng=0, bias=v),
    "mode (Module.train)": lambda v: nn.MLP([2, 3], rng=0).train(v),
    "strict (Module.load_state_dict)": lambda v: nn.Linear(2, 3, rng=0).load_state_dict(
        nn.Linear(2, 3, rng=1).state_dict(), strict=v),
    "raise_exception (gradcheck)": lambda v: mg.gradcheck(mg.tanh, leaf(), raise_exception=v),
    "shuffle (batches)": lambda v: batches(np.ones((4, 2)), np.ones(4), 2, shuffle=v),
    "drop_last (batches)": lambda v: batches(np.ones((4, 2)), np.ones(4), 3, drop_last=v),
    "normalize (load_digits)": lambda v: load_digits(normalize=v),
    "mode (set_grad_enabled)": lambda v: mg.set_grad_enabled(v),
}

NOT_BOOLS = ["yes", 1, 0, 1.0, np.array(True), np.int64(1), [True]]


@pytest.mark.parametrize("value", NOT_BOOLS, ids=repr)
@pytest.mark.parametrize("flag", list(FLAGS))
def test_a_flag_refuses_anything_but_a_bool(flag, value):
    """Every flag of the engine raises ``TypeError: <name>: expected True or False, got <value>``."""
    name = flag.split(" ")[0]
    with pytest.raises(TypeError) as caught:
        FLAGS[flag](value)
    assert str(caught.value) == f"{name}: expected True or False, got {value!r}"


@pytest.mark.parametrize("flag", [f for f in FLAGS if not f.startswith("retain_graph")])
def test_none_is_not_a_flag(flag):
    """``None`` is refused too (only ``retain_graph`` gives it a meaning, PyTorch's: see below)."""
    with pytest.raises(TypeError, match=f"{flag.split(' ')[0]}: expected True or False, got None"):
        FLAGS[flag](None)


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize("flag", list(FLAGS))
def test_a_numpy_bool_is_the_same_flag_as_the_python_bool(flag, value):
    """``np.True_`` / ``np.False_`` give the same result as ``True`` / ``False``."""
    assert _describe(FLAGS[flag](np.bool_(value))) == _describe(FLAGS[flag](value))


def _describe(result):
    """What a flag's call produced, in a form two results can be compared by."""
    if isinstance(result, mg.Tensor):
        return (result.shape, result.requires_grad, result.numpy().tolist(), _describe(result.grad))
    if isinstance(result, nn.Module):
        return (repr(result), [m.training for _, m in result.named_modules()], sorted(result.state_dict()))
    if isinstance(result, tuple):
        return tuple(_describe(item) for item in result)
    if isinstance(result, (bool, type(None))):
        return result
    if isinstance(result, mg.RowSparseGrad):
        return result.to_dense().tolist()
    return type(result).__name__


def test_retain_graph_none_means_create_graph_as_in_pytorch():
    """``retain_graph=None`` keeps the graph exactly when ``create_graph`` is set (PyTorch's default)."""
    x = leaf()
    y = (x * x).sum()
    y.backward(retain_graph=None, create_graph=True)
    y.backward()  # the graph was kept
    z = (x * x).sum()
    z.backward(retain_graph=None)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        z.backward()


def test_a_refused_backward_flag_changes_nothing():
    """``backward(retain_graph="yes")`` accumulates nothing and frees nothing: a correct call still works."""
    x = leaf()
    y = (x * x).sum()
    with pytest.raises(TypeError, match="retain_graph"):
        y.backward(retain_graph="yes")
    with pytest.raises(TypeError, match="create_graph"):
        y.backward(create_graph=1)
    assert x.grad is None
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.numpy())


def test_refused_flags_leave_a_module_and_a_tensor_as_they_were():
    """``train("no")`` keeps the training mode; ``requires_grad_("yes")`` keeps ``requires_grad``."""
    model = nn.MLP([2, 3, 2], rng=0).eval()
    with pytest.raises(TypeError, match="mode"):
        model.train("no")
    assert not any(m.training for _, m in model.named_modules())
    x = mg.tensor([1.0])
    with pytest.raises(TypeError, match="requires_grad"):
        x.requires_grad_("yes")
    assert x.requires_grad is False


@given(st.one_of(st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=3), st.none(),
                 st.sampled_from([np.True_, np.False_, np.int8(0), np.float32(1.0), np.array(False)])))
def test_check_flag_accepts_exactly_the_bools(value):
    """``check_flag`` returns a Python bool for a Python or NumPy bool, and refuses every other value."""
    if isinstance(value, (bool, np.bool_)):
        result = check_flag("flag", value)
        assert type(result) is bool and result == bool(value)
    else:
        with pytest.raises(TypeError, match="flag: expected True or False, got"):
            check_flag("flag", value)

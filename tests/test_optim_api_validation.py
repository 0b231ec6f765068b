"""The optim API contract, validation: bad hyperparameters and bad params are refused, naming them."""

from __future__ import annotations

import numpy as np
import pytest
from optim_api_helpers import CLASSES, param

import minigrad as mg
import optim

NAN, INF = float("nan"), float("inf")


COMMON_BAD = [
    ("lr", -0.5, "-0.5"),
    ("lr", NAN, "nan"),
    ("lr", INF, "inf"),
    ("lr", -INF, "-inf"),
    ("betas", (1.0, 0.999), "1.0"),
    ("betas", (-0.1, 0.999), "-0.1"),
    ("betas", (0.9, 1.0), "1.0"),
    ("betas", (0.9, 1.5), "1.5"),
    ("betas", (0.9, NAN), "nan"),
    ("eps", -0.5, "-0.5"),
    ("eps", NAN, "nan"),
    ("eps", INF, "inf"),
    ("weight_decay", -0.5, "-0.5"),
    ("weight_decay", NAN, "nan"),
    ("weight_decay", INF, "inf"),
    ("convention", "no_such_convention", "no_such_convention"),
    ("step_counting", "per_step", "per_step"),
]
BAD = [(name, arg, bad, text) for name in CLASSES for (arg, bad, text) in COMMON_BAD] + [
    ("Adam", "epsilon_mode", "eps_hat", "eps_hat"),
    ("Adam", "amsgrad_mode", "max_v", "max_v"),
    ("AMSGrad", "epsilon_mode", "tf", "tf"),
    ("AMSGrad", "amsgrad_mode", "optax", "optax"),
    ("Adamax", "adamax_epsilon", "outside", "outside"),
]


@pytest.mark.parametrize("name,arg,bad,text", BAD)
def test_constructor_rejects_bad_values_naming_argument_and_value(device, name, arg, bad, text):
    """Contract, Validation: ValueError for lr negative/nan/inf, a beta outside [0, 1), eps or
    weight_decay negative or not finite, an unknown convention or choice value; the message names
    the argument and the value; nothing is touched (the parameter and its gradient are unchanged)."""
    p = param([1.0, 2.0], device)
    p.grad = mg.tensor(np.array([0.5, -0.5]), device=device)
    with pytest.raises(ValueError) as info:
        CLASSES[name]([p], **{arg: bad})
    message = str(info.value)
    assert arg.rstrip("s") in message, message  # "beta" also matches "beta1"/"beta_2" spellings
    assert text in message.lower(), message
    np.testing.assert_array_equal(p.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(p.grad.numpy(), [0.5, -0.5])


@pytest.mark.parametrize("name", list(CLASSES))
@pytest.mark.parametrize("arg,bad,text", [("lr", -0.5, "-0.5"), ("betas", (0.9, 1.0), "1.0"), ("eps", -0.5, "-0.5")])
def test_param_group_values_are_validated_too(device, name, arg, bad, text):
    """A hyperparameter given in a param group dict is validated like the constructor argument."""
    p, q = param([1.0], device), param([2.0], device)
    with pytest.raises(ValueError) as info:
        CLASSES[name]([{"params": [p]}, {"params": [q], arg: bad}])
    assert arg.rstrip("s") in str(info.value) and text in str(info.value)


def test_sgd_validation_and_update(device):
    """SGD(params, lr=0.01): p -= lr*g; a negative lr is rejected like the others."""
    p = param([1.0, -2.0], device)
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([p], lr=-1.0)
    opt = optim.SGD([p])
    p.grad = mg.tensor(np.array([3.0, -4.0]), device=device)
    opt.step()
    np.testing.assert_array_equal(p.numpy(), [1.0 - 0.01 * 3.0, -2.0 + 0.01 * 4.0])


@pytest.mark.parametrize("name", list(CLASSES))
def test_params_validation(device, name):
    """Empty params (explicit empty list) and a parameter listed twice (also across groups): ValueError;
    a parameter that is not a minigrad Tensor: TypeError.  The messages name the parameters."""
    cls = CLASSES[name]
    p, q = param([1.0], device), param([2.0], device)
    with pytest.raises(ValueError) as info:
        cls([])
    assert "param" in str(info.value).lower()
    with pytest.raises(ValueError) as info:
        cls([p, q, p])
    assert "param" in str(info.value).lower()
    with pytest.raises(ValueError) as info:
        cls([{"params": [p]}, {"params": [q, p]}])
    assert "param" in str(info.value).lower()
    with pytest.raises(TypeError) as info:
        cls([p, np.zeros(3)])
    assert "param" in str(info.value).lower() and "array" in str(info.value).lower()
    with pytest.raises(TypeError):
        cls([{"params": [q, [1.0, 2.0]]}])


@pytest.mark.parametrize("name", list(CLASSES))
def test_boundary_values_are_accepted(device, name):
    """The valid ranges are closed at 0: lr = 0, betas = (0, 0), eps = 0 and weight_decay = 0 are
    accepted (Theorem 1 of Reddi et al. needs b1 = 0), and lr = 0 leaves the parameter unchanged."""
    p = param([1.0, -1.0], device)
    opt = CLASSES[name]([p], lr=0.0, betas=(0.0, 0.0), eps=0.0, weight_decay=0.0)
    p.grad = mg.tensor(np.array([2.0, -3.0]), device=device)
    opt.step()
    np.testing.assert_array_equal(p.numpy(), [1.0, -1.0])


def test_amsgrad_class_has_no_amsgrad_keyword(device):
    """AMSGrad takes Adam's keywords except amsgrad (it is always on)."""
    with pytest.raises(TypeError):
        optim.AMSGrad([param([1.0], device)], amsgrad=False)

"""The Keras-style calls: apply_gradients with a None gradient, minimize's checks, and constructor keywords that
must be refused by name.

A None gradient: Keras 3.15.1 ``BaseOptimizer.apply`` calls ``_filter_empty_gradients``
(keras/src/optimizers/base_optimizer.py), which drops the pair, warns "Gradients do not exist for variables ...",
updates the rest and raises ``ValueError("No gradients provided for any variable.")`` when nothing is left;
tf_keras 2.21.0's legacy ``OptimizerV2.apply_gradients`` (tf_keras/optimizers/legacy/optimizer_v2.py) calls
``filter_empty_gradients`` (tf_keras/optimizers/utils.py), which does the same with a logged warning.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from optim_api_helpers import CLASSES, param

import minigrad as mg
import optim

OTHER_CONVENTIONS = sorted(set(optim.CONVENTIONS) - {"keras", "tensorflow"})


def _grad(values, device):
    return mg.tensor(np.asarray(values, dtype=np.float64), device=device)


@pytest.mark.parametrize("name", list(CLASSES))
@pytest.mark.parametrize("convention", ["keras", "tensorflow"])
def test_keras_conventions_skip_a_none_gradient_with_a_warning(device, name, convention):
    """apply_gradients([(None, v1), (g, v2)]) under keras / tensorflow: warns naming the skipped pair, leaves v1
    and its state alone and updates v2 exactly as apply_gradients([(g, v2)]) does."""
    v1, v2, twin = param([1.0, 2.0], device), param([3.0], device), param([3.0], device)
    opt = CLASSES[name]([("first", v1), ("second", v2)], lr=0.1, convention=convention)
    reference = CLASSES[name]([v1.detach(), twin], lr=0.1, convention=convention)
    for g in ([0.5], [-1.0], [2.0]):
        with pytest.warns(UserWarning, match=r"grads_and_vars\[0\] \('first'\)"):
            opt.apply_gradients([(None, v1), (_grad(g, device), v2)])
        reference.apply_gradients([(_grad(g, device), twin)])
    np.testing.assert_array_equal(v1.numpy(), [1.0, 2.0])
    assert v1 not in opt.state
    np.testing.assert_array_equal(v2.numpy(), twin.numpy())
    assert opt.iterations == 3


@pytest.mark.parametrize("convention", ["keras", "tensorflow"])
def test_keras_conventions_refuse_a_call_without_any_gradient(device, convention):
    """Keras 3.15.1 / tf_keras 2.21.0: "No gradients provided for any variable": ValueError, nothing changes."""
    x = param([1.0], device)
    opt = optim.Adam([x], lr=0.1, convention=convention)
    with pytest.raises(ValueError, match=r"no gradient provided for any variable.*grads_and_vars\[0\]"):
        opt.apply_gradients([(None, x)])
    assert opt.iterations == 0 and opt.calls == 0 and not opt.state


def test_keras_deferred_binding_adopts_the_skipped_variables_too(device):
    """With params=None the first call binds every variable of the call, as Keras builds on trainable_variables
    before filtering, so the variable without a gradient is updated once it has one."""
    a, b = param([1.0], device), param([2.0], device)
    opt = optim.Adam(None, lr=0.1, convention="keras")
    with pytest.warns(UserWarning, match="shape"):
        opt.apply_gradients([(_grad([1.0], device), a), (None, b)])
    assert list(opt.parameters()) == [a, b]
    opt.apply_gradients([(_grad([1.0], device), a), (_grad([1.0], device), b)])
    assert b.numpy()[0] != 2.0


def test_keras_conventions_refuse_a_foreign_variable_without_a_gradient(device):
    """Keras checks the variables before filtering ("Unknown variable"): a None pair whose parameter is not the
    optimizer's is refused, naming the pair, before anything changes."""
    x, stranger = param([1.0], device), param([5.0], device)
    opt = optim.Adam([x], lr=0.1, convention="keras")
    with pytest.raises(ValueError, match=r"grads_and_vars\[1\].*not optimised"):
        opt.apply_gradients([(_grad([1.0], device), x), (None, stranger)])
    np.testing.assert_array_equal(x.numpy(), [1.0])


@pytest.mark.parametrize("convention", OTHER_CONVENTIONS)
def test_other_conventions_refuse_a_none_gradient_naming_the_pair(device, convention):
    """Under the other conventions a None gradient is an error naming the pair's index and saying which conventions
    skip it; the parameters, the state and the counters are unchanged."""
    a, b = param([1.0], device), param([2.0], device)
    opt = optim.Adam([a, b], lr=0.1, convention=convention)
    with pytest.raises(TypeError, match=r"^grads_and_vars\[1\]: the gradient is None.*convention='keras'"):
        opt.apply_gradients([(_grad([1.0], device), a), (None, b)])
    assert (a.numpy()[0], b.numpy()[0], opt.iterations, opt.state) == (1.0, 2.0, 0, {})


def test_sgd_refuses_a_none_gradient(device):
    """SGD follows the paper convention: a None gradient is refused naming the pair."""
    x = param([1.0], device)
    with pytest.raises(TypeError, match=r"^grads_and_vars\[0\]: the gradient is None"):
        optim.SGD([x]).apply_gradients([(None, x)])


# --------------------------------------------------------------------------- minimize
def _bad_minimize_calls(x, stranger):
    return [
        ("loss_fn-int", lambda opt: opt.minimize(5), TypeError, "loss_fn"),
        ("var_list-tensor", lambda opt: opt.minimize(lambda: (x * x).sum(), x), TypeError, "var_list"),
        ("var_list-int", lambda opt: opt.minimize(lambda: (x * x).sum(), [x, 3]), TypeError, "var_list[1]"),
        ("var_list-foreign", lambda opt: opt.minimize(lambda: (x * stranger).sum(), [x, stranger]), ValueError,
         "var_list[1]"),
        ("var_list-empty", lambda opt: opt.minimize(lambda: (x * x).sum(), []), ValueError, "var_list"),
        ("loss-not-tensor", lambda opt: opt.minimize(lambda: 1.0), TypeError, "loss_fn"),
        ("loss-not-scalar", lambda opt: opt.minimize(lambda: x * x), ValueError, "loss_fn"),
        ("loss-no-grad", lambda opt: opt.minimize(lambda: mg.tensor(np.ones(1))), ValueError, "loss_fn"),
    ]


@pytest.mark.parametrize("case", range(8), ids=[c[0] for c in _bad_minimize_calls(None, None)])
def test_minimize_refuses_before_clearing_any_gradient(device, case):
    """minimize checks loss_fn, var_list and the loss before it resets a gradient: a bad call names the argument
    and leaves every .grad (of the optimizer's parameters and of others), the parameters and the state alone."""
    x, stranger = param([1.0, 2.0], device), param([3.0, 4.0], device)
    opt = optim.Adam([x], lr=0.1)
    x.grad, stranger.grad = _grad([0.5, 0.5], device), _grad([9.0, 9.0], device)
    _, call, error, needle = _bad_minimize_calls(x, stranger)[case]
    with pytest.raises(error, match="^" + re.escape(needle)):
        call(opt)
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.5])
    np.testing.assert_array_equal(stranger.grad.numpy(), [9.0, 9.0])
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    assert opt.iterations == 0


def test_minimize_without_parameters_is_refused(device):
    """An optimizer built with params=None has nothing to update until it is bound: minimize without var_list says
    so instead of computing a loss and updating nothing."""
    with pytest.raises(ValueError, match=r"^var_list: no parameter"):
        optim.Adam(None).minimize(lambda: mg.tensor(np.ones(1), requires_grad=True).sum())


# --------------------------------------------------------------------------- keywords refused by name
def test_sgd_refuses_an_unknown_convention_by_name(device):
    """SGD(params, convention=...) takes the conventions' names and refuses another one naming the argument and
    the known values (as Adam does)."""
    with pytest.raises(ValueError, match=r"^convention: unknown value 'torch'; expected one of .*'pytorch'"):
        optim.SGD([param([1.0], device)], convention="torch")


@pytest.mark.parametrize("cls", [optim.Adam, optim.AMSGrad, optim.Adamax, optim.SGD])
def test_base_class_arguments_are_not_keywords(device, cls):
    """The base class's defaults and convention are positional-only, so defaults= reaches the option check and is
    refused as an unknown keyword, by name."""
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['defaults'\]"):
        cls([param([1.0], device)], defaults={"lr": 1.0})


def test_amsgrad_refuses_the_amsgrad_keyword_by_name(device):
    """AMSGrad(amsgrad=False) is a TypeError naming the argument, the value, and Adam as the class that lets one
    choose, not Python's "got multiple values for keyword argument"."""
    with pytest.raises(TypeError, match=r"^amsgrad: AMSGrad always .*amsgrad=False.*optim\.Adam"):
        optim.AMSGrad([param([1.0], device)], amsgrad=False)


@pytest.mark.parametrize("value", [5, "pairs", None])
def test_apply_gradients_needs_an_iterable_of_pairs(device, value):
    """apply_gradients(5) names the argument instead of failing inside Python's iteration."""
    with pytest.raises(TypeError, match=r"^grads_and_vars: expected an iterable"):
        optim.Adam([param([1.0], device)]).apply_gradients(value)

"""The direct fused step checks each group's hyperparameters as the general path does, but skips the check
while a group still holds the very objects that last passed it (:meth:`optim.fused.direct.DirectPlan.check_groups`).
These tests change a hyperparameter in every way a user can (assigned, added, removed, changed in place inside a
list or an array) between direct steps, and check that the next step refuses an invalid value with nothing
changed, and that a valid change gives the bits of the reference path."""

from __future__ import annotations

import numpy as np
import pytest
from fused_helpers import CLASSES, SHAPES, assert_identical, make_params, snapshot

import optim


def started(cls, fused=True, betas_list=False):
    """An optimizer after two steps, its gradients in the views of the flat buffer (the direct step applies);
    ``betas_list``: the first group's betas assigned as a list (the constructor makes them a tuple) before the
    second step."""
    params = make_params(SHAPES, np.float64, "cpu", 0)
    optimizer = cls(params, lr=0.01, fused=fused)
    rng = np.random.default_rng(1)
    for call in range(2):
        optimizer.zero_grad()
        for param in params:
            param.backward(rng.standard_normal(param.shape))
        if betas_list and call == 1:
            optimizer.param_groups[0]["betas"] = list(optimizer.param_groups[0]["betas"])
        optimizer.step()
    optimizer.zero_grad()
    for param in params:
        param.backward(rng.standard_normal(param.shape))
    return params, optimizer


def refused(cls, change, error, message, betas_list=False):
    """``change(group)`` after two direct steps: the next step raises ``error`` and changes nothing."""
    params, optimizer = started(cls, betas_list=betas_list)
    assert optimizer._fused_engine.plan is not None  # the direct step ran
    change(optimizer.param_groups[0])
    before = snapshot(params, optimizer)
    with pytest.raises(error, match=message):
        optimizer.step()
    assert_identical(snapshot(params, optimizer), before)


def set_item(name, value):
    def change(group):
        group[name] = value
    return change


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize(("change", "error", "message"), [
    (set_item("lr", -1.0), ValueError, r"param_groups\[0\]: lr"),
    (set_item("eps", float("nan")), ValueError, r"param_groups\[0\]: eps"),
    (set_item("maximize", "no"), TypeError, r"param_groups\[0\]: maximize"),
    (set_item("betas", (0.9, 1.5)), ValueError, r"param_groups\[0\]: betas\[1\]"),
    (lambda group: group.pop("eps"), ValueError, r"param_groups\[0\]: the hyperparameter\(s\) \['eps'\] are missing"),
], ids=["lr", "eps", "maximize", "betas", "removed"])
def test_an_assigned_or_removed_hyperparameter_is_checked_again(cls, change, error, message):
    refused(cls, change, error, message)


@pytest.mark.parametrize("cls", CLASSES)
def test_betas_in_a_list_changed_in_place_are_checked_again(cls):
    """The list object stays the same; its second item becomes invalid."""
    refused(cls, lambda group: group["betas"].__setitem__(1, 1.5), ValueError, r"param_groups\[0\]: betas\[1\]",
            betas_list=True)


@pytest.mark.parametrize("cls", CLASSES)
def test_a_zero_dimensional_array_changed_in_place_is_checked_again(cls):
    """``lr`` a 0-d array, written in place to a negative value."""
    def change(group):
        group["lr"][...] = -1.0

    params, optimizer = started(cls)
    optimizer.param_groups[0]["lr"] = np.array(0.01)
    optimizer.step()  # a valid array: accepted
    optimizer.zero_grad()
    for param in params:
        param.backward(np.ones(param.shape))
    change(optimizer.param_groups[0])
    before = snapshot(params, optimizer)
    with pytest.raises(ValueError, match=r"param_groups\[0\]: lr"):
        optimizer.step()
    assert_identical(snapshot(params, optimizer), before)


def test_the_check_is_remembered_only_for_values_that_cannot_change_in_place():
    _, optimizer = started(optim.Adam)
    plan = optimizer._fused_engine.plan
    assert plan.checked is not None
    _, with_list = started(optim.Adam, betas_list=True)
    assert with_list._fused_engine.plan.checked is None


@pytest.mark.parametrize("cls", CLASSES)
def test_valid_changes_between_direct_steps_give_the_reference_bits(cls):
    """lr, eps and weight decay assigned (new objects) and betas changed inside a list, between steps."""
    def run(fused):
        params, optimizer = started(cls, fused=fused, betas_list=True)
        rng = np.random.default_rng(5)
        for call in range(4):
            group = optimizer.param_groups[0]
            group["lr"] = 0.01 / (call + 1)
            group["eps"] = 1e-8 * (call + 1)
            group["weight_decay"] = 0.01 * call
            group["betas"][0] = 0.9 - 0.01 * call
            optimizer.step()
            optimizer.zero_grad()
            for param in params:
                param.backward(rng.standard_normal(param.shape))
        return snapshot(params, optimizer)

    assert_identical(run(fused=True), run(fused=False))

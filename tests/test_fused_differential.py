"""Fused vs reference path, bit for bit, when parameters get a gradient on some calls only.

A parameter that gets no gradient (``p.grad is None``) is not updated: its step count stays, its moments do
not decay, it does not move. The property test draws an optimizer (class, convention, step counting, weight
decay, maximize, for SGD momentum, dampening and Nesterov, an option of the pipeline, one or two groups, dtype)
and a sequence of calls, each with the
parameters that get a gradient and the way the call is made:

* ``zero_grad()``, then new gradient Tensors (what ``backward`` leaves after ``zero_grad()``);
* ``zero_grad(set_to_none=False)``, then the gradients written into the ones that exist (on the fused path
  the views of the flat buffer, so that the direct step is taken when every parameter has one) or new
  Tensors for the others;
* ``zero_grad(set_to_none=False)``, then ``backward``, which adds to the gradients that exist;
* ``apply_gradients`` with the parameters that have a gradient, or ``minimize`` over them (``var_list``);

sometimes with a non-finite gradient (under ``nonfinite="skip"`` or ``"raise"``), sometimes after a
``state_dict`` round trip into a new optimizer. Both paths run the same sequence; after every call the
outcome, parameters, gradients, state (step counts included), moving averages, accumulators and counters
must have the same bits.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from fused_helpers import assert_identical, make_params
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import optim

CLASSES = {"Adam": optim.Adam, "AMSGrad": optim.AMSGrad, "Adamax": optim.Adamax, "SGD": optim.SGD}
CONVENTIONS = ["paper", "pytorch", "keras", "tensorflow", "optax", "mindspore"]
SGD_MOMENTUM_CONVENTIONS = ["pytorch", "keras", "tensorflow"]
OPTIONS = {
    "none": {},
    "ema": {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 3},
    "accumulation": {"gradient_accumulation_steps": 2},
    "clipnorm": {"clipnorm": 0.5},
    "global_clipnorm": {"global_clipnorm": 0.7},
    "loss_scale_factor": {"loss_scale_factor": 8.0},
    "legacy_decay": {"decay": 0.05},
    "skip": {"nonfinite": "skip"},
    "raise": {"nonfinite": "raise"},
}
MODES = ["new_tensors", "write_into_kept", "backward_into_kept", "apply_gradients", "minimize"]
SHAPES = [(3, 2), (5,), (1,), (2, 2, 2)]


@dataclasses.dataclass(frozen=True)
class Call:
    """One call: how it is made, which parameters get a gradient, a NaN in the first of them, a round trip first."""

    mode: str
    present: tuple[bool, ...]
    poison: bool
    round_trip: bool


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    kwargs: dict
    dtype: type
    two_groups: bool
    calls: list[Call]


def sgd_keywords(draw):
    """SGD's own keywords: plain under the paper convention, else momentum (PyTorch's or Keras's formula),
    Nesterov, PyTorch's dampening and weight decay."""
    convention = draw(st.sampled_from(["paper", *SGD_MOMENTUM_CONVENTIONS]))
    if convention == "paper":
        return {"convention": convention}
    momentum = draw(st.sampled_from([0.0, 0.9]))
    nesterov = momentum > 0 and draw(st.booleans())
    dampening = draw(st.sampled_from([0.0, 0.3])) if convention == "pytorch" and momentum and not nesterov else 0.0
    return {"convention": convention, "momentum": momentum, "nesterov": nesterov, "dampening": dampening,
            "weight_decay": draw(st.sampled_from([0.0, 0.05]))}


@st.composite
def scenarios(draw):
    option = draw(st.sampled_from(sorted(OPTIONS)))
    name = draw(st.sampled_from(sorted(CLASSES)))
    if name == "SGD":
        own = sgd_keywords(draw)
    else:
        own = {"convention": draw(st.sampled_from(CONVENTIONS)),
               "weight_decay": draw(st.sampled_from([0.0, 0.05])),
               "decoupled_weight_decay": draw(st.sampled_from([None, False, True])),
               "step_counting": draw(st.sampled_from([None, "global", "per_parameter"]))}
    kwargs = {"lr": draw(st.sampled_from([0.01, 0.1])), "maximize": draw(st.booleans()), **own, **OPTIONS[option]}
    # Every parameter with a gradient, and gradients written into the kept ones, half of the time each: the
    # fused path's direct step needs both.
    present = st.one_of(st.just((True,) * len(SHAPES)), st.tuples(*[st.booleans()] * len(SHAPES)))
    mode = st.one_of(st.just("write_into_kept"), st.sampled_from(MODES))
    poison = st.booleans() if option in ("skip", "raise") else st.just(False)
    calls = st.lists(st.builds(Call, mode, present, poison, st.booleans()), min_size=1, max_size=8)
    return Scenario(name, kwargs, draw(st.sampled_from([np.float32, np.float64])), draw(st.booleans()), draw(calls))


# --------------------------------------------------------------------------- running a scenario
def build(scenario, params, fused):
    groups = [{"params": params}]
    if scenario.two_groups:
        plain_sgd = scenario.name == "SGD" and scenario.kwargs["convention"] == "paper"  # it has no weight decay
        second = {"lr": 0.03} if plain_sgd else {"lr": 0.03, "weight_decay": 0.1}
        groups = [{"params": params[:2]}, {"params": params[2:], **second}]
    return CLASSES[scenario.name](groups, fused=fused, **scenario.kwargs)


def loss_of(pairs):
    """``sum(p * g)`` over the pairs: its gradient with respect to ``p`` is ``g``, exactly."""
    loss = None
    for param, grad in pairs:
        term = (param * mg.Tensor(grad)).sum()
        loss = term if loss is None else loss + term
    return loss


def make_call(optimizer, call, pairs):
    """Make ``call`` with ``pairs`` = [(parameter, gradient)] for the parameters that get one."""
    if call.mode == "new_tensors":
        optimizer.zero_grad()
        for param, grad in pairs:
            param.grad = mg.Tensor(grad)
        optimizer.step()
    elif call.mode == "write_into_kept":
        optimizer.zero_grad(set_to_none=False)
        for param, grad in pairs:
            if param.grad is None:
                param.grad = mg.Tensor(grad)
            else:
                param.grad.data[...] = grad
        optimizer.step()
    elif call.mode == "backward_into_kept":
        optimizer.zero_grad(set_to_none=False)
        if pairs:
            loss_of(pairs).backward()
        optimizer.step()
    elif call.mode == "apply_gradients":
        optimizer.apply_gradients([(grad, param) for param, grad in pairs])
    elif pairs:  # minimize over the parameters that get a gradient
        optimizer.minimize(lambda: loss_of(pairs), var_list=[param for param, _ in pairs])


def host(value):
    if value is None:
        return None
    return np.array(value.data if isinstance(value, mg.Tensor) else value, copy=True)


def snapshot(params, optimizer):
    states = [optimizer.state.get(p) for p in params]
    return {
        "params": [host(p.data) for p in params],
        "grads": [host(p.grad) for p in params],
        "state": [None if s is None else {k: v if k == "step" else host(v) for k, v in s.items()} for s in states],
        "averages": [host(optimizer.averages.get(p)) for p in params],
        "accumulators": [host(optimizer.accumulators.get(p)) for p in params],
        "counters": (optimizer.iterations, optimizer.calls, optimizer.skipped_steps),
    }


def run(scenario, fused):
    """The outcome and snapshot after each call of the scenario on one path."""
    params = make_params(SHAPES, scenario.dtype, "cpu", seed=3)
    optimizer = build(scenario, params, fused)
    rng = np.random.default_rng(4)
    trace = []
    for call in scenario.calls:
        grads = [rng.standard_normal(shape).astype(scenario.dtype) for shape in SHAPES]
        pairs = [(param, grad) for param, grad, here in zip(params, grads, call.present) if here]
        if call.poison and pairs:
            pairs[0][1].flat[0] = np.nan
        if call.round_trip:
            saved = optimizer.state_dict()
            optimizer = build(scenario, params, fused)
            optimizer.load_state_dict(saved)
        try:
            make_call(optimizer, call, pairs)
            outcome = "done"
        except FloatingPointError:  # nonfinite="raise"
            outcome = "raised"
        trace.append((outcome, snapshot(params, optimizer)))
    return trace


# --------------------------------------------------------------------------- the property
@settings(max_examples=120, deadline=None)
@given(scenarios())
def test_fused_matches_the_reference_for_every_gradient_pattern(scenario):
    """Random configuration x random gradient-presence pattern and way of calling: the same bits after each call."""
    assert_identical(run(scenario, fused=True), run(scenario, fused=False))


# --------------------------------------------------------------------------- the reported case
@pytest.mark.parametrize("fused", [False, True])
def test_a_parameter_left_out_of_the_loss_is_not_updated(fused):
    """The reported example: b takes part in the first loss only. After the second step b has no gradient, one
    step, and the value of the first step (about 0.9), as with torch.optim.Adam."""
    torch = pytest.importorskip("torch")
    a, b = (mg.tensor(np.array([1.0]), requires_grad=True) for _ in range(2))
    ta, tb = (torch.tensor([1.0], dtype=torch.float64, requires_grad=True) for _ in range(2))
    opt, topt = optim.Adam([a, b], lr=0.1, fused=fused), torch.optim.Adam([ta, tb], lr=0.1)
    losses = [(lambda: (a * b).sum(), lambda: (ta * tb).sum()), (lambda: (a * a).sum(), lambda: (ta * ta).sum())]
    for loss, torch_loss in losses:
        opt.zero_grad()
        loss().backward()
        opt.step()
        topt.zero_grad()
        torch_loss().backward()
        topt.step()
    assert b.grad is None and tb.grad is None
    assert opt.state[b]["step"] == int(topt.state[tb]["step"]) == 1
    np.testing.assert_allclose(b.data, tb.detach().numpy(), rtol=1e-15)  # 1 - 0.1 / (1 + 1e-8)
    np.testing.assert_allclose(a.data, ta.detach().numpy(), rtol=1e-15)



@pytest.mark.parametrize("fused", [False, True])
def test_checkpoint_in_the_middle_of_a_gradient_pattern(tmp_path, fused):
    """save_checkpoint, then load_checkpoint into a new model and optimizer, after calls where some parameters
    got no gradient: the resumed run gives the bits of the uninterrupted reference run, step counts included."""
    pattern = [(True, False, True, False), (False, False, True, True), (True, True, False, False),
               (True, False, True, True), (False, True, True, True)]
    kwargs = {"lr": 0.01, "convention": "pytorch", "weight_decay": 0.01}

    def train(model, optimizer, calls, rng):
        for present in calls:
            optimizer.zero_grad()
            for param, here in zip(model.parameters(), present):
                grad = rng.standard_normal(param.shape).astype(param.dtype)
                if here:
                    param.grad = mg.Tensor(grad)
            optimizer.step()

    straight = mg.nn.MLP([3, 4, 2], rng=0)
    straight_optimizer = optim.AMSGrad(straight.parameters(), **kwargs)
    train(straight, straight_optimizer, pattern, np.random.default_rng(5))

    rng = np.random.default_rng(5)
    first = mg.nn.MLP([3, 4, 2], rng=0)
    first_optimizer = optim.AMSGrad(first.parameters(), fused=fused, **kwargs)
    train(first, first_optimizer, pattern[:2], rng)
    optim.save_checkpoint(tmp_path / "run.npz", first, first_optimizer)
    resumed = mg.nn.MLP([3, 4, 2], rng=1)
    resumed_optimizer = optim.AMSGrad(resumed.parameters(), fused=fused, **kwargs)
    optim.load_checkpoint(tmp_path / "run.npz", resumed, resumed_optimizer)
    train(resumed, resumed_optimizer, pattern[2:], rng)

    expected = snapshot(list(straight.parameters()), straight_optimizer)
    actual = snapshot(list(resumed.parameters()), resumed_optimizer)
    assert_identical(actual, expected)
    assert [s["step"] for s in actual["state"]] == [3, 2, 4, 3]

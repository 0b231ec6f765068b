"""optim.lr_scheduler against torch.optim.lr_scheduler (PyTorch 2.13.0), bit for bit, over hypothesis-drawn settings.

Both libraries run the same loop: ``optimizer.step()`` then ``scheduler.step()``, on two parameter groups with
different rates. After construction and after every step the rates (``get_last_lr()`` and each group's ``"lr"``)
must be the same Python floats, and with OneCycleLR's ``cycle_momentum`` the group's beta1 too; the state dicts
must be equal, key for key. The deprecated ``step(epoch)`` (closed forms) is compared the same way, with its
warning.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import optim
from optim import lr_scheduler

torch = pytest.importorskip("torch")
torch_schedulers = torch.optim.lr_scheduler

pytestmark = pytest.mark.torch

RATES = st.floats(1e-4, 1.0)
FACTORS = st.floats(0.05, 1.0)


def _pair(lrs: tuple[float, float], algorithm: str = "Adam") -> tuple[optim.Optimizer, torch.optim.Optimizer]:
    """Our optimizer and torch's, each with two groups of one parameter, at the rates ``lrs``."""
    ours = [mg.tensor(np.zeros(2), requires_grad=True) for _ in lrs]
    theirs = [torch.nn.Parameter(torch.zeros(2, dtype=torch.float64)) for _ in lrs]
    our_cls = {"Adam": optim.Adam, "Adamax": optim.Adamax, "AMSGrad": optim.AMSGrad}[algorithm]
    torch_cls = {"Adam": torch.optim.Adam, "Adamax": torch.optim.Adamax, "AMSGrad": torch.optim.Adam}[algorithm]
    extra = {"amsgrad": True} if algorithm == "AMSGrad" else {}
    our_opt = our_cls([{"params": [p], "lr": lr} for p, lr in zip(ours, lrs)], convention="pytorch")
    torch_opt = torch_cls([{"params": [p], "lr": lr} for p, lr in zip(theirs, lrs)], **extra)
    return our_opt, torch_opt


def _one_step(our_opt: optim.Optimizer, torch_opt: torch.optim.Optimizer) -> None:
    for group in our_opt.param_groups:
        for p in group["params"]:
            p.grad = mg.tensor(np.ones(2))
    our_opt.step()
    for group in torch_opt.param_groups:
        for p in group["params"]:
            p.grad = torch.ones(2, dtype=torch.float64)
    torch_opt.step()


def _assert_same(ours: lr_scheduler.LRScheduler, theirs: object, our_opt: optim.Optimizer,
                 torch_opt: torch.optim.Optimizer) -> None:
    expected = _not_negative if isinstance(ours, lr_scheduler.LinearLR) else float
    mine, wanted = ours.get_last_lr(), [expected(float(x)) for x in theirs.get_last_lr()]
    assert [x.hex() for x in mine] == [x.hex() for x in wanted]
    assert [g["lr"] for g in our_opt.param_groups] == [expected(g["lr"]) for g in torch_opt.param_groups]
    assert [g["betas"][0] for g in our_opt.param_groups] == [g["betas"][0] for g in torch_opt.param_groups]
    torch_state = theirs.state_dict()
    torch_state["_last_lr"] = [expected(float(x)) for x in torch_state["_last_lr"]]
    assert ours.state_dict() == torch_state


def _not_negative(lr: float) -> float:
    """torch's rate, where rounding made it negative (LinearLR's chainable ratio, -2e-17) the 0.0 the library
    gives instead (optim/lr_scheduler.py); the other schedulers' rates are compared as they are."""
    return lr if lr >= 0 else 0.0


def _run(make, steps: int, lrs: tuple[float, float], algorithm: str = "Adam") -> None:
    """Build both schedulers with ``make(module, optimizer)`` and compare them at construction and each step."""
    our_opt, torch_opt = _pair(lrs, algorithm)
    ours, theirs = make(lr_scheduler, our_opt), make(torch_schedulers, torch_opt)
    _assert_same(ours, theirs, our_opt, torch_opt)
    for _ in range(steps):
        _one_step(our_opt, torch_opt)
        ours.step()
        theirs.step()
        _assert_same(ours, theirs, our_opt, torch_opt)


@settings(max_examples=40, deadline=None)
@given(lr0=RATES, lr1=RATES, step_size=st.integers(1, 7), gamma=st.floats(0.0, 2.0), steps=st.integers(0, 30))
def test_step_lr_matches_torch(lr0, lr1, step_size, gamma, steps):
    """StepLR: lr * gamma at every nonzero multiple of step_size, as torch's chainable get_lr."""
    _run(lambda m, o: m.StepLR(o, step_size=step_size, gamma=gamma), steps, (lr0, lr1))


@settings(max_examples=40, deadline=None)
@given(lr0=RATES, lr1=RATES, gamma=st.floats(0.0, 1.5), steps=st.integers(0, 30))
def test_exponential_lr_matches_torch(lr0, lr1, gamma, steps):
    """ExponentialLR: lr * gamma at every step."""
    _run(lambda m, o: m.ExponentialLR(o, gamma=gamma), steps, (lr0, lr1))


@settings(max_examples=60, deadline=None)
@given(lr0=RATES, lr1=RATES, t_max=st.integers(1, 12), eta_min=st.floats(0.0, 1e-3), steps=st.integers(0, 40))
def test_cosine_annealing_lr_matches_torch(lr0, lr1, t_max, eta_min, steps):
    """CosineAnnealingLR: torch's recursion, including its special case every 2 T_max steps after T_max + 1
    (steps up to 40 pass it for small T_max)."""
    _run(lambda m, o: m.CosineAnnealingLR(o, T_max=t_max, eta_min=eta_min), steps, (lr0, lr1))


@settings(max_examples=40, deadline=None)
@given(lr0=RATES, lr1=RATES, start=FACTORS, end=st.floats(0.0, 1.0), total=st.integers(1, 10),
       steps=st.integers(0, 15))
def test_linear_lr_matches_torch(lr0, lr1, start, end, total, steps):
    """LinearLR: lr * start_factor at epoch 0, then torch's ratio of consecutive factors up to total_iters."""
    _run(lambda m, o: m.LinearLR(o, start_factor=start, end_factor=end, total_iters=total), steps, (lr0, lr1))


ONE_CYCLE = st.fixed_dictionaries({
    "max_lr": st.one_of(RATES, st.tuples(RATES, RATES).map(list)),
    "total_steps": st.integers(5, 40),
    "pct_start": st.sampled_from([0.0, 0.25, 0.3, 0.45, 0.5, 0.8]),
    "anneal_strategy": st.sampled_from(["cos", "linear"]),
    "cycle_momentum": st.booleans(),
    "base_momentum": st.floats(0.5, 0.85),
    "max_momentum": st.floats(0.86, 0.99),
    "div_factor": st.floats(2.0, 50.0),
    "final_div_factor": st.floats(10.0, 1e4),
    "three_phase": st.booleans(),
})


def _zero_length_phase(total_steps: int, pct_start: float, three_phase: bool) -> bool:
    ends = [float(pct_start * total_steps) - 1]
    if three_phase:
        ends.append(float(2 * pct_start * total_steps) - 2)
    ends.append(total_steps - 1)
    return any(b == a for a, b in zip([0.0, *ends], ends))


@settings(max_examples=80, deadline=None)
@given(kwargs=ONE_CYCLE, algorithm=st.sampled_from(["Adam", "Adamax", "AMSGrad"]))
def test_one_cycle_lr_matches_torch(kwargs, algorithm):
    """OneCycleLR over the whole cycle (total_steps steps; torch refuses more): both anneal strategies, two and
    three phases, per-group max_lr, and cycle_momentum moving beta1 of Adam, Adamax and AMSGrad. Settings with a
    phase of zero length, where torch divides by zero, are left out (test_one_cycle_lr_zero_length_phase)."""
    if _zero_length_phase(kwargs["total_steps"], kwargs["pct_start"], kwargs["three_phase"]):
        return
    _run(lambda m, o: m.OneCycleLR(o, **kwargs), kwargs["total_steps"], (0.01, 0.02), algorithm)


def test_one_cycle_lr_zero_length_phase_is_refused_where_torch_divides_by_zero():
    """pct_start * total_steps = 1 gives a first phase of zero length: torch raises ZeroDivisionError at
    construction, after it has written the bounds into the groups; ours refuses with pct_start named and leaves
    the groups as they were."""
    our_opt, torch_opt = _pair((0.1, 0.1))
    with pytest.raises(ZeroDivisionError):
        torch_schedulers.OneCycleLR(torch_opt, 1.0, total_steps=10, pct_start=0.1)
    before = [dict(g) for g in our_opt.param_groups]
    with pytest.raises(ValueError, match=r"pct_start: 0.1 with total_steps=10: step 0 falls in phase 0 of the cycle, "
                                         r"which has no length"):
        lr_scheduler.OneCycleLR(our_opt, 1.0, total_steps=10, pct_start=0.1)
    assert [dict(g) for g in our_opt.param_groups] == before


def test_one_cycle_lr_refuses_a_step_past_the_cycle_before_anything_changes():
    """torch raises at step total_steps + 1 after it has counted the step; ours raises before, so the
    scheduler and the groups stay at the last valid step."""
    our_opt, torch_opt = _pair((0.1, 0.1))
    ours = lr_scheduler.OneCycleLR(our_opt, 1.0, total_steps=4)
    theirs = torch_schedulers.OneCycleLR(torch_opt, 1.0, total_steps=4)
    for _ in range(4):
        _one_step(our_opt, torch_opt)
        ours.step()
        theirs.step()
    with pytest.raises(ValueError, match="Tried to step 5 times"):
        theirs.step()
    before = ours.state_dict()
    with pytest.raises(ValueError, match=r"step: tried to step 5 times; the cycle has total_steps=4"):
        ours.step()
    assert ours.state_dict() == before and ours.last_epoch == 4


CLOSED_FORMS = [
    ("StepLR", {"step_size": 3, "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 1e-4}),
    ("LinearLR", {"start_factor": 0.2, "end_factor": 0.9, "total_iters": 6}),
]


@pytest.mark.parametrize("name, kwargs", CLOSED_FORMS, ids=[name for name, _ in CLOSED_FORMS])
def test_step_with_an_epoch_uses_the_closed_form_as_torch(name, kwargs):
    """step(epoch) (deprecated in torch) jumps to the epoch with the closed form, and both warn."""
    our_opt, torch_opt = _pair((0.1, 0.03))
    ours, theirs = getattr(lr_scheduler, name)(our_opt, **kwargs), getattr(torch_schedulers, name)(torch_opt, **kwargs)
    for epoch in [3, 4, 9, 1, 14]:
        _one_step(our_opt, torch_opt)
        with pytest.warns(UserWarning, match="epoch parameter"):
            ours.step(epoch)
        with pytest.warns(UserWarning, match="epoch parameter"):
            theirs.step(epoch)
        _assert_same(ours, theirs, our_opt, torch_opt)


def test_scheduler_step_before_optimizer_step_warns_like_torch():
    """The first scheduler.step() before any optimizer.step() warns in both libraries; after an optimizer
    step it does not."""
    for module, opt in zip((lr_scheduler, torch_schedulers), _pair((0.1, 0.1))):
        scheduler = module.StepLR(opt, step_size=2)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            scheduler.step()
    our_opt, torch_opt = _pair((0.1, 0.1))
    ours = lr_scheduler.StepLR(our_opt, step_size=2)
    _one_step(our_opt, torch_opt)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours.step()


def test_get_lr_called_directly_warns_like_torch():
    """get_lr() outside step() warns that get_last_lr() is what gives the current rates (both libraries)."""
    for module, opt in zip((lr_scheduler, torch_schedulers), _pair((0.1, 0.1))):
        scheduler = module.ExponentialLR(opt, gamma=0.5)
        with pytest.warns(UserWarning, match="get_last_lr"):
            scheduler.get_lr()


def test_torch_state_dict_loads_into_ours_and_continues_identically():
    """A torch scheduler's state dict, taken mid-run, loads into ours; both then give the same rates."""
    our_opt, torch_opt = _pair((0.1, 0.05))
    theirs = torch_schedulers.CosineAnnealingLR(torch_opt, T_max=5, eta_min=0.001)
    for _ in range(3):
        _one_step(our_opt, torch_opt)
        theirs.step()
    for group, torch_group in zip(our_opt.param_groups, torch_opt.param_groups):
        group["lr"], group["initial_lr"] = torch_group["lr"], torch_group["initial_lr"]
    ours = lr_scheduler.CosineAnnealingLR(our_opt, T_max=1, last_epoch=2)
    ours.load_state_dict(theirs.state_dict())
    for _ in range(9):
        _one_step(our_opt, torch_opt)
        ours.step()
        theirs.step()
        _assert_same(ours, theirs, our_opt, torch_opt)
    assert math.isfinite(ours.get_last_lr()[0])


def test_linear_lr_to_zero_writes_zero_where_torch_rounds_below_it():
    """LinearLR(start 0.399..., end 0, 4 iterations) from lr 1: torch's chainable ratio ends at -2.2e-17; the
    library writes 0.0, and the optimizer keeps stepping (found by hypothesis)."""
    our_opt, torch_opt = _pair((1.0, 1.0), "Adam")
    ours = lr_scheduler.LinearLR(our_opt, start_factor=0.3991164237329253, end_factor=0.0, total_iters=4)
    theirs = torch_schedulers.LinearLR(torch_opt, start_factor=0.3991164237329253, end_factor=0.0, total_iters=4)
    for _ in range(5):
        _one_step(our_opt, torch_opt)
        ours.step()
        theirs.step()
    assert theirs.get_last_lr()[0] < 0
    assert ours.get_last_lr() == [0.0, 0.0]
    _one_step(our_opt, torch_opt)

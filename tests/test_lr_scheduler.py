"""optim.lr_scheduler on this library's optimizers: every optimizer class, the fused path, saving and resuming,
and the refusals (torch's values themselves are in tests/test_lr_scheduler_vs_torch.py)."""

from __future__ import annotations

import numpy as np
import pytest
from fused_helpers import assert_identical, make_params, snapshot

import minigrad as mg
import optim
from minigrad import backend
from optim import lr_scheduler


def _train(optimizer, params, scheduler, steps, seed=1, views=False):
    """``steps`` optimizer steps on seeded gradients, each followed by ``scheduler.step()``; the rates seen."""
    rng = np.random.default_rng(seed)
    rates = []
    for _ in range(steps):
        if views:
            optimizer.zero_grad(set_to_none=False)
        for param in params:
            grad = backend.to_device(rng.standard_normal(param.shape).astype(param.dtype), param.device)
            if views and param.grad is not None:
                param.grad.data[...] = grad
            else:
                param.grad = mg.Tensor(grad)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
            rates.append(scheduler.get_last_lr())
    return rates


SCHEDULERS = [
    ("StepLR", lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    ("ExponentialLR", lambda o: lr_scheduler.ExponentialLR(o, gamma=0.7)),
    ("CosineAnnealingLR", lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=1e-3)),
    ("LinearLR", lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=3)),
    ("OneCycleLR", lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.3, total_steps=8)),
    ("OneCycleLR-linear-three-phase", lambda o: lr_scheduler.OneCycleLR(
        o, max_lr=[0.3, 0.1], total_steps=10, anneal_strategy="linear", three_phase=True)),
]


@pytest.mark.parametrize("make", [m for _, m in SCHEDULERS], ids=[name for name, _ in SCHEDULERS])
@pytest.mark.parametrize("cls", [optim.Adam, optim.AMSGrad, optim.Adamax])
@pytest.mark.parametrize("views", [False, True], ids=["copied-grads", "direct-step"])
def test_fused_path_sees_the_scheduled_rates_and_betas(device, cls, make, views):
    """With fused=True (the general step, and the direct step that reads the gradient views in place) the
    scheduler's rates, and OneCycleLR's beta1, reach the kernels: parameters and state are bit for bit those of
    the reference path under the same scheduler, and differ from a run without it."""
    def run(fused, scheduled):
        params = make_params([(3, 4), (5,)], np.float32, device)
        groups = [{"params": [params[0]], "lr": 0.05}, {"params": [params[1]], "lr": 0.02}]
        optimizer = cls(groups, convention="pytorch", fused=fused)
        scheduler = make(optimizer) if scheduled else None
        _train(optimizer, params, scheduler, steps=6, views=views)
        return snapshot(params, optimizer)

    reference = run(fused=False, scheduled=True)
    assert_identical(run(fused=True, scheduled=True), reference)
    unscheduled = run(fused=False, scheduled=False)
    assert not all(np.array_equal(a, b) for a, b in zip(unscheduled["params"], reference["params"]))


def test_every_optimizer_class_is_scheduled_through_its_groups():
    """SGD, Adam, AMSGrad and Adamax: the scheduler writes group["lr"] and the next step uses it (SGD's step
    is lr * g, so the moves show the rates)."""
    for cls in (optim.SGD, optim.Adam, optim.AMSGrad, optim.Adamax):
        x = mg.tensor(np.zeros(1), requires_grad=True)
        optimizer = cls([x], lr=0.1)
        scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
        _train(optimizer, [x], scheduler, steps=3)
        assert optimizer.param_groups[0]["lr"] == 0.1 * 0.5 * 0.5 * 0.5
    x = mg.tensor(np.zeros(1), requires_grad=True)
    sgd = optim.SGD([x], lr=0.1)
    scheduler = lr_scheduler.StepLR(sgd, step_size=1, gamma=0.5)
    moves = []
    for _ in range(3):
        before = float(x.data[0])
        x.grad = mg.tensor(np.ones(1))
        sgd.step()
        scheduler.step()
        moves.append(before - float(x.data[0]))
    assert moves == pytest.approx([0.1, 0.05, 0.025], rel=1e-12)


def test_constructor_sets_initial_lr_and_base_lrs():
    """initial_lr is written into each group (kept when already there, as torch does) and base_lrs holds it."""
    x, y = (mg.tensor(np.zeros(1), requires_grad=True) for _ in range(2))
    optimizer = optim.Adam([{"params": [x], "lr": 0.1}, {"params": [y], "lr": 0.2}])
    optimizer.param_groups[1]["initial_lr"] = 0.4
    scheduler = lr_scheduler.StepLR(optimizer, step_size=3)
    assert [g["initial_lr"] for g in optimizer.param_groups] == [0.1, 0.4]
    assert scheduler.base_lrs == [0.1, 0.4] and scheduler.last_epoch == 0
    assert scheduler.get_last_lr() == [0.1, 0.2]


def test_resuming_from_state_dicts_continues_bit_for_bit(tmp_path):
    """Interrupted after 4 of 10 steps: a fresh optimizer and scheduler loading the optimizer's checkpoint and the
    scheduler's state dict (torch's order: scheduler built, then the optimizer state loaded) give the rates, betas
    and parameters of the uninterrupted run."""
    def fresh():
        params = make_params([(2, 3)], np.float64, "cpu")
        optimizer = optim.Adam(params, lr=0.01, convention="pytorch")
        return params, optimizer, lr_scheduler.OneCycleLR(optimizer, max_lr=0.2, total_steps=10)

    params, optimizer, scheduler = fresh()
    whole = _train(optimizer, params, scheduler, steps=10)
    params, optimizer, scheduler = fresh()
    first = _train(optimizer, params, scheduler, steps=4)
    optim.save_checkpoint(tmp_path / "run.npz", None, optimizer, extra={"scheduler": scheduler.state_dict()})
    saved_params = [p.data.copy() for p in params]
    params, optimizer, scheduler = fresh()
    for param, value in zip(params, saved_params):
        param.data[...] = value
    extra = optim.load_checkpoint(tmp_path / "run.npz", None, optimizer)
    scheduler.load_state_dict(extra["scheduler"])
    rest = _train(optimizer, params, scheduler, steps=6, seed=2)
    params2, optimizer2, scheduler2 = fresh()
    _train(optimizer2, params2, scheduler2, steps=4)
    expected_rest = _train(optimizer2, params2, scheduler2, steps=6, seed=2)
    assert first + rest == whole[:4] + expected_rest
    assert optimizer.param_groups[0]["betas"] == optimizer2.param_groups[0]["betas"]
    np.testing.assert_array_equal(params[0].data, params2[0].data)


def test_resuming_with_last_epoch_needs_the_saved_groups():
    """last_epoch >= 0 reads initial_lr (and OneCycleLR's bounds) from the groups: without them the
    constructor refuses, naming the group and the missing keys, and changes nothing."""
    x = mg.tensor(np.zeros(1), requires_grad=True)
    optimizer = optim.Adam([x], lr=0.1)
    before = dict(optimizer.param_groups[0])
    with pytest.raises(KeyError, match=r"param_groups\[0\]: no 'initial_lr'.*last_epoch=3"):
        lr_scheduler.StepLR(optimizer, step_size=2, last_epoch=3)
    with pytest.raises(KeyError, match=r"param_groups\[0\]: no \['initial_lr', 'max_lr'"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=5, last_epoch=2)
    assert optimizer.param_groups[0] == before


def test_a_scheduled_group_with_a_schedule_as_lr_is_refused():
    """A Keras-style schedule as lr and a PyTorch-style scheduler cannot be combined: refused by name."""
    x = mg.tensor(np.zeros(1), requires_grad=True)
    optimizer = optim.Adam([x], lr=optim.schedules.ExponentialDecay(0.1, 2, 0.5))
    with pytest.raises(TypeError, match=r"param_groups\[0\]\['lr'\]: a scheduler needs a number"):
        lr_scheduler.StepLR(optimizer, step_size=2)
    assert "initial_lr" not in optimizer.param_groups[0]


def test_cycle_momentum_needs_momentum_or_betas():
    """SGD has neither "momentum" nor "betas": cycle_momentum=True is refused, False works."""
    x = mg.tensor(np.zeros(1), requires_grad=True)
    sgd = optim.SGD([x], lr=0.1)
    if "momentum" in sgd.defaults:
        pytest.skip("this SGD has momentum, which OneCycleLR cycles")
    with pytest.raises(ValueError, match=r"cycle_momentum: SGD has neither 'momentum' nor 'betas'"):
        lr_scheduler.OneCycleLR(sgd, max_lr=1.0, total_steps=5)
    assert "initial_lr" not in sgd.param_groups[0]
    lr_scheduler.OneCycleLR(sgd, max_lr=1.0, total_steps=5, cycle_momentum=False)
    assert sgd.param_groups[0]["max_lr"] == 1.0


def test_state_dict_round_trip_and_refusal_leave_nothing_half_loaded():
    """load_state_dict restores every entry; a dict with one bad entry is refused and nothing changes."""
    x = mg.tensor(np.zeros(1), requires_grad=True)
    optimizer = optim.Adam([x], lr=0.1)
    scheduler = lr_scheduler.LinearLR(optimizer, start_factor=0.5, total_iters=4)
    saved = scheduler.state_dict()
    other = lr_scheduler.LinearLR(optim.Adam([mg.tensor(np.zeros(1), requires_grad=True)], lr=0.3), total_iters=2)
    other.load_state_dict(saved)
    assert other.state_dict() == saved
    before = scheduler.state_dict()
    bad = {**saved, "last_epoch": 7, "start_factor": 1.5}
    with pytest.raises(ValueError, match=r"state_dict: start_factor: expected a value in \(0.0, 1.0\], got 1.5"):
        scheduler.load_state_dict(bad)
    assert scheduler.state_dict() == before


def test_a_zero_rate_from_the_scheduler_is_a_valid_step():
    """ExponentialLR(gamma=0) drives the rate to exactly 0: the optimizer then leaves the parameters alone."""
    x = mg.tensor(np.ones(2), requires_grad=True)
    optimizer = optim.Adam([x], lr=0.1)
    scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=0.0)
    _train(optimizer, [x], scheduler, steps=1)
    after_first = x.data.copy()
    _train(optimizer, [x], scheduler, steps=2)
    np.testing.assert_array_equal(x.data, after_first)


def test_the_documented_examples_run():
    """The ``>>>`` examples of optim.lr_scheduler and of docs/api-optim.md give the outputs they show."""
    import doctest
    import re
    from pathlib import Path

    assert doctest.testmod(lr_scheduler, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
    page = Path(__file__).resolve().parents[1] / "docs" / "api-optim.md"
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    blocks = [block for block in re.findall(r"```python\n(.*?)```", page.read_text(), re.S) if ">>>" in block]
    assert blocks
    for index, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"api-optim.md block {index}", str(page), 0))
    assert runner.summarize(verbose=False).failed == 0

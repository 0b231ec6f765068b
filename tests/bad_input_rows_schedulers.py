"""Bad-input rows for the learning-rate schedulers of optim.lr_scheduler (see tests/test_bad_inputs.py): each is
refused before the optimizer's groups (its state dict is in the snapshot) or the scheduler change."""

from __future__ import annotations

import math

import numpy as np
from bad_input_world import case

import minigrad as mg
import optim
from optim import lr_scheduler, schedules

NAN = math.nan


def with_scheduler(make):
    """A setup: ``w.scheduler = make(w.opt)``, built before the snapshot."""
    def setup(w):
        w.scheduler = make(w.opt)

    return setup


def _one_cycle_at_its_end(optimizer):
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=2)
    optimizer.step()  # the world's gradients: scheduler.step() then comes after an optimizer step, as it should
    scheduler.step()
    scheduler.step()
    return scheduler


def _with_a_group_added_later(optimizer):
    scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    optimizer.add_param_group({"params": [mg.tensor(np.zeros(2), requires_grad=True)]})
    return scheduler


ROWS = [
    case("scheduler-optimizer-type", lambda w: lr_scheduler.StepLR("adam", step_size=2), TypeError,
         "optimizer", "'adam'"),
    case("scheduler-step-size-zero", lambda w: lr_scheduler.StepLR(w.opt, step_size=0), ValueError,
         "step_size", "0"),
    case("scheduler-step-size-float", lambda w: lr_scheduler.StepLR(w.opt, step_size=2.5), TypeError,
         "step_size", "2.5"),
    case("scheduler-gamma-nan", lambda w: lr_scheduler.ExponentialLR(w.opt, gamma=NAN), ValueError, "gamma", "nan"),
    case("scheduler-t-max-zero", lambda w: lr_scheduler.CosineAnnealingLR(w.opt, T_max=0), ValueError, "T_max", "0"),
    case("scheduler-eta-min-negative", lambda w: lr_scheduler.CosineAnnealingLR(w.opt, T_max=5, eta_min=-1.0),
         ValueError, "eta_min", "-1.0"),
    case("scheduler-start-factor-zero", lambda w: lr_scheduler.LinearLR(w.opt, start_factor=0), ValueError,
         "start_factor", "0"),
    case("scheduler-end-factor", lambda w: lr_scheduler.LinearLR(w.opt, end_factor=1.5), ValueError,
         "end_factor", "1.5"),
    case("scheduler-total-iters-zero", lambda w: lr_scheduler.LinearLR(w.opt, total_iters=0), ValueError,
         "total_iters", "0"),
    case("scheduler-last-epoch", lambda w: lr_scheduler.StepLR(w.opt, step_size=2, last_epoch=-2), ValueError,
         "last_epoch", "-2"),
    case("scheduler-resume-without-initial-lr", lambda w: lr_scheduler.StepLR(w.opt, step_size=2, last_epoch=3),
         KeyError, "initial_lr", "last_epoch=3"),
    case("scheduler-over-a-schedule", lambda w: lr_scheduler.StepLR(
        optim.Adam(w.model.parameters(), lr=schedules.ExponentialDecay(0.1, 2, 0.5)), step_size=2), TypeError,
        "param_groups[0]['lr']", "ExponentialDecay"),
    case("scheduler-step-epoch", lambda w: w.scheduler.step(-1), ValueError, "epoch", "-1",
         setup=with_scheduler(lambda o: lr_scheduler.StepLR(o, step_size=2))),
    case("scheduler-group-added", lambda w: w.scheduler.step(), ValueError, "param_groups", "2 group(s)",
         "built for 1", setup=with_scheduler(_with_a_group_added_later)),
    case("scheduler-load-state-gamma", lambda w: w.scheduler.load_state_dict(
        {**w.scheduler.state_dict(), "gamma": -1.0}), ValueError, "gamma", "-1.0",
        setup=with_scheduler(lambda o: lr_scheduler.StepLR(o, step_size=2))),
    case("scheduler-load-state-unknown", lambda w: w.scheduler.load_state_dict(
        {**w.scheduler.state_dict(), "gama": 0.5}), ValueError, "state_dict", "'gama'",
        setup=with_scheduler(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.5))),
    case("one-cycle-total-steps-missing", lambda w: lr_scheduler.OneCycleLR(w.opt, max_lr=1.0), ValueError,
         "total_steps", "None"),
    case("one-cycle-total-steps-zero", lambda w: lr_scheduler.OneCycleLR(w.opt, max_lr=1.0, total_steps=0),
         ValueError, "total_steps", "0"),
    case("one-cycle-pct-start", lambda w: lr_scheduler.OneCycleLR(w.opt, max_lr=1.0, total_steps=9, pct_start=1.5),
         ValueError, "pct_start", "1.5"),
    case("one-cycle-anneal-strategy", lambda w: lr_scheduler.OneCycleLR(
        w.opt, max_lr=1.0, total_steps=9, anneal_strategy="cosine"), ValueError, "anneal_strategy", "'cosine'"),
    case("one-cycle-max-lr-count", lambda w: lr_scheduler.OneCycleLR(w.opt, max_lr=[0.1, 0.2], total_steps=9),
         ValueError, "max_lr", "[0.1, 0.2]"),
    case("one-cycle-max-momentum", lambda w: lr_scheduler.OneCycleLR(w.opt, max_lr=1.0, total_steps=9,
                                                                      max_momentum=1.0),
         ValueError, "max_momentum", "1.0"),
    case("one-cycle-div-factor", lambda w: lr_scheduler.OneCycleLR(w.opt, max_lr=1.0, total_steps=9, div_factor=0),
         ValueError, "div_factor", "0"),
    case("one-cycle-zero-length-phase", lambda w: lr_scheduler.OneCycleLR(w.opt, max_lr=1.0, total_steps=10,
                                                                           pct_start=0.1),
         ValueError, "pct_start", "0.1", "no length"),
    case("one-cycle-without-momentum", lambda w: lr_scheduler.OneCycleLR(
        optim.SGD(w.model.parameters()), max_lr=1.0, total_steps=9), ValueError, "cycle_momentum", "SGD"),
    case("one-cycle-step-past-the-end", lambda w: w.scheduler.step(), ValueError, "step", "3", "total_steps=2",
         setup=with_scheduler(_one_cycle_at_its_end)),
]

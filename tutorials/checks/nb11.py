"""Checks for the exercises of ``11-keras-style-training.ipynb``.

The student's functions are compared with :func:`optim.transforms.clip_by_global_norm`,
:class:`optim.schedules.CosineDecay`, and the moving average that an optimizer built
with ``use_ema=True`` keeps, on seeded random inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
import optim
from checks import compare, report
from optim import schedules, transforms


def check_clip_by_global_norm(clip_by_global_norm: Callable[..., Any]) -> None:
    """Compare the student's global-norm clipping with the library's (Keras's formula)."""
    name = "Clipping by the global norm"
    rng = np.random.default_rng(1110)
    for clipnorm, scale in ((1.0, 10.0), (5.0, 0.1), (0.5, 1.0)):
        grads = [rng.standard_normal(shape) * scale for shape in ((3, 4), (4,), (2, 2, 2))]
        expected = transforms.clip_by_global_norm(grads, clipnorm)
        got = clip_by_global_norm([g.copy() for g in grads], clipnorm)
        if not isinstance(got, list | tuple) or len(got) != len(grads):
            report(name, False, f"return a list of {len(grads)} arrays, one per gradient, got {type(got).__name__}")
            return
        norm = np.sqrt(sum((g**2).sum() for g in grads))
        for index, (mine, reference) in enumerate(zip(got, expected)):
            problem = compare(mine, reference, rtol=1e-12)
            if problem:
                hint = ("one factor c / max(N, c) for every tensor, with N the norm of all of them together "
                        f"(here N = {norm:.4g}, c = {clipnorm}); a gradient already inside the ball is unchanged.")
                report(name, False, f"gradient {index}: {problem}. {hint}")
                return
    report(name, True)


def check_cosine_decay(cosine_decay: Callable[..., Any]) -> None:
    """Compare the student's schedule with :class:`optim.schedules.CosineDecay`, warmup included."""
    name = "Cosine decay with a linear warmup"
    settings = [dict(initial_learning_rate=0.0, decay_steps=100, alpha=0.1, warmup_target=0.01, warmup_steps=20),
                dict(initial_learning_rate=1e-3, decay_steps=50, alpha=0.0, warmup_target=None, warmup_steps=0),
                dict(initial_learning_rate=1e-4, decay_steps=30, alpha=0.5, warmup_target=2e-3, warmup_steps=10)]
    for setting in settings:
        schedule = schedules.CosineDecay(**setting)
        for step in (0, 1, 5, 10, 19, 20, 21, 45, 60, 119, 120, 500):
            got = cosine_decay(step, **setting)
            problem = compare(got, schedule(step), rtol=1e-12, atol=1e-15)
            if problem:
                report(name, False, f"step {step} with {setting}: {problem}. Rise linearly from "
                       "initial_learning_rate to warmup_target over warmup_steps (when warmup_target is not None), "
                       "then decay from the peak over min(k - warmup_steps, decay_steps) steps.")
                return
    report(name, True)


def check_weight_average(weight_average: Callable[..., Any]) -> None:
    """Compare the student's average of recorded weights with what ``Adam(use_ema=True)`` keeps."""
    name = "The moving average of the weights"
    rng = np.random.default_rng(1111)
    for momentum in (0.9, 0.5, 0.99):
        x = mg.tensor(rng.standard_normal(4), requires_grad=True)
        optimizer = optim.Adam([x], lr=0.1, use_ema=True, ema_momentum=momentum)
        weights = []
        for _ in range(12):
            optimizer.apply_gradients([(rng.standard_normal(4), x)])
            weights.append(x.data.copy())
        got = weight_average([w.copy() for w in weights], momentum)
        problem = compare(got, optimizer.averages[x], rtol=1e-12)
        if problem:
            report(name, False, f"momentum {momentum}: {problem}. The first average is the first weights "
                   "themselves (mu = 0 at the first update); then average = mu * average + (1 - mu) * weights.")
            return
    report(name, True)

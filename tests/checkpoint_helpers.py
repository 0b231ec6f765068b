"""Shared by tests/test_checkpoint.py and tests/test_checkpoint_refusals.py: a tiny MLP, an optimizer
with a schedule, EMA, weight decay and gradient accumulation, fixed batches, and a bitwise picture of
a model and an optimizer."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import optim
from minigrad import nn

ALGORITHMS = {"adam": optim.Adam, "amsgrad": optim.AMSGrad, "adamax": optim.Adamax}
CONVENTIONS = sorted(optim.CONVENTIONS)
STEPS = 20


def make_model(device, seed=0, sizes=(3, 5, 2)):
    return nn.MLP(list(sizes), activation="tanh", rng=seed, dtype=np.float64, device=device)


def make_optimizer(model, algorithm="adam", convention="pytorch", accumulation=3, **extra):
    kwargs = {"lr": optim.schedules.ExponentialDecay(0.05, 4, 0.7), "weight_decay": 0.01, "convention": convention,
              "use_ema": True, "ema_momentum": 0.9, "gradient_accumulation_steps": accumulation, **extra}
    return ALGORITHMS[algorithm](model.named_parameters(), **kwargs)


def batches(device, count=STEPS):
    rng = np.random.default_rng(7)
    return [(mg.tensor(rng.standard_normal((4, 3)), device=device), rng.integers(0, 2, 4)) for _ in range(count)]


def train(model, opt, data, start, stop):
    for x, y in data[start:stop]:
        opt.zero_grad()
        mg.cross_entropy(model(x), y).backward()
        opt.step()


def picture(model, opt=None):
    """Every bit of the model and the optimizer (arrays as bytes), for exact comparison."""
    out = {f"model.{name}": (p.dtype.str, p.shape, p.numpy().tobytes()) for name, p in model.named_parameters()}
    if opt is None:
        return out

    def flat(value, key):
        if mg.backend.is_array(value):
            array = mg.backend.to_numpy(value)
            out[key] = (array.dtype.str, array.shape, array.tobytes())
        elif isinstance(value, dict):
            for k, v in value.items():
                flat(v, f"{key}.{k}")
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                flat(v, f"{key}[{i}]")
        else:
            out[key] = value

    flat(opt.state_dict(), "opt")
    return out



def save_trained(device, folder):
    """A model and optimizer after 7 steps (mid accumulation window), saved to ``folder / "run.npz"``."""
    model = make_model(device)
    opt = make_optimizer(model)
    data = batches(device)
    train(model, opt, data, 0, 7)
    path = folder / "run.npz"
    optim.save_checkpoint(path, model, opt, extra={"epoch": 7, "note": "mid-window"})
    return model, opt, data, path

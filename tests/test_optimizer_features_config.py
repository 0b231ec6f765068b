"""Optimizer-wide options, persistence: get_config / from_config keep every option, state_dict resumes.

Semantics follow keras/src/optimizers/base_optimizer.py (Keras 3.15.1 base optimizer: loss
scaling, gradient accumulation, clipping, decoupled weight decay, EMA of the weights),
tf_keras/optimizers/legacy/optimizer_v2.py (tf_keras 2.21.0 legacy ``decay`` and clipping order) and
capreolus/utils/keras_support.py (AdamMultilr ``pattern_lrs``).
Expected values are computed in each test from the formula its docstring names.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from optimizer_features_helpers import CLASSES, dev, grad_rows, host, param

import minigrad as mg
import optim
from optim import schedules


def _options_set(opt_options):
    return {"clipnorm", "clipvalue", "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
            "gradient_accumulation_steps", "decay", "pattern_lrs", "lazy", "power_dtype"} <= set(opt_options)


@pytest.mark.parametrize("cls", CLASSES)
def test_get_config_is_json_and_round_trips(device, cls):
    """get_config (Keras 3.15.1 style, keras/src/optimizers/base_optimizer.py) holds every option, schedules
    serialised, and survives
    json.dumps / json.loads; from_config(config, params) rebuilds an optimizer with an identical
    trajectory (bitwise) and an identical config."""
    names = ["emb.bert.w", "head.w"]
    lr = schedules.CosineDecay(0.05, decay_steps=10, alpha=0.1, warmup_target=0.1, warmup_steps=2)
    kwargs = dict(
        lr=lr, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01, convention="tensorflow", clipnorm=2.0,
        clipvalue=0.5, use_ema=True, ema_momentum=0.7, ema_overwrite_frequency=3, loss_scale_factor=2.0,
        gradient_accumulation_steps=2, decay=0.1, lazy=True, power_dtype="float32",
        pattern_lrs=[{"patterns": ["bert"], "lr": schedules.ExponentialDecay(0.01, 3.0, 0.5, staircase=True)},
                     {"patterns": ["head"], "lr": 0.02}],
    )
    x0 = [np.linspace(-1, 1, 6).reshape(2, 3), np.array([0.5, -0.25])]
    xs = [param(v, device) for v in x0]
    opt = cls(list(zip(names, xs)), **kwargs)
    config = opt.get_config()
    text = json.dumps(config)
    assert _options_set(config)
    for key in ("clipnorm", "clipvalue", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                "gradient_accumulation_steps", "decay", "power_dtype"):
        assert config[key] == kwargs[key], key
    assert config["use_ema"] is True and config["lazy"] is True and config["convention"] == "tensorflow"
    assert config["lr"] == schedules.serialize(lr)
    assert config["pattern_lrs"][0]["patterns"] == ["bert"] and config["pattern_lrs"][1]["lr"] == 0.02
    assert config["pattern_lrs"][0]["lr"] == schedules.serialize(kwargs["pattern_lrs"][0]["lr"])

    ys = [param(v, device) for v in x0]
    clone = cls.from_config(json.loads(text), params=list(zip(names, ys)))
    assert clone.get_config() == config
    grads = [grad_rows(7, 9, v.shape) for v in x0]
    for k in range(9):
        opt.apply_gradients([(dev(g[k], device), x) for g, x in zip(grads, xs)])
        clone.apply_gradients([(dev(g[k], device), y) for g, y in zip(grads, ys)])
        for x, y in zip(xs, ys):
            np.testing.assert_array_equal(host(x.data), host(y.data))


def test_sgd_get_config_keeps_the_options(device):
    """get_config holds every optimizer-wide option for SGD too (the Keras 3.15.1 base config keys,
    keras/src/optimizers/base_optimizer.py,
    plus decay and pattern_lrs), so from_config rebuilds an optimizer with the same trajectory."""
    kwargs = dict(lr=0.1, clipnorm=1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2,
                  loss_scale_factor=2.0, gradient_accumulation_steps=2, decay=0.5,
                  pattern_lrs=[{"patterns": ["^b"], "lr": schedules.ExponentialDecay(0.3, 1.0, 0.5)}])
    xs = [param([1.0, -1.0], device), param([0.5], device)]
    opt = optim.SGD([("a", xs[0]), ("b", xs[1])], **kwargs)
    config = json.loads(json.dumps(opt.get_config()))
    for key in ("clipnorm", "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                "gradient_accumulation_steps", "decay"):
        assert config.get(key) == kwargs[key], key
    assert config["pattern_lrs"][0]["patterns"] == ["^b"]
    ys = [param([1.0, -1.0], device), param([0.5], device)]
    clone = optim.SGD.from_config(config, params=[("a", ys[0]), ("b", ys[1])])
    for g in ([3.0, 4.0], [1.0, 1.0], [-2.0, 0.5], [0.1, 0.2]):
        opt.apply_gradients([(dev(g[:2], device), xs[0]), (dev(g[:1], device), xs[1])])
        clone.apply_gradients([(dev(g[:2], device), ys[0]), (dev(g[:1], device), ys[1])])
    for x, y in zip(xs, ys):
        np.testing.assert_array_equal(host(x.data), host(y.data))


def test_get_config_refuses_a_plain_callable_in_pattern_lrs(device):
    """A plain function cannot be serialised: get_config raises TypeError naming the entry, as it does for a
    plain callable ``lr`` (only optim.schedules objects have a config)."""
    x = param([1.0], device)
    opt = optim.Adam([("w", x)], lr=0.1, pattern_lrs=[{"patterns": ["w"], "lr": lambda k: 0.1}])
    with pytest.raises(TypeError, match="pattern_lrs"):
        opt.get_config()


def test_get_config_global_clipnorm_round_trip(device):
    """global_clipnorm is kept by get_config and restored by from_config (Keras 3.15.1 config keys,
    keras/src/optimizers/base_optimizer.py)."""
    x = param([3.0, 4.0], device)
    opt = optim.Adamax([x], lr=0.1, convention="keras", global_clipnorm=1.0)
    config = json.loads(json.dumps(opt.get_config()))
    assert config["global_clipnorm"] == 1.0
    y = param([3.0, 4.0], device)
    clone = optim.Adamax.from_config(config, params=[y])
    for g in ([30.0, -4.0], [1.0, 0.1]):
        opt.apply_gradients([(dev(g, device), x)])
        clone.apply_gradients([(dev(g, device), y)])
    np.testing.assert_array_equal(host(x.data), host(y.data))


@pytest.mark.parametrize("split", [4, 5, 6])
@pytest.mark.parametrize("cls", CLASSES)
def test_state_dict_resumes_bitwise_with_ema_and_accumulation(device, cls, split):
    """state_dict / load_state_dict restore everything needed to resume: moments, counters, the EMA averages
    and the gradients accumulated so far. Saving after call 4, 5 or 6 of a k = 3 run (mid-way through an
    accumulation, or right after an update) and resuming in a fresh optimizer on fresh parameters gives the
    same weights and averages, bit for bit, as the uninterrupted run."""
    kwargs = dict(lr=schedules.InverseTimeDecay(0.1, 2.0, 0.5), convention="keras", weight_decay=0.01,
                  use_ema=True, ema_momentum=0.6, ema_overwrite_frequency=2, gradient_accumulation_steps=3)
    calls = 11
    grads = grad_rows(11, calls, (3, 2))
    x = param(np.ones((3, 2)), device)
    opt = cls([x], **kwargs)
    saved = None
    for n in range(calls):
        if n == split:
            saved, saved_x = opt.state_dict(), host(x.data)
        opt.apply_gradients([(dev(grads[n], device), x)])
    y = mg.tensor(saved_x, requires_grad=True, device=device)
    resumed = cls([y], **kwargs)
    resumed.load_state_dict(saved)
    assert resumed.iterations == split // 3
    for n in range(split, calls):
        resumed.apply_gradients([(dev(grads[n], device), y)])
    assert resumed.iterations == opt.iterations == calls // 3
    np.testing.assert_array_equal(host(y.data), host(x.data))
    with opt.swap_ema_weights(), resumed.swap_ema_weights():
        np.testing.assert_array_equal(host(y.data), host(x.data))


def test_state_dict_is_a_snapshot(device):
    """A saved state dict is a copy: later steps do not change it (loading it twice gives the same result)."""
    x = param([1.0, -1.0], device)
    opt = optim.Adam([x], lr=0.1, use_ema=True, gradient_accumulation_steps=2)
    opt.apply_gradients([(dev([0.5, 0.5], device), x)])
    saved = opt.state_dict()
    accumulated = {k: host(v) for k, v in saved["accumulators"].items()} if "accumulators" in saved else None
    for _ in range(3):
        opt.apply_gradients([(dev([1.0, -2.0], device), x)])
    if accumulated is not None:
        for k, v in saved["accumulators"].items():
            np.testing.assert_array_equal(host(v), accumulated[k])
    assert saved["iterations"] == 0

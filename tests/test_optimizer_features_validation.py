"""Optimizer-wide options (the Keras / tf.keras optimizer features), validation: which combinations and
values are refused, naming the argument and the value.

Semantics follow keras/src/optimizers/base_optimizer.py (Keras 3.15.1 base optimizer: loss
scaling, gradient accumulation, clipping, decoupled weight decay, EMA of the weights),
tf_keras/optimizers/legacy/optimizer_v2.py (tf_keras 2.21.0 legacy ``decay`` and clipping order) and
capreolus/utils/keras_support.py (AdamMultilr ``pattern_lrs``).
Expected values are computed in each test from the formula its docstring names.
"""

from __future__ import annotations

import pytest
from optimizer_features_helpers import CLASSES, param

import optim


def _raises(device, exc, pattern, cls=optim.Adam, **kwargs):
    x = param([1.0, 2.0], device)
    with pytest.raises(exc, match=pattern):
        cls([x], lr=0.1, **kwargs)


@pytest.mark.parametrize("convention", ["keras", "paper", "pytorch"])
@pytest.mark.parametrize("pair", [("clipnorm", "clipvalue"), ("clipvalue", "global_clipnorm")])
def test_clip_options_are_exclusive_outside_tensorflow(device, convention, pair):
    """Keras 3.15.1 _clip_gradients: at most one of clipnorm / clipvalue / global_clipnorm (ValueError naming
    them and their values)."""
    kwargs = {pair[0]: 1.5, pair[1]: 2.5}
    pattern = rf"(?s)(?=.*{pair[0]})(?=.*{pair[1]})(?=.*1\.5)(?=.*2\.5)"
    for cls in CLASSES:
        _raises(device, ValueError, pattern, cls=cls, convention=convention, **kwargs)


@pytest.mark.parametrize("cls", CLASSES)
def test_tensorflow_allows_clipvalue_with_a_norm_clip(device, cls):
    """tf_keras 2.21.0 optimizer_v2 (tf_keras/optimizers/legacy/optimizer_v2.py): clipvalue may be combined with
    clipnorm or global_clipnorm."""
    x = param([1.0], device)
    cls([x], lr=0.1, convention="tensorflow", clipvalue=1.0, clipnorm=2.0)
    cls([x], lr=0.1, convention="tensorflow", clipvalue=1.0, global_clipnorm=2.0)


@pytest.mark.parametrize("convention", sorted(optim.CONVENTIONS))
def test_clipnorm_with_global_clipnorm_raises_everywhere(device, convention):
    """clipnorm and global_clipnorm are mutually exclusive in Keras 3.15.1 and in tf_keras 2.21.0 legacy too."""
    _raises(device, ValueError, r"(?s)(?=.*clipnorm)(?=.*global_clipnorm)(?=.*0\.75)",
            convention=convention, clipnorm=0.75, global_clipnorm=3.0)


BAD_OPTIONS = [
    ({"clipnorm": -1.0}, ValueError, r"clipnorm.*-1\.0"),
    ({"clipvalue": -0.5}, ValueError, r"clipvalue.*-0\.5"),
    ({"global_clipnorm": -2.0}, ValueError, r"global_clipnorm.*-2\.0"),
    ({"clipnorm": float("nan")}, ValueError, r"clipnorm.*nan"),
    ({"ema_momentum": 1.5}, ValueError, r"ema_momentum.*1\.5"),
    ({"ema_momentum": -0.1}, ValueError, r"ema_momentum.*-0\.1"),
    ({"use_ema": True, "ema_overwrite_frequency": 0}, ValueError, r"ema_overwrite_frequency.*0"),
    ({"use_ema": "yes"}, TypeError, r"use_ema.*yes"),
    ({"gradient_accumulation_steps": 1}, ValueError, r"gradient_accumulation_steps.*1"),
    ({"gradient_accumulation_steps": 2.5}, ValueError, r"gradient_accumulation_steps.*2\.5"),
    ({"gradient_accumulation_steps": 0}, ValueError, r"gradient_accumulation_steps.*0"),
    ({"loss_scale_factor": 0}, ValueError, r"loss_scale_factor.*0"),
    ({"loss_scale_factor": -4.0}, ValueError, r"loss_scale_factor.*-4\.0"),
    ({"decay": -0.5}, ValueError, r"decay.*-0\.5"),
    ({"power_dtype": "float16"}, ValueError, r"power_dtype.*float16"),
    ({"lazy": "yes"}, TypeError, r"lazy.*yes"),
    ({"clip_norm": 1.0}, TypeError, r"clip_norm"),
    ({"pattern_lrs": [{"patterns": ["(bert"], "lr": 0.1}]}, ValueError, r"pattern_lrs.*\(bert"),
    ({"pattern_lrs": [{"pattern": ["bert"], "lr": 0.1}]}, ValueError, r"pattern_lrs\[0\].*pattern"),
    ({"pattern_lrs": [{"patterns": ["a"], "lr": 0.1}, ["b", 0.2]]}, ValueError, r"pattern_lrs\[1\].*'b'"),
    ({"pattern_lrs": [{"patterns": "bert", "lr": 0.1}]}, ValueError, r"pattern_lrs\[0\].*patterns.*bert"),
    ({"pattern_lrs": [{"patterns": ["bert"], "lr": -0.1}]}, ValueError, r"pattern_lrs\[0\].*lr.*-0\.1"),
]


@pytest.mark.parametrize("kwargs, exc, pattern", BAD_OPTIONS, ids=[next(iter(k)) + str(i) for i, (k, _, _) in
                                                                   enumerate(BAD_OPTIONS)])
@pytest.mark.parametrize("cls", [optim.Adam, optim.Adamax, optim.SGD])
def test_bad_options_name_the_argument_and_value(device, cls, kwargs, exc, pattern):
    """Keras 3.15.1 base-optimizer validation (base_optimizer.py: 0 <= ema_momentum <= 1, ema_overwrite_frequency int
    >= 1,
    gradient_accumulation_steps int >= 2, unknown kwargs rejected), tf_keras legacy (clip args >= 0, decay >= 0),
    and the library's pattern_lrs / power_dtype / lazy: the message names the argument and the value. SGD computes
    no power of a beta: it refuses power_dtype by name, whatever its value (TypeError, as a keyword that does not
    apply)."""
    if cls is optim.SGD and "power_dtype" in kwargs:
        exc = TypeError
    _raises(device, exc, pattern, cls=cls, **kwargs)


def test_valid_edge_values_are_accepted(device):
    """The bounds themselves are legal: ema_momentum 0 and 1 (Keras: 0 <= mu <= 1),
    gradient_accumulation_steps 2, ema_overwrite_frequency 1 (a clipping threshold of 0: see
    tests/test_optimizer_features_edges.py)."""
    x = param([1.0], device)
    optim.Adam([x], use_ema=True, ema_momentum=1.0, ema_overwrite_frequency=1)
    optim.Adam([x], use_ema=True, ema_momentum=0.0)
    optim.Adam([x], gradient_accumulation_steps=2, clipnorm=1e-300)

"""Optimizer-wide options shared by every algorithm: the Keras/TensorFlow optimizer features.

They are checked once, in the constructor, and kept in an immutable
:class:`Options` record. The order in which they act on each call follows
Keras: loss-scale division, gradient accumulation, clipping, (decoupled)
weight decay, the update rule, the moving average of the weights.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from optim.validation import check_bool, check_choice, check_lr, check_nonnegative, plain_number

__all__ = ["NONFINITE_CHOICES", "Options", "make_options"]

#: What a step does with a gradient holding NaN or infinity (see :func:`make_options`).
NONFINITE_CHOICES = ("propagate", "raise", "skip")


@dataclasses.dataclass(frozen=True)
class Options:
    """The validated optimizer-wide options (see :func:`make_options` for their meaning)."""

    clipnorm: float | None = None
    clipvalue: float | None = None
    global_clipnorm: float | None = None
    use_ema: bool = False
    ema_momentum: float = 0.99
    ema_overwrite_frequency: int | None = None
    loss_scale_factor: float | None = None
    gradient_accumulation_steps: int | None = None
    decay: float = 0.0
    pattern_lrs: tuple[tuple[tuple[str, ...], Any], ...] = ()
    lazy: bool | None = None
    power_dtype: str | None = None
    nonfinite: str = "propagate"

    def config(self) -> dict[str, Any]:
        """The options that differ from their defaults, JSON-friendly (schedules serialised)."""

        config: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value == field.default:
                continue
            if field.name == "pattern_lrs":
                value = [{"patterns": list(patterns), "lr": _serialisable_lr(lr, index)}
                         for index, (patterns, lr) in enumerate(value)]
            config[field.name] = value
        return config


def _serialisable_lr(lr: Any, index: int) -> Any:
    """A pattern's learning rate for a config: a number, or a serialised schedule; plain callables are refused."""
    from optim import schedules

    if not callable(lr):
        return lr
    if not isinstance(lr, schedules.LearningRateSchedule):
        raise TypeError(
            f"get_config: pattern_lrs[{index}]['lr'] is a plain callable ({lr!r}), which cannot be serialised; "
            "use a schedule from optim.schedules"
        )
    return schedules.serialize(lr)


def _optional_positive(value: Any, name: str) -> float | None:
    if value is None:
        return None
    return check_nonnegative(value, name)


def _optional_int(value: Any, name: str, minimum: int) -> int | None:
    if value is None:
        return None
    number = plain_number(value)
    if not isinstance(number, int) or number < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum} or None, got {value!r}")
    return number


def _pattern_lrs(value: Any) -> tuple[tuple[tuple[str, ...], Any], ...]:
    """capreolus-style ``[{"patterns": [regex, ...], "lr": lr_or_schedule}, ...]``, regexes compiled to check them."""
    if value is None:
        return ()
    from optim import schedules

    checked = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict) or set(entry) != {"patterns", "lr"}:
            raise ValueError(f"pattern_lrs[{index}]: expected {{'patterns': [...], 'lr': ...}}, got {entry!r}")
        patterns = entry["patterns"]
        if isinstance(patterns, str) or not all(isinstance(p, str) for p in patterns):
            raise ValueError(
                f"pattern_lrs[{index}]['patterns']: expected a list of regular expressions, got {patterns!r}"
            )
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(
                    f"pattern_lrs[{index}]['patterns']: invalid regular expression {pattern!r}: {error}"
                ) from None
        lr = entry["lr"]
        if isinstance(lr, dict):
            lr = schedules.deserialize(lr)
        checked.append((tuple(patterns), check_lr(lr, f"pattern_lrs[{index}]['lr']")))
    return tuple(checked)


def make_options(convention_name: str, **kwargs: Any) -> Options:
    """Validate the optimizer-wide keywords.

    Parameters
    ----------
    convention_name : str
        Decides one rule: under ``"tensorflow"`` (tf.keras legacy) ``clipvalue``
        may be combined with ``clipnorm`` or ``global_clipnorm``; elsewhere, as
        in Keras 3, at most one of the three may be set.
    clipnorm, clipvalue, global_clipnorm : float, optional
        Gradient clipping (see :mod:`optim.transforms`).
    use_ema : bool
        Keep an exponential moving average of the weights.
    ema_momentum : float
        :math:`\\mu \\in [0, 1]` of that average.
    ema_overwrite_frequency : int, optional
        Every this many updates, overwrite the weights with their average.
    loss_scale_factor : float, optional
        Gradients are divided by it (the loss was multiplied by it, see ``scale_loss``).
    gradient_accumulation_steps : int, optional
        Apply one update, with the average gradient, every this many calls (>= 2).
    decay : float
        tf.keras's legacy decay: :math:`\\eta_k = \\eta / (1 + \\text{decay}\\cdot k)`.
    pattern_lrs : list of dict, optional
        Learning rates by parameter name: the first entry whose regular
        expressions match the name (``re.search``) gives its ``"lr"``.
    lazy : bool, optional
        For row-sparse gradients: update only the rows touched (True), or as
        for the equivalent dense gradient (False); None takes the convention's.
        With ``gradient_accumulation_steps`` the accumulated gradient is dense,
        so the update is too.
    power_dtype : {None, "float32", "param"}, optional
        Precision of :math:`\\beta^t`: double (None), single, or the parameter's dtype.
    nonfinite : {"propagate", "raise", "skip"}, default "propagate"
        What a step does when a gradient, after loss scaling, accumulation and
        clipping, holds NaN or infinity: ``"propagate"`` it into the parameters
        and state (what every framework does); ``"raise"`` a
        ``FloatingPointError`` naming the parameter, before anything changes;
        ``"skip"`` the whole call, changing nothing but ``skipped_steps`` (as
        ``torch.amp.GradScaler`` and Keras's ``LossScaleOptimizer`` skip).
    """
    options = Options(
        clipnorm=_optional_positive(kwargs.pop("clipnorm", None), "clipnorm"),
        clipvalue=_optional_positive(kwargs.pop("clipvalue", None), "clipvalue"),
        global_clipnorm=_optional_positive(kwargs.pop("global_clipnorm", None), "global_clipnorm"),
        use_ema=check_bool(kwargs.pop("use_ema", False), "use_ema"),
        ema_momentum=check_nonnegative(kwargs.pop("ema_momentum", 0.99), "ema_momentum"),
        ema_overwrite_frequency=_optional_int(
            kwargs.pop("ema_overwrite_frequency", None), "ema_overwrite_frequency", 1
        ),
        loss_scale_factor=_optional_positive(kwargs.pop("loss_scale_factor", None), "loss_scale_factor"),
        gradient_accumulation_steps=_optional_int(
            kwargs.pop("gradient_accumulation_steps", None), "gradient_accumulation_steps", 2
        ),
        decay=check_nonnegative(kwargs.pop("decay", 0.0), "decay"),
        pattern_lrs=_pattern_lrs(kwargs.pop("pattern_lrs", None)),
        lazy=None if kwargs.get("lazy") is None else check_bool(kwargs.pop("lazy"), "lazy"),
        power_dtype=kwargs.pop("power_dtype", None),
        nonfinite=check_choice(kwargs.pop("nonfinite", "propagate"), "nonfinite", NONFINITE_CHOICES),
    )
    kwargs.pop("lazy", None)
    if kwargs:
        raise TypeError(f"unexpected keyword argument(s) {sorted(kwargs)}")
    if options.ema_momentum > 1:
        raise ValueError(f"ema_momentum: expected a value in [0, 1], got {options.ema_momentum!r}")
    if options.loss_scale_factor == 0:
        raise ValueError("loss_scale_factor: expected a value > 0, got 0.0")
    if options.power_dtype not in (None, "float32", "param"):
        raise ValueError(f"power_dtype: unknown value {options.power_dtype!r}; expected None, 'float32' or 'param'")
    clips = {k: v for k, v in (("clipnorm", options.clipnorm), ("clipvalue", options.clipvalue),
                                ("global_clipnorm", options.global_clipnorm)) if v is not None}
    if convention_name == "tensorflow":
        if options.clipnorm is not None and options.global_clipnorm is not None:
            raise ValueError(f"clipnorm and global_clipnorm: at most one can be set, got {clips}")
    elif len(clips) > 1:
        raise ValueError(f"clipnorm, clipvalue, global_clipnorm: at most one can be set, got {clips}")
    return options

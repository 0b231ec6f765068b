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

from optim.conventions import LR_DTYPE_CHOICES, POWER_DTYPE_CHOICES, SPARSE_CLIPPING_CHOICES, SPARSE_UPDATE_CHOICES
from optim.validation import check_bool, check_choice, check_lr, check_nonnegative, plain_number

__all__ = ["CLIP_OPTIONS", "NONFINITE_CHOICES", "ZERO_MEANS_OFF", "Options", "make_options"]

#: What a step does with a gradient holding NaN or infinity (see :func:`make_options`).
NONFINITE_CHOICES = ("propagate", "raise", "skip")

#: The three clipping thresholds.
CLIP_OPTIONS = ("clipnorm", "clipvalue", "global_clipnorm")


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
    sparse_clipping: str = "summed_rows"
    lr_dtype: str | None = None
    sparse_update: str = "as_dense"

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


#: The conventions under which a clipping threshold, ``gradient_accumulation_steps`` or
#: ``ema_overwrite_frequency`` of 0 turns the feature off, as Keras 3.15.1 reads a falsy value
#: (keras/src/optimizers/base_optimizer.py: ``if self.clipnorm and self.clipnorm > 0``,
#: ``if gradient_accumulation_steps:``, ``if self.ema_overwrite_frequency:``).
ZERO_MEANS_OFF = ("keras",)


def _zero_hint(name: str, what: str) -> str:
    return (f"leave {name}=None for {what} (only convention='keras' reads {name}=0 as {what}, "
            "as Keras 3 does)")


def _threshold(value: Any, name: str, zero_means_off: bool) -> float | None:
    """A clipping threshold: None (off), or a finite number > 0; 0 is off where ``zero_means_off``, else refused."""
    if value is None:
        return None
    threshold = check_nonnegative(value, name)
    if threshold > 0:
        return threshold
    if zero_means_off:
        return None
    raise ValueError(f"{name}: expected a value > 0 or None, got {value!r}; {_zero_hint(name, 'no clipping')}")


def _positive_factor(value: Any, name: str) -> float | None:
    """None, or a finite number > 0 (``loss_scale_factor``: 0 would divide the gradients by 0)."""
    if value is None:
        return None
    factor = check_nonnegative(value, name)
    if factor == 0:
        raise ValueError(f"{name}: expected a value > 0 or None, got {value!r}")
    return factor


def _count(value: Any, name: str, minimum: int, zero_means_off: bool) -> int | None:
    """None, or an integer >= ``minimum`` (NumPy integers too); 0 is None where ``zero_means_off``."""
    if value is None:
        return None
    number = plain_number(value)
    if zero_means_off and number == 0:  # Keras tests the value's truth: 0 and 0.0 are both off
        return None
    if not isinstance(number, int) or number < minimum:
        hint = f"; {_zero_hint(name, 'off')}" if number == 0 else ""
        raise ValueError(f"{name}: expected an integer >= {minimum} or None, got {value!r}{hint}")
    return number


def _pattern_lrs(value: Any) -> tuple[tuple[tuple[str, ...], Any], ...]:
    """capreolus-style ``[{"patterns": [regex, ...], "lr": lr_or_schedule}, ...]``, regexes compiled to check them."""
    if value is None:
        return ()
    from optim import schedules

    if not isinstance(value, (list, tuple)):
        raise TypeError(f"pattern_lrs: expected a list of {{'patterns': [...], 'lr': ...}} dicts, got {value!r}")
    checked = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict) or set(entry) != {"patterns", "lr"}:
            raise ValueError(f"pattern_lrs[{index}]: expected {{'patterns': [...], 'lr': ...}}, got {entry!r}")
        patterns = entry["patterns"]
        if not isinstance(patterns, (list, tuple)) or not patterns or not all(isinstance(p, str) for p in patterns):
            raise ValueError(
                f"pattern_lrs[{index}]['patterns']: expected a non-empty list of regular expressions, "
                f"got {patterns!r}"
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
        Decides two rules. Under ``"tensorflow"`` (tf.keras legacy) ``clipvalue``
        may be combined with ``clipnorm`` or ``global_clipnorm``; elsewhere, as
        in Keras 3, at most one of the three may be set (a 0 counts as set).
        Under ``"keras"`` a clipping threshold, ``gradient_accumulation_steps``
        or ``ema_overwrite_frequency`` of 0 turns that feature off, as Keras 3
        reads a falsy value; under the other conventions 0 is refused.
    clipnorm, clipvalue, global_clipnorm : float, optional
        Gradient clipping (see :mod:`optim.transforms`): a finite threshold > 0.
    use_ema : bool
        Keep an exponential moving average of the weights.
    ema_momentum : float
        :math:`\\mu \\in [0, 1]` of that average (1 keeps the first updated weights).
    ema_overwrite_frequency : int, optional
        Every this many updates (>= 1), overwrite the weights with their average.
    loss_scale_factor : float, optional
        Gradients are divided by it (the loss was multiplied by it, see ``scale_loss``): a finite number > 0.
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
    power_dtype : {None, "float32", "param", "float32_or_wider"}, optional
        Precision of :math:`\\beta^t`: double (None), single, the parameter's dtype, or single unless the
        parameter is wider.
    nonfinite : {"propagate", "raise", "skip"}, default "propagate"
        What a step does when a gradient, after loss scaling, accumulation and
        clipping, holds NaN or infinity: ``"propagate"`` it into the parameters
        and state (what every framework does); ``"raise"`` a
        ``FloatingPointError`` naming the parameter, before anything changes;
        ``"skip"`` the whole call, changing nothing but ``skipped_steps`` (as
        ``torch.amp.GradScaler`` and Keras's ``LossScaleOptimizer`` skip).
    sparse_clipping : {"summed_rows", "listed_values"}, default "summed_rows"
        When a row-sparse gradient is clipped: after its repeated rows are summed, as the
        dense gradient it stands for (``"summed_rows"``), or before, as listed (``"listed_values"``,
        tf.keras legacy: ``clipvalue`` per listed value, ``clipnorm`` and ``global_clipnorm`` over the
        listed values' norm). Gradient accumulation sums first whatever the choice.
    lr_dtype : {None, "float16", "float32", "float64"}, default None
        Keras's floatx: the learning rate is rounded to this dtype before it meets a parameter of a wider
        dtype, as Keras 3 keeps it in a floatx variable (None: used as given).
    sparse_update : {"as_dense", "uncorrected"}, default "as_dense"
        The rule of a row-sparse gradient when the update is not lazy: the dense gradient's
        (``"as_dense"``), or capreolus's AdamMultilr sparse path (``"uncorrected"``, Adam and AMSGrad only):
        every row, :math:`m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t` and likewise :math:`v_t` in the parameter's
        dtype (``slot_arithmetic="in_dtype_sum"``), and no bias correction,
        :math:`\\theta_t = \\theta_{t-1} - \\alpha\\, m_t / (\\sqrt{v_t} + \\hat\\epsilon)`.
    """
    zero_means_off = convention_name in ZERO_MEANS_OFF
    given_clips = {name: kwargs.pop(name) for name in CLIP_OPTIONS if kwargs.get(name) is not None}
    clips = {name: _threshold(given_clips.get(name), name, zero_means_off) for name in CLIP_OPTIONS}
    options = Options(
        **clips,
        use_ema=check_bool(kwargs.pop("use_ema", False), "use_ema"),
        ema_momentum=check_nonnegative(kwargs.pop("ema_momentum", 0.99), "ema_momentum"),
        ema_overwrite_frequency=_count(
            kwargs.pop("ema_overwrite_frequency", None), "ema_overwrite_frequency", 1, zero_means_off
        ),
        loss_scale_factor=_positive_factor(kwargs.pop("loss_scale_factor", None), "loss_scale_factor"),
        gradient_accumulation_steps=_count(
            kwargs.pop("gradient_accumulation_steps", None), "gradient_accumulation_steps", 2, zero_means_off
        ),
        decay=check_nonnegative(kwargs.pop("decay", 0.0), "decay"),
        pattern_lrs=_pattern_lrs(kwargs.pop("pattern_lrs", None)),
        lazy=None if kwargs.get("lazy") is None else check_bool(kwargs.pop("lazy"), "lazy"),
        power_dtype=kwargs.pop("power_dtype", None),
        nonfinite=check_choice(kwargs.pop("nonfinite", "propagate"), "nonfinite", NONFINITE_CHOICES),
        sparse_clipping=check_choice(kwargs.pop("sparse_clipping", "summed_rows"), "sparse_clipping",
                                     SPARSE_CLIPPING_CHOICES),
        lr_dtype=check_choice(kwargs.pop("lr_dtype", None), "lr_dtype", LR_DTYPE_CHOICES),
        sparse_update=check_choice(kwargs.pop("sparse_update", "as_dense"), "sparse_update", SPARSE_UPDATE_CHOICES),
    )
    for name in CLIP_OPTIONS:
        kwargs.pop(name, None)  # given as None
    kwargs.pop("lazy", None)
    if kwargs:
        raise TypeError(f"unexpected keyword argument(s) {sorted(kwargs)}")
    if options.ema_momentum > 1:
        raise ValueError(f"ema_momentum: expected a value in [0, 1], got {options.ema_momentum!r}")
    if options.power_dtype not in POWER_DTYPE_CHOICES:
        raise ValueError(f"power_dtype: unknown value {options.power_dtype!r}; expected one of {POWER_DTYPE_CHOICES}")
    # As in Keras 3.15.1 and tf_keras 2.21.0, a threshold counts as set when it is not None, 0 included.
    if convention_name == "tensorflow":
        if "clipnorm" in given_clips and "global_clipnorm" in given_clips:
            raise ValueError(f"clipnorm and global_clipnorm: at most one can be set, got {given_clips}")
    elif len(given_clips) > 1:
        raise ValueError(f"clipnorm, clipvalue, global_clipnorm: at most one can be set, got {given_clips}")
    return options

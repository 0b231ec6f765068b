"""The numbers of one parameter for one update: learning rate, step :math:`t`, weight decay.

One function, :func:`parameter_scalars`, gives them to every path (the
reference step, the fused step and its direct step), so that they cannot
drift apart:

* the learning rate: the group's, or the first ``pattern_lrs`` entry whose
  regular expression matches the parameter's name, through its schedule
  (called with the number of calls so far) and tf.keras's legacy ``decay``,
  rounded to ``lr_dtype`` (Keras's floatx) for a parameter of a wider dtype;
* the step :math:`t`: the parameter's own count of updates with
  ``step_counting="per_parameter"`` (PyTorch), else the optimizer's (the others);
* the weight decay: the group's, or 0 for a parameter excluded from it
  (:meth:`~optim.Optimizer.exclude_from_weight_decay`, Keras).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from minigrad.tensor import Tensor
from optim.validation import check_scheduled_lr

if TYPE_CHECKING:
    from optim.optimizer import Optimizer

__all__ = ["ParameterScalars", "decays", "exclude_from_weight_decay", "label", "learning_rate", "parameter_scalars"]


class ParameterScalars(NamedTuple):
    """The numbers of one parameter for one update (see :meth:`Optimizer.parameter_scalars`)."""

    lr: float
    step: int
    weight_decay: float


def parameter_scalars(optimizer: Optimizer, param: Tensor, group: dict[str, Any]) -> ParameterScalars:
    """The numbers of ``param`` for the update of this call, on every path (reference, fused, direct).

    ``lr``: the group's value or the matching ``pattern_lrs`` entry, through its
    schedule and the legacy decay; ``step``: :math:`t`, the parameter's own
    count of updates (this one included) with ``step_counting="per_parameter"``,
    else the optimizer's; ``weight_decay``: the group's, or 0 for a parameter
    excluded from it. Computed before anything changes: a schedule that
    returns nonsense is refused here.
    """
    state = optimizer.state.get(param)
    own_step = (0 if state is None else state["step"]) + 1
    step = own_step if group.get("step_counting") == "per_parameter" else optimizer.iterations + 1
    weight_decay = group.get("weight_decay", 0.0) if decays(optimizer, param) else 0.0
    return ParameterScalars(learning_rate(optimizer, param, group), step, weight_decay)


def learning_rate(optimizer: Optimizer, param: Tensor, group: dict[str, Any]) -> float:
    """The learning rate for ``param`` now: group (or matching pattern) value, schedule, legacy decay."""
    lr, source = group["lr"], "lr"
    name = optimizer.names.get(id(param))
    if optimizer.options.pattern_lrs and name is None and not optimizer._warned_unnamed_for_patterns:
        warnings.warn(
            f"pattern_lrs: a parameter of shape {param.shape} has no name, so no pattern can match it and it "
            "keeps its group's lr; pass (name, tensor) pairs, e.g. model.named_parameters()",
            stacklevel=4,
        )
        optimizer._warned_unnamed_for_patterns = True
    if name is not None:
        for index, (patterns, pattern_lr) in enumerate(optimizer.options.pattern_lrs):
            if any(re.search(pattern, name) for pattern in patterns):
                lr, source = pattern_lr, f"pattern_lrs[{index}]['lr']"
                break
    if callable(lr):
        lr = check_scheduled_lr(lr(optimizer.calls), name=f"{source}({optimizer.calls})")
    if optimizer.options.decay > 0:
        lr = lr / (1 + optimizer.options.decay * optimizer.iterations)
    lr_dtype = optimizer.options.lr_dtype
    if lr_dtype is not None and np.dtype(param.dtype).itemsize > np.dtype(lr_dtype).itemsize:
        lr = float(np.dtype(lr_dtype).type(lr))  # Keras 3 keeps the learning rate in a floatx variable
    return lr


def decays(optimizer: Optimizer, param: Tensor) -> bool:
    """Whether weight decay applies to ``param`` (not excluded by object or by name)."""
    if id(param) in optimizer.excluded_from_weight_decay:
        return False
    if not optimizer.weight_decay_exclusion_patterns:
        return True
    name = optimizer.names.get(id(param))
    if name is None:
        if not optimizer._warned_unnamed:
            warnings.warn(
                "exclude_from_weight_decay: a parameter of shape "
                f"{param.shape} has no name, so var_names cannot match it; pass (name, tensor) pairs, "
                "e.g. model.named_parameters()",
                stacklevel=3,
            )
            optimizer._warned_unnamed = True
        return True
    return not any(re.search(pattern, name) for pattern in optimizer.weight_decay_exclusion_patterns)


def exclude_from_weight_decay(optimizer: Optimizer, var_list: Iterable[Tensor], var_names: Iterable[str]) -> None:
    """Exclude ``var_list`` and the parameters whose name matches a pattern of ``var_names`` (checked first)."""
    optimizer.excluded_from_weight_decay.update(id(var) for var in var_list)
    for pattern in var_names:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"var_names: invalid regular expression {pattern!r}: {error}") from None
        optimizer.weight_decay_exclusion_patterns.append(pattern)


def label(optimizer: Optimizer, param: Tensor) -> str:
    """``parameter 3 ('0.weight')``: where ``param`` stands in the optimizer, and its name if it has one."""
    position = next(index for index, p in enumerate(optimizer.parameters()) if p is param)
    name = optimizer.names.get(id(param))
    return f"parameter {position}" + (f" ({name!r})" if name is not None else "")

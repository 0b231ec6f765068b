"""The arguments the losses share, checked the same way everywhere, and the layout of class scores.

Class scores come as ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dk)`` (the class
axis second, as in PyTorch); :func:`class_rows` lays any of them out as
``(M, C)``, one row per sample, and :func:`sample_shape` gives the shape of
one loss per sample (``()``, ``(N,)`` or ``(N, d1, ..., dk)``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import backend
from minigrad.functions.reduction import mean, sum
from minigrad.functions.shape import reshape, transpose
from minigrad.tensor import Tensor

__all__ = [
    "REDUCTIONS", "check_ignore_index", "check_label_smoothing", "check_reduction", "class_rows",
    "class_targets", "class_weights", "constant_like", "reduce", "sample_shape", "scores_tensor",
]

REDUCTIONS = ("mean", "sum", "none")


def scores_tensor(name: str, scores: Any) -> Tensor:
    """``scores`` when it is a Tensor of class scores with at least one axis, else an error naming ``name``."""
    if not isinstance(scores, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(scores).__name__}")
    if scores.ndim == 0:
        raise ValueError(f"{name}: expected shape (C,), (N, C) or (N, C, d1, ...), got {scores.shape}")
    return scores


def check_reduction(reduction: Any) -> str:
    """``reduction`` when it is ``"mean"``, ``"sum"`` or ``"none"``, else a ``ValueError`` naming it."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"reduction: expected 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def check_ignore_index(ignore_index: Any) -> int:
    """``ignore_index`` as an int, or a ``TypeError`` naming it (bools are not indices)."""
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"ignore_index: expected an integer, got {ignore_index!r}")
    return int(ignore_index)


def check_label_smoothing(label_smoothing: Any) -> float:
    """``label_smoothing`` as a float in ``[0, 1]``, or an error naming it."""
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float, np.integer, np.floating)):
        raise TypeError(f"label_smoothing: expected a number in [0, 1], got {label_smoothing!r}")
    if not (math.isfinite(label_smoothing) and 0 <= label_smoothing <= 1):
        raise ValueError(f"label_smoothing: expected a number in [0, 1], got {label_smoothing!r}")
    return float(label_smoothing)


def constant_like(name: str, value: Any, like: Tensor) -> Any:
    """``value`` (a Tensor that needs no gradient, an array or numbers) as an array of ``like``'s dtype on its
    device, or an error naming ``name``."""
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise ValueError(
                f"{name}: a tensor that requires gradients; it is a constant of the loss (as in PyTorch), "
                f"pass {name}.detach()"
            )
        value = value.data
    if not backend.is_array(value):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError):
            value = None
    if value is None or value.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected real numbers, got {value!r}")
    return backend.to_device(value, like.device).astype(like.dtype, copy=False)


def class_weights(weight: Any, scores: Tensor) -> Any:
    """The class weights as an array of shape ``(C,)`` with the scores' dtype, or None."""
    if weight is None:
        return None
    weights = constant_like("weight", weight, scores)
    classes = scores.shape[0 if scores.ndim == 1 else 1]
    if weights.shape != (classes,):
        raise ValueError(f"weight: expected one weight per class, shape ({classes},), got shape {weights.shape}")
    return weights


def sample_shape(scores: Tensor) -> tuple[int, ...]:
    """The shape of one loss per sample: the scores' shape without the class axis."""
    return () if scores.ndim == 1 else scores.shape[:1] + scores.shape[2:]


def class_rows(scores: Tensor) -> Tensor:
    """The scores as ``(M, C)``, one row per sample (the class axis moved last), differentiably."""
    if scores.ndim == 2:
        return scores
    classes = scores.shape[0 if scores.ndim == 1 else 1]
    if scores.ndim == 1:
        return reshape(scores, (1, classes))
    return reshape(transpose(scores, (0, *range(2, scores.ndim), 1)), (-1, classes))


def class_targets(targets: Any, scores: Tensor, ignore_index: int) -> Any:
    """Integer class targets, one per sample, as a flat array on the scores' device; checked."""
    if isinstance(targets, Tensor):
        targets = targets.data
    if not (backend.is_array(targets) and backend.same_device(targets, scores.data)):
        targets = backend.to_device(targets if backend.is_array(targets) else np.asarray(targets), scores.device)
    expected = sample_shape(scores)
    if targets.dtype.kind not in "iu":
        raise TypeError(
            f"targets: expected integer class indices of shape {expected} or class probabilities of shape "
            f"{scores.shape}, got dtype {targets.dtype} and shape {targets.shape}"
        )
    if targets.shape != expected:
        raise ValueError(f"targets: expected shape {expected}, got {targets.shape}")
    classes = scores.shape[0 if scores.ndim == 1 else 1]
    if targets.size and 0 <= int(targets.min()) and int(targets.max()) < classes:
        return targets.reshape(-1)  # every target is a class: nothing to refuse
    counted = targets[targets != ignore_index]
    if counted.size and (int(counted.min()) < 0 or int(counted.max()) >= classes):
        raise ValueError(
            f"targets: class indices must lie in [0, {classes}) or equal ignore_index ({ignore_index}), "
            f"got values from {int(counted.min())} to {int(counted.max())}"
        )
    return targets.reshape(-1)


def reduce(losses: Tensor, reduction: str) -> Tensor:
    """The mean or the sum of ``losses``, or ``losses`` themselves for ``"none"``."""
    if reduction == "mean":
        return mean(losses)
    if reduction == "sum":
        return sum(losses)
    return losses

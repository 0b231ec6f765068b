"""Checking the arguments of the Keras-style calls, ``apply_gradients`` and ``minimize``, before anything changes.

A ``(None, parameter)`` pair in ``apply_gradients``: Keras 3.15.1
(``BaseOptimizer._filter_empty_gradients`` in keras/src/optimizers/base_optimizer.py)
and tf_keras 2.21.0 (``filter_empty_gradients`` in tf_keras/optimizers/utils.py,
called by the legacy ``OptimizerV2.apply_gradients``) skip the pair with a
warning, update the others, and raise ``ValueError`` when no pair has a
gradient. The ``"keras"`` and ``"tensorflow"`` conventions do the same; the
others refuse the pair, naming its index.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from minigrad.tensor import Tensor

if TYPE_CHECKING:
    from optim.optimizer import Optimizer

__all__ = ["SKIPS_MISSING_GRADIENTS", "checked_loss", "checked_var_list", "split_pairs"]

#: The conventions whose ``apply_gradients`` skips a pair whose gradient is None, with a warning.
SKIPS_MISSING_GRADIENTS = ("keras", "tensorflow")


def split_pairs(optimizer: Optimizer, grads_and_vars: Iterable[Any]) -> tuple[list[tuple[Any, Any]], list[Any]]:
    """``(parameter, gradient)`` pairs to apply, and the parameters whose gradient is None (checked and warned about).

    Raises
    ------
    TypeError
        An entry that is not a pair; a None gradient outside the keras and tensorflow conventions.
    ValueError
        Under those two, when every gradient is None, or when a skipped parameter is not the optimizer's.
    """
    if isinstance(grads_and_vars, (str, bytes)) or not isinstance(grads_and_vars, Iterable):
        raise TypeError(f"grads_and_vars: expected an iterable of (gradient, parameter) pairs, got {grads_and_vars!r}")
    pairs, missing = [], []
    for index, entry in enumerate(grads_and_vars):
        if not isinstance(entry, (tuple, list)) or len(entry) != 2:
            raise TypeError(f"grads_and_vars[{index}]: expected a (gradient, parameter) pair, got {entry!r}")
        grad, var = entry
        if grad is not None:
            pairs.append((var, grad))
            continue
        if optimizer.convention not in SKIPS_MISSING_GRADIENTS:
            raise TypeError(
                f"grads_and_vars[{index}]: the gradient is None (parameter of shape {getattr(var, 'shape', '?')}); "
                "leave the pair out (convention='keras' and 'tensorflow' skip such a pair with a warning, "
                "as Keras does)"
            )
        missing.append((index, var))
    if missing:
        _check_missing(optimizer, missing, has_gradients=bool(pairs))
    return pairs, [var for _, var in missing]


def _check_missing(optimizer: Optimizer, missing: list[tuple[int, Any]], has_gradients: bool) -> None:
    labels = [f"grads_and_vars[{index}] ({_label(optimizer, var)})" for index, var in missing]
    if not has_gradients:
        raise ValueError(f"grads_and_vars: no gradient provided for any variable, got None for {labels}")
    owned = {id(p) for p in optimizer.parameters()}
    for index, var in missing:
        if optimizer.param_groups and id(var) not in owned:
            raise ValueError(f"grads_and_vars[{index}]: a parameter of shape {getattr(var, 'shape', '?')} "
                             "is not optimised by this optimizer")
    warnings.warn(f"apply_gradients: gradients do not exist for {labels}; they are left unchanged "
                  f"(convention={optimizer.convention!r} skips them, as Keras does)", stacklevel=4)


def _label(optimizer: Optimizer, var: Any) -> str:
    """A parameter's name if it has one, else its shape."""
    name = optimizer.names.get(id(var))
    return repr(name) if name is not None else f"shape {getattr(var, 'shape', '?')}"


def checked_var_list(optimizer: Optimizer, loss_fn: Any, var_list: Sequence[Tensor] | None) -> list[Tensor]:
    """``minimize``'s ``loss_fn`` and ``var_list`` checked (a list of the optimizer's Tensors; default: all of them)."""
    if not callable(loss_fn):
        raise TypeError(f"loss_fn: expected a callable that returns the loss Tensor, got {loss_fn!r}")
    if isinstance(var_list, Tensor):
        raise TypeError(f"var_list: expected a list of Tensors, got a single Tensor of shape {var_list.shape}")
    variables = list(optimizer.parameters()) if var_list is None else list(var_list)
    if not variables:
        raise ValueError(f"var_list: no parameter to update (got {var_list!r} and the optimizer has none yet)")
    owned = {id(p) for p in optimizer.parameters()}
    for index, var in enumerate(variables):
        if not isinstance(var, Tensor):
            raise TypeError(f"var_list[{index}]: expected a minigrad Tensor, got {var!r}")
        if optimizer.param_groups and id(var) not in owned:
            raise ValueError(f"var_list[{index}]: a parameter of shape {var.shape} is not optimised by this optimizer")
    return variables


def checked_loss(loss: Any) -> Tensor:
    """What ``loss_fn`` returned: a one-element Tensor that requires gradients (so that backward can run)."""
    if not isinstance(loss, Tensor):
        raise TypeError(f"loss_fn: expected it to return a Tensor, got {type(loss).__name__}")
    if loss.size != 1 or not loss.requires_grad:
        raise ValueError(f"loss_fn: expected it to return a one-element Tensor that requires gradients, got one of "
                         f"shape {loss.shape} with requires_grad={loss.requires_grad}")
    return loss

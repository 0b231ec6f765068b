"""What happens around the update rule on each call, in Keras's order.

1. Divide the gradients by ``loss_scale_factor``.
2. With ``gradient_accumulation_steps`` :math:`k`: add them to the
   accumulators, and only every :math:`k`-th call continue, with the average
   :math:`\\frac1k \\sum` of the last :math:`k` gradients.
3. Clip (``clipvalue``, then ``clipnorm`` or ``global_clipnorm``). A row-sparse
   gradient is clipped after its repeated rows are summed, or, with
   ``sparse_clipping="listed_values"`` (tf.keras legacy), before: its values as
   listed, then summed.
4. The update rule (weight decay included), densely, or lazily on the rows of
   a row-sparse gradient: the optimizer's own business (:mod:`optim.optimizer`).
5. With ``use_ema``: update the moving average of the weights, and every
   ``ema_overwrite_frequency`` updates copy it into the weights
   (:class:`~optim.averages.WeightAverages`).

Steps 1-3 are a :class:`GradientPipeline`, which owns what it keeps between
calls (the accumulators) and returns gradients: it never calls back into the
optimizer.

Unless ``nonfinite="propagate"`` (the default), the gradients that steps 1-3
produce (the accumulated sums, on a call that only accumulates) are checked
for NaN and infinity before anything is stored: ``"raise"`` raises a
``FloatingPointError``, ``"skip"`` makes the whole call a no-op (see
:data:`SKIPPED`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import backend
from minigrad.sparse import RowSparseGrad
from minigrad.tensor import Tensor
from optim import transforms
from optim.options import Options

__all__ = ["SKIPPED", "GradientPipeline", "changes_gradients", "follow_device", "gradient_array"]

Triple = tuple[Tensor, dict[str, Any], Any]


class _Skipped:
    def __repr__(self) -> str:
        return "SKIPPED"


#: What :meth:`GradientPipeline.prepare` returns when ``nonfinite="skip"`` drops a call: nothing may change.
SKIPPED = _Skipped()


def gradient_array(grad: Any, param: Tensor) -> Any:
    """The gradient as a backend array (or a :class:`RowSparseGrad`), checked against its parameter."""
    if isinstance(grad, RowSparseGrad):
        values, shape = grad.values, grad.dense_shape
    else:
        values = grad.data if isinstance(grad, Tensor) else grad
        if not backend.is_array(values):
            raise TypeError(
                f"grad: expected an array or a Tensor for the parameter of shape {param.shape}, got {grad!r}"
            )
        shape = values.shape
    if shape != param.shape:
        raise ValueError(f"grad: shape {shape} does not match the parameter's {param.shape}")
    if backend.device_of(values) != param.device:
        raise ValueError(f"grad: on {backend.device_of(values)}, but the parameter is on {param.device}")
    if values.dtype != param.dtype:
        raise ValueError(f"grad: dtype {values.dtype} does not match the parameter's {param.dtype}")
    return grad if isinstance(grad, RowSparseGrad) else values


def changes_gradients(options: Any) -> bool:
    """Whether steps 1-3 can change a gradient: loss scaling, accumulation or clipping is on."""
    return (options.loss_scale_factor is not None or bool(options.gradient_accumulation_steps)
            or options.clipvalue is not None or options.clipnorm is not None or options.global_clipnorm is not None)


class GradientPipeline:
    """Steps 1-3 above, with the accumulators of step 2.

    Parameters
    ----------
    options : Options
        The optimizer-wide options (loss scale, accumulation, clipping, the non-finite policy).

    Attributes
    ----------
    accumulators : dict
        The running sum of the gradients of each parameter in the current
        accumulation window (empty without ``gradient_accumulation_steps``).
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self.accumulators: dict[Tensor, Any] = {}

    def prepare(self, triples: list[Triple], calls: int, lazy: bool,
                label: Callable[[Tensor], str]) -> list[Triple] | _Skipped | None:
        """The gradients of ``(param, group, gradient)`` triples after steps 1-3.

        Parameters
        ----------
        triples : list of tuple
            The checked gradients of this call.
        calls : int
            The number of calls before this one (the accumulation window's position).
        lazy : bool
            Whether a row-sparse gradient stays sparse (coalesced): for a lazy update, or for the optimizer's
            own sparse rule (``sparse_update="uncorrected"``).
        label : callable
            Names a parameter in the message of ``nonfinite="raise"``.

        Returns
        -------
        list of tuple, None or SKIPPED
            The gradients to apply; ``None`` when this call only accumulates;
            :data:`SKIPPED` when ``nonfinite="skip"`` drops it. Nothing is stored
            (the accumulators included) until the non-finite check has passed,
            so a refused or skipped call leaves everything as it was.
        """
        options = self.options
        accumulate = options.gradient_accumulation_steps
        # tf.keras legacy clips the values as listed and sums repeated rows afterwards (when it deduplicates);
        # without clipping the rows are summed first, as before any choice.
        clips = options.clipvalue is not None or options.clipnorm is not None or options.global_clipnorm is not None
        clip_listed = options.sparse_clipping == "listed_values" and clips and not accumulate
        prepared = []
        for param, group, grad in triples:
            if isinstance(grad, RowSparseGrad) and not clip_listed:
                grad = _combined(grad, lazy and not accumulate)
            if options.loss_scale_factor is not None:
                grad = _divided(grad, options.loss_scale_factor)
            prepared.append((param, group, grad))

        if not accumulate:
            ready = _clip(options, prepared)
            if clip_listed:
                ready = [(param, group, _combined(grad, lazy) if isinstance(grad, RowSparseGrad) else grad)
                         for param, group, grad in ready]
            return SKIPPED if self._nonfinite(ready, "gradient", label) else ready
        totals = {}
        for param, _, grad in prepared:
            total = self.accumulators.get(param)
            totals[param] = grad.copy() if total is None else total + grad
        if (calls + 1) % accumulate != 0:
            sums = [(param, None, totals[param]) for param, _, _ in prepared]
            if self._nonfinite(sums, "accumulated gradient", label):
                return SKIPPED
            self.accumulators.update(totals)
            return None
        ready = _clip(options, [(param, group, totals[param] / accumulate) for param, group, _ in prepared])
        if self._nonfinite(ready, "accumulated gradient", label):
            return SKIPPED
        self.accumulators.clear()
        return ready

    def _nonfinite(self, triples: list[Triple], what: str, label: Callable[[Tensor], str]) -> bool:
        """Apply the ``nonfinite`` policy: ``True`` to skip the call; raise for ``"raise"``; never for
        ``"propagate"``. One ``isfinite(g).all()`` per gradient, and only when the policy asks for it."""
        policy = self.options.nonfinite
        if policy == "propagate":
            return False
        for param, _, grad in triples:
            values = _values(grad)
            finite = backend.get_array_module(values).isfinite(values)
            if bool(finite.all()):
                continue
            if policy == "skip":
                return True
            raise FloatingPointError(
                f"nonfinite='raise': the {what} of {label(param)}, shape {param.shape}, holds "
                f"{int(finite.size - finite.sum())} non-finite value(s) (NaN or infinity) out of {finite.size}; "
                "nothing was changed"
            )
        return False


def _combined(grad: RowSparseGrad, lazy: bool) -> Any:
    """A row-sparse gradient with its repeated rows summed: coalesced for a lazy update, else dense."""
    return grad.coalesce() if lazy else grad.to_dense()


def _divided(grad: Any, factor: float) -> Any:
    """``grad / factor`` for a dense or a row-sparse gradient."""
    if isinstance(grad, RowSparseGrad):
        return RowSparseGrad(grad.indices, grad.values / factor, grad.dense_shape)
    return grad / factor


def _values(grad: Any) -> Any:
    return grad.values if isinstance(grad, RowSparseGrad) else grad


def _clip(options: Any, triples: list[Triple]) -> list[Triple]:
    """``clipvalue``, then ``clipnorm`` per tensor or ``global_clipnorm`` over all (tf.keras's order)."""
    grads = [_values(grad) for _, _, grad in triples]
    if options.clipvalue is not None:
        grads = [transforms.clip_by_value(g, options.clipvalue) for g in grads]
    if options.clipnorm is not None:
        grads = [transforms.clip_by_norm(g, options.clipnorm) for g in grads]
    if options.global_clipnorm is not None:
        grads = transforms.clip_by_global_norm(grads, options.global_clipnorm)
    clipped = []
    for (param, group, grad), values in zip(triples, grads):
        if isinstance(grad, RowSparseGrad):
            values = RowSparseGrad(grad.indices, values, grad.dense_shape)
        clipped.append((param, group, values))
    return clipped


def follow_device(state: dict[str, Any], param: Tensor) -> None:
    """Move a parameter's state arrays to the parameter's device (after ``Module.to``)."""
    on_host = isinstance(param.data, np.ndarray)
    for key, value in state.items():
        if on_host and isinstance(value, np.ndarray):  # NumPy arrays live on the CPU: nothing to move
            continue
        if backend.is_array(value) and backend.device_of(value) != param.device:
            state[key] = backend.to_device(value, param.device)

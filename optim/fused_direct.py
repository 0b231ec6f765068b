"""The direct fused step: no per-parameter pipeline when every gradient already lies in the flat buffer.

The general fused step (:meth:`optim.fused.FusedEngine.step`) takes the
gradients one by one through the pipeline of :mod:`optim.pipeline` (checks,
loss scaling, accumulation, clipping) and then finds, parameter by parameter,
the runs that share their scalars: a few microseconds of Python per
parameter, which for ten thousand small parameters costs more than the
arithmetic. When nothing of that can change a gradient, the step can skip it:

* every parameter's ``p.grad`` is still the Tensor that ``zero_grad`` handed
  out, viewing its slot of the flat gradient buffer (so its shape, dtype and
  device are right by construction), and ``p.data`` and the state entry are
  still the bound views;
* no option acts on the gradients one by one: no ``loss_scale_factor``, no
  gradient accumulation, no clipping, no ``pattern_lrs`` and no parameter
  excluded from weight decay. With ``nonfinite="raise"`` or ``"skip"`` one
  ``isfinite`` over each flat gradient buffer stands for the per-parameter
  checks.

A :class:`DirectPlan`, built once per binding, holds the parameters in buffer
order, cut into :class:`Segment` s: the parameters of one group in one buffer,
contiguous because binding sorts them so. A step then checks the conditions
above with C-level loops (``map`` over the parameters), advances the step
counts, computes one set of scalars per segment and runs the kernels: the
same arithmetic as the general path, on the same ranges, with the same bits.
If any condition fails, :meth:`DirectPlan.step` changes nothing and returns
``False``, and the optimizer takes the general path, which also produces
every error message.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import TYPE_CHECKING, Any

from minigrad import backend
from optim import fused_cpu, fused_gpu, fused_scalars

if TYPE_CHECKING:
    from optim.fused import FlatStore, FusedEngine, Slot

__all__ = ["DirectPlan", "Segment"]

_grad = operator.attrgetter("grad")
_data = operator.attrgetter("data")
_grad_tensor = operator.attrgetter("grad_tensor")
_grad_view = operator.attrgetter("grad_view")
_param_view = operator.attrgetter("param_view")
_entry = operator.attrgetter("entry")
_step = operator.itemgetter("step")


@dataclasses.dataclass(eq=False, slots=True)
class Segment:
    """The parameters of one group in one flat store: the range ``[start, stop)`` of its buffers."""

    store: FlatStore
    group: dict[str, Any]
    start: int
    stop: int
    slots: list[Slot]


class DirectPlan:
    """The bound parameters of a :class:`~optim.fused.FusedEngine`, in buffer order, ready for a direct step.

    Parameters
    ----------
    engine : FusedEngine
        A bound engine (its stores and slots as :meth:`~optim.fused.FusedEngine.bind` left them).
    """

    def __init__(self, engine: FusedEngine) -> None:
        self.engine = engine
        optimizer = engine.optimizer
        self.groups = list(optimizer.param_groups)
        self.group_params = [list(group["params"]) for group in self.groups]
        self.params = [param for params in self.group_params for param in params]
        ordered = sorted(engine.slots.values(), key=lambda slot: (id(slot.store), slot.start))
        self.slots = ordered
        self.slot_params = [slot.param for slot in ordered]
        self.segments: list[Segment] = []
        group_of = {id(param): group for group in self.groups for param in group["params"]}
        for slot in ordered:
            group = group_of.get(id(slot.param))
            last = self.segments[-1] if self.segments else None
            if last is not None and last.store is slot.store and last.group is group and last.stop == slot.start:
                last.stop = slot.stop
                last.slots.append(slot)
            else:
                self.segments.append(Segment(slot.store, group, slot.start, slot.stop, [slot]))

    # ----------------------------------------------------------------- conditions
    def _options_allow(self) -> bool:
        """No option that acts on the gradients, or on the parameters, one by one."""
        optimizer = self.engine.optimizer
        options = optimizer.options
        return (options.loss_scale_factor is None and not options.gradient_accumulation_steps
                and options.clipvalue is None and options.clipnorm is None and options.global_clipnorm is None
                and not options.pattern_lrs and not optimizer.excluded_from_weight_decay
                and not optimizer.weight_decay_exclusion_patterns)

    def _still_bound(self) -> bool:
        """The same groups and parameters as at binding, each with its bound data, gradient and state views."""
        optimizer = self.engine.optimizer
        groups = optimizer.param_groups
        if len(groups) != len(self.groups) or not all(map(operator.is_, groups, self.groups)):
            return False
        for group, params in zip(groups, self.group_params):
            current = group["params"]
            if len(current) != len(params) or not all(map(operator.is_, current, params)):
                return False
        slots, params = self.slots, self.slot_params
        grad_tensors = list(map(_grad_tensor, slots))
        return (all(map(operator.is_, map(_grad, params), grad_tensors))
                and all(map(operator.is_, map(_data, grad_tensors), map(_grad_view, slots)))
                and all(map(operator.is_, map(_data, params), map(_param_view, slots)))
                and all(map(operator.is_, map(optimizer.state.get, params), map(_entry, slots))))

    def _all_finite(self) -> bool:
        """One ``isfinite`` per flat gradient buffer, for ``nonfinite="raise"`` or ``"skip"``."""
        for store in {id(segment.store): segment.store for segment in self.segments}.values():
            if not bool(backend.get_array_module(store.grad).isfinite(store.grad).all()):
                return False
        return True

    # ----------------------------------------------------------------- the step
    def step(self) -> bool:
        """Update every parameter directly and return ``True``, or change nothing and return ``False``.

        ``False`` means a condition of the module's list does not hold; the
        caller then runs the general path. The optimizer's counters
        (``iterations``, ``calls``) and the moving averages are the caller's.
        """
        if not self.slots or not self._options_allow() or not self._still_bound():
            return False
        optimizer = self.engine.optimizer
        if optimizer.options.nonfinite != "propagate" and not self._all_finite():
            return False  # the general path raises or skips, with the parameter named
        runs = []  # (segment, entries, scalars), all computed before anything changes
        for segment in self.segments:
            group, store = segment.group, segment.store
            entries = list(map(_entry, segment.slots))
            if group.get("step_counting") == "per_parameter":
                steps = list(map(_step, entries))
                if steps.count(steps[0]) != len(steps):
                    return False  # the segment would need cutting into runs: the general path does that
                step = steps[0] + 1
            else:
                step = optimizer.iterations + 1
            lr = optimizer._current_lr(segment.slots[0].param, group)  # may raise: nothing has changed yet
            scalars = fused_scalars.for_group(self.engine.algorithm, group, dtype=store.dtype, step=step, lr=lr,
                                              weight_decay=group.get("weight_decay", 0.0),
                                              power_dtype=optimizer.options.power_dtype)
            runs.append((segment, entries, scalars))
        pieces_cpu, pieces_gpu = [], []
        for segment, entries, scalars in runs:
            for entry in entries:
                entry["step"] += 1
            store = segment.store
            arrays = (store.param, store.grad, *(store.state[name] for name in store.names))
            if self.engine.algorithm == "adam" and len(store.names) == 2:
                arrays = (*arrays, None)  # no v_max without AMSGrad
            if store.device.type == "cpu":
                kernel = fused_cpu.kernel(self.engine.algorithm, store.dtype)
                pieces_cpu.append(fused_cpu.Piece(kernel, arrays, scalars, segment.start, segment.stop))
            else:
                kernel = fused_gpu.KERNELS[self.engine.algorithm]
                pieces_gpu.append(fused_cpu.Piece(kernel, arrays, scalars, segment.start, segment.stop))
        fused_cpu.run_pieces(pieces_cpu)
        fused_gpu.run_pieces(pieces_gpu)
        return True

"""The plan of the direct fused step: no per-parameter pipeline when every gradient already lies in the flat buffer.

The general fused step (:meth:`optim.fused.engine.FusedEngine.step`) takes the
gradients one by one through the pipeline of :mod:`optim.pipeline` (checks,
loss scaling, accumulation, clipping) and then finds, parameter by parameter,
the runs that share their scalars: a few microseconds of Python per
parameter, which for ten thousand small parameters costs more than the
arithmetic. When nothing of that can change a gradient, the step can skip it:

* every parameter's ``p.grad`` is still the Tensor that ``backward`` writes
  into (registered at binding) or ``zero_grad(set_to_none=False)`` handed out,
  viewing its slot of the flat gradient buffer (so its shape, dtype and device
  are right by construction; a parameter without a gradient fails this, and
  the general path skips it), ``p.data`` and the state entry
  are still the bound views, and each group still has the state arrays of its
  buffers (``amsgrad`` not switched through ``param_groups``);
* no option acts on the gradients one by one: no ``loss_scale_factor``, no
  gradient accumulation, no clipping, no ``pattern_lrs`` and no parameter
  excluded from weight decay. With ``nonfinite="raise"`` or ``"skip"`` one
  ``isfinite`` over each flat gradient buffer stands for the per-parameter
  checks.

A :class:`DirectPlan`, built once per binding, holds the parameters in buffer
order, cut into :class:`Segment` s: the parameters of one group in one buffer,
contiguous because binding sorts them so, and checks the conditions above with
C-level loops (``map`` over the parameters). The step itself is
:meth:`optim.fused.engine.FusedEngine.direct_step`: it asks the plan, checks
each group's hyperparameters as the general path does, advances the step
counts, computes one set of scalars per segment and runs the kernels: the same
arithmetic as the general path, on the same ranges, with the same bits. If a
condition fails, it changes nothing and returns ``False``, and the optimizer
takes the general path, which also produces the error messages about
gradients; invalid hyperparameters, learning rates and bias corrections raise
in the direct step itself, before anything changes.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import backend
from optim import pipeline
from optim.fused.store import FlatStore, Slot

if TYPE_CHECKING:
    from optim.fused.engine import FusedEngine

__all__ = ["DirectPlan", "Segment"]

_grad = operator.attrgetter("grad")
_data = operator.attrgetter("data")


def _all_identical(actual: Iterable[Any], expected: Iterable[Any]) -> bool:
    """Whether the two sequences hold the same objects, pair by pair (``is``; in a C-level loop)."""
    return all(map(operator.is_, actual, expected))


def _snapshot(groups: list[dict[str, Any]]) -> list[tuple[tuple[str, ...], tuple[Any, ...]]] | None:
    """Each group's keys and values, or None when a hyperparameter could change in place."""
    for group in groups:
        if not all(_immutable(value) for key, value in group.items() if key != "params"):
            return None
    return [(tuple(group), tuple(group.values())) for group in groups]


def _holds(group: dict[str, Any], snapshot: tuple[tuple[str, ...], tuple[Any, ...]]) -> bool:
    """Whether ``group`` has the keys of ``snapshot``, in order, each with the very same object."""
    keys, values = snapshot
    return tuple(group) == keys and _all_identical(group.values(), values)


def _immutable(value: Any) -> bool:
    """A number, string, bool, None or a tuple of them, or a callable (a learning-rate schedule, whose every
    value is checked when it is read): nothing whose contents can change while the object stays the same."""
    if isinstance(value, (bool, int, float, str, np.generic)) or value is None:
        return True
    if isinstance(value, tuple):
        return all(_immutable(item) for item in value)
    return callable(value)


@dataclasses.dataclass(eq=False, slots=True)
class Segment:
    """The parameters of one group in one flat store: the range ``[start, stop)`` of its buffers.

    ``entries`` are the state entries the slots hold, and ``views[name]`` the
    views of the state buffer ``name`` that those entries must still hold.
    """

    store: FlatStore
    group: dict[str, Any]
    start: int
    stop: int
    slots: list[Slot]
    entries: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    views: dict[str, list[Any]] = dataclasses.field(default_factory=dict)

    def holds_views(self) -> bool:
        """Whether every state entry still holds the views of the buffers (no array was set by hand)."""
        for name, views in self.views.items():
            try:
                if not _all_identical(map(operator.itemgetter(name), self.entries), views):
                    return False
            except KeyError:  # an entry lost one of its arrays
                return False
        return True


class DirectPlan:
    """The bound parameters of a :class:`~optim.fused.engine.FusedEngine`, in buffer order, ready for a direct step.

    What the step must find is gathered here once, as lists in buffer order:
    the parameters, the gradient Tensors that ``zero_grad`` hands out, the
    views of the buffers and the state entries. The engine drops the plan
    (and a new one is built at the next direct step) when it binds again,
    hands out new gradient Tensors, or changes a state entry.

    Parameters
    ----------
    engine : FusedEngine
        A bound engine (its stores and slots as :meth:`~optim.fused.engine.FusedEngine.bind` left them).
    """

    def __init__(self, engine: FusedEngine) -> None:
        self.engine = engine
        optimizer = engine.optimizer
        self.groups = list(optimizer.param_groups)
        self.group_params = [list(group["params"]) for group in self.groups]
        group_of = {id(param): group for group, params in zip(self.groups, self.group_params) for param in params}
        #: False when a parameter has no slot yet: the general path binds it first.
        self.complete = all(key in engine.slots for key in group_of)
        slots = sorted((engine.slots[key] for key in group_of if key in engine.slots),
                       key=lambda slot: (id(slot.store), slot.start))
        self.params = [slot.param for slot in slots]
        self.grad_tensors = [slot.grad_tensor for slot in slots]
        self.grad_views = [slot.grad_view for slot in slots]
        self.param_views = [slot.param_view for slot in slots]
        self.entries = [slot.entry for slot in slots]
        self.segments: list[Segment] = []
        #: The groups' (keys, values) when they last passed the optimizer's check (see :meth:`check_groups`).
        self.checked: list[tuple[tuple[str, ...], tuple[Any, ...]]] | None = None
        for slot in slots:  # a parameter removed from its group leaves a gap, which starts a new segment
            group = group_of[id(slot.param)]
            last = self.segments[-1] if self.segments else None
            if last is not None and last.store is slot.store and last.group is group and last.stop == slot.start:
                last.stop = slot.stop
                last.slots.append(slot)
            else:
                self.segments.append(Segment(slot.store, group, slot.start, slot.stop, [slot]))
        for segment in self.segments:
            segment.entries = [slot.entry for slot in segment.slots]
            segment.views = {name: [slot.views[name] for slot in segment.slots] for name in segment.store.names}

    def check_groups(self) -> None:
        """The optimizer's check of the groups' hyperparameters (it may raise), skipped when every group still
        holds the very objects it held when it last passed and those cannot change in place.

        A hyperparameter assigned since (``group["lr"] = 0.01``, by hand or by
        a scheduler), added or removed, is checked again; so is every value of
        a group that holds a mutable one (a list, an array), whose contents
        could have changed without the group noticing.
        """
        if self.checked is not None and all(map(_holds, self.groups, self.checked)):
            return
        self.checked = None
        self.engine.optimizer.check_groups(segment.group for segment in self.segments)
        self.checked = _snapshot(self.groups)

    def matches_groups(self) -> bool:
        """Whether the optimizer still has the groups, and the groups the parameters, of the plan."""
        groups = self.engine.optimizer.param_groups
        if len(groups) != len(self.groups) or not _all_identical(groups, self.groups):
            return False
        for group, params in zip(groups, self.group_params):
            current = group["params"]
            if len(current) != len(params) or not _all_identical(current, params):
                return False
        return True

    # ----------------------------------------------------------------- conditions
    def allows_direct_step(self) -> bool:
        """Whether every parameter is bound and has its gradient in the buffer, and no option acts one by one.

        The conditions of the module's list, but for the groups' hyperparameters and the
        finiteness of the gradients, which the step checks itself
        (:meth:`~optim.fused.engine.FusedEngine.direct_step`).
        """
        return self.complete and bool(self.params) and self._options_allow() and self._still_bound()

    def grad_tensors_view_the_buffer(self) -> bool:
        """Whether every gradient Tensor handed out still views its slot of the flat gradient buffer."""
        return _all_identical(map(_data, self.grad_tensors), self.grad_views)

    def pairs_hold_the_buffers(self, pairs: list[tuple[Any, Any]]) -> bool:
        """Whether ``(param, gradient)`` pairs name every parameter of the plan once, each with the gradient
        Tensor handed out or its array (call after :meth:`allows_direct_step`, which checks that ``p.grad`` is
        that Tensor)."""
        if len(pairs) != len(self.params):
            return False
        expected = {id(param): (tensor, view) for param, tensor, view in
                    zip(self.params, self.grad_tensors, self.grad_views)}
        for param, grad in pairs:
            accepted = expected.pop(id(param), None)
            if accepted is None or (grad is not accepted[0] and grad is not accepted[1]):
                return False
        return True

    def _options_allow(self) -> bool:
        """No option that acts on the gradients (the pipeline's steps 1-3), or on the parameters, one by one."""
        optimizer = self.engine.optimizer
        return (not pipeline.changes_gradients(optimizer.options) and not optimizer.options.pattern_lrs
                and not optimizer.excluded_from_weight_decay and not optimizer.weight_decay_exclusion_patterns)

    def _still_bound(self) -> bool:
        """Every parameter with its bound data, its gradient still the Tensor handed out (viewing the buffer),
        its state entry the bound one, holding the views of the state buffers, which are still the arrays
        its group's rule needs."""
        params, state, engine = self.params, self.engine.optimizer.state, self.engine
        return (_all_identical(map(_grad, params), self.grad_tensors)
                and _all_identical(map(_data, self.grad_tensors), self.grad_views)
                and _all_identical(map(_data, params), self.param_views)
                and _all_identical(map(state.get, params), self.entries)
                and all(segment.store.names == engine.state_names(segment.group) for segment in self.segments)
                and all(segment.holds_views() for segment in self.segments))

    def all_finite(self) -> bool:
        """One ``isfinite`` per flat gradient buffer, for ``nonfinite="raise"`` or ``"skip"``."""
        for store in {id(segment.store): segment.store for segment in self.segments}.values():
            if not bool(backend.get_array_module(store.grad).isfinite(store.grad).all()):
                return False
        return True

"""The fused engine of one optimizer: binding parameters into flat buffers, the direct step, the general step.

See :mod:`optim.fused` for the design. The engine asks the optimizer for what it
needs (its ``algorithm``, the ``state_names`` of a group, its groups and
options) and never looks at the optimizer's class. One direct step reads top to
bottom: :meth:`FusedEngine.direct_step` here, the chunks on the threads in
:mod:`optim.fused.cpu`, the compiled loop in :mod:`optim.fused.jit`, the rule
in :mod:`optim.rules`.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.autograd import zeroed_gradient
from minigrad.sparse import RowSparseGrad
from minigrad.tensor import Tensor
from optim import parameter_numbers
from optim.fused import cpu as fused_cpu
from optim.fused import scalars as fused_scalars
from optim.fused.direct import DirectPlan
from optim.fused.store import (
    FlatStore,
    Slot,
    adopt,
    lay_out,
    register_grad_buffer,
    register_members,
    replaced,
    zeros,
)

if TYPE_CHECKING:
    from optim.optimizer import Optimizer

__all__ = ["FusedEngine"]

_step = operator.itemgetter("step")


class FusedEngine:
    """The fused update of one optimizer (Adam, AMSGrad, Adamax or SGD).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose parameters, groups, state and options it uses.

    Raises
    ------
    TypeError
        For an optimizer without a fused rule.
    ValueError
        For ``lazy=True``: the fused path updates every row.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        self.algorithm = optimizer.algorithm  # "adam" (AMSGrad too), "adamax" or "sgd": which kernels run
        if optimizer.options.lazy:
            raise ValueError(
                "lazy: the fused path updates every row of a row-sparse gradient; lazy=True cannot be combined "
                "with fused=True (use lazy=False, or fused=False)"
            )
        self.optimizer = optimizer
        self.stores: list[FlatStore] = []
        self.slots: dict[int, Slot] = {}
        self.plan: DirectPlan | None = None  # built at the first direct step after each binding

    # ----------------------------------------------------------------- binding
    def state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The state arrays of a parameter of ``group``, as the optimizer's ``init_state`` creates them."""
        return self.optimizer.state_names(group)

    def bind(self) -> None:
        """(Re)build the flat buffers from the current parameters and state; ``param.data`` become views."""
        self.stores, self.slots = lay_out(self.optimizer, self.state_names, self.slots)
        self.plan = None

    def _ensure_bound(self, params: list[Tensor]) -> None:
        """Bind if a parameter is new or moved; copy in a replaced ``param.data`` of the same kind."""
        for param in params:
            slot = self.slots.get(id(param))
            if slot is None or slot.param is not param:
                self.bind()
                return
            data = param.data
            if data is slot.param_view:
                continue
            view = slot.param_view
            if data.shape != view.shape or data.dtype != view.dtype or backend.device_of(data) != slot.store.device:
                self.bind()
                return
            view[...] = data
            param.data = view

    # ----------------------------------------------------------------- stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """:meth:`Optimizer.zero_grad <optim.optimizer.Optimizer.zero_grad>` on the fused path.

        ``set_to_none=True``: every ``p.grad`` becomes ``None``; the next
        ``backward`` writes each gradient into the parameter's slot of the flat
        gradient buffer, registered with :func:`minigrad.autograd.set_grad_buffer`
        when the parameter was bound, and ``p.grad`` becomes the slot's view
        (so the step can be direct). ``False``: each
        parameter that has a dense gradient gets a zero gradient that views its
        slot of the flat gradient buffer (binding first if needed); a ``None``
        stays ``None``, and a row-sparse gradient becomes one with no rows, as
        on the reference path (:func:`minigrad.autograd.zeroed_gradient`), so that
        a lazy update stays lazy. A parameter that left the optimizer keeps its
        gradient: the buffers are then rebuilt without it.
        """
        params = list(self.optimizer.parameters())
        if set_to_none:
            for param in params:
                param.grad = None
            if self.plan is not None and not self.plan.grad_tensors_view_the_buffer():
                for slot in self.slots.values():
                    if slot.grad_tensor.data is not slot.grad_view:
                        self._renew_grad_tensor(slot)
            return
        with_grad = [param for param in params if param.grad is not None]
        if not with_grad:
            return
        self._ensure_bound(params)
        if len(self.slots) != len(params):  # a parameter was removed from its group
            self.bind()
        for store in self.stores:
            if store.device.type == "cpu":
                fused_cpu.fill_zero(store.grad)
            else:
                store.grad.fill(0)
        for param in with_grad:
            if isinstance(param.grad, RowSparseGrad):
                param.grad = zeroed_gradient(param.grad, param)
                continue
            slot = self.slots[id(param)]
            if slot.grad_tensor.data is not slot.grad_view:
                self._renew_grad_tensor(slot)
            param.grad = slot.grad_tensor

    def _renew_grad_tensor(self, slot: Slot) -> None:
        """A new gradient Tensor for a slot whose Tensor no longer views the buffer (its ``data`` was replaced),
        registered for ``backward`` in place of the old one (:func:`optim.fused.store.register_grad_buffer`)."""
        slot.grad_tensor = Tensor(slot.grad_view)
        register_grad_buffer(slot)
        self.plan = None  # it expects the previous Tensor

    def direct_step(self, pairs: list[tuple[Tensor, Any]] | None = None) -> bool:
        """The whole update from the flat gradient buffers, when :mod:`optim.fused.direct` allows it.

        ``pairs`` (``(param, gradient)``, from ``apply_gradients``) must name
        every parameter once, each with its ``p.grad`` or that Tensor's array.
        Returns ``False``, having changed nothing, when a condition does not
        hold; the optimizer then takes the pipeline and :meth:`step`. The
        optimizer's counters (``iterations``, ``calls``) and the moving
        averages are the caller's.
        """
        if not self.slots:
            return False
        if self.plan is None or not self.plan.matches_groups():
            self.plan = DirectPlan(self)
            register_members(self.slots, {id(param) for param in self.plan.params})
        plan, optimizer = self.plan, self.optimizer
        if not plan.allows_direct_step() or (pairs is not None and not plan.pairs_hold_the_buffers(pairs)):
            return False
        plan.check_groups()  # may raise: nothing has changed yet
        if optimizer.options.nonfinite != "propagate" and not plan.all_finite():
            return False  # the general path raises or skips, with the parameter named
        runs = []  # (segment, scalars), all computed before anything changes
        for segment in plan.segments:
            group, store = segment.group, segment.store
            if group.get("step_counting") == "per_parameter":
                steps = list(map(_step, segment.entries))
                if steps.count(steps[0]) != len(steps):
                    return False  # the segment would need cutting into runs: the general path does that
            # The same numbers as every parameter of the segment would get (no pattern_lrs or exclusions here);
            # a schedule may refuse: nothing has changed yet.
            lr, step, weight_decay = parameter_numbers.parameter_scalars(optimizer, segment.slots[0].param, group)
            # The scalars may raise too (a beta that rounds to 1 where power_dtype corrects the bias).
            scalars = fused_scalars.for_group(self.algorithm, group, dtype=store.dtype, step=step, lr=lr,
                                              weight_decay=weight_decay, power_dtype=optimizer.options.power_dtype)
            runs.append((segment, scalars))
        pieces = []
        for segment, scalars in runs:
            for entry in segment.entries:
                entry["step"] += 1
            pieces.append(fused_cpu.piece(self.algorithm, segment.store, scalars, segment.start, segment.stop))
        fused_cpu.launch(pieces)
        return True

    def step(self, ready: list[tuple[Tensor, dict[str, Any], Any]], scalars: dict[int, Any]) -> None:
        """Update the parameters of ``ready`` (``(param, group, gradient array)``, after the pipeline).

        ``scalars`` maps ``id(param)`` to its learning rate, step :math:`t` and
        weight decay for this call, from :meth:`~optim.optimizer.Optimizer.parameter_scalars`,
        the one function the reference path uses too.
        """
        self._check(ready)
        state, slots = self.optimizer.state, self.slots
        staged = self._staged_stores(ready)
        # runs[(store, group, t, lr, weight decay)] = spans [start, stop, slot, group] of consecutive slots;
        # `span` is the one the previous parameter extended, the `last_*` its key (compared without building
        # a tuple per parameter: fewer objects, fewer garbage collections).
        runs: dict[tuple[Any, ...], list[list[Any]]] = {}
        span = last_store = last_group = last_step = last_lr = last_decay = None
        for param, group, grad in ready:
            slot = slots[id(param)]
            store = slot.store
            if store in staged:
                store.staging[slot.start:slot.stop] = grad.reshape(-1)  # keep the user's p.grad as it was
            elif grad is not slot.grad_view:
                slot.grad_view[...] = grad  # a gradient that is not the slot's view: one copy
            entry = state.get(param)
            if entry is not slot.entry or replaced(entry, slot.views):
                entry = self._entry(slot)
            entry["step"] += 1
            lr, step, weight_decay = scalars[id(param)]
            if (span is not None and span[1] == slot.start and store is last_store and group is last_group
                    and step == last_step and lr == last_lr and weight_decay == last_decay):
                span[1] = slot.stop  # the common case: the next slot, with the same scalars
                continue
            last_store, last_group, last_step, last_lr, last_decay = store, group, step, lr, weight_decay
            spans = runs.setdefault((id(store), id(group), step, lr, weight_decay), [])
            if spans and spans[-1][1] == slot.start:
                span = spans[-1]
                span[1] = slot.stop
            else:
                span = [slot.start, slot.stop, slot, group]
                spans.append(span)
        self._run(runs, staged)

    def _staged_stores(self, ready: list[tuple[Tensor, dict[str, Any], Any]]) -> list[FlatStore]:
        """The stores whose gradients this step reads from ``staging``, which is allocated here if needed.

        A store needs it when the pipeline replaced a gradient that is still
        the view ``zero_grad(set_to_none=False)`` handed out: copying the new values into the
        view would change the user's ``p.grad``, which the reference path
        leaves as it is.
        """
        staged = []
        for param, _, grad in ready:
            slot = self.slots[id(param)]
            if grad is not slot.grad_view and param.grad is slot.grad_tensor and slot.store not in staged:
                staged.append(slot.store)
        for store in staged:
            if store.staging is None:
                store.staging = zeros(store.device, store.grad.size, store.dtype)
        return staged

    def _check(self, ready: list[tuple[Tensor, dict[str, Any], Any]]) -> None:
        """Refuse a lazy sparse update, then bind what needs it: all before anything changes.

        A group whose state arrays are no longer those of its buffers
        (``amsgrad`` switched through ``param_groups``) rebuilds the buffers.
        """
        stale = rebuild = False
        for param, group, grad in ready:
            if isinstance(grad, RowSparseGrad):
                raise ValueError(
                    f"fused=True: the parameter of shape {param.shape} has a row-sparse gradient, to be updated "
                    "lazily (only its rows), which the fused path does not do; pass lazy=False to update it "
                    "densely, or use fused=False"
                )
            slot = self.slots.get(id(param))
            stale = stale or slot is None or param.data is not slot.param_view
            rebuild = rebuild or (slot is not None and slot.store.names != self.state_names(group))
        if rebuild:
            self.bind()
        elif stale:
            self._ensure_bound([param for param, _, _ in ready])

    def _entry(self, slot: Slot) -> dict[str, Any]:
        """The parameter's state entry, holding views of the buffers (created, restored or adopted here)."""
        state = self.optimizer.state
        entry = state.get(slot.param)
        views = slot.views
        self.plan = None  # it expects the previous entry
        if entry is None:  # first update, or the state was cleared: start from zeros, as init_state does
            if not slot.fresh:
                for view in views.values():
                    view.fill(0)
            slot.entry.clear()
            slot.entry.update({"step": 0, **views})
            state[slot.param] = entry = slot.entry
        else:  # loaded by load_state_dict, or set by hand: copy it into the buffers
            adopt(entry, views, slot.store.device)
            slot.entry = entry
        slot.fresh = False
        return entry

    def _run(self, runs: dict[tuple[Any, ...], list[list[Any]]], staged: list[FlatStore]) -> None:
        """Compute each run's scalars and launch the kernels on its spans."""
        pieces = []
        for (_, _, step, lr, weight_decay), spans in runs.items():
            store, group = spans[0][2].store, spans[0][3]
            scalars = fused_scalars.for_group(self.algorithm, group, dtype=store.dtype, step=step, lr=lr,
                                              weight_decay=weight_decay, power_dtype=self.optimizer.options.power_dtype)
            pieces.extend(fused_cpu.piece(self.algorithm, store, scalars, start, stop, store in staged)
                          for start, stop, _, _ in spans)
        fused_cpu.launch(pieces)
